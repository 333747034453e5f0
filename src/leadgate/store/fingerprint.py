"""A cheap fingerprint of what the reports read from the store, to know when a cached frame is stale.

Reports build their funnel frame from leads (attributes, latest model), accounts, MQL cycles,
transitions, dispositions and published model versions. Every change to those either appends a
row to an append-only table (transitions, dispositions, score history, model versions: their
largest id grows) or stamps ``updated_at`` (leads, accounts); a new lead or account changes a
count. MQL cycles are only opened or advanced together with a transition or disposition, so they
need no term of their own. The fingerprint reads maxima and counts only (primary keys and one
column each), far cheaper than the frame it guards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from leadgate.store.schema import (
    accounts,
    dispositions,
    events,
    leads,
    model_versions,
    score_history,
    transitions,
)


def history_fingerprint(conn: Connection, *, with_events: bool = False) -> tuple[Any, ...]:
    """Changes whenever anything a report reads changes (``with_events``: events too)."""
    terms = [
        select(func.max(transitions.c.id)).scalar_subquery(),
        select(func.max(dispositions.c.id)).scalar_subquery(),
        select(func.max(score_history.c.id)).scalar_subquery(),
        select(func.max(model_versions.c.id)).scalar_subquery(),
        select(func.count()).select_from(leads).scalar_subquery(),
        select(func.max(leads.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(accounts).scalar_subquery(),
        select(func.max(accounts.c.updated_at)).scalar_subquery(),
    ]
    if with_events:
        terms.append(select(func.count()).select_from(events).scalar_subquery())
    row = conn.execute(select(*terms)).one()
    return tuple(row)
