"""A cheap fingerprint of what the reports read from the store, to know when a cached frame is stale.

Reports build their funnel frame from leads (attributes, latest model), accounts, MQL cycles,
transitions, dispositions and published model versions; replays (rejections, compare) read the
events too. Every change to those either appends a row to an append-only table (transitions,
dispositions, score history, model versions: their largest id grows; events, never deleted:
their count grows) or rewrites a lead or account row, stamping ``updated_at`` with the write's
as-of time. That time is not a clock: a load ``--as-of`` an earlier day stamps an earlier time,
so the latest ``updated_at`` alone would miss it. Leads and accounts are therefore fingerprinted by
their count, the sum of their ``updated_at`` (any row stamped with another time moves it) and the
summed length of their attributes (a row rewritten at its own stamp with attributes of another
length moves it). What remains unseen is a lead or account rewritten at exactly the time it was
last stamped, with attributes of the same total length and no change of score; the cached
frame then lags until the next write. MQL cycles are only opened or advanced together with a
transition or disposition, so they need no term of their own. The fingerprint reads aggregates
only (one scan of leads and accounts, an index of events), far cheaper than the frame it guards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Table, Text, cast, func, select

from leadgate.store.schema import (
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


def _rows(conn: Connection, table: Table) -> list[Any]:
    """Count, latest and summed ``updated_at``, summed attribute length of a rewritable table."""
    stamp = table.c.updated_at
    return [
        select(func.count()).select_from(table).scalar_subquery(),
        select(func.max(stamp)).scalar_subquery(),
        select(func.sum(_millis(conn, stamp))).scalar_subquery(),
        select(func.sum(func.length(cast(table.c.attrs, Text)))).scalar_subquery(),
    ]


def history_fingerprint(conn: Connection, *, with_events: bool = False) -> tuple[Any, ...]:
    """Changes whenever anything a report reads changes (``with_events``: events too)."""
    terms = [
        select(func.max(transitions.c.id)).scalar_subquery(),
        select(func.max(dispositions.c.id)).scalar_subquery(),
        select(func.max(score_history.c.id)).scalar_subquery(),
        select(func.max(model_versions.c.id)).scalar_subquery(),
        *_rows(conn, leads),
        *_rows(conn, accounts),
    ]
    if with_events:
        terms.append(select(func.count()).select_from(events).scalar_subquery())
    row = conn.execute(select(*terms)).one()
    return tuple(row)


def models_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever a model version is published (the table is append-only)."""
    q = select(func.max(model_versions.c.id), func.count()).select_from(model_versions)
    return tuple(conn.execute(q).one())
