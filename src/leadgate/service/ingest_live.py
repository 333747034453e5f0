"""One live write of events (``ingest_events``), in as few statements as the work allows (issue 17).

A write of events for N leads, in one transaction:

1. the newest model version's id (``models.live_model``: the model itself is cached by id);
2. the leads of the events, each read once with its incremental state and its account
   (``store/live_write.read_for_write``; on PostgreSQL locked in ``lead_id`` order, after the
   table lock that keeps a publish or tick out); bare leads are created for unknown ids, and
   the leads a duplicate's events count for are read the same way;
3. the events, in one INSERT that skips replayed ids and returns the new ones;
4. the re-score of the leads the new events count for, from their states, as the rows read in
   step 2 (``lead_state.score_with_states``, ``rescore.apply_scores``): one UPDATE of the lead
   rows (``last_event_at`` and the new score together), the score-history rows, and on an MQL
   the transition, cycle and outbox rows, each one ``executemany`` (``Changes.flush``);
5. the states written back (one statement).

A single event on a lead with a state is these six statements, plus SQLite's ``BEGIN IMMEDIATE``
or PostgreSQL's table lock; a batch costs the same statements for all its leads, each lead read
and written once (three more when it makes MQLs: transitions, cycles, outbox;
tests/service/test_ingest_live.py counts them). The answer is built from the rows as written,
not read again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from leadgate.engine import Event, Score
from leadgate.lifecycle.stages import Cause
from leadgate.service.account_events import with_ids
from leadgate.service.account_handoff import abm_leads
from leadgate.service.accounts import has_accounts
from leadgate.service.accounts_live import begin_account_writes, follow_accounts
from leadgate.service.lead_state import score_with_states
from leadgate.service.models import live_model
from leadgate.service.rescore import apply_scores
from leadgate.service.shapes import (
    AccountState,
    EventLeadState,
    IngestResult,
    LeadState,
    RescoreSummary,
)
from leadgate.store.db import Store
from leadgate.store.history import Changes, LeadRow
from leadgate.store.ingest import INSERT_IGNORE, lock_leads_table, new_lead_row
from leadgate.store.live_write import ReadForWrite, insert_new_events, read_for_write
from leadgate.store.schema import leads


def _read_leads(conn: Connection, lead_ids: list[str], at: datetime) -> ReadForWrite:
    """Step 2: the leads of the events (bare leads created for unknown ids) and the leads their
    duplicates' events count for, each with its state and account."""
    got = ReadForWrite({}, {}, {})
    read_for_write(conn, lead_ids, got)
    missing = [i for i in lead_ids if i not in got.rows]
    if missing:
        stubs = [new_lead_row(i, at) for i in missing]
        # Another writer may create the same lead meanwhile (PostgreSQL): theirs is as good.
        stmt = INSERT_IGNORE[conn.dialect.name](leads).on_conflict_do_nothing()
        done = set(conn.execute(stmt.returning(leads.c.lead_id), stubs).scalars())
        got.rows.update((s["lead_id"], LeadRow(**s)) for s in stubs if s["lead_id"] in done)
        clashed = [i for i in missing if i not in done]
        if clashed:
            read_for_write(conn, clashed, got)
    primaries = {r.duplicate_of for r in got.rows.values() if r.duplicate_of} - set(got.rows)
    if primaries:
        # Not locked (as before issue 17): locking them after the leads above would take locks
        # out of ``lead_id`` order, and two writers could deadlock.
        read_for_write(conn, sorted(p for p in primaries if p), got, lock=False)
    return got


def ingest_live(
    store: Store,
    items: Sequence[Event],
    as_of: datetime,
    *,
    actor: str,
    account_events: Sequence[Event] = (),
) -> IngestResult:
    """``service.ingest_events``: store the events (replays ignored) and re-score their leads
    and the accounts they touch (``service/accounts_live.py``), in one transaction; one
    ``LeadState`` per lead the events count for, one ``AccountState`` per account of
    ``account_events``."""
    events = with_ids(items)
    lead_ids = list(dict.fromkeys(ev.lead_id for ev in events))
    with store.write() as conn:
        lock_leads_table(conn, "write")  # a running publish or tick finishes first
        # Accounts are locked before any lead row (PostgreSQL), the order every writer keeps.
        model = live_model(conn, store)
        added = begin_account_writes(store, conn, lead_ids, account_events, as_of, model)
        got = _read_leads(conn, lead_ids, as_of)
        rows = got.rows
        new_ids = insert_new_events(conn, events, as_of) if events else set()
        inserted = [ev for ev in events if ev.event_id in new_ids]
        changes = Changes()
        newest: dict[str, datetime] = {}
        for ev in inserted:
            if ev.lead_id not in newest or ev.timestamp > newest[ev.lead_id]:
                newest[ev.lead_id] = ev.timestamp
        for lead_id, ts in newest.items():
            stored = rows[lead_id].last_event_at
            if stored is None or stored < ts:
                changes.set(rows[lead_id], last_event_at=ts)

        def canonical(lead_id: str) -> str:
            return rows[lead_id].duplicate_of or lead_id if lead_id in rows else lead_id

        # The new events by the lead they count for: folded into its incremental state.
        fresh: dict[str, list[Event]] = {}
        for ev in inserted:
            fresh.setdefault(canonical(ev.lead_id), []).append(ev)
        targets = [
            rows[i] for i in sorted(fresh) if i in rows and rows[i].duplicate_of is None
        ]  # as ``rescore`` takes them: primary leads, by id
        known: dict[str, Score] = {}
        if model is not None and targets:
            scores = score_with_states(conn, model, targets, as_of, fresh, got.states, got.accounts)
            known = {r.lead_id: s for r, s in zip(targets, scores, strict=True)}
            held = abm_leads(conn, model, targets, got.accounts)  # accounts as read above
            apply_scores(
                changes, model, zip(targets, scores, strict=True), at=as_of, cause=Cause.SCORE,
                actor=actor, summary=RescoreSummary(), held=held,
            )  # fmt: skip
        _one_lead_update(changes, rows)
        changes.flush(conn)
        ids = [i for i in dict.fromkeys(canonical(ev.lead_id) for ev in events) if i in rows]
        # Each answered lead carries its account's new state when the model scores accounts:
        # read with the account events' accounts, after the accounts are re-scored.
        asked = list(dict.fromkeys(e.lead_id for e in account_events))
        theirs: dict[str, str] = {}
        if model is not None and has_accounts(model):
            theirs = {i: a for i in ids if (a := rows[i].account_id)}
        # The lead writes are done: their accounts (and, for ``scope: account`` models, the
        # accounts' other leads) follow in the same transaction, with the accounts read with
        # the leads above and the scores just computed (neither looked up nor scored again).
        touched = follow_accounts(
            store, conn, list(fresh), as_of, actor=actor,
            account_ids=[*asked, *theirs.values()], model=model,
            lead_accounts={a for i in fresh if i in rows and (a := rows[i].account_id)},
            known=known,
        )  # fmt: skip
        by_account = {s.account_id: s for s in touched}
        answer = [event_state_of(rows[i], by_account.get(theirs.get(i, ""))) for i in ids]
    received = len(items) + len(account_events)
    # Built from values already typed (read from the store, counted here): not validated again.
    return IngestResult.model_construct(
        received=received,
        inserted=len(inserted) + len(added),
        ignored=received - len(inserted) - len(added),
        leads=answer,
        accounts=[by_account[a] for a in asked],
        inserted_ids=new_ids,
        inserted_account_ids={e.event_id for e in added},
        canonical={i: r.duplicate_of for i, r in rows.items() if r.duplicate_of},
    )


def _one_lead_update(changes: Changes, rows: dict[str, LeadRow]) -> None:
    """Give every changed lead the same changed columns (their values as now in the rows), so
    ``Changes.flush`` writes them in one UPDATE instead of one per set of columns."""
    columns = {c for values in changes.lead_updates.values() for c in values}
    for lead_id, values in changes.lead_updates.items():
        values.update((c, getattr(rows[lead_id], c)) for c in columns if c not in values)


def state_of(lead: LeadRow) -> LeadState:
    """The ``{"lead_id", "stage", "score", ...}`` answer for a lead row."""
    return LeadState.model_construct(**_state_fields(lead))


def event_state_of(lead: LeadRow, account: AccountState | None) -> EventLeadState:
    """The answer to a lead's events: ``state_of`` and its account's state."""
    return EventLeadState.model_construct(**_state_fields(lead), account=account)


def _state_fields(lead: LeadRow) -> dict[str, Any]:
    # the answer's fields as ``LeadState`` declares them, each read from the row of that name
    return {name: getattr(lead, name) for name in LeadState.model_fields}
