"""Accounts follow their leads in the same request (issues #15/#16): the real-time account path.

A write that changes what a lead or an account scores (an event, an account-level event, a
profile, an account) calls ``follow_accounts`` in its transaction, after its own leads were
re-scored, with the leads it touched and the accounts of its account-level events:

1. when the published model has ``scope: account`` measures (lead rules or PQL signals), the
   accounts' *other* leads are re-scored too: a teammate's activity can make them an MQL or a
   PQL;
2. when it has an ``accounts:`` block, each account is re-scored from its leads and its
   account-level events (``service.accounts.rescore_accounts_in``): score, stage, a new MQA's
   cycle, SLA and ``account.mqa`` message.

Everything is read per account (its leads by the ``account_id`` index, their events, its own
events), so the cost is that of the account, not of the store. Scores are a pure function of the
stored data at ``as_of``, so a sequence of single writes leaves the store as one bulk load and
a full re-score do (tests/accounts/test_accounts_live.py).

Without ``scope: account`` measures an event changes only its own lead's score: the account's
other leads are not re-scored as leads (their rows are not written), only evaluated for the
account's roll-ups, from their incremental states read with them in one statement
(``store/account_members.py``); a state with nothing new folded in is not written back. The
answer is the full re-score's (tests/accounts/test_accounts_live_states.py, issue #15 "Speed").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from leadgate.engine import Score
from leadgate.engine import incremental as inc
from leadgate.engine.event import Event
from leadgate.engine.python import reads_accounts
from leadgate.errors import IngestError
from leadgate.lifecycle.account_stages import TARGET
from leadgate.lifecycle.stages import Cause
from leadgate.service.account_events import (
    insert_account_events,
    lock_accounts,
    unknown_accounts,
)
from leadgate.service.accounts import Members, has_accounts, rescore_accounts_in, stored_members
from leadgate.service.lead_state import score_profiled
from leadgate.service.models import active_model
from leadgate.service.rescore import ActiveModel, profile_of, rescore
from leadgate.service.shapes import AccountState
from leadgate.store.account_members import read_members
from leadgate.store.db import Store
from leadgate.store.ingest import ROW_LOCKS, leads_of_accounts
from leadgate.store.schema import account_states, leads

CHUNK = 2000
_C = account_states.c
_STATES = select(_C.account_id, _C.stage, _C.cycle, _C.score).where(
    _C.account_id.in_(bindparam("ids", expanding=True))
)  # built once: an account answer follows every account event


class UnknownAccountError(IngestError):
    """An account-level event names an account the store does not know."""

    def __init__(self, account_id: str) -> None:
        self.reason = f"no account '{account_id}' (load or PUT the account before its events)"
        super().__init__(self.reason, field="account_id")
        self.account_id = account_id


def accounts_of_leads(conn: Connection, lead_ids: Iterable[str]) -> list[str]:
    """The accounts (sorted, without repeats) of these leads."""
    ids = sorted(set(lead_ids))
    out: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        q = select(leads.c.account_id).where(
            leads.c.lead_id.in_(ids[start : start + CHUNK]), leads.c.account_id.is_not(None)
        )
        out.update(conn.execute(q).scalars())
    return sorted(out)


def begin_account_writes(
    store: Store,
    conn: Connection,
    lead_ids: Iterable[str],
    account_events: Sequence[Event],
    at: datetime,
    model: ActiveModel | None = None,
) -> list[Event]:
    """First step of a write that touches accounts: lock the accounts of ``lead_ids`` and of
    ``account_events`` (PostgreSQL; before any lead's row lock, ``lock_accounts``), refuse an
    account event of an unknown account, store the new account events; return those.
    ``model``: the published model when the caller has it (else it is read).

    Raises:
        UnknownAccountError: an account event names no stored account (nothing written).
    """
    owners = {e.lead_id for e in account_events}
    if account_events:
        missing = unknown_accounts(conn, owners)
        if missing:
            raise UnknownAccountError(
                next(e.lead_id for e in account_events if e.lead_id in missing)
            )
    if ROW_LOCKS[conn.dialect.name] and reads_accounts_of(store, conn, model):
        lock_accounts(conn, owners.union(accounts_of_leads(conn, lead_ids)))
    return insert_account_events(conn, account_events, at) if account_events else []


def reads_accounts_of(store: Store, conn: Connection, model: ActiveModel | None = None) -> bool:
    """Does the published model (``model``, or read) re-score accounts or read accounts' events
    (so a write of one lead re-scores others)?"""
    model = model or active_model(conn, store)
    return model is not None and (reads_accounts(model.plan) or has_accounts(model))


def follow_accounts(
    store: Store,
    conn: Connection,
    lead_ids: Sequence[str],
    as_of: datetime,
    *,
    actor: str,
    account_ids: Iterable[str] = (),
    model: ActiveModel | None = None,
    lead_accounts: Iterable[str] | None = None,
    known: Mapping[str, Score] | None = None,
) -> list[AccountState]:
    """Re-score, in the caller's transaction, the accounts of ``lead_ids`` (leads the caller has
    just re-scored) and ``account_ids``, and their other leads when the model reads accounts'
    events; return the new state of each of ``account_ids`` (in their order).

    ``lead_accounts``: the accounts of ``lead_ids`` when the caller read them with the leads
    (not looked up again); ``known``: scores the caller computed at ``as_of`` under ``model``
    in this transaction, by lead id (those leads are not scored again for their accounts)."""
    answer = list(dict.fromkeys(account_ids))
    model = model or active_model(conn, store)
    if model is None:
        return [AccountState(account_id=a, stage=TARGET) for a in answer]
    teammates, accounts = reads_accounts(model.plan), has_accounts(model)
    if not (teammates or accounts):  # nothing reads accounts: no account query at all
        return account_states_of(conn, answer)
    mine = accounts_of_leads(conn, lead_ids) if lead_accounts is None else lead_accounts
    touched = sorted(set(mine).union(answer))
    if touched and teammates:
        done = set(lead_ids)
        others = [i for i in leads_of_accounts(conn, touched) if i not in done]
        if others:
            rescore(conn, model, others, as_of, cause=Cause.SCORE, actor=actor)
    if touched and accounts:
        # The leads from their incremental states (equal to their events' scores, in O(rules)
        # a lead, service/lead_state.py): reading every lead's events was most of the cost.
        # A bulk load touches many accounts: re-score them all in one pass (a superset; no id
        # list longer than a statement may bind).
        which = touched if len(touched) <= CHUNK else None
        rescore_accounts_in(
            conn, store, as_of, which, actor=actor, model=model, members=_from_states(known or {})
        )
    return account_states_of(conn, answer)


def _from_states(known: Mapping[str, Score]) -> Members:
    """The accounts' leads (``service.accounts.Members``) read with their states in one
    statement (``store.account_members``) and scored from them; ``known`` ones as given."""

    def members(
        conn: Connection,
        model: ActiveModel,
        account_ids: Sequence[str] | None,
        accts: Mapping[str, Mapping[str, Any]],
        as_of: datetime,
    ) -> list[tuple[str, dict[str, Any], Score]]:
        if not inc.supports(model.plan):
            return stored_members(conn, model, account_ids, accts, as_of)
        rows, stored = read_members(conn, sorted(accts), known)
        rest = [r for r in rows if r.lead_id not in known]
        # The accounts' attributes in every profile, as the live write scores its own leads:
        # the same profile digest, so the states' profile flags are not computed again.
        scored = score_profiled(conn, model, rest, as_of, {}, stored, accts) if rest else []
        found = {**dict(zip((r.lead_id for r in rest), scored, strict=True)), **known}
        return [(r.account_id, profile_of(r, accts[r.account_id]), found[r.lead_id]) for r in rows]

    return members


def account_states_of(conn: Connection, account_ids: Sequence[str]) -> list[AccountState]:
    """Each account's stored stage and score (``target`` and no score before its first)."""
    rows: dict[str, Any] = {}
    for start in range(0, len(account_ids), CHUNK):
        part = list(account_ids[start : start + CHUNK])
        rows.update((r.account_id, r) for r in conn.execute(_STATES, {"ids": part}))
    return [
        AccountState(account_id=a, stage=rows[a].stage, cycle=rows[a].cycle, score=rows[a].score)
        if a in rows
        else AccountState(account_id=a, stage=TARGET)
        for a in account_ids
    ]
