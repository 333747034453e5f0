"""Retention: deleting old events, outbox messages and webhook delivery records.

Settings (``leadgate settings set``): ``retention.events_days``, ``retention.outbox_days``,
``retention.deliveries_days``; unset means keep forever. ``leadgate retention apply`` (or
``POST /v1/retention/apply``) deletes what is older, in one transaction, audited.

What it does to scores: an event older than the active model's horizon (``engine/horizon.py``:
outside every rule's window, or decayed below 1e-9 of a point) cannot change any score, so
deleting it changes nothing. A shorter ``retention.events_days`` would change scores: setting it
is refused, and so is applying it, unless forced (``--force``), e.g. when the law requires it.
The horizon is the active model's; a later model with longer windows cannot see deleted events.
Scores are computed at the current time: the horizon is measured from ``now``.

Outbox messages are deleted only once no delivery of theirs is pending (never an undelivered
hand-off); delivery records only once ended (delivered or failed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Connection, delete, exists, select

from leadgate.engine import as_utc
from leadgate.engine.horizon import Horizon, horizon
from leadgate.errors import ConflictError
from leadgate.store.audit import Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.lead_states import drop_all_states
from leadgate.store.schema import account_events, events, outbox, webhook_deliveries
from leadgate.store.settings import get_setting

EVENTS_KEY = "retention.events_days"
OUTBOX_KEY = "retention.outbox_days"
DELIVERIES_KEY = "retention.deliveries_days"


class RetentionReport(BaseModel):
    """What a retention run deleted (or would delete, ``dry_run``) and the limits it used."""

    as_of: datetime
    dry_run: bool
    events_days: int | None = None
    outbox_days: int | None = None
    deliveries_days: int | None = None
    horizon_days: float | None = None  # the active model's; None: unbounded or no model
    horizon_by: str = ""  # the rule or check that looks furthest back
    changes_scores: bool = False
    events: int = 0
    outbox: int = 0
    deliveries: int = 0


def model_horizon(conn: Connection) -> Horizon | None:
    """The active model's horizon (``engine/horizon.py``), ``None`` before the first publish."""
    from leadgate.service.models import active_model

    model = active_model(conn)
    return None if model is None else horizon(model.plan)


def _changes_scores(conn: Connection, days: int | None) -> tuple[Horizon | None, bool]:
    seen = model_horizon(conn)
    if days is None or seen is None:
        return seen, False
    return seen, seen.days is None or days < seen.days


def check_events_days(conn: Connection, days: int) -> None:
    """Refuse an events retention shorter than the active model's horizon.

    Raises:
        ConflictError: deleting events that young would change scores.
    """
    seen, changes = _changes_scores(conn, days)
    if changes and seen is not None:
        reach = "of any age" if seen.days is None else f"up to {seen.days:.1f} days old"
        raise ConflictError(
            f"{EVENTS_KEY}={days} would change scores: the active model's {seen.by} counts "
            f"events {reach} (give it a window or a half-life, or force the retention)"
        )


def _days(conn: Connection, key: str) -> int | None:
    value = get_setting(conn, key)
    return None if value is None else int(value)


def apply_retention(
    store: Store, as_of: datetime, *, by: Actor, dry_run: bool = False, force: bool = False
) -> RetentionReport:
    """Delete events, outbox messages and delivery records older than their settings.

    Raises:
        ConflictError: the events retention is shorter than the active model's horizon and
            ``force`` is not set (nothing is deleted).
    """
    as_of = as_utc(as_of)
    ctx = store.read() if dry_run else store.write()
    with ctx as conn:
        report = RetentionReport(
            as_of=as_of, dry_run=dry_run, events_days=_days(conn, EVENTS_KEY),
            outbox_days=_days(conn, OUTBOX_KEY), deliveries_days=_days(conn, DELIVERIES_KEY),
        )  # fmt: skip
        seen, report.changes_scores = _changes_scores(conn, report.events_days)
        if seen is not None:
            report.horizon_days, report.horizon_by = seen.days, seen.by
        if report.changes_scores and not force and not dry_run:
            assert report.events_days is not None
            check_events_days(conn, report.events_days)
        d, o = webhook_deliveries, outbox
        stmts = []
        if report.events_days is not None:
            cut = as_of - timedelta(days=report.events_days)
            stmts.append(("events", delete(events).where(events.c.timestamp < cut)))
            # Account-level events age out with the leads' (issue #15): counted as events.
            old_acc = delete(account_events).where(account_events.c.timestamp < cut)
            stmts.append(("events", old_acc))
        if report.deliveries_days is not None:
            cut = as_of - timedelta(days=report.deliveries_days)
            old = select(o.c.id).where(o.c.created_at < cut)
            ended = delete(d).where(d.c.status != "pending", d.c.outbox_id.in_(old))
            stmts.append(("deliveries", ended))
        if report.outbox_days is not None:
            cut = as_of - timedelta(days=report.outbox_days)
            pending = exists().where(d.c.outbox_id == o.c.id, d.c.status == "pending")
            old_ids = select(o.c.id).where(o.c.created_at < cut, ~pending)
            # Their ended delivery records go with them (the foreign key requires it).
            stmts.append(("deliveries", delete(d).where(d.c.outbox_id.in_(old_ids))))
            stmts.append(("outbox", delete(o).where(o.c.created_at < cut, ~pending)))
        for name, stmt in stmts:
            count = _count(conn, stmt) if dry_run else int(conn.execute(stmt).rowcount)
            setattr(report, name, getattr(report, name) + count)
        if report.events and not dry_run:
            drop_all_states(conn)  # the leads' incremental states counted the deleted events
        if not dry_run:
            record_audit(
                conn, by, "retention.apply", at=as_of,
                details=report.model_dump(mode="json", exclude={"as_of", "dry_run"}),
            )  # fmt: skip
    return report


def _count(conn: Connection, stmt: object) -> int:
    """How many rows a DELETE would remove (for ``dry_run``)."""
    from sqlalchemy import func

    table = stmt.table  # type: ignore[attr-defined]
    where = stmt.whereclause  # type: ignore[attr-defined]
    q = select(func.count()).select_from(table)
    if where is not None:
        q = q.where(where)
    return int(conn.execute(q).scalar() or 0)
