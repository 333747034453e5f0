"""The operational store: leads, accounts, events, scores, transitions, model versions, outbox.

SQLite by default (``leadgate.db``), PostgreSQL for teams; ``open_store(url)`` applies the
migrations shipped in ``store/migrations``. Tables are in ``store/schema.py``; bulk loading in
``store/ingest.py``. Business rules live in ``leadgate.lifecycle`` and ``leadgate.service``.
"""

from __future__ import annotations

from leadgate.store.db import Store, StoreError, open_store, resolve_db_url

__all__ = ["Store", "StoreError", "open_store", "resolve_db_url"]
