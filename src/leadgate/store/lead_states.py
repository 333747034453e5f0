"""Forgetting per-lead incremental scoring states (``lead_states``) when a lead's events change
other than by live ingestion; ``service/lead_state.py`` reads and writes them.

A state is a cache of the pure engine over the lead's events (and its duplicates' events): a
writer that adds, moves or deletes events without folding them in drops the states concerned,
and the next event of each lead rebuilds its state from the events.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, select

from leadgate.store.schema import lead_states, leads

CHUNK = 2000


def drop_states(conn: Connection, lead_ids: Iterable[str]) -> None:
    """Forget the states of these leads and of the leads they duplicate (their events count
    there): the next event of each rebuilds its state from the events."""
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        primaries = select(leads.c.duplicate_of).where(
            leads.c.lead_id.in_(part), leads.c.duplicate_of.is_not(None)
        )
        conn.execute(
            delete(lead_states).where(
                lead_states.c.lead_id.in_(part) | lead_states.c.lead_id.in_(primaries)
            )
        )


def drop_all_states(conn: Connection) -> None:
    """Forget every lead's state (events were deleted across the store)."""
    conn.execute(delete(lead_states))
