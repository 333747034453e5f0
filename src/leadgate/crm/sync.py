"""Pushing leads to a CRM from the outbox and pulling sales outcomes back, at least once.

Each connector is its own consumer of the ``outbox`` table (independent of webhook delivery):

1. ``collect`` queues leads in ``crm_sync`` (status ``pending``, due now): every ``lead.mql``
   and ``lead.disposition`` outbox row after the connector's cursor (``settings``
   ``crm.<kind>.outbox_cursor``; a window of ``LOOKBACK`` ids behind it is re-read because
   PostgreSQL may commit a lower id later), and every lead already pushed whose score moved by
   ``score_step`` or more, or whose stage changed, since the last push.
2. ``push`` claims due rows, writes each lead's *current* state (an upsert, so a repeat is
   harmless) and records the result: ``synced``; or the next attempt after an exponential
   backoff, never sooner than the CRM's Retry-After; or ``failed`` (a permanent refusal, or
   ``MAX_ATTEMPTS`` used), kept with its error for ``leadgate crm list`` and a retry.
3. ``pull`` reads outcomes changed since the last pull and applies each once per MQL cycle
   (``crm_pulls``) through ``service.sales.dispose``, walking the lead forward
   (accept -> sql -> opportunity) when the CRM jumped ahead.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, func, or_, select, update

from leadgate.crm.fields import LeadValues, Pulled, PushOutcome, lead_values
from leadgate.crm.settings import Connector
from leadgate.engine import as_utc
from leadgate.errors import ConflictError, LeadgateError
from leadgate.lifecycle.dispositions import ACTION_FROM
from leadgate.lifecycle.stages import Stage
from leadgate.store.db import Store
from leadgate.store.history import fetch_leads
from leadgate.store.schema import crm_pulls, crm_sync, leads, outbox
from leadgate.store.settings import get_setting, set_setting

TOPICS = ("lead.mql", "lead.disposition")
LOOKBACK = 200
MAX_ATTEMPTS = 20
BASE_DELAY = 2.0
MAX_DELAY = 3600.0
LEASE = timedelta(seconds=120)
# The step before each stage on the way to a later action (a CRM may skip ahead).
PREP = {Stage.MQL: "accept", Stage.SAL: "sql", Stage.SQL: "opportunity"}


class CrmClient(Protocol):
    kind: str

    def properties(self, values: LeadValues) -> dict[str, Any]: ...

    def push(self, leads: list[LeadValues]) -> list[PushOutcome]: ...

    def pull(self, since: datetime | None) -> tuple[list[Pulled], datetime | None]: ...


def open_client(connector: Connector) -> CrmClient:
    """The vendor client for ``connector``, with credentials from the environment or file."""
    creds = connector.credentials()
    if connector.kind == "hubspot":
        from leadgate.crm.hubspot import HubSpotConnector

        return HubSpotConnector(connector.mapping, creds)
    from leadgate.crm.salesforce import SalesforceConnector

    return SalesforceConnector(connector.mapping, creds)


def delay(attempts: int, retry_after: float | None) -> timedelta:
    """Backoff before attempt ``attempts + 1``: 2 s doubling to 1 h, +-10%, >= Retry-After."""
    seconds = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY) * random.uniform(0.9, 1.1)
    # Rounded up to whole microseconds, so a Retry-After is never undercut by rounding.
    return timedelta(microseconds=math.ceil(max(seconds, retry_after or 0.0) * 1e6))


def _cursor_key(kind: str) -> str:
    return f"crm.{kind}.outbox_cursor"


def candidates(conn: Connection, connector: Connector) -> tuple[dict[str, str], int]:
    """Leads to queue (lead id -> why) and the new outbox cursor; reads only."""
    cursor = int(get_setting(conn, _cursor_key(connector.kind), 0) or 0)
    s = crm_sync.c
    rows = conn.execute(
        select(outbox.c.id, outbox.c.topic, outbox.c.lead_id, outbox.c.created_at, s.queued_at)
        .select_from(outbox.outerjoin(crm_sync, and_(
            s.connector == connector.kind, s.lead_id == outbox.c.lead_id)))
        .where(outbox.c.id > max(cursor - LOOKBACK, 0), outbox.c.topic.in_(TOPICS))
        .order_by(outbox.c.id)
    ).all()  # fmt: skip
    due: dict[str, str] = {}
    top = cursor
    for r in rows:
        top = max(top, r.id)
        behind = r.id <= cursor
        # Behind the cursor: only a late-committed message this lead was not queued for since.
        if r.lead_id and not (behind and r.queued_at is not None and r.queued_at >= r.created_at):
            due[r.lead_id] = "mql" if r.topic == "lead.mql" else "disposition"
    top = max(top, conn.execute(select(func.max(outbox.c.id))).scalar() or 0)
    moved: Any = conn.execute(
        select(leads.c.lead_id, leads.c.stage, s.pushed_stage)
        .select_from(leads.join(crm_sync, and_(
            s.connector == connector.kind, s.lead_id == leads.c.lead_id)))
        .where(s.status == "synced", or_(
            leads.c.stage != s.pushed_stage,
            func.abs(func.coalesce(leads.c.score_total, 0) - func.coalesce(s.pushed_total, 0))
            >= connector.score_step)))  # fmt: skip
    for r in moved:
        due.setdefault(r.lead_id, "stage" if r.stage != r.pushed_stage else "score")
    return due, top


def collect(store: Store, connector: Connector, now: datetime) -> int:
    """Queue what is due (see the module docstring); returns how many leads were queued."""
    now = as_utc(now)
    with store.write() as conn:
        due, top = candidates(conn, connector)
        existing = {
            r.lead_id: r
            for r in conn.execute(
                select(crm_sync).where(crm_sync.c.connector == connector.kind,
                                       crm_sync.c.lead_id.in_(list(due)))
            )
        } if due else {}  # fmt: skip
        for lead_id, reason in due.items():
            row = existing.get(lead_id)
            if row is None:
                conn.execute(crm_sync.insert().values(
                    connector=connector.kind, lead_id=lead_id, status="pending", attempts=0,
                    next_attempt_at=now, reason=reason, queued_at=now))  # fmt: skip
            elif row.status != "pending":
                conn.execute(update(crm_sync).where(
                    crm_sync.c.connector == connector.kind, crm_sync.c.lead_id == lead_id
                ).values(status="pending", attempts=0, next_attempt_at=now, reason=reason,
                         queued_at=now, last_error=None))  # fmt: skip
        set_setting(conn, _cursor_key(connector.kind), top, now)
    return len(due)


@dataclass
class PushReport:
    """What one ``push`` did."""

    queued: int = 0
    pushed: int = 0
    retrying: int = 0
    failed: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # lead id -> last error
    would_write: dict[str, dict[str, Any]] = field(default_factory=dict)  # dry run


def _values(conn: Connection, lead_ids: list[str], store: Store) -> dict[str, LeadValues]:
    from leadgate.service import get_lead

    rows = fetch_leads(conn, lead_ids)
    out = {}
    for lead_id, lead in rows.items():
        if lead.duplicate_of is not None:
            continue  # the primary record speaks for the person
        explanation = get_lead(store, lead_id).explanation if lead.score else None
        out[lead_id] = lead_values(conn, lead, explanation)
    return out


def dry_run(store: Store, connector: Connector, client: CrmClient, now: datetime) -> PushReport:
    """What ``push`` would write now (nothing is written, no CRM is called)."""
    now = as_utc(now)
    with store.read() as conn:
        due, _ = candidates(conn, connector)
        pending = conn.execute(select(crm_sync.c.lead_id).where(
            crm_sync.c.connector == connector.kind, crm_sync.c.status == "pending",
            crm_sync.c.next_attempt_at <= now)).scalars().all()  # fmt: skip
        ids = sorted(set(due) | set(pending))
        values = _values(conn, ids, store)
    report = PushReport(queued=len(ids))
    report.would_write = {i: client.properties(v) for i, v in values.items()}
    return report


def push(
    store: Store, connector: Connector, client: CrmClient, now: datetime, *, limit: int = 1000
) -> PushReport:
    """Queue what is due, then push the due leads once (failures wait for a later call)."""
    now = as_utc(now)
    report = PushReport(queued=collect(store, connector, now))
    s = crm_sync.c
    with store.write() as conn:
        query = (
            select(crm_sync)
            .where(s.connector == connector.kind, s.status == "pending", s.next_attempt_at <= now)
            .order_by(s.next_attempt_at, s.lead_id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = {r.lead_id: r for r in conn.execute(query)}
        if claimed:  # a lease: a worker that dies mid-push leaves them due again later
            conn.execute(update(crm_sync).where(
                s.connector == connector.kind, s.lead_id.in_(list(claimed))
            ).values(next_attempt_at=now + LEASE))  # fmt: skip
    with store.read() as conn:  # scoring the explanations holds no write lock
        values = _values(conn, list(claimed), store)
    outcomes = client.push(list(values.values())) if values else []
    gone = set(claimed) - set(values)
    outcomes += [PushOutcome(i, ok=False, error="a duplicate record; its primary lead is pushed")
                 for i in gone]  # fmt: skip
    with store.write() as conn:
        for o in outcomes:
            row = claimed[o.lead_id]
            where = and_(s.connector == connector.kind, s.lead_id == o.lead_id)
            if o.ok:
                v = values[o.lead_id]
                conn.execute(update(crm_sync).where(where).values(
                    status="synced", attempts=row.attempts + 1, next_attempt_at=None,
                    last_error=None, pushed_at=now, pushed_total=v.total, pushed_stage=v.stage,
                    crm_id=o.crm_id or row.crm_id))  # fmt: skip
                report.pushed += 1
                continue
            attempts = row.attempts + 1
            report.errors[o.lead_id] = o.error or "refused"
            if o.retry and attempts < MAX_ATTEMPTS:
                conn.execute(update(crm_sync).where(where).values(
                    attempts=attempts, last_error=o.error,
                    next_attempt_at=now + delay(attempts, o.retry_after)))  # fmt: skip
                report.retrying += 1
            else:
                conn.execute(update(crm_sync).where(where).values(
                    status="failed", attempts=attempts, last_error=o.error,
                    next_attempt_at=None))  # fmt: skip
                report.failed += 1
    return report


def retry_failed(store: Store, kind: str, now: datetime) -> int:
    """Make every failed push of ``kind`` due again (after fixing the cause)."""
    s = crm_sync.c
    with store.write() as conn:
        done = conn.execute(update(crm_sync).where(s.connector == kind, s.status == "failed")
                            .values(status="pending", attempts=0, next_attempt_at=as_utc(now)))  # fmt: skip
    return int(done.rowcount or 0)


@dataclass
class PullReport:
    """What one ``pull`` did: outcomes read, dispositions recorded, and skipped ones."""

    read: int = 0
    applied: list[tuple[str, str]] = field(default_factory=list)  # (lead id, action)
    already: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # lead id -> why


def pull(store: Store, connector: Connector, client: CrmClient, now: datetime) -> PullReport:
    """Read sales outcomes changed since the last pull and record each once."""
    now = as_utc(now)
    key = f"crm.{connector.kind}.pull_since"
    with store.read() as conn:
        since_text = get_setting(conn, key)
    since = datetime.fromisoformat(since_text) if since_text else None
    found, newest = client.pull(since)
    report = PullReport(read=len(found))
    for item in found:
        try:
            apply_pulled(store, connector.kind, item, now, report)
        except LeadgateError as exc:
            report.skipped[item.lead_id] = str(exc)
    if newest is not None:
        with store.write() as conn:
            set_setting(conn, key, newest.isoformat(), now)
    return report


def apply_pulled(store: Store, kind: str, item: Pulled, now: datetime, report: PullReport) -> None:
    """Record ``item`` for its lead's current cycle unless done already; walk forward to it."""
    from leadgate.service.sales import dispose, reject_reasons

    actor = f"crm:{kind}"
    with store.read() as conn:
        rows = fetch_leads(conn, [item.lead_id])
        if item.lead_id not in rows:
            report.skipped[item.lead_id] = "no such lead in leadgate"
            return
        lead = rows[item.lead_id]
        done = conn.execute(select(crm_pulls.c.id).where(
            crm_pulls.c.connector == kind, crm_pulls.c.lead_id == item.lead_id,
            crm_pulls.c.cycle == lead.cycle, crm_pulls.c.action == item.action)).first()  # fmt: skip
    if done is not None:
        report.already += 1
        return
    reason, note = item.reason, item.note
    if item.action == "reject":
        codes = reject_reasons(store)
        if reason not in codes:
            reason = "other" if "other" in codes else next(iter(codes))
    stage = Stage(lead.stage)
    while stage not in ACTION_FROM[item.action]:
        step = PREP.get(stage)
        if step is None or item.action in ("accept", "touch", "reject"):
            raise ConflictError(f"lead '{item.lead_id}' is at stage '{stage}': "
                                f"the CRM's '{item.action}' no longer applies")  # fmt: skip
        amount = item.amount if step == "opportunity" else None
        stage = Stage(dispose(store, item.lead_id, step, amount=amount, actor=actor, at=now).stage)
    dispose(store, item.lead_id, item.action, reason=reason, note=note, amount=item.amount,
            actor=actor, at=now)  # fmt: skip
    with store.write() as conn:
        conn.execute(crm_pulls.insert().values(connector=kind, lead_id=item.lead_id,
                                               cycle=lead.cycle, action=item.action,
                                               applied_at=now))  # fmt: skip
    report.applied.append((item.lead_id, item.action))


def sync_states(store: Store) -> dict[str, dict[str, Any]]:
    """Per connector: leads synced, pending and failed, and the newest error."""
    from leadgate.crm.settings import list_connectors

    s = crm_sync.c
    out: dict[str, dict[str, Any]] = {}
    with store.read() as conn:
        for connector in list_connectors(conn):
            counts: dict[str, int] = dict(conn.execute(select(s.status, func.count()).where(
                s.connector == connector.kind).group_by(s.status)).all())  # fmt: skip
            last = conn.execute(select(s.lead_id, s.last_error).where(
                s.connector == connector.kind, s.last_error.is_not(None)
            ).order_by(s.queued_at.desc()).limit(1)).first()  # fmt: skip
            out[connector.kind] = {
                "synced": int(counts.get("synced", 0)), "pending": int(counts.get("pending", 0)),
                "failed": int(counts.get("failed", 0)),
                "last_error": f"{last.lead_id}: {last.last_error}" if last else None,
            }  # fmt: skip
    return out
