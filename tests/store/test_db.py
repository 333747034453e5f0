"""Opening stores: URL resolution, SQLite WAL mode, migrations on open, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from leadgate.store import Store, StoreError, open_store, resolve_db_url
from leadgate.store.db import MIGRATIONS, SCHEMA_HEAD
from leadgate.store.schema import metadata
from store_helpers import BACKENDS, temp_store_url


def test_default_url_is_the_sqlite_file_in_the_current_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEADGATE_DB", raising=False)
    assert resolve_db_url(None) == "sqlite:///leadgate.db"


def test_env_variable_names_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADGATE_DB", "postgresql://u@h/db")
    assert resolve_db_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_db_url("other.db") == "sqlite:///other.db"  # --db wins over the env


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("/tmp/x.db", "sqlite:////tmp/x.db"),
        ("postgres://u@h:5/d", "postgresql+psycopg://u@h:5/d"),
        ("sqlite:///a.db", "sqlite:///a.db"),
        (":memory:", "sqlite://"),
    ],
)
def test_urls_resolve_to_sqlalchemy_drivers(given: str, url: str) -> None:
    assert resolve_db_url(given) == url


def test_sqlite_store_uses_wal_mode(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.db")) as s, s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_commits_are_durable_by_default(tmp_path: Path) -> None:
    # synchronous=FULL (2): the WAL is synced at every commit, so an acknowledged write survives
    # a power loss (NORMAL, 1, only syncs at checkpoints).
    with open_store(str(tmp_path / "s.db")) as s, s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2


@pytest.mark.parametrize(("given", "level"), [("normal", 1), (" FULL ", 2), ("extra", 3)])
def test_sqlite_synchronous_can_be_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, level: int
) -> None:
    monkeypatch.setenv("LEADGATE_SQLITE_SYNCHRONOUS", given)
    with open_store(str(tmp_path / "s.db")) as s, s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == level


def test_unknown_sqlite_synchronous_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADGATE_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(StoreError, match="LEADGATE_SQLITE_SYNCHRONOUS='OFF': use FULL"):
        open_store(str(tmp_path / "s.db"))


def test_opening_twice_is_idempotent(store_url: str) -> None:
    open_store(store_url).close()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()  # later migrations move it
    with open_store(store_url) as s, s.read() as conn:
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head


def test_the_known_head_is_alembics_head() -> None:
    # A store at SCHEMA_HEAD skips alembic: a new migration must move it, or stores stay behind.
    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == SCHEMA_HEAD


def test_a_store_behind_the_head_is_upgraded_and_one_at_the_head_skips_alembic(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "s.db")
    open_store(url).close()
    with open_store(url) as s, s.write() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003_pql'")
        conn.exec_driver_sql("DROP TABLE mqa_cycles")
    code = (
        "import sys\n"
        "from leadgate.store.db import open_store\n"
        f"open_store({url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (first.stdout.strip(), again.stdout.strip()) == ("True", "False")
    with open_store(url) as s, s.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mqa_cycles").scalar() == 0


def test_migrations_create_exactly_the_schema_module(store: Store) -> None:
    with store.read() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    # SQLite's lead search index (an FTS5 table and its shadow tables, migration
    # 0002_web) is kept by triggers, outside the schema module.
    assert [d for d in diffs if not _search_index(d)] == []


def _described(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Everything a migration makes in a store: objects and their definitions, the version."""
    with open_store(url) as s, s.read() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        if s.dialect == "sqlite":
            objects = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master")
            return {"objects": sorted(map(tuple, objects)), "version": list(map(tuple, version))}
        queries = {
            "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = current_schema()",
            "constraints": "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace",
            "indexes": "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '')"
            " FROM pg_indexes WHERE schemaname = current_schema()",
            "triggers": "SELECT event_object_table, trigger_name, action_statement"
            " FROM information_schema.triggers WHERE trigger_schema = current_schema()",
            "functions": "SELECT p.proname, p.prosrc FROM pg_proc p"
            " WHERE p.pronamespace = current_schema()::regnamespace",
            "sequences": "SELECT sequence_name FROM information_schema.sequences"
            " WHERE sequence_schema = current_schema()",
        }
        found = {k: sorted(map(tuple, conn.exec_driver_sql(q))) for k, q in queries.items()}
        return {**found, "version": list(map(tuple, version))}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_test_store_equals_one_open_store_migrates(backend: str, tmp_path: Path) -> None:
    # Tests' stores start from a copy (SQLite) or a replay (PostgreSQL) of one migration a
    # process (tests/store_helpers.py): they must be the store a user's first open makes.
    (tmp_path / "copy").mkdir()
    (tmp_path / "fresh").mkdir()
    with (
        temp_store_url(backend, tmp_path / "copy") as copied,
        temp_store_url(backend, tmp_path / "fresh", migrated=False) as fresh,
    ):
        made = _described(copied)
        assert made["version"] == [(SCHEMA_HEAD,)]
        assert made == _described(fresh)


def _search_index(diff: object) -> bool:
    return (
        isinstance(diff, tuple) and diff[0] == "remove_table"
        and str(diff[1].name).startswith("lead_search")
    )  # fmt: skip


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"folder .*nope does not exist"):
        open_store(str(tmp_path / "nope" / "x.db"))


def test_unknown_database_is_a_user_error() -> None:
    with pytest.raises(StoreError, match=r"unsupported database 'mysql'"):
        open_store("mysql://u@h/db")


def test_unreachable_server_is_a_user_error_without_password() -> None:
    with pytest.raises(
        StoreError, match=r"cannot open store postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db"
    ):
        open_store("postgresql://u:secret@127.0.0.1:1/db")
