"""Stores for tests: a fresh SQLite file, and a fresh PostgreSQL schema when
``LEADGATE_TEST_PG_URL`` is set (tests marked ``postgres``; CI fails if they skip).

Use the ``store`` fixture (parametrised over both backends) from tests/store/conftest.py, or
``temp_store_url(backend, tmp_path)`` to build your own (API and webhook tests do).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
def temp_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL naming an empty store: a SQLite file in ``tmp_path`` or a new PostgreSQL schema.

    Each PostgreSQL test gets its own schema (via ``search_path``), so tests can run in
    parallel against one database; the schema is dropped afterwards.
    """
    if backend == "sqlite":
        yield str(tmp_path / "leadgate.db")
        return
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        # synchronous_commit=off: tests need no durability, and each test commits often.
        options = quote(f"-csearch_path={schema} -csynchronous_commit=off")
        yield f"{PG_URL}{sep}options={options}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


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
