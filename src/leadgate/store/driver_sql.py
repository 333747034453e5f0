"""SQL text run on the driver's own cursor, for the statements of every live write (issue 17).

``Connection.exec_driver_sql`` still builds an execution context and a ``CursorResult`` (column
metadata merged from the cursor description, events, a fetch strategy) for each statement:
twice the driver's own time for the small statements of a one-event write, where a write is
seven statements. ``run`` sends the statement on the connection's DBAPI cursor, in the
connection's transaction, and keeps what callers rely on:

- the ``before_cursor_execute`` and ``after_cursor_execute`` events fire as for any statement
  (tests count statements with them), with no execution context (``None``);
- a driver error is raised as SQLAlchemy raises it (``DBAPIError.instance``: ``IntegrityError``,
  ``OperationalError``, ... with the statement), so callers catch the same exceptions.

Values go to the driver as given and come back as the driver returns them: callers convert
them (each column's bind or result processor) as ``store/live_write.py`` and
``store/history.py`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class DriverResult(NamedTuple):
    """The rows a statement returned (none for a statement without a result) and the cursor's
    description (``None`` then)."""

    rows: Sequence[Any]
    description: Any


def run(conn: Connection, sql: str, params: Any = (), *, many: bool = False) -> DriverResult:
    """Run ``sql`` with ``params`` (a sequence of parameter rows with ``many``: executemany)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    # Whether any listener is set, as SQLAlchemy itself decides before dispatching.
    events = conn._has_events or conn.engine._has_events
    error = conn.dialect.loaded_dbapi.Error
    try:
        if events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        if events:
            conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
        description = cursor.description
        return DriverResult(cursor.fetchall() if description is not None else [], description)
    except error as err:
        raise DBAPIError.instance(sql, params, err, error, dialect=conn.dialect) from err
    finally:
        cursor.close()
