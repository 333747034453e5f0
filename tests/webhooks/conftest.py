"""Webhook fixtures: a fresh store per backend (see tests/store_helpers.py)."""

from __future__ import annotations

import pytest

# Delivery posts over HTTP with httpx (the 'server' extra): skipped, with this reason, without it.
pytest.importorskip("httpx", reason="webhook delivery needs the 'server' extra")

from store_helpers import store, store_url

__all__ = ["store", "store_url"]
