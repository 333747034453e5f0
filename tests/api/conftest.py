"""API fixtures: an app over a fresh store (SQLite; PostgreSQL when configured) and a key per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# The HTTP API is the 'server' extra: without it these tests are skipped, with this reason.
pytest.importorskip("fastapi", reason="the HTTP API needs the 'server' extra")
pytest.importorskip("httpx", reason="the HTTP API tests need the 'server' extra")

from fastapi.testclient import TestClient

from api_helpers import Clock, bearer, role_keys
from leadgate.api.app import create_app
from leadgate.store import Store
from store_helpers import TINY_MODEL, store_url

__all__ = ["TINY_MODEL", "Api", "api", "clock", "store_url"]


@dataclass
class Api:
    """A TestClient over ``create_app`` plus the store, a key per role and the app's clock."""

    client: TestClient
    store: Store
    keys: dict[str, str]
    clock: Clock
    url: str

    def call(self, method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
        headers = {**bearer(self.keys[role]), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def publish(self, text: str = TINY_MODEL) -> Any:
        response = self.call("POST", "/v1/models", json={"yaml": text})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(store_url: str, clock: Clock) -> Iterator[Api]:
    app = create_app(store_url, clock=clock, max_batch=50, max_body_bytes=256 * 1024)
    store = app.state.config.store
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, store, role_keys(store), clock, store_url)
    store.close()
