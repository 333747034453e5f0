"""Erasing a person (GDPR art. 17, CCPA): ``leadgate leads erase ID``, ``DELETE /v1/leads/{id}``.

ARCHITECTURE.md invariants 3 and 9: history rows stay (funnel counts stay true); the person's
personal fields are blanked and their lead id is replaced everywhere by a fresh random tombstone
id (``erased-<32 hex>``), which cannot be traced back to the person (it is not a hash of the id
or email, so nobody holding the original data can confirm the person was here).

A person is the lead named and the records the store knows as the same person: its primary
record (``duplicate_of``) and every duplicate of either. For each record, in one transaction:

- ``leads``: id -> tombstone, ``attrs`` -> ``{}``, ``email`` -> NULL, ``erased_at`` set; the
  score keeps its numbers (total, segment, MQL flag) under the tombstone id. ``duplicate_of``
  points at the tombstone itself, so no scoring path (publish, tick, batch) ever scores it again:
  they all skip non-primary records. ``account_id`` and ``owner`` stay (a company and a
  salesperson, not the person).
- ``events``: lead and event ids -> tombstone-based ids, ``properties`` -> ``{}`` (type and
  time stay, for counts).
- ``score_history``, ``transitions``, ``mql_cycles``, ``dispositions``: lead id -> tombstone;
  notes and outcome import keys (a hash of the imported row) -> NULL.
- ``outbox``: the person's messages keep topic and time; payload -> ``{"erased": true}``;
  their pending deliveries end as failed ("lead erased before delivery") and every delivery
  record's ``last_error`` (a receiver's answer may echo the payload) -> NULL.
- ``crm_sync`` (a connector's push queue) rows of the lead are deleted; ``crm_pulls`` -> tombstone.
- ``audit_log``: targets naming the lead -> tombstone.

Then one ``lead.erased`` message per record goes to the outbox (``webhooks/notices.py``:
original id kept only until subscribed webhooks have it) and one ``lead.erase`` audit row,
naming the tombstones only. On SQLite the write runs with ``secure_delete`` and ends with a
WAL checkpoint, so the old bytes are overwritten in the file, not just unlinked.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, delete, or_, select, update

from leadgate.engine import as_utc
from leadgate.errors import ConflictError, NotFoundError
from leadgate.store.audit import Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.schema import (
    audit_log,
    crm_pulls,
    crm_sync,
    dispositions,
    events,
    lead_states,
    leads,
    mql_cycles,
    outbox,
    score_history,
    transitions,
    webhook_deliveries,
)
from leadgate.webhooks.notices import TOPIC, has_subscribers, scrub_erasure_notices

TOMBSTONE_PREFIX = "erased-"


class ErasureReport(BaseModel):
    """What an erasure rewrote: the tombstone ids (never the erased ids) and row counts."""

    tombstones: list[str]
    erased_at: datetime
    rows: dict[str, int]


def new_tombstone() -> str:
    """A fresh anonymous lead id (random: unlinkable to the person)."""
    return TOMBSTONE_PREFIX + secrets.token_hex(16)


def _records(conn: Connection, lead_id: str) -> list[str]:
    """The lead and every record of the same person (its primary and their duplicates)."""
    row = conn.execute(
        select(leads.c.lead_id, leads.c.duplicate_of, leads.c.erased_at).where(
            leads.c.lead_id == lead_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no lead '{lead_id}'")
    if row.erased_at is not None:
        raise ConflictError(f"lead '{lead_id}' is already an erased tombstone")
    primary = row.duplicate_of or lead_id
    found = conn.execute(
        select(leads.c.lead_id).where(
            or_(leads.c.lead_id == primary, leads.c.duplicate_of == primary),
            leads.c.erased_at.is_(None),
        )
    ).scalars()
    return sorted({lead_id, *found})


def _set(conn: Connection, table: Any, old: str, tomb: str, **blank: Any) -> int:
    return int(
        conn.execute(
            update(table).where(table.c.lead_id == old).values(lead_id=tomb, **blank)
        ).rowcount
    )


def _erase_record(conn: Connection, old: str, tomb: str, at: datetime) -> dict[str, int]:
    rows: dict[str, int] = {}
    lead = conn.execute(select(leads.c.score).where(leads.c.lead_id == old)).one()
    score = {**lead.score, "lead_id": tomb} if isinstance(lead.score, dict) else lead.score
    rows["leads"] = _set(
        conn, leads, old, tomb, attrs={}, email=None, duplicate_of=tomb, erased_at=at,
        updated_at=at, score=score,
    )  # fmt: skip
    ids = list(conn.execute(select(events.c.event_id).where(events.c.lead_id == old)).scalars())
    for n, event_id in enumerate(ids):
        conn.execute(
            update(events)
            .where(events.c.event_id == event_id)
            .values(event_id=f"{tomb}-{n}", lead_id=tomb, properties={})
        )
    rows["events"] = len(ids)
    rows["score_history"] = _set(conn, score_history, old, tomb)
    rows["transitions"] = _set(conn, transitions, old, tomb, note=None, import_key=None)
    rows["mql_cycles"] = _set(conn, mql_cycles, old, tomb)
    rows["dispositions"] = _set(conn, dispositions, old, tomb, note=None)
    messages = select(outbox.c.id).where(outbox.c.lead_id == old).scalar_subquery()
    d = webhook_deliveries
    conn.execute(
        update(d)
        .where(d.c.outbox_id.in_(messages), d.c.status == "pending")
        .values(status="failed", next_attempt_at=None)
    )
    conn.execute(update(d).where(d.c.outbox_id.in_(messages)).values(last_error=None))
    conn.execute(
        update(d)
        .where(d.c.outbox_id.in_(messages), d.c.status == "failed", d.c.delivered_at.is_(None))
        .values(last_error="lead erased before delivery")
    )
    rows["outbox"] = _set(conn, outbox, old, tomb, payload={"erased": True})
    # CRM connectors: the push queue is state, not history (dropped); the pulls stay, renamed, so
    # an outcome read back before the erasure is still applied once.
    rows["crm_sync"] = int(conn.execute(delete(crm_sync).where(crm_sync.c.lead_id == old)).rowcount)
    rows["crm_pulls"] = _set(conn, crm_pulls, old, tomb)
    # The incremental scoring state is a cache keyed by the lead id: dropped, not renamed.
    conn.execute(delete(lead_states).where(lead_states.c.lead_id == old))
    rows["audit_log"] = int(
        conn.execute(
            update(audit_log).where(audit_log.c.target == old).values(target=tomb)
        ).rowcount
    )
    return rows


def erase_lead(store: Store, lead_id: str, *, at: datetime, by: Actor) -> ErasureReport:
    """Erase the person behind ``lead_id`` (see the module docstring); returns the tombstones.

    Raises:
        NotFoundError: no lead has that id.
        ConflictError: the id is already a tombstone.
    """
    at = as_utc(at)
    totals: dict[str, int] = {}
    tombs: list[str] = []
    with store.write() as conn:
        if conn.dialect.name == "sqlite":
            # Overwrite freed cells and pages with zeros instead of leaving them in the file.
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
        notify = has_subscribers(conn)
        for old in _records(conn, lead_id):
            tomb = new_tombstone()
            tombs.append(tomb)
            for table, n in _erase_record(conn, old, tomb, at).items():
                totals[table] = totals.get(table, 0) + n
            conn.execute(
                outbox.insert().values(
                    topic=TOPIC, lead_id=tomb, created_at=at,
                    payload={"lead_id": old if notify else None, "tombstone_id": tomb,
                             "erased_at": at.isoformat()},
                )
            )  # fmt: skip
        record_audit(
            conn, by, "lead.erase", at=at, target=tombs[0],
            details={"tombstones": tombs, "rows": totals},
        )  # fmt: skip
    scrub_erasure_notices(store)
    if store.dialect == "sqlite":
        _checkpoint(store)
    return ErasureReport(tombstones=tombs, erased_at=at, rows=totals)


def _checkpoint(store: Store) -> None:
    """Copy the WAL into the database file and truncate it, so the erased values live on in
    neither (best effort: a long-running reader can hold the WAL; the next checkpoint ends it)."""
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
