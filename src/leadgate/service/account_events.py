"""Account-level events in the store (issues #15/#16): events with an ``account_id`` and no
``lead_id`` (a de-anonymised visit, say), which the accounts' ``intent:`` rules score.

An account event is an ``Event`` whose owner (``Event.lead_id``) is the account id, as
``io/account_events`` reads it. Like lead events they are idempotent (an ``event_id`` seen before
adds nothing; an event without one gets an id derived from its content), but unlike lead events
they never create their owner: an account must be known (``leadgate load accounts``,
``PUT /v1/accounts/{id}``) before its events are, or the write is refused naming the event.
Retention deletes them with the lead events (``service/retention.py``); they name no person,
so erasing a lead leaves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select

from leadgate.engine.event import Event, as_utc
from leadgate.io.readers import event_id_of
from leadgate.store.ingest import INSERT_IGNORE, ROW_LOCKS
from leadgate.store.schema import account_events, accounts

CHUNK = 2000


def with_ids(items: Iterable[Event]) -> list[Event]:
    """The events, each with its id (given, or derived from its content), first of each id."""
    out: dict[str, Event] = {}
    for ev in items:
        if not ev.event_id:
            ev = replace(
                ev, event_id=event_id_of(ev.lead_id, ev.type, ev.timestamp, dict(ev.properties))
            )
        out.setdefault(ev.event_id, ev)
    return list(out.values())


def unknown_accounts(conn: Connection, account_ids: Iterable[str]) -> set[str]:
    """The ids among ``account_ids`` that name no stored account."""
    ids = sorted(set(account_ids))
    known: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        q = select(accounts.c.account_id).where(
            accounts.c.account_id.in_(ids[start : start + CHUNK])
        )
        known.update(conn.execute(q).scalars())
    return set(ids) - known


def lock_accounts(conn: Connection, account_ids: Iterable[str]) -> None:
    """Where writers hold row locks (PostgreSQL), lock these accounts' rows in id order.

    Every writer that re-scores an account takes its lock before any lead's (``ingest_events``
    locks the accounts of its leads first), so two writers of one account's leads take turns
    instead of deadlocking over each other's teammates, and never open an MQA cycle twice.
    """
    if not ROW_LOCKS[conn.dialect.name]:
        return
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), CHUNK):
        conn.execute(
            select(accounts.c.account_id)
            .where(accounts.c.account_id.in_(ids[start : start + CHUNK]))
            .order_by(accounts.c.account_id)
            .with_for_update()
        ).all()


def insert_account_events(conn: Connection, items: Sequence[Event], at: datetime) -> list[Event]:
    """Store the account events not seen before (by ``event_id``); return those inserted.

    The caller has checked that their accounts exist (``unknown_accounts``).
    """
    fresh = {e.event_id: e for e in with_ids(items)}
    ids = list(fresh)
    for start in range(0, len(ids), CHUNK):
        q = select(account_events.c.event_id).where(
            account_events.c.event_id.in_(ids[start : start + CHUNK])
        )
        for seen in conn.execute(q).scalars():
            fresh.pop(seen, None)
    if not fresh:
        return []
    ingested = as_utc(at)
    rows = [
        {"event_id": e.event_id, "account_id": e.lead_id, "type": e.type,
         "timestamp": e.timestamp, "properties": json.loads(json.dumps(dict(e.properties),
                                                                       default=str)),
         "ingested_at": ingested}
        for e in fresh.values()
    ]  # fmt: skip
    # A concurrent writer (PostgreSQL) may store the same id meanwhile: theirs is as good.
    stmt = INSERT_IGNORE[conn.dialect.name](account_events).on_conflict_do_nothing()
    done = set(conn.execute(stmt.returning(account_events.c.event_id), rows).scalars())
    return [e for e in fresh.values() if e.event_id in done]
