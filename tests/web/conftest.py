"""Web app fixtures: the synthetic store (built once per session, copied per module), an app
over it with a fixed clock, a signed-in client per role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_helpers import Clock, role_keys
from leadgate.api.app import create_app
from leadgate.store import Store
from web_helpers import NOW, build_web_store, sign_in


@pytest.fixture(scope="session", autouse=True)
def _reports_wait_for_their_result() -> Iterator[None]:
    """Report pages wait for their computation (a loaded CI machine may take over the 5 s a
    server waits before its "computing" page); tests of that page set the wait to 0."""
    from leadgate.web import report_jobs

    wait, report_jobs.WAIT_SECONDS = report_jobs.WAIT_SECONDS, 120.0
    yield
    report_jobs.WAIT_SECONDS = wait


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built store, once per session (copy it before writing)."""
    folder = tmp_path_factory.mktemp("web-data")
    return Path(build_web_store(folder))


@pytest.fixture(scope="module")
def web_db(web_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """This module's own copy of the store."""
    path = tmp_path_factory.mktemp("web-db") / "web.db"
    shutil.copy(web_template, path)
    return str(path)


class Web:
    """An app over the module's store, with a key per role and a client factory."""

    def __init__(self, app: object, store: Store, keys: dict[str, str], clock: Clock) -> None:
        self.app = app
        self.store = store
        self.keys = keys
        self.clock = clock

    def client(self, role: str | None = None, *, https: bool = False) -> TestClient:
        base = "https://testserver" if https else "http://testserver"
        client = TestClient(self.app, base_url=base, raise_server_exceptions=True)  # type: ignore[arg-type]
        if role is not None:
            sign_in(client, self.keys[role])
        return client


@pytest.fixture(scope="module")
def web(web_db: str) -> Iterator[Web]:
    clock = Clock(NOW)
    app = create_app(web_db, clock=clock)
    store = app.state.config.store
    yield Web(app, store, role_keys(store), clock)
    store.close()
