"""Opening the operational store from a URL, with migrations applied on open.

``--db URL`` / ``LEADGATE_DB`` name the store: a SQLite file by default (``leadgate.db`` in the
current directory, WAL mode so readers never block the writer), or ``postgresql://...`` (driven
by psycopg 3). Migrations ship inside the package and run programmatically: users never need an
``alembic.ini``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

from leadgate.errors import LeadgateError
from leadgate.redact import mask_password
from leadgate.store.driver_sql import run

log = logging.getLogger(__name__)

DEFAULT_DB = "leadgate.db"
ENV_VAR = "LEADGATE_DB"
# SQLite's ``synchronous`` setting. FULL (the default) syncs the WAL at every commit, so an
# acknowledged write survives a power loss; NORMAL syncs only at checkpoints (faster, but the
# last commits before a power cut can be lost; a process crash loses nothing either way).
SYNC_ENV_VAR = "LEADGATE_SQLITE_SYNCHRONOUS"
SYNC_MODES = ("FULL", "EXTRA", "NORMAL")
MIGRATIONS = Path(__file__).parent / "migrations"

# Per dialect: the SQLAlchemy driver a plain URL scheme maps to (a difference kept as data).
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite": "sqlite",
}


class StoreError(LeadgateError):
    """Raised when the store URL is malformed or the database cannot be opened."""


def resolve_db_url(db: str | None = None) -> str:
    """The SQLAlchemy URL for ``--db``: the argument, else ``LEADGATE_DB``, else ``leadgate.db``.

    A bare path (no ``scheme://``) means a SQLite file; ``postgresql://`` uses psycopg 3.
    """
    raw = db or os.environ.get(ENV_VAR) or DEFAULT_DB
    if "://" not in raw:
        return f"sqlite:///{raw}" if raw != ":memory:" else "sqlite://"
    scheme, rest = raw.split("://", 1)
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


@dataclass
class Store:
    """An open store: a SQLAlchemy engine plus helpers for read and write transactions.

    Use ``with store.write() as conn:`` for anything that changes data (one transaction; on
    SQLite it takes the write lock up front, so concurrent writers queue instead of failing on a
    lock upgrade) and ``with store.read() as conn:`` for queries.
    """

    engine: Engine
    url: str
    cache: dict[str, Any] = field(default_factory=dict)  # compiled plans by model hash

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(leadgate_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sqlite_synchronous() -> str:
    """The ``synchronous`` mode for SQLite stores: ``LEADGATE_SQLITE_SYNCHRONOUS``, else FULL.

    Raises:
        StoreError: the variable names no mode SQLite offers in WAL mode here.
    """
    value = os.environ.get(SYNC_ENV_VAR, "").strip().upper() or "FULL"
    if value not in SYNC_MODES:
        raise StoreError(
            f"{SYNC_ENV_VAR}={value!r}: use FULL (the default: every commit durable), EXTRA "
            "or NORMAL"
        )
    return value


def _sqlite_setup(engine: Engine) -> None:
    synchronous = sqlite_synchronous()

    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; the SQLAlchemy
    # recipe takes it over: no implicit transactions, we emit BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")  # FULL: each commit is on disk
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("leadgate_write", False)
        run(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")  # at every transaction: lean


def create_store_engine(url: str) -> Engine:
    """A configured engine for ``url`` (already resolved by ``resolve_db_url``).

    Raises:
        StoreError: the URL is malformed (no password in the message), names a database other
            than SQLite or PostgreSQL or a driver that is not installed.
    """
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - SQLAlchemy reads the port as a number only when asked
    except (ArgumentError, ValueError):
        raise StoreError(
            f"invalid database URL {mask_password(url)} "
            "(expected a SQLite file path or postgresql://user:password@host:port/database)"
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # One shared connection, or each checkout would see its own empty database.
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            folder = Path(parsed.database).parent
            if not folder.exists():
                raise StoreError(f"{parsed.database}: folder {folder} does not exist")
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    else:
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r} in {mask_password(url)} "
            "(use a SQLite file path or postgresql://user@host/db)"
        )
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"{mask_password(url)}: database driver missing ({exc.name}); "
            "pip install 'leadgate[server]'"
        ) from None
    except NoSuchModuleError:
        raise StoreError(
            f"unknown database driver {parsed.drivername!r} in {mask_password(url)} "
            "(use postgresql:// or postgresql+psycopg://)"
        ) from None
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


# Alembic keeps its migration context in module globals: one migration at a time per process.
_MIGRATING = threading.Lock()


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest migration (idempotent, thread-safe)."""
    with _MIGRATING:
        _migrate(engine)


# The newest migration's revision. A store already there opens without importing alembic, which
# with its script directory costs a command about as much CPU as the rest of its start-up.
# tests/store/test_db.py checks this is alembic's head, so a new migration cannot forget it.
SCHEMA_HEAD = "0004_account_events"


def _at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        try:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except (OperationalError, ProgrammingError):
            return False  # a new store: no version table yet
    return [row[0] for row in rows] == [SCHEMA_HEAD]


def _migrate(engine: Engine) -> None:
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["configure_logger"] = False
    with engine.connect() as conn:
        conn = conn.execution_options(leadgate_write=True)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def open_store(db: str | None = None, *, upgrade: bool = True) -> Store:
    """Open the store named by ``db`` (see ``resolve_db_url``) and apply pending migrations.

    Raises:
        StoreError: the URL is malformed, the driver is missing or the server refuses.
    """
    url = resolve_db_url(db)
    engine = create_store_engine(url)
    try:
        if upgrade:
            migrate(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(
            f"cannot open store {mask_password(url)}: {mask_password(reason)}"
        ) from None
    return Store(engine=engine, url=url)


__all__ = [
    "DEFAULT_DB",
    "ENV_VAR",
    "Store",
    "StoreError",
    "mask_password",
    "open_store",
    "resolve_db_url",
]
