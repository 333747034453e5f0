"""The HTTP API: a thin FastAPI adapter over ``leadgate.service`` (``create_app(store_url)``).

Modules: ``app`` (the factory and its settings), ``auth`` (bearer keys and the role table),
``keys`` (key storage, no FastAPI), ``errors`` (library errors -> HTTP status codes, request
ids), ``schemas`` (request bodies), ``routes/`` (one module per resource) and ``server``
(``leadgate serve``: uvicorn plus the webhook worker and the periodic tick).

Importing this package does not import FastAPI, so the CLI can use ``leadgate.api.keys`` cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadgate.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from leadgate.api.app import create_app

        return create_app
    raise AttributeError(name)
