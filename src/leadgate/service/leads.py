"""Live changes to one lead (events, profile, account) and reading a lead with its history.

These are the functions behind ``POST /v1/events``, ``PUT /v1/leads/{id}``,
``PUT /v1/accounts/{id}`` and ``GET /v1/leads/{id}``: each change is stored and the affected lead
re-scored with the published model in the same transaction, and the answer carries the lead's new
stage and score record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from leadgate.engine import Event, as_utc
from leadgate.engine.ir import EPSILON
from leadgate.errors import IngestError, NotFoundError
from leadgate.lifecycle.stages import Cause
from leadgate.service.account_events import lock_accounts
from leadgate.service.accounts_live import begin_account_writes, follow_accounts
from leadgate.service.ingest_live import ingest_live, state_of
from leadgate.service.lead_state import score_from_states
from leadgate.service.models import active_model
from leadgate.service.rescore import rescore, score_rows
from leadgate.service.shapes import (
    CycleView,
    DispositionView,
    IngestResult,
    LeadState,
    LeadView,
    ScorePoint,
    TransitionView,
)
from leadgate.store.db import Store
from leadgate.store.history import fetch_leads
from leadgate.store.ingest import (
    leads_of_accounts,
    lock_leads_table,
    upsert_accounts,
    upsert_leads,
)
from leadgate.store.schema import dispositions, leads, mql_cycles, score_history, transitions


def canonical_ids(conn: Connection, lead_ids: Iterable[str]) -> list[str]:
    """Each lead id, or the lead it duplicates, in first-seen order without repeats."""
    ids = list(dict.fromkeys(lead_ids))
    primary = duplicates_of(conn, ids)
    return list(dict.fromkeys(primary.get(i, i) for i in ids))


def duplicates_of(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """The lead each duplicate among ``ids`` duplicates (the others are not in the answer)."""
    # Only the duplicates' rows, and only two columns: a streamed load asks this for every lead
    # it touched (a million leads as full rows would be gigabytes).
    primary: dict[str, str] = {}
    for start in range(0, len(ids), 2000):
        q = select(leads.c.lead_id, leads.c.duplicate_of).where(
            leads.c.lead_id.in_(ids[start : start + 2000]), leads.c.duplicate_of.is_not(None)
        )
        primary.update((lead_id, dup) for lead_id, dup in conn.execute(q))
    return primary


def _rescore_ids(
    store: Store,
    conn: Connection,
    ids: list[str],
    as_of: datetime,
    cause: Cause,
    actor: str,
    fresh: Mapping[str, Sequence[Event]] | None = None,
) -> None:
    """Re-score ``ids`` from their incremental states (``service/lead_state.py``), after
    folding in ``fresh`` (new events by the lead they count for)."""
    model = active_model(conn, store)
    if model is not None and ids:
        new = fresh or {}
        rescore(
            conn, model, ids, as_of, cause=cause, actor=actor,
            scorer=lambda c, m, rows, at: score_from_states(c, m, rows, at, new),
        )  # fmt: skip


def ingest_events(
    store: Store,
    events: Iterable[Event],
    as_of: datetime,
    *,
    actor: str = "api",
    account_events: Sequence[Event] = (),
) -> IngestResult:
    """Store events (a replayed event id is ignored) and re-score the leads they belong to, and
    their accounts (``service/accounts_live.py``).

    Returns one ``LeadState`` per lead the events count for: a duplicate lead's events count for
    the lead it duplicates, whose state is returned. ``account_events``: account-level events
    (``Event.lead_id`` is the account id), stored with the others; ``accounts`` answers each of
    their accounts' new state. The write itself: ``service/ingest_live.py``.

    Raises:
        UnknownAccountError: an account event names no stored account (nothing written).
    """
    return ingest_live(
        store, list(events), as_utc(as_of), actor=actor, account_events=account_events
    )


def _check_attrs(attrs: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(attrs, Mapping):
        raise IngestError(f"{what} attributes must be a JSON object", field="body")
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if not isinstance(key, str) or not key:
            raise IngestError("attribute names must be non-empty text", field=str(key))
        if isinstance(value, dict | list):
            raise IngestError("must be text, a number, a boolean or null (flat object)", field=key)
        out[key] = None if value == "" else value
    return out


def upsert_lead(
    store: Store, lead_id: str, attrs: Mapping[str, Any], as_of: datetime, *, actor: str = "api"
) -> LeadState:
    """Create or replace a lead's profile (a flat object) and re-score it.

    A lead whose normalised email belongs to another lead is stored as its duplicate and not
    scored (``duplicate_of`` says which lead it duplicates).
    """
    if not lead_id or not str(lead_id).strip():
        raise IngestError("is required", field="lead_id")
    profile = {**_check_attrs(attrs, "lead"), "lead_id": str(lead_id)}
    as_of = as_utc(as_of)
    with store.write() as conn:
        lock_leads_table(conn, "write")
        begin_account_writes(store, conn, [str(lead_id)], (), as_of)  # its account's lock first
        upsert_leads(conn, [profile], as_of)
        _rescore_ids(store, conn, [str(lead_id)], as_of, Cause.SCORE, actor)
        follow_accounts(store, conn, [str(lead_id)], as_of, actor=actor)
        row = fetch_leads(conn, [str(lead_id)])[str(lead_id)]
    return state_of(row)


def upsert_account(
    store: Store, account_id: str, attrs: Mapping[str, Any], as_of: datetime, *, actor: str = "api"
) -> list[LeadState]:
    """Create or replace an account and re-score its leads; return their states."""
    if not account_id or not str(account_id).strip():
        raise IngestError("is required", field="account_id")
    as_of = as_utc(as_of)
    with store.write() as conn:
        lock_leads_table(conn, "write")
        lock_accounts(conn, [str(account_id)])  # before its leads' locks (accounts_live)
        upsert_accounts(conn, {str(account_id): _check_attrs(attrs, "account")}, as_of)
        ids = leads_of_accounts(conn, [str(account_id)])
        _rescore_ids(store, conn, ids, as_of, Cause.SCORE, actor)
        follow_accounts(store, conn, ids, as_of, actor=actor, account_ids=[str(account_id)])
        rows = fetch_leads(conn, ids)
    return [state_of(rows[i]) for i in sorted(rows)]


def get_lead(store: Store, lead_id: str, as_of: datetime | None = None) -> LeadView:
    """A lead with its live score and explanation, stage history, cycles and score history.

    The explanation is computed at ``as_of`` (default: the stored score's time) with the
    published model; scores are a pure function of the stored data, so this is the same score.

    Raises:
        NotFoundError: no such lead.
    """
    with store.read() as conn:
        rows = fetch_leads(conn, [lead_id])
        if lead_id not in rows:
            raise NotFoundError(f"no lead '{lead_id}'")
        lead = rows[lead_id]
        explanation = None
        score = lead.score
        model = active_model(conn, store)
        if model is not None and lead.duplicate_of is None:
            when = as_utc(as_of) if as_of else (lead.scored_at or lead.updated_at)
            live = score_rows(conn, model, [lead], when)[0]
            explanation = live.explanation.to_dict()
            # A stored score is rewritten only when it moves by the history resolution, so an
            # event that changed it by less is in the explanation but not in the stored total:
            # the view's score is the explained one, so its points always sum to its total.
            # (Within EPSILON they are the same score: the incremental state keeps decayed sums
            # against a reference time, so the stored total may differ in its last bits.)
            stored = score.get("total") if isinstance(score, dict) else None
            if as_of is not None or stored is None or abs(stored - live.total) > EPSILON:
                score = live.to_record()
        trans = conn.execute(
            select(transitions).where(transitions.c.lead_id == lead_id).order_by(transitions.c.id)
        ).all()
        hist = conn.execute(
            select(score_history)
            .where(score_history.c.lead_id == lead_id)
            .order_by(score_history.c.id)
        ).all()
        cycles = conn.execute(
            select(mql_cycles).where(mql_cycles.c.lead_id == lead_id).order_by(mql_cycles.c.cycle)
        ).all()
        disps = conn.execute(
            select(dispositions)
            .where(dispositions.c.lead_id == lead_id)
            .order_by(dispositions.c.id)
        ).all()
    base = state_of(lead).model_dump()
    base["score"] = score
    return LeadView(
        **base,
        attrs=lead.attrs,
        account_id=lead.account_id,
        owner=lead.owner,
        explanation=explanation,
        transitions=[TransitionView.model_validate(dict(r._mapping)) for r in trans],
        score_history=[ScorePoint.model_validate(dict(r._mapping)) for r in hist],
        cycles=[CycleView.model_validate(dict(r._mapping)) for r in cycles],
        dispositions=[DispositionView.model_validate(dict(r._mapping)) for r in disps],
    )
