"""A cheap fingerprint of what the reports read from the store, to know when a cached frame is stale.

Reports build their funnel frame from leads (attributes, latest model), accounts, MQL cycles,
transitions, dispositions and published model versions; replays (rejections, compare) read the
events too. Every change to those either appends a row to an append-only table (transitions,
dispositions, score history, model versions: their largest id grows; events, never deleted:
their count grows, and on SQLite their largest rowid) or rewrites a lead or account row, stamping ``updated_at`` with the write's
as-of time. That time is not a clock: a load ``--as-of`` an earlier day stamps an earlier time,
so the latest ``updated_at`` alone would miss it. Leads and accounts are therefore fingerprinted by
their count, the sum of their ``updated_at`` (any row stamped with another time moves it) and the
summed length of their attributes (a row rewritten at its own stamp with attributes of another
length moves it). What remains unseen is a lead or account rewritten at exactly the time it was
last stamped, with attributes of the same total length and no change of score; the cached
frame then lags until the next write. MQL cycles are only opened or advanced together with a
transition or disposition, so they need no term of their own. The fingerprint reads aggregates
only (one scan each of leads and accounts; index ends for the rest), far cheaper than the frame.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    LargeBinary,
    Table,
    Text,
    cast,
    func,
    literal_column,
    select,
)

from leadgate.store.schema import (
    account_events,
    accounts,
    dispositions,
    events,
    leads,
    model_versions,
    score_history,
    transitions,
)


def _millis(conn: Connection, column: Any) -> Any:
    """A time column as whole milliseconds since 1970 (integers sum exactly), per dialect."""
    if conn.dialect.name == "sqlite":  # stored as naive UTC text; julianday's day 0 is 4714 BC
        return cast(func.round((func.julianday(column) - 2440587.5) * 86_400_000), BigInteger)
    return cast(func.floor(func.extract("epoch", column) * 1000), BigInteger)


def _bytes(conn: Connection, column: Any) -> Any:
    """A JSON column's stored length in bytes (cheaper than counting characters)."""
    if conn.dialect.name == "sqlite":
        return func.length(cast(column, LargeBinary))
    return func.octet_length(cast(column, Text))


def _rows(conn: Connection, table: Table) -> tuple[Any, ...]:
    """Count, latest and summed ``updated_at``, summed attribute bytes of a rewritable table."""
    stamp = table.c.updated_at
    q = select(
        func.count(),
        func.max(stamp),
        func.sum(_millis(conn, stamp)),
        func.sum(_bytes(conn, table.c.attrs)),
    ).select_from(table)
    return tuple(conn.execute(q).one())  # one scan of the table for all four


def _events(conn: Connection) -> Any:
    """Grows with every stored event (events are never deleted)."""
    if conn.dialect.name == "sqlite":  # the largest rowid: read from the end of the b-tree
        return conn.execute(select(func.max(literal_column("rowid"))).select_from(events)).scalar()
    return conn.execute(select(func.count()).select_from(events)).scalar()


def _account_events(conn: Connection) -> Any:
    """Grows with every stored account-level event (read by ``scope: account`` replays)."""
    return conn.execute(select(func.count()).select_from(account_events)).scalar()


def history_fingerprint(conn: Connection, *, with_events: bool = False) -> tuple[Any, ...]:
    """Changes whenever anything a report reads changes (``with_events``: events too)."""
    appended = select(
        select(func.max(transitions.c.id)).scalar_subquery(),
        select(func.max(dispositions.c.id)).scalar_subquery(),
        select(func.max(score_history.c.id)).scalar_subquery(),
        select(func.max(model_versions.c.id)).scalar_subquery(),
    )
    key = (*conn.execute(appended).one(), *_rows(conn, leads), *_rows(conn, accounts))
    return (*key, _events(conn), _account_events(conn)) if with_events else key


def models_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever a model version is published (the table is append-only)."""
    q = select(func.max(model_versions.c.id), func.count()).select_from(model_versions)
    return tuple(conn.execute(q).one())
