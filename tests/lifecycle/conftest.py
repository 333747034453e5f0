"""Store fixtures (``store``, ``store_url``): SQLite always, PostgreSQL when configured."""

from __future__ import annotations

from store_helpers import store, store_url

__all__ = ["store", "store_url"]
