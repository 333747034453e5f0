"""The sales side: the MQL queue, dispositions, SLA breaches and the reject reason codes.

Functions behind ``GET /v1/mqls``, ``POST /v1/leads/{id}/disposition``, ``leadgate queue``,
``leadgate dispose`` and ``leadgate sla``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from leadgate.engine import as_utc
from leadgate.errors import NotFoundError
from leadgate.lifecycle import sla
from leadgate.lifecycle.dispositions import (
    DEFAULT_REJECT_REASONS,
    DispositionError,
    plan_disposition,
)
from leadgate.lifecycle.stages import Cause, Stage
from leadgate.service.ingest_live import state_of
from leadgate.service.shapes import LeadState, QueueItem, SlaBreach
from leadgate.store.audit import SYSTEM, Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.history import Changes, fetch_leads
from leadgate.store.schema import dispositions, leads, mql_cycles
from leadgate.store.settings import get_setting, set_setting

REASONS_KEY = "reject_reasons"


def reject_reasons(store: Store) -> dict[str, str]:
    """The reject reason codes in use (code -> nurture | disqualified)."""
    with store.read() as conn:
        value = get_setting(conn, REASONS_KEY)
    return dict(value) if value else dict(DEFAULT_REJECT_REASONS)


def reject_reason_usage(store: Store) -> dict[str, int]:
    """How many recorded rejections used each reason code (codes no longer listed included)."""
    q = (
        select(dispositions.c.reason, func.count())
        .where(dispositions.c.action == "reject")
        .group_by(dispositions.c.reason)
    )
    with store.read() as conn:
        return {str(code): int(n) for code, n in conn.execute(q) if code is not None}


def _clean_reasons(reasons: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for code, target in reasons.items():
        if not code or not str(code).replace("_", "").isalnum():
            raise DispositionError(f"reason codes are words like no_intent, got {code!r}", "reason")
        if target not in (Stage.NURTURE, Stage.DISQUALIFIED):
            raise DispositionError(
                f"{code}: must map to nurture or disqualified, got {target!r}", "reason"
            )
        clean[str(code)] = str(target)
    if not clean:
        raise DispositionError("at least one reject reason code is needed", "reason")
    return clean


def set_reject_reasons(
    store: Store, reasons: Mapping[str, str], at: datetime, *, by: Actor = SYSTEM
) -> dict[str, str]:
    """Replace the reject reason codes; each maps to ``nurture`` or ``disqualified`` (audited)."""
    clean = _clean_reasons(reasons)
    with store.write() as conn:
        _save_reasons(conn, clean, as_utc(at), by)
    return clean


def _save_reasons(conn: Any, clean: dict[str, str], at: datetime, by: Actor) -> None:
    previous = get_setting(conn, REASONS_KEY)
    set_setting(conn, REASONS_KEY, clean, at)
    record_audit(
        conn, by, "reasons.change", at=at, target=REASONS_KEY,
        details={"reasons": clean, "previous": previous},
    )  # fmt: skip


def change_reject_reasons(
    store: Store,
    *,
    at: datetime,
    add: Mapping[str, str] | None = None,
    remove: Iterable[str] = (),
    by: Actor = SYSTEM,
) -> dict[str, str]:
    """Add or re-map codes (``add``) and drop codes (``remove``) in one transaction.

    Dispositions already recorded keep their codes; only new rejections are checked against the
    changed list.

    Raises:
        NotFoundError: a code in ``remove`` is not in the list.
        DispositionError: a malformed code or target, or nothing would be left.
    """
    with store.write() as conn:
        value = get_setting(conn, REASONS_KEY)
        current = dict(value) if value else dict(DEFAULT_REJECT_REASONS)
        for code in remove:
            if code not in current:
                raise NotFoundError(f"no reject reason code '{code}' (codes: {', '.join(current)})")
            del current[code]
        current.update(add or {})
        clean = _clean_reasons(current)
        _save_reasons(conn, clean, as_utc(at), by)
    return clean


def reset_reject_reasons(store: Store, at: datetime, *, by: Actor = SYSTEM) -> dict[str, str]:
    """Go back to the built-in reason codes."""
    return set_reject_reasons(store, DEFAULT_REJECT_REASONS, at, by=by)


def dispose(
    store: Store,
    lead_id: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    amount: float | None = None,
    actor: str,
    at: datetime,
    by: Actor | None = None,
) -> LeadState:
    """Record what sales did with a lead and move it through the stage machine.

    Audited as ``by`` (default: ``actor``); the audit row holds the action and reason code,
    not the note (notes may hold personal data; erasure blanks them).

    Raises:
        NotFoundError: no such lead.
        DispositionError: unknown action or reason code, ``other`` without a note (HTTP 422).
        ConflictError: the action is not allowed from the lead's stage (HTTP 409).
    """
    at = as_utc(at)
    with store.write() as conn:
        rows = fetch_leads(conn, [lead_id], lock=True)
        if lead_id not in rows:
            raise NotFoundError(f"no lead '{lead_id}'")
        lead = rows[lead_id]
        value = get_setting(conn, REASONS_KEY)
        reasons = dict(value) if value else DEFAULT_REJECT_REASONS
        plan = plan_disposition(
            lead_id, lead.stage, action, reason=reason, note=note, amount=amount, reasons=reasons
        )
        changes = Changes()
        from_stage, cycle = lead.stage, lead.cycle
        if plan.target is None:
            changes.touch(lead, at)
        else:
            changes.move(
                lead,
                plan.target,
                at=at,
                cause=Cause.DISPOSITION.value,
                actor=actor,
                model_hash=lead.score_model_hash,
                reason=plan.reason,
                note=plan.note,
                sales_action=True,
                amount=plan.amount,
            )
        if action == "accept" and lead.owner is None:
            changes.set(lead, owner=actor)
        changes.dispositions.append(
            {"lead_id": lead_id, "cycle": cycle, "action": action, "reason": plan.reason,
             "note": plan.note, "amount": plan.amount, "actor": actor, "at": at}
        )  # fmt: skip
        changes.notify(
            "lead.disposition",
            lead_id,
            {"lead_id": lead_id, "action": action, "reason": plan.reason, "note": plan.note,
             "amount": plan.amount, "actor": actor, "at": at.isoformat(), "from_stage": from_stage,
             "stage": lead.stage, "cycle": cycle, "score": lead.score},
            at,
        )  # fmt: skip
        changes.flush(conn)
        record_audit(
            conn, by or Actor(actor), "lead.disposition", at=at, target=lead_id,
            details={"action": action, "reason": plan.reason, "cycle": cycle,
                     "from_stage": from_stage, "stage": lead.stage},
        )  # fmt: skip
    return state_of(lead)


def open_mqls(segment: str | None = None, owner: str | None = None) -> Any:
    """Leads at ``mql`` joined with their current MQL cycle, filtered by segment and owner: a
    select without columns (add them) that the queue and the web app's board share."""
    c = mql_cycles.c
    # ``cycle + 0``: SQLite would otherwise find the cycle through the (lead_id, cycle) unique
    # index and read its row; matched on lead_id alone, it uses ix_mql_cycles_queue, which
    # holds every column the queue reads (a lead has few cycles; the cycle is checked there).
    current = and_(c.lead_id == leads.c.lead_id, c.cycle + 0 == leads.c.cycle)
    q = (
        select()
        .select_from(leads.join(mql_cycles, current))
        .where(leads.c.stage == Stage.MQL.value)
    )
    if segment is not None:
        q = q.where(leads.c.segment == segment)
    if owner is not None:
        q = q.where(leads.c.owner == owner)
    return q


def sla_state_clause(state: str, as_of: datetime) -> Any:
    """``sla.sla_state(...) == state`` for an MQL cycle, in SQL."""
    c = mql_cycles.c
    touched, untouched = c.first_touch_at.is_not(None), c.first_touch_at.is_(None)
    if state == "met":
        return and_(touched, c.first_touch_at <= c.sla_due_at)
    if state == "breached":
        return or_(
            and_(touched, c.first_touch_at > c.sla_due_at), and_(untouched, c.sla_due_at < as_of)
        )
    return and_(untouched, c.sla_due_at >= as_of)


def queue_item(r: Any, as_of: datetime) -> QueueItem:
    """A queue row (lead and cycle columns) as the API's ``QueueItem``."""
    return QueueItem(
        lead_id=r.lead_id,
        email=r.email,
        owner=r.owner,
        segment=r.segment,
        total=r.score_total,
        cycle=r.cycle,
        mql_at=r.mql_at,
        age_hours=max(0.0, (as_of - r.mql_at).total_seconds() / 3600.0),
        sla_due_at=r.sla_due_at,
        sla_state=sla.sla_state(r.sla_due_at, r.first_touch_at, as_of),
        first_touch_at=r.first_touch_at,
        no_longer_qualifies=r.qualifies is False,
        score=r.score,
    )


ID_CHUNK = 2000  # lead ids per IN (...) list
QUEUE_COLUMNS = (
    leads.c.lead_id, leads.c.email, leads.c.owner, leads.c.segment, leads.c.score_total,
    leads.c.score, leads.c.qualifies, mql_cycles.c.cycle, mql_cycles.c.mql_at,
    mql_cycles.c.sla_due_at, mql_cycles.c.first_touch_at,
)  # fmt: skip


def mql_queue(
    store: Store,
    *,
    as_of: datetime,
    segment: str | None = None,
    owner: str | None = None,
    sla_state: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[QueueItem]:
    """Leads at ``mql`` (waiting for sales), highest score first, then oldest first.

    ``sla_state`` keeps ``pending``, ``breached`` or ``met`` cycles only. MQLs whose score
    dropped below the line stay in the queue with ``no_longer_qualifies`` set. Filters, order
    and the page (``offset``, ``limit``) are applied in SQL: only the page's rows are read.
    """
    if sla_state is not None and sla_state not in sla.SLA_STATES:
        raise DispositionError(
            f"unknown SLA state '{sla_state}' (use {', '.join(sla.SLA_STATES)})", "sla_state"
        )
    if offset < 0:
        raise DispositionError(f"offset must be 0 or more, got {offset}", "offset")
    as_of = as_utc(as_of)
    chosen = open_mqls(segment, owner)
    if sla_state is not None:
        chosen = chosen.where(sla_state_clause(sla_state, as_of))
    order = (func.coalesce(leads.c.score_total, 0.0).desc(), mql_cycles.c.mql_at, leads.c.lead_id)
    with store.read() as conn:
        rows = queue_page(conn, chosen, order, offset, limit)
    return [queue_item(r, as_of) for r in rows]


def queue_page(
    conn: Connection,
    chosen: Any,
    order: Sequence[Any],
    offset: int,
    limit: int | None,
    extra: Sequence[Any] = (),
) -> list[Any]:
    """The rows (``QUEUE_COLUMNS`` and ``extra``) of one page of the sorted, filtered queue.

    The page's lead ids are picked first, from the queue indexes alone (migration 0002_web);
    only then are those leads' rows read in full: sorting every open MQL's whole row (its
    attributes and score) is what made a page of a long queue slow."""
    ids_q = chosen.add_columns(leads.c.lead_id).order_by(*order).offset(offset)
    if limit is not None:
        ids_q = ids_q.limit(limit)
    ids = [str(r[0]) for r in conn.execute(ids_q)]
    by_id: dict[str, Any] = {}
    c = mql_cycles.c
    rows = select(*QUEUE_COLUMNS, *extra).select_from(
        leads.join(mql_cycles, and_(c.lead_id == leads.c.lead_id, c.cycle == leads.c.cycle))
    )
    for start in range(0, len(ids), ID_CHUNK):
        # By id alone (the same read transaction picked them): the primary key finds each row.
        full = rows.where(leads.c.lead_id.in_(ids[start : start + ID_CHUNK]))
        by_id.update((r.lead_id, r) for r in conn.execute(full))
    return [by_id[i] for i in ids if i in by_id]


def sla_breaches(
    store: Store, *, as_of: datetime, segment: str | None = None, owner: str | None = None
) -> list[SlaBreach]:
    """Every MQL cycle whose first touch was late, or is untouched past its due time at ``as_of``.

    Only cycles that began by ``as_of`` count; the most overdue come first.
    """
    as_of = as_utc(as_of)
    c = mql_cycles.c
    q = select(
        c.lead_id,
        c.cycle,
        c.segment,
        c.mql_at,
        c.sla_hours,
        c.sla_due_at,
        c.first_touch_at,
        leads.c.owner,
    ).select_from(mql_cycles.join(leads, leads.c.lead_id == c.lead_id))
    if segment is not None:
        q = q.where(c.segment == segment)
    if owner is not None:
        q = q.where(leads.c.owner == owner)
    with store.read() as conn:
        rows = conn.execute(q.where(c.mql_at <= as_of)).all()
    out = [
        SlaBreach(
            lead_id=r.lead_id,
            cycle=r.cycle,
            segment=r.segment,
            owner=r.owner,
            mql_at=r.mql_at,
            sla_hours=r.sla_hours,
            sla_due_at=r.sla_due_at,
            first_touch_at=r.first_touch_at,
            overdue_hours=sla.overdue_hours(r.sla_due_at, r.first_touch_at, as_of),
        )
        for r in rows
        if sla.sla_state(r.sla_due_at, r.first_touch_at, as_of) == "breached"
    ]
    out.sort(key=lambda b: (-b.overdue_hours, b.lead_id, b.cycle))
    return out
