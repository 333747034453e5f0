"""Stores for tests: a fresh SQLite file, and a fresh PostgreSQL schema when
``LEADGATE_TEST_PG_URL`` is set (tests marked ``postgres``; CI fails if they skip).

Use the ``store`` fixture (parametrised over both backends) from tests/store/conftest.py, or
``temp_store_url(backend, tmp_path)`` to build your own (API and webhook tests do).

A fresh store starts at the newest migration without running alembic in each test: each test
process migrates one store per backend through ``open_store`` (the path users take), then a
SQLite store is a copy of that file and a PostgreSQL schema replays the statements that
migration sent (0.05 s and 0.15 s of a test's set-up less a store; the suite makes about 600).
``tests/store/test_db.py`` checks such a store equals one ``open_store`` migrates.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from leadgate.executors import EngineOptions, PostgresOptions, options_for
from leadgate.store import Store, open_store

PG_URL = os.environ.get("LEADGATE_TEST_PG_URL", "")

# An engine parameter for the test PostgreSQL server, beside the embedded engines' names.
POSTGRES_ENGINE = pytest.param(
    "postgres",
    marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set"),
    ],
)


def engine_options(name: str) -> EngineOptions:
    """Engine ``name``'s options in tests: ``postgres`` runs on the test server."""
    if name == "postgres":
        return PostgresOptions(pg_url=PG_URL)
    return options_for(name)


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgres",
        id="postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set"),
        ],
    ),
]


@contextmanager
def two_temp_store_urls(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores on one backend (``temp_store_url`` each), to do one job two ways and
    compare the stores."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        temp_store_url(backend, tmp_path / "a") as a,
        temp_store_url(backend, tmp_path / "b") as b,
    ):
        yield a, b


@contextmanager
def temp_store_url(backend: str, tmp_path: Path, *, migrated: bool = True) -> Iterator[str]:
    """A URL naming an empty store: a SQLite file in ``tmp_path`` or a new PostgreSQL schema,
    at the newest migration (``migrated=False``: nothing in it, ``open_store`` migrates it).

    Each PostgreSQL test gets its own schema (via ``search_path``), so tests can run in
    parallel against one database; the schema is dropped afterwards.
    """
    if backend == "sqlite":
        if migrated:
            shutil.copyfile(_sqlite_template(), tmp_path / "leadgate.db")
        yield str(tmp_path / "leadgate.db")
        return
    import psycopg

    script = _pg_migration() if migrated else None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        if script is not None:
            with conn.transaction():
                conn.execute(f'SET LOCAL search_path = "{schema}"')
                conn.execute(script)
    try:
        yield _schema_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    # synchronous_commit=off: tests need no durability, and each test commits often.
    options = quote(f"-csearch_path={schema} -csynchronous_commit=off")
    return f"{PG_URL}{sep}options={options}"


_TEMPLATES: dict[str, Any] = {}


def _sqlite_template() -> Path:
    """A SQLite store ``open_store`` migrated, once a process (removed at exit)."""
    if "sqlite" not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="leadgate-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.db"
        open_store(str(path)).close()  # the last connection closed: no -wal file left
        assert not Path(f"{path}-wal").exists()
        _TEMPLATES["sqlite"] = path
    path: Path = _TEMPLATES["sqlite"]
    return path


def _pg_migration() -> str | None:
    """The statements ``open_store``'s migration of an empty schema sent, as one script, once a
    process (None if one took parameters: such a store is migrated by ``open_store``)."""
    if "postgres" not in _TEMPLATES:
        import psycopg
        from sqlalchemy import event

        from leadgate.store.db import create_store_engine, migrate

        schema = f"t_{uuid.uuid4().hex[:12]}"
        sent: list[tuple[str, Any]] = []
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            engine = create_store_engine(_schema_url(schema))

            def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
                sent.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", record)
            migrate(engine)
            engine.dispose()
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        # The reads (alembic's version and table lookups) are left out; every write is kept.
        writes = [
            (text, args) for text, args in sent if not text.lstrip().upper().startswith("SELECT")
        ]
        plain = all(not args for _, args in writes) and not any(schema in t for t, _ in writes)
        _TEMPLATES["postgres"] = ";\n".join(text for text, _ in writes) if plain else None
    script: str | None = _TEMPLATES["postgres"]
    return script


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store's URL, once per backend."""
    with temp_store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated, empty store, once per backend."""
    s = open_store(store_url)
    yield s
    s.close()


# A small model for lifecycle tests: a VP (20) with a fresh demo request (20, half-life 10 days)
# qualifies at 30; enterprise leads get a 4 h SLA and expire after 3 days, others 24 h / 10 days.
TINY_MODEL = """\
name: tiny
version: 1
threshold: 30
recycle_after_days: 10
sla_hours: 24
dimensions:
  fit:
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 20}
  engagement:
    half_life_days: 10
    rules:
      - {name: demo, event: demo_request, points: 20}
      - {name: open, event: email_open, points: 2, max_points: 10}
disqualify:
  - {name: competitor, when: {email: {domain_in: [rival.io]}}}
segments:
  - {name: enterprise, when: {company_size: {gte: 5000}}, sla_hours: 4, recycle_after_days: 3}
"""


def table_counts(s: Store) -> dict[str, int]:
    """Rows per table: a store is "unchanged" when these (and the rows) are equal."""
    from sqlalchemy import func, select

    from leadgate.store.schema import metadata

    with s.read() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
            for name, table in metadata.tables.items()
        }


def snapshot(s: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: compare before/after to prove nothing was written."""
    from sqlalchemy import select

    from leadgate.store.schema import metadata

    with s.read() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for name, table in metadata.tables.items()
        }
