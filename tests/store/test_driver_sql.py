"""``store/driver_sql.run``: statements on the driver's cursor keep what ``exec_driver_sql``
gave its callers: the transaction, the cursor events, and SQLAlchemy's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from leadgate.store import Store, open_store
from leadgate.store.driver_sql import run
from store_helpers import BACKENDS, temp_store_url

AT = "2026-01-01 00:00:00.000000"  # a time as the drivers take text for the column


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    with temp_store_url(request.param, tmp_path_factory.mktemp("driver")) as url:
        s = open_store(url)
        try:
            yield s
        finally:
            s.close()


def _mark(store: Store) -> str:
    return "?" if store.engine.dialect.paramstyle == "qmark" else "%s"


def test_rows_events_and_the_transaction(store: Store) -> None:
    seen: list[tuple[str, Any, bool]] = []

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        seen.append((sql, params, many))

    m = _mark(store)
    event.listen(store.engine, "before_cursor_execute", before)
    try:
        with store.write() as conn:
            insert = f"INSERT INTO settings (key, value, updated_at) VALUES ({m}, {m}, {m})"
            assert run(conn, insert, [("drv.a", "1", AT), ("drv.b", "2", AT)], many=True).rows == []
            got = run(conn, f"SELECT key, value FROM settings WHERE key IN ({m}, {m}) ORDER BY key",
                      ("drv.a", "drv.b"))  # fmt: skip
        assert [r[0] for r in got.rows] == ["drv.a", "drv.b"]
        assert got.description[0][0] == "key"
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    assert (
        insert,
        [("drv.a", "1", AT), ("drv.b", "2", AT)],
        True,
    ) in seen  # counted like any statement
    # Rolled back with its transaction like any statement.
    with pytest.raises(RuntimeError), store.write() as conn:
        run(
            conn,
            f"INSERT INTO settings (key, value, updated_at) VALUES ({m}, {m}, {m})",
            ("drv.c", "3", AT),
        )
        raise RuntimeError("abort")
    with store.read() as conn:
        assert run(conn, f"SELECT 1 FROM settings WHERE key = {m}", ("drv.c",)).rows == []


def test_a_driver_error_is_sqlalchemys(store: Store) -> None:
    m = _mark(store)
    with pytest.raises(IntegrityError, match=r"drv\.dup"), store.write() as conn:
        run(
            conn,
            f"INSERT INTO settings (key, value, updated_at) VALUES ({m}, {m}, {m})",
            ("drv.dup", "1", AT),
        )
        run(
            conn,
            f"INSERT INTO settings (key, value, updated_at) VALUES ({m}, {m}, {m})",
            ("drv.dup", "2", AT),
        )
