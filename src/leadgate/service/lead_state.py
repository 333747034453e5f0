"""Scoring live events from each lead's stored incremental state (``lead_states``), issue 17.

``ingest_events`` (``service/ingest_live.py``) re-scores the leads of new events with
``score_with_states`` instead of re-reading each lead's whole history: the lead's state
(``engine/incremental.py``, read with the lead row in one statement) has the new events folded
in, the score evaluated and the state written back, in O(rules) per event.
A profile or account change (``upsert_lead``, ``upsert_account``) re-scores from the state too:
the state holds only what the events give, the profile is read as it is now. The state is a
cache of the pure engine, so anything it cannot answer falls back to the events:

- no state yet, a state of another model (a publish: states carry the model's hash) or of an
  older layout: rebuilt from the lead's events (one read of its history, then incremental);
- an event later than ``as_of`` folded in, or ``as_of`` before the state's last prune: the lead
  is scored by the pure engine from its events (the state is kept: it is still right);
- a concurrent writer changed the row since it was read (PostgreSQL; ``version`` moved): the
  row is dropped, and the next event rebuilds it.

Writers that change a lead's events other than by ``ingest_events`` drop its state
(``store.lead_states.drop_states``): bulk event loads, a lead becoming or ceasing to be a duplicate (its events
move to or from its primary), erasure, retention.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from leadgate.engine import Event, Plan, Score, score_lead
from leadgate.engine import incremental as inc
from leadgate.io.account_join import ACCOUNT_PREFIX
from leadgate.service.rescore import (
    ActiveModel,
    Profiled,
    events_of,
    load_accounts,
    profile_of,
    score_rows,
)
from leadgate.store.history import LeadRow
from leadgate.store.ingest import INSERT_IGNORE
from leadgate.store.live_write import StoredState, update_states_sqlite
from leadgate.store.schema import lead_states

CHUNK = 2000


def _read(conn: Connection, ids: Sequence[str]) -> dict[str, StoredState]:
    out: dict[str, StoredState] = {}
    s = lead_states.c
    for start in range(0, len(ids), CHUNK):
        q = select(s.lead_id, s.version, s.model_hash, s.state).where(
            s.lead_id.in_(ids[start : start + CHUNK])
        )
        for lead_id, version, model_hash, text in conn.execute(q):
            try:
                state = json.loads(text)
            except ValueError:
                state = None  # unreadable: rebuilt like a missing one
            out[lead_id] = StoredState(version, model_hash, state)
    return out


def _text(state: inc.State) -> str:
    return json.dumps(state, separators=(",", ":"))


def _update_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
    # One writer at a time (BEGIN IMMEDIATE): the row read in this transaction is still current.
    update_states_sqlite(conn, [(r["v_state"], r["v_hash"], r["v_at"], r["b_id"]) for r in rows])
    return []


# PostgreSQL: every changed state in one statement, written only where the version read is still
# the stored one; the rows another transaction wrote meanwhile come back as conflicts.
_PG_UPDATE = (
    "UPDATE lead_states AS s SET state = v.state, version = s.version + 1, "
    "model_hash = v.hash, updated_at = %s "
    "FROM json_to_recordset(%s::json) AS v(lead_id text, version int, state text, hash text) "
    "WHERE s.lead_id = v.lead_id AND s.version = v.version RETURNING s.lead_id"
)


def _update_postgresql(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
    at = rows[0]["v_at"]
    payload = json.dumps(
        [
            {"lead_id": r["b_id"], "version": r["b_version"], "state": r["v_state"],
             "hash": r["v_hash"]}
            for r in rows
        ]
    )  # fmt: skip
    done = {row[0] for row in conn.exec_driver_sql(_PG_UPDATE, (at, payload))}
    return [r["b_id"] for r in rows if r["b_id"] not in done]


_UPDATE: dict[str, Callable[[Connection, list[dict[str, Any]]], list[str]]] = {
    "sqlite": _update_sqlite,
    "postgresql": _update_postgresql,
}


def _write(
    conn: Connection,
    stored: Mapping[str, StoredState],
    states: Mapping[str, inc.State],
    model_hash: str,
    at: datetime,
) -> None:
    """Write the states back: update the rows read (if unchanged since), insert the others;
    a row that clashed with a concurrent writer is dropped (rebuilt by the next event)."""
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for lead_id, state in states.items():
        text = _text(state)
        old = stored.get(lead_id)
        if old is None:
            inserts.append(
                {"lead_id": lead_id, "model_hash": model_hash, "version": 1, "state": text,
                 "updated_at": at}
            )  # fmt: skip
        else:
            updates.append(
                {"b_id": lead_id, "b_version": old.version, "v_state": text,
                 "v_hash": model_hash, "v_at": at}
            )  # fmt: skip
    clashed: list[str] = []
    if updates:
        clashed += _UPDATE[conn.dialect.name](conn, updates)
    if inserts:
        stmt = INSERT_IGNORE[conn.dialect.name](lead_states).on_conflict_do_nothing()
        done = set(conn.execute(stmt.returning(lead_states.c.lead_id), inserts).scalars())
        clashed += [str(r["lead_id"]) for r in inserts if r["lead_id"] not in done]
    if clashed:
        conn.execute(delete(lead_states).where(lead_states.c.lead_id.in_(clashed)))


def score_from_states(
    conn: Connection,
    model: ActiveModel,
    rows: Sequence[LeadRow],
    as_of: datetime,
    fresh: Mapping[str, Sequence[Event]],
) -> list[Score]:
    """Scores of ``rows`` (primary leads) at ``as_of`` after the events ``fresh`` (by canonical
    lead id, already stored in this transaction) were added, from and into their states.

    Equal to ``score_rows`` (the pure engine over every stored event) to 1e-9; explanations
    carry no ``event_ids`` (``get_lead`` lists them from the events).
    """
    if not rows or not inc.supports(model.plan):
        return score_rows(conn, model, rows, as_of)
    stored = _read(conn, [r.lead_id for r in rows])
    needed = _reads_account_attrs(model.plan)
    accts = load_accounts(conn, (r.account_id for r in rows)) if needed else {}
    return score_with_states(conn, model, rows, as_of, fresh, stored, accts)


_ACCOUNT_ATTRS: dict[str, bool] = {}


def _reads_account_attrs(plan: Plan) -> bool:
    """Does any rule, segment or check of ``plan`` test an ``account.<attr>`` field? If not,
    the accounts' attributes cannot change a score and are not read."""
    if plan.hash not in _ACCOUNT_ATTRS:
        fields = plan.fields().profile
        _ACCOUNT_ATTRS[plan.hash] = any(f.startswith(ACCOUNT_PREFIX) for f in fields)
    return _ACCOUNT_ATTRS[plan.hash]


def score_with_states(
    conn: Connection,
    model: ActiveModel,
    rows: Sequence[LeadRow],
    as_of: datetime,
    fresh: Mapping[str, Sequence[Event]],
    stored: Mapping[str, StoredState],
    accts: Mapping[str, Mapping[str, Any]],
) -> list[Score]:
    """``score_from_states`` for a caller that read the rows' states (``stored``) and accounts
    (``accts``) already (the live write path reads them with the rows, in one statement)."""
    if not rows or not inc.supports(model.plan):
        return score_rows(conn, model, rows, as_of)
    return score_profiled(conn, model, rows, as_of, fresh, stored, accts)


def score_profiled(
    conn: Connection,
    model: ActiveModel,
    rows: Sequence[Profiled],
    as_of: datetime,
    fresh: Mapping[str, Sequence[Event]],
    stored: Mapping[str, StoredState],
    accts: Mapping[str, Mapping[str, Any]],
) -> list[Score]:
    """``score_with_states`` for rows that carry only what a profile needs (a lead's id,
    attributes and account: ``store.account_members.Member``), under a model the incremental
    engine supports (``inc.supports``).

    A state is written back only when this call changed what it holds: new events folded in,
    rebuilt, or new profile flags. A lead scored without new events keeps its stored state as
    it is: pruning it at ``as_of`` would only drop window entries no later score counts
    (``inc._in_scope`` drops them as well), so the state read is as right as the pruned one,
    and writing every account member back on each event was half the cost of an account's
    re-score (issue #15)."""
    spec = inc.spec_of(model.plan)
    states: dict[str, inc.State] = {}
    dirty: set[str] = set()
    rebuild: list[Profiled] = []
    for r in rows:
        old = stored.get(r.lead_id)
        if old is None or old.model_hash != model.hash or not inc.usable(spec, old.state):
            rebuild.append(r)
            continue
        for ev in fresh.get(r.lead_id, ()):
            inc.apply(spec, old.state, ev)
            dirty.add(r.lead_id)
        states[r.lead_id] = old.state
    history = events_of(conn, [r.lead_id for r in rebuild]) if rebuild else {}
    for r in rebuild:  # its stored events include this call's
        states[r.lead_id] = inc.build(spec, history.get(r.lead_id, ()), as_of)
        dirty.add(r.lead_id)
    out: list[Score | None] = []
    refused: list[Profiled] = []
    for r in rows:
        state = states[r.lead_id]
        flags = state.get("p")
        profile = profile_of(r, accts.get(r.account_id) if r.account_id else None)
        score = inc.evaluate(spec, model.plan, state, profile, as_of, r.lead_id)
        if state.get("p") is not flags:  # computed again (a new profile): worth keeping
            dirty.add(r.lead_id)
        if score is None:
            refused.append(r)
        elif r.lead_id in dirty:
            inc.prune(spec, state, as_of)
        out.append(score)
    if refused:  # an event after as_of, or as_of before the last prune: the pure engine
        missing = [r.lead_id for r in refused if r.lead_id not in history]
        history.update(events_of(conn, missing) if missing else {})
        pure = {
            r.lead_id: score_lead(
                model.plan,
                profile_of(r, accts.get(r.account_id) if r.account_id else None),
                history.get(r.lead_id, ()),
                as_of,
                r.lead_id,
            )
            for r in refused
        }
        out = [s if s is not None else pure[r.lead_id] for r, s in zip(rows, out, strict=True)]
    _write(conn, stored, {i: states[i] for i in states if i in dirty}, model.hash, as_of)
    return [s for s in out if s is not None]
