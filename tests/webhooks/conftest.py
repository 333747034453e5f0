"""Webhook fixtures: a fresh store per backend (see tests/store_helpers.py)."""

from __future__ import annotations

from store_helpers import store, store_url

__all__ = ["store", "store_url"]
