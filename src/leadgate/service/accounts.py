"""Accounts in the store (issue #15): account events, account scores and stages, the MQA queue,
account dispositions.

``rescore_accounts`` scores every stored account under the published model's ``accounts:``
block with the per-account executor: its leads (as stored: profile, account, events, canonical
leads only) scored at the same ``as_of``, its account-level events. The lifecycle decisions are
``lifecycle/account_stages``'s; this module records them (``account_states``,
``account_transitions``). The API's ``/v1/accounts`` routes and the CLI call these functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    BindParameter,
    Connection,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from leadgate.engine import Score
from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_python import ScoredLead, score_account
from leadgate.engine.accounts_result import AccountScore
from leadgate.engine.event import Event, as_utc
from leadgate.errors import ConflictError, NotFoundError
from leadgate.lifecycle.account_stages import (
    CUSTOMER,
    ENGAGED,
    MQA,
    OPPORTUNITY,
    TARGET,
    plan_account_disposition,
    stage_after_score,
)
from leadgate.lifecycle.sla import sla_due_at, sla_hours_of, sla_state
from leadgate.service.account_events import insert_account_events, lock_accounts
from leadgate.service.account_handoff import account_plan
from leadgate.service.models import active_model, live_model
from leadgate.service.rescore import (
    ActiveModel,
    profile_of,
    score_rows,
    stored_properties,
    stored_timestamp,
)
from leadgate.service.shapes import AccountState as AccountState  # its home before
from leadgate.store.db import Store
from leadgate.store.history import LeadRow, lead_select
from leadgate.store.schema import (
    account_events,
    account_states,
    account_transitions,
    accounts,
    leads,
    mqa_cycles,
    outbox,
)

SYSTEM = "system"
MQA_TOPIC = "account.mqa"  # the webhook topic of a new MQA (webhooks/registry.TOPICS)
QUALIFIED_BY = "mqa"  # what qualified an account hand-off (mql_cycles say mql, pql, mql+pql)


class AccountTransition(BaseModel):
    at: datetime
    cycle: int
    from_stage: str
    to_stage: str
    cause: str
    action: str | None = None
    actor: str
    reason: str | None = None
    note: str | None = None


class AccountMember(BaseModel):
    """One of the account's leads: its stage, score and buying-group role."""

    lead_id: str
    stage: str
    total: float | None = None
    mql: bool | None = None
    role: str | None = None
    engaged: bool = False


class AccountView(AccountState):
    """An account: score, explanation, buying group, members, stage moves."""

    explanation: dict[str, Any] | None = None
    members: list[AccountMember] = Field(default_factory=list)
    transitions: list[AccountTransition] = Field(default_factory=list)
    mqa_at: datetime | None = None
    sla_due_at: datetime | None = None
    first_touch_at: datetime | None = None


class MqaItem(BaseModel):
    """One account in the MQA queue, listing its buying group."""

    account_id: str
    cycle: int
    total: float
    abm: bool
    completeness: float | None
    buying_group: dict[str, Any]
    missing: list[str]
    mqa_at: datetime
    sla_due_at: datetime
    sla_state: str


class AccountsReport(BaseModel):
    scored: int
    new_mqas: list[str]


def _plan(conn: Connection, store: Store, model: ActiveModel | None = None) -> AccountPlan:
    model = model or active_model(conn, store)
    if model is None:
        raise NotFoundError("no model is published yet")
    plan = account_plan(model)
    # no ``accounts:`` block: compile_accounts raises the ModelError that says so
    return plan if plan is not None else compile_accounts(model.parsed())


def add_account_events(store: Store, events: Iterable[Event], *, at: datetime) -> int:
    """Store account-level events (``Event.lead_id`` is the account id); a replayed event id
    adds nothing. Returns how many were new. (No re-score: ``ingest_events`` with
    ``account_events`` stores them and re-scores their accounts in one transaction.)"""
    with store.write() as conn:
        return len(insert_account_events(conn, list(events), at))


# The statements of an account re-score, built once: the live path re-scores an account on
# every event, and building them (SQLAlchemy's coercions) cost as much as running them.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_ALL_ACCOUNTS = select(accounts)
_SOME_ACCOUNTS = _ALL_ACCOUNTS.where(accounts.c.account_id.in_(_IDS))
_ALL_MEMBERS = lead_select().where(
    leads.c.account_id.is_not(None), leads.c.duplicate_of.is_(None), leads.c.erased_at.is_(None)
)
_SOME_MEMBERS = _ALL_MEMBERS.where(leads.c.account_id.in_(_IDS))
_AE = account_events.c
# Read raw (no per-row type processing: the timestamps as SQLite's text, the properties as JSON
# text decoded lazily), as ``rescore.events_of`` reads lead events.
_ALL_ACCOUNT_EVENTS = {
    dialect: select(
        _AE.account_id, _AE.type, type_coerce(_AE.timestamp, String) if raw_ts else _AE.timestamp,
        _AE.event_id, type_coerce(_AE.properties, Text),
    )
    for dialect, raw_ts in (("sqlite", True), ("postgresql", False))
}  # fmt: skip
_SOME_ACCOUNT_EVENTS = {
    dialect: q.where(_AE.account_id.in_(_IDS)) for dialect, q in _ALL_ACCOUNT_EVENTS.items()
}
# What a re-score reads of the stored state: not the score and explanation (JSON, the largest).
_ALL_STAGES = select(account_states.c.account_id, account_states.c.stage, account_states.c.cycle)
_SOME_STAGES = _ALL_STAGES.where(account_states.c.account_id.in_(_IDS))
_UPDATE_STATE = update(account_states).where(account_states.c.account_id == bindparam("b_id"))


def _select(every: Any, some: Any, ids: Sequence[str] | None) -> tuple[Any, dict[str, Any]]:
    """A prebuilt statement and its parameters: ``every`` row, or ``some`` of ``ids``."""
    return (every, {}) if ids is None else (some, {"ids": list(ids)})


def _account_events(conn: Connection, ids: Sequence[str] | None) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = defaultdict(list)
    name = conn.dialect.name
    q = _select(_ALL_ACCOUNT_EVENTS[name], _SOME_ACCOUNT_EVENTS[name], ids)
    for account_id, type_, ts, event_id, props in conn.execute(*q):
        out[account_id].append(
            Event(account_id, type_, stored_timestamp(ts), event_id, stored_properties(props))
        )
    return out


# The scored leads of accounts: (account id, profile, score) of each primary, not erased lead of
# the accounts in ``accts`` (by id, with their attributes; ``account_ids``: None when ``accts`` is
# every stored account) at ``as_of``.
Members = Callable[
    [Connection, ActiveModel, Sequence[str] | None, Mapping[str, Mapping[str, Any]], datetime],
    list[tuple[str, dict[str, Any], Score]],
]


def stored_members(
    conn: Connection,
    model: ActiveModel,
    account_ids: Sequence[str] | None,
    accts: Mapping[str, Mapping[str, Any]],
    as_of: datetime,
) -> list[tuple[str, dict[str, Any], Score]]:
    """``Members`` from the leads as stored: their rows, scored from their events
    (``score_rows``)."""
    rows = [
        LeadRow(**row._mapping)
        for row in conn.execute(*_select(_ALL_MEMBERS, _SOME_MEMBERS, account_ids))
    ]
    rows = [r for r in rows if r.account_id in accts]
    scores = score_rows(conn, model, rows, as_of)
    return [
        (r.account_id, profile_of(r, accts[r.account_id]), s)
        for r, s in zip(rows, scores, strict=True)
        if r.account_id is not None
    ]


def score_store_accounts(
    conn: Connection,
    store: Store,
    as_of: datetime,
    account_ids: Sequence[str] | None = None,
    *,
    model: ActiveModel | None = None,
    members: Members = stored_members,
) -> list[AccountScore]:
    """Every stored account's score at ``as_of`` (leads as stored, canonical and not erased);
    ``account_ids``: those accounts only (reading their leads and events alone). ``model``: the
    published model when the caller has it; ``members``: what reads and scores the accounts'
    leads (the live path scores them from their incremental states)."""
    model = model or active_model(conn, store)
    plan = _plan(conn, store, model)
    assert model is not None
    q = _select(_ALL_ACCOUNTS, _SOME_ACCOUNTS, account_ids)
    accts = {r.account_id: dict(r.attrs) for r in conn.execute(*q)}
    by_account: dict[str, list[ScoredLead]] = defaultdict(list)
    for account_id, profile, score in members(conn, model, account_ids, accts, as_of):
        by_account[account_id].append(ScoredLead.of(profile, score))
    evs = _account_events(conn, account_ids)
    return [
        score_account(plan, {**attrs, "account_id": aid}, evs.get(aid, ()), by_account[aid], as_of, aid)
        for aid, attrs in sorted(accts.items())
    ]  # fmt: skip


def _engaged(score: AccountScore) -> bool:
    roles = score.explanation.roles
    if roles:
        return any(r.filled for r in roles)
    return bool(score.explanation.leads) and score.total > 0


def rescore_accounts(store: Store, as_of: datetime, *, actor: str = SYSTEM) -> AccountsReport:
    """Score every account, record each score and move each account as the score decides
    (``lifecycle/account_stages.stage_after_score``); a new MQA opens a cycle with its SLA.

    Raises:
        NotFoundError: no model is published.
        ModelError: the published model has no ``accounts:`` block.
    """
    with store.write() as conn:
        # Live writers re-score accounts too (service/accounts_live.py): take every account's
        # lock first, in their order (PostgreSQL), so none inserts a state row meanwhile.
        lock_accounts(conn, conn.execute(select(accounts.c.account_id)).scalars())
        return rescore_accounts_in(conn, store, as_of, None, actor=actor)


def rescore_accounts_in(
    conn: Connection,
    store: Store,
    as_of: datetime,
    account_ids: Sequence[str] | None,
    *,
    actor: str = SYSTEM,
    model: ActiveModel | None = None,
    members: Members = stored_members,
) -> AccountsReport:
    """``rescore_accounts`` inside the caller's transaction, for ``account_ids`` (None: all);
    ``model`` and ``members`` as ``score_store_accounts``'s.

    A new MQA records its cycle in ``mqa_cycles`` (``handoff``: the account is ABM, so this MQA
    is its hand-off to sales; ``qualified_by`` "mqa") and queues the ``account.mqa`` message.
    """
    as_of = as_utc(as_of)
    new_mqas: list[str] = []
    model = model or active_model(conn, store)
    plan = _plan(conn, store, model)
    policy = plan.lead.segments[-1].policy
    sla_hours = sla_hours_of(policy.sla_hours)
    scores = score_store_accounts(conn, store, as_of, account_ids, model=model, members=members)
    sq = _select(_ALL_STAGES, _SOME_STAGES, account_ids)
    states = {r.account_id: r for r in conn.execute(*sq)}
    for s in scores:
        record = s.to_record()
        values: dict[str, Any] = {
            "score": record, "explanation": s.explanation.to_dict(), "score_total": s.total,
            "mqa": s.mqa, "abm": s.abm, "completeness": s.explanation.completeness,
            "model_hash": plan.lead.hash, "scored_at": as_of,
        }  # fmt: skip
        old = states.get(s.account_id)
        stage, cycle = (old.stage, old.cycle) if old is not None else (TARGET, 0)
        target = stage_after_score(stage, s.mqa, _engaged(s))
        if target is not None:
            if target == MQA:
                cycle += 1
                due = sla_due_at(as_of, sla_hours)
                values |= {"mqa_at": as_of, "sla_due_at": due, "first_touch_at": None}
                new_mqas.append(s.account_id)
                conn.execute(insert(mqa_cycles).values(
                    account_id=s.account_id, cycle=cycle, mqa_at=as_of, qualified_by=QUALIFIED_BY,
                    handoff=s.abm, model_hash=plan.lead.hash, score_total=s.total,
                    completeness=s.explanation.completeness, sla_hours=sla_hours,
                    sla_due_at=due, stage=MQA,
                ))  # fmt: skip
                conn.execute(insert(outbox).values(
                    topic=MQA_TOPIC, lead_id=None, created_at=as_of,
                    payload={"account_id": s.account_id, "cycle": cycle, "at": as_of.isoformat(),
                             "abm": s.abm, "score": record},
                ))  # fmt: skip
            values |= {"stage": target, "stage_since": as_of, "cycle": cycle}
            conn.execute(
                insert(account_transitions).values(
                    account_id=s.account_id, cycle=cycle, from_stage=stage, to_stage=target,
                    at=as_of, cause="score", actor=actor, model_hash=plan.lead.hash,
                )
            )  # fmt: skip
        if old is None:
            values.setdefault("stage", stage)
            values.setdefault("stage_since", as_of)
            values.setdefault("cycle", cycle)
            conn.execute(insert(account_states).values(account_id=s.account_id, **values))
        else:
            conn.execute(_UPDATE_STATE, {"b_id": s.account_id, **values})
    return AccountsReport(scored=len(scores), new_mqas=new_mqas)


def has_accounts(model: ActiveModel) -> bool:
    """Does the published ``model`` have an ``accounts:`` block?"""
    return account_plan(model) is not None


def rescore_accounts_if_any(store: Store, as_of: datetime) -> AccountsReport | None:
    """``rescore_accounts`` when the published model has an ``accounts:`` block (``tick``
    calls it, so accounts follow their leads); None otherwise."""
    with store.read() as conn:
        model = active_model(conn, store)
    if model is None or not has_accounts(model):
        return None
    return rescore_accounts(store, as_of)


# The reads of an account's answer, built once: ``GET /v1/accounts/{id}`` follows every event in
# the account path, and building the statements cost as much as running them.
_ID: BindParameter[Any] = bindparam("id")
_STATE_OF = select(account_states).where(account_states.c.account_id == _ID)
_ACCOUNT_EXISTS = select(func.count()).select_from(accounts).where(accounts.c.account_id == _ID)
_MEMBERS_OF = (
    select(leads.c.lead_id, leads.c.stage, leads.c.score_total, leads.c.qualifies)
    .where(leads.c.account_id == _ID, leads.c.duplicate_of.is_(None))
    .order_by(leads.c.lead_id)
)
_MOVES_OF = (
    select(account_transitions)
    .where(account_transitions.c.account_id == _ID)
    .order_by(account_transitions.c.id)
)


def _state(conn: Connection, account_id: str) -> Any:
    row = conn.execute(_STATE_OF, {"id": account_id}).first()
    if row is None:
        exists = conn.execute(_ACCOUNT_EXISTS, {"id": account_id}).scalar_one()
        if not exists:
            raise NotFoundError(f"no account '{account_id}'")
    return row


def get_account(store: Store, account_id: str) -> AccountView:
    """An account: stage, score, explanation, buying group, its leads, stage moves.

    Raises:
        NotFoundError: no such account.
    """
    with store.read() as conn:
        row = _state(conn, account_id)
        member_rows = conn.execute(_MEMBERS_OF, {"id": account_id}).all()
        moves = conn.execute(_MOVES_OF, {"id": account_id}).all()
    if row is None:
        return AccountView(account_id=account_id, stage=TARGET)
    roles: dict[str, str] = {}
    for name, role in ((row.score or {}).get("buying_group") or {}).get("roles", {}).items():
        for member in role["members"]:
            roles[member] = name
    members = [
        AccountMember(lead_id=m.lead_id, stage=m.stage, total=m.score_total, mql=m.qualifies,
                      role=roles.get(m.lead_id), engaged=m.lead_id in roles)
        for m in member_rows
    ]  # fmt: skip
    transitions = [
        AccountTransition(
            at=t.at, cycle=t.cycle, from_stage=t.from_stage, to_stage=t.to_stage, cause=t.cause,
            action=t.action, actor=t.actor, reason=t.reason, note=t.note,
        )
        for t in moves
    ]  # fmt: skip
    return AccountView(
        account_id=account_id, stage=row.stage, cycle=row.cycle, score=row.score,
        explanation=row.explanation, members=members, transitions=transitions,
        mqa_at=row.mqa_at, sla_due_at=row.sla_due_at, first_touch_at=row.first_touch_at,
    )  # fmt: skip


def mqa_queue(store: Store, *, as_of: datetime, limit: int = 100, offset: int = 0) -> list[MqaItem]:
    """Accounts at ``mqa``, highest total first, then oldest MQA first (one item per account)."""
    c = account_states.c
    # Not the explanation: the largest column, and the queue does not show it.
    columns = [col for col in account_states.c if col.name != "explanation"]
    with store.read() as conn:
        rows = conn.execute(
            select(*columns)
            .where(c.stage == MQA)
            .order_by(c.score_total.desc(), c.mqa_at, c.account_id)
            .limit(limit)
            .offset(offset)
        ).all()
    return [
        MqaItem(
            account_id=r.account_id, cycle=r.cycle, total=r.score_total or 0.0, abm=bool(r.abm),
            completeness=r.completeness, buying_group=(r.score or {}).get("buying_group", {}),
            missing=(r.score or {}).get("missing", []), mqa_at=r.mqa_at, sla_due_at=r.sla_due_at,
            sla_state=sla_state(r.sla_due_at, r.first_touch_at, as_utc(as_of)),
        )
        for r in rows
    ]  # fmt: skip


def dispose_account(
    store: Store,
    account_id: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    actor: str,
    at: datetime,
) -> AccountState:
    """Record what sales did with an account (accept, reject with a reason, opportunity, won,
    lost) and move it (``lifecycle/account_stages.plan_account_disposition``).

    Raises:
        NotFoundError: no such account.
        DispositionError: unknown action, reject without a reason (HTTP 422).
        ConflictError: not allowed from the account's stage (HTTP 409).
    """
    at = as_utc(at)
    with store.write() as conn:
        row = _state(conn, account_id)
        if row is None:
            raise ConflictError(f"cannot {action} account '{account_id}': it was never scored")
        to_stage = record_disposition(
            conn, row, action, reason=reason, note=note, actor=actor, at=at
        )
        return AccountState(account_id=account_id, stage=to_stage, cycle=row.cycle, score=row.score)


def record_disposition(
    conn: Connection,
    row: Any,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    actor: str,
    at: datetime,
    cause: str = "disposition",
) -> str:
    """Move the account of ``row`` (its ``account_states`` row) by ``action`` in the caller's
    transaction and record the move; return the stage it is at after. ``dispose_account`` and
    the account-outcomes import (cause ``import``) both go through it.

    Raises:
        DispositionError, ConflictError: as ``plan_account_disposition``.
    """
    move = plan_account_disposition(row.stage, action, reason)
    values: dict[str, Any] = {}
    if move.touches and row.first_touch_at is None:
        values["first_touch_at"] = at
    to_stage = move.target or row.stage
    if move.target is not None:
        values |= {"stage": move.target, "stage_since": at}
    if values:
        conn.execute(
            update(account_states)
            .where(account_states.c.account_id == row.account_id)
            .values(**values)
        )
        _follow_cycle(conn, row.account_id, row.cycle, values, at)
    conn.execute(
        insert(account_transitions).values(
            account_id=row.account_id, cycle=row.cycle, from_stage=row.stage, to_stage=to_stage,
            at=at, cause=cause, action=action, actor=actor, model_hash=row.model_hash,
            reason=reason, note=note,
        )
    )  # fmt: skip
    return to_stage


def _follow_cycle(
    conn: Connection, account_id: str, cycle: int, values: dict[str, Any], at: datetime
) -> None:
    """Carry a disposition into the account's MQA cycle row: first touch, furthest stage, end."""
    c = mqa_cycles.c
    change: dict[str, Any] = {}
    if "first_touch_at" in values:
        change["first_touch_at"] = values["first_touch_at"]
    stage = values.get("stage")
    if stage in (OPPORTUNITY, CUSTOMER):
        change["stage"] = stage
    if stage in (ENGAGED, CUSTOMER):  # rejected, lost or won: the cycle has left the funnel
        change["ended_at"] = at
    if change:
        conn.execute(
            update(mqa_cycles).where(c.account_id == account_id, c.cycle == cycle).values(change)
        )


def warm_up(store: Store) -> None:
    """Parse and compile the published model's plans (the leads', the accounts', the ABM
    hand-off's) now rather than in the first requests: a server calls this before it listens,
    so its first clients do not each wait for them (~0.2 s)."""
    with store.read() as conn:
        model = live_model(conn, store)
        if model is not None:
            account_plan(model)
