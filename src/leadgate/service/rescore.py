"""Re-scoring leads in the store with the published model and applying what the scores decide.

One path for every cause: a new event or profile (one lead), a bulk load or ``tick`` (the leads
time or data touched), a model publish (every lead). Leads are processed in chunks: read
profiles, accounts and events; score each lead with the per-lead engine
(``leadgate.engine.score_lead``); compare with the stored score; record score history and the
transitions the lifecycle rules decide (``lifecycle.scores``, ``lifecycle.stages.enters_mql``);
write in bulk. A full re-score of a large store takes the batch path instead
(``service/rescore_batch.py``: DuckDB, no Python object per lead), which hands the leads that
may change stage to ``apply_scores``.

Because the same function serves the live path and the rebuild, incremental ingestion and a
batch rescore give the same scores and transitions (STYLE.md "Incremental equals rebuild").
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, String, Text, func, select, type_coerce

from leadgate.engine import Event, Plan, Score, as_utc, score_lead
from leadgate.engine.ir import Policy
from leadgate.engine.python import account_key, events_by_account, reads_accounts
from leadgate.errors import UnsupportedTargetError
from leadgate.io.account_join import with_account
from leadgate.lifecycle.scores import pql_state, score_changed
from leadgate.lifecycle.sla import sla_hours_of
from leadgate.lifecycle.stages import (
    Cause,
    Stage,
    enters_mql,
    hands_off,
    new_activity,
    qualified_by,
)
from leadgate.model import Model, parse_model
from leadgate.service.account_handoff import abm_leads
from leadgate.service.shapes import LeadChange, RescoreSummary
from leadgate.store.history import Changes, LeadRow, lead_rows, lead_select
from leadgate.store.schema import account_events as account_events_table
from leadgate.store.schema import accounts, events, leads

CHUNK = 2000
# Score history records a change when the total moves by at least this much, or when the MQL
# flag, segment or model changes (new data: events, profiles, accounts, a model).
HISTORY_RESOLUTION = 0.005
# On a tick (time passing, no new data) only moves of a whole point or more are recorded: decay
# shifts every engaged lead's score each tick, and a row per lead per tick is noise. Changes of
# the MQL flag or segment are always recorded.
TICK_RESOLUTION = 1.0

Progress = Callable[[int], None]  # called with the number of leads just processed


def resolution_of(cause: Cause) -> float:
    """The smallest move of a total that score history records for this cause."""
    return TICK_RESOLUTION if cause is Cause.TICK else HISTORY_RESOLUTION


@dataclass(frozen=True)
class ActiveModel:
    """The published model in use: its row id, identity and compiled plan."""

    id: int
    name: str
    version: str
    hash: str
    plan: Plan
    yaml: str

    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}

    def parsed(self) -> Model:
        """The published YAML, parsed (once a process: ``parsed_model``)."""
        return parsed_model(self.hash, self.yaml, f"model {self.name} {self.version}")


# Parsed published models by hash: a version never changes, and its YAML feeds several plans
# (the leads', the accounts', the ABM hand-off's); parsing it is ~50 ms, once is enough.
_PARSED: dict[str, Model] = {}


def parsed_model(model_hash: str, yaml: str, where: str) -> Model:
    """The parsed model of the published version ``model_hash`` (``yaml`` its text; ``where``
    names it in errors)."""
    model = _PARSED.get(model_hash)
    if model is None:
        if len(_PARSED) >= 64:  # a few models are ever live in one process
            _PARSED.clear()
        model = _PARSED[model_hash] = parse_model(yaml, where)
    return model


class Profiled(Protocol):
    """What a lead's profile is made of: a ``LeadRow``, or a lead read for its account's score
    alone (``store.account_members.Member``)."""

    @property
    def lead_id(self) -> str: ...
    @property
    def attrs(self) -> dict[str, Any]: ...
    @property
    def account_id(self) -> str | None: ...


def profile_of(lead: Profiled, account: Mapping[str, Any] | None) -> dict[str, Any]:
    """The profile the engine sees: the lead's attributes, its account's as ``account.<attr>``."""
    profile = with_account(dict(lead.attrs), account)  # io/account_join.py: the one merge
    profile["lead_id"] = lead.lead_id
    return profile


def load_accounts(conn: Connection, account_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    ids = sorted({a for a in account_ids if a is not None})
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        q = select(accounts.c.account_id, accounts.c.attrs).where(
            accounts.c.account_id.in_(ids[start : start + CHUNK])
        )
        out.update({row.account_id: row.attrs for row in conn.execute(q)})
    return out


class _LazyProperties(Mapping[str, Any]):
    """Event properties parsed from their JSON text only when a rule looks at them.

    Most rules never read properties (only ``where`` clauses do), and decoding every event's
    JSON was half the time of a full rescore.
    """

    __slots__ = ("_data", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self._text) or {}
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def stored_properties(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        return _EMPTY if value in ("{}", "null") else _LazyProperties(value)
    return value or _EMPTY


def stored_timestamp(value: Any) -> datetime:
    # SQLite hands back the stored text; PostgreSQL an aware datetime.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return as_utc(value)


_EMPTY: Mapping[str, Any] = {}


def load_events(conn: Connection, leads_: Sequence[LeadRow]) -> dict[str, list[Event]]:
    """Events by canonical lead: a duplicate lead's events count for the lead it duplicates.

    Columns are read raw (``type_coerce`` to text) so that no per-row type processing runs;
    timestamps and properties are decoded here, properties lazily.
    """
    return events_of(conn, [lead.lead_id for lead in leads_])


def account_events(
    conn: Connection, rows: Sequence[LeadRow], own: Mapping[str, list[Event]]
) -> dict[str, list[Event]]:
    """Events by account (``engine.python.account_key``) for ``scope: account``: those of every
    primary lead sharing an account with one of ``rows`` (``own``: the rows' events, loaded)
    and the account's account-level events (``engine.python.account_level``)."""
    ids = sorted({r.account_id for r in rows if r.account_id is not None})
    members: dict[str, str] = {}
    for start in range(0, len(ids), CHUNK):
        q = select(leads.c.lead_id, leads.c.account_id).where(
            leads.c.account_id.in_(ids[start : start + CHUNK]), leads.c.duplicate_of.is_(None)
        )
        members.update({row.lead_id: row.account_id for row in conn.execute(q)})
    others = events_of(conn, [lead for lead in members if lead not in own])
    profiles = [{"lead_id": lead, "account_id": account} for lead, account in members.items()]
    evs = {lead: own.get(lead) or others.get(lead) or [] for lead in members}
    return events_by_account(profiles, evs, stored_account_events(conn, ids))


def stored_account_events(conn: Connection, account_ids: Sequence[str]) -> dict[str, list[Event]]:
    """The account-level events of these accounts, by account id."""
    out: dict[str, list[Event]] = defaultdict(list)
    c = account_events_table.c
    raw_ts = type_coerce(c.timestamp, String) if conn.dialect.name == "sqlite" else c.timestamp
    cols = (c.event_id, c.account_id, c.type, raw_ts, type_coerce(c.properties, Text))
    for start in range(0, len(account_ids), CHUNK):
        q = select(*cols).where(c.account_id.in_(account_ids[start : start + CHUNK]))
        for event_id, account, type_, ts, props in conn.execute(q):
            out[account].append(
                Event(account, type_, stored_timestamp(ts), event_id, stored_properties(props))
            )
    return out


def events_of(conn: Connection, lead_ids: Sequence[str]) -> dict[str, list[Event]]:
    """``load_events`` for lead ids."""
    ids = list(lead_ids)
    owner = {i: i for i in ids}
    for start in range(0, len(ids), CHUNK):
        q = select(leads.c.lead_id, leads.c.duplicate_of).where(
            leads.c.duplicate_of.in_(ids[start : start + CHUNK])
        )
        owner.update({row.lead_id: row.duplicate_of for row in conn.execute(q)})
    all_ids = list(owner)
    out: dict[str, list[Event]] = defaultdict(list)
    c = events.c
    raw_ts = type_coerce(c.timestamp, String) if conn.dialect.name == "sqlite" else c.timestamp
    cols = (c.event_id, c.lead_id, c.type, raw_ts, type_coerce(c.properties, Text))
    for start in range(0, len(all_ids), CHUNK):
        q = select(*cols).where(c.lead_id.in_(all_ids[start : start + CHUNK]))
        for row in conn.execute(q):
            event_id, lead_id, type_, ts, props = tuple(row)
            canonical = owner[lead_id]
            out[canonical].append(
                Event(canonical, type_, stored_timestamp(ts), event_id, stored_properties(props))
            )
    return out


def score_rows(
    conn: Connection, model: ActiveModel, rows: Sequence[LeadRow], as_of: datetime
) -> list[Score]:
    """Score lead rows as stored (profile + account + events) at ``as_of``."""
    accts = load_accounts(conn, (r.account_id for r in rows))
    evs = load_events(conn, rows)
    by_account = account_events(conn, rows, evs) if reads_accounts(model.plan) else None
    out = []
    for r in rows:
        profile = profile_of(r, accts.get(r.account_id) if r.account_id else None)
        account = None
        if by_account is not None:
            # The stored lead's account is its account_id column (the batch path's too).
            if r.account_id is not None:
                profile["account_id"] = r.account_id
            account = by_account.get(account_key(profile, r.lead_id), evs.get(r.lead_id, []))
        out.append(
            score_lead(model.plan, profile, evs.get(r.lead_id, ()), as_of, r.lead_id, account)
        )
    return out


# Scores a chunk of primary lead rows at ``as_of``: ``score_rows`` (from the stored events) unless
# the caller has a faster equal one (live ingestion: ``service/lead_state.py``).
Scorer = Callable[[Connection, "ActiveModel", Sequence[LeadRow], datetime], list[Score]]


def _changed(lead: LeadRow, record: Mapping[str, Any], model_hash: str, resolution: float) -> bool:
    return score_changed(
        old_total=lead.score_total, old_qualifies=lead.qualifies, old_segment=lead.segment,
        old_model_hash=lead.score_model_hash, total=record["total"],
        qualifies=bool(record["mql"]), segment=record["segment"], model_hash=model_hash,
        resolution=resolution, old_pql=pql_state(lead.score), pql=pql_state(record),
    )  # fmt: skip


def cycle_terms(policy: Policy | None) -> dict[str, float | None]:
    """The SLA and recycling terms of an MQL cycle opened under a segment's ``policy`` (``None``:
    no model, so the default SLA and no recycling)."""
    if policy is None:
        return {"sla_hours": sla_hours_of(None), "recycle_after_days": None}
    return {
        "sla_hours": sla_hours_of(policy.sla_hours),
        "recycle_after_days": policy.recycle_after_days,
    }


def _cycle_terms(model: ActiveModel, record: Mapping[str, Any]) -> dict[str, Any]:
    policy = next(s.policy for s in model.plan.segments if s.name == record["segment"])
    qualified = qualified_by(bool(record["mql"]), bool(record.get("pql")))
    return {
        "segment": record["segment"], "score_total": record["total"], **cycle_terms(policy),
        "qualified_by": qualified,
    }  # fmt: skip


class Recorded(Protocol):
    """What ``apply_scores`` reads of a fresh score: its record (a ``Score``, or a stand-in)."""

    def to_record(self) -> dict[str, Any]: ...


def apply_scores(
    changes: Changes,
    model: ActiveModel,
    pairs: Iterable[tuple[LeadRow, Recorded]],
    *,
    at: datetime,
    cause: Cause,
    actor: str,
    summary: RescoreSummary,
    examples: list[LeadChange] | None = None,
    max_examples: int = 20,
    held: Container[str] = frozenset(),
) -> None:
    """Decide, for each (lead, fresh score), the score history and stage transitions.

    - the score is stored and appended to the history when it changed (``_changed``);
    - a qualifying ``lead`` (or a ``nurture`` lead with new activity) becomes an MQL: a new cycle,
      unless it is ``held`` (its account is ABM: ``service/account_handoff.abm_leads``; the
      account's MQA hands it off);
    - an MQL that stops qualifying before sales acts stays in the queue, flagged
      ``no_longer_qualifies`` (the qualifies flag), so nobody drops it silently.
    """
    # Time passing is not a transition cause of its own: a lead that qualifies on a tick does so
    # because of its score.
    move_cause = Cause.SCORE if cause is Cause.TICK else cause
    resolution = resolution_of(cause)
    for lead, score in pairs:
        record = score.to_record()
        summary.scored += 1
        old_q, old_total, old_seg = lead.qualifies, lead.score_total, lead.segment
        new_q = bool(record["mql"])
        change = ""
        if _changed(lead, record, model.hash, resolution):
            summary.score_changed += 1
            if old_seg is not None and old_seg != record["segment"]:
                summary.segment_changed += 1
            if new_q and not old_q:
                summary.starts_qualifying += 1
                change = "starts_qualifying"
            elif old_q and not new_q:
                summary.stops_qualifying += 1
                change = "stops_qualifying"
                if lead.stage == Stage.MQL:
                    summary.no_longer_qualifying += 1
                    change = "no_longer_qualifies"
            changes.record_score(lead, record, at=at, cause=cause.value, model_hash=model.hash)
        # An MQL or a PQL hands off alike; a lead in a live cycle is not handed off again
        # (``enters_mql`` opens a cycle only from ``lead`` or ``nurture``).
        handoff = hands_off(record) and lead.lead_id not in held
        if enters_mql(lead.stage, handoff, new_activity(lead.last_event_at, lead.stage_since)):
            summary.new_mqls += 1
            change = "new_mql" if lead.stage == Stage.LEAD else "requalifies"
            changes.move(
                lead,
                Stage.MQL,
                at=at,
                cause=move_cause.value,
                actor=actor,
                model_hash=model.hash,
                cycle=_cycle_terms(model, record),
            )
            changes.notify(
                "lead.mql",
                lead.lead_id,
                {
                    "lead_id": lead.lead_id,
                    "stage": lead.stage,
                    "cycle": lead.cycle,
                    "qualified_by": qualified_by(bool(record["mql"]), bool(record.get("pql"))),
                    "score": record,
                },
                at,
            )
        if change and examples is not None and len(examples) < max_examples:
            examples.append(
                LeadChange(
                    lead_id=lead.lead_id,
                    stage=lead.stage,
                    old_total=old_total,
                    new_total=record["total"],
                    old_qualifies=old_q,
                    new_qualifies=new_q,
                    old_segment=old_seg,
                    new_segment=record["segment"],
                    change=change,
                )
            )


def _chunks_all(conn: Connection) -> Iterator[list[LeadRow]]:
    """Every primary (non-duplicate) lead, in chunks by lead id (keyset pagination).

    Duplicates are dropped here, not in SQL: with ``duplicate_of IS NULL`` in the query SQLite
    picked the ``duplicate_of`` index and sorted every primary lead again for each chunk
    (quadratic in the number of leads); the primary key walk reads each chunk once.
    """
    last: str | None = None
    while True:
        q = lead_select().order_by(leads.c.lead_id).limit(CHUNK)
        if last is not None:
            q = q.where(leads.c.lead_id > last)
        rows = lead_rows(conn, q)
        if not rows:
            return
        last = rows[-1].lead_id
        primary = [r for r in rows if r.duplicate_of is None]
        if primary:
            yield primary


def _chunks_of(conn: Connection, lead_ids: Sequence[str]) -> Iterator[list[LeadRow]]:
    ids = sorted(set(lead_ids))
    for start in range(0, len(ids), CHUNK):
        q = lead_select().where(
            leads.c.lead_id.in_(ids[start : start + CHUNK]), leads.c.duplicate_of.is_(None)
        )
        yield lead_rows(conn, q.order_by(leads.c.lead_id))


ENGINES = ("auto", "python", "duckdb")
# "auto" takes the DuckDB batch path for full re-scores of at least this many leads; below it,
# DuckDB's start-up costs more than it saves.
BATCH_MIN_LEADS = 5000


def _batch_engine(conn: Connection, engine: str, lead_ids: Sequence[str] | None) -> bool:
    if engine not in ENGINES:
        raise UnsupportedTargetError(f"unknown engine '{engine}' (use {', '.join(ENGINES)})")
    if engine == "python" or lead_ids is not None:
        return False
    if engine == "duckdb":
        return True
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    total = conn.execute(select(func.count()).select_from(leads)).scalar() or 0
    return total >= BATCH_MIN_LEADS


def rescore(
    conn: Connection,
    model: ActiveModel,
    lead_ids: Sequence[str] | None,
    as_of: datetime,
    *,
    cause: Cause,
    actor: str,
    apply: bool = True,
    summary: RescoreSummary | None = None,
    examples: list[LeadChange] | None = None,
    progress: Progress | None = None,
    engine: str = "auto",
    scorer: Scorer | None = None,
) -> RescoreSummary:
    """Re-score ``lead_ids`` (``None``: every lead) at ``as_of`` and record what changes.

    With ``apply=False`` nothing is written: the summary (and ``examples``) say what would change.
    Duplicates are never scored; their events count for the lead they duplicate. ``engine``:
    ``python`` (per lead), ``duckdb`` (the batch path, full re-scores only) or ``auto``;
    ``scorer``: what scores a chunk of ``lead_ids`` (default ``score_rows``).
    """
    summary = summary if summary is not None else RescoreSummary()
    if _batch_engine(conn, engine, lead_ids):
        from leadgate.service.rescore_batch import rescore_all

        rescore_all(
            conn, model, as_of, cause=cause, actor=actor, apply=apply, summary=summary,
            examples=examples, progress=progress,
        )  # fmt: skip
        return summary
    chunks = _chunks_all(conn) if lead_ids is None else _chunks_of(conn, lead_ids)
    score_chunk = scorer or score_rows
    changes = Changes()
    for rows in chunks:
        apply_scores(
            changes,
            model,
            zip(rows, score_chunk(conn, model, rows, as_of), strict=True),
            at=as_of,
            cause=cause,
            actor=actor,
            summary=summary,
            examples=examples,
            held=abm_leads(conn, model, rows),
        )
        if apply:
            changes.flush(conn)
        else:
            changes = Changes()
        if progress:
            progress(len(rows))
    return summary
