"""Recording what happens to leads: transitions, MQL cycles, score history and outbox messages.

``Changes`` collects everything one operation decides (for one lead or a chunk of thousands)
and writes it with a handful of ``executemany`` statements. History is append-only
(ARCHITECTURE.md invariant 3): transitions, score history and dispositions are only inserted; an
MQL cycle's progress columns (first touch, stage reached, end) are filled in as sales acts.
Every stage move goes through ``Changes.move``, which enforces the stage machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from leadgate.lifecycle.sla import sla_due_at, sla_hours_of
from leadgate.lifecycle.stages import CYCLE_END, MQL, Stage, check_move
from leadgate.store.driver_sql import run
from leadgate.store.schema import (
    dispositions,
    leads,
    mql_cycles,
    outbox,
    score_history,
    transitions,
)

LEAD_COLUMNS = (
    "lead_id", "attrs", "email", "account_id", "owner", "duplicate_of", "created_at",
    "updated_at", "last_event_at", "stage", "stage_since", "cycle", "score", "score_total",
    "qualifies", "segment", "score_model_hash", "scored_at",
)  # fmt: skip


@dataclass
class LeadRow:
    """A lead's row, loaded for an operation and changed in memory before ``Changes.flush``."""

    lead_id: str
    attrs: dict[str, Any]
    email: str | None
    account_id: str | None
    owner: str | None
    duplicate_of: str | None
    created_at: datetime
    updated_at: datetime
    last_event_at: datetime | None
    stage: str
    stage_since: datetime
    cycle: int
    score: dict[str, Any] | None
    score_total: float | None
    qualifies: bool | None
    segment: str | None
    score_model_hash: str | None
    scored_at: datetime | None

    @property
    def no_longer_qualifies(self) -> bool:
        """An MQL whose latest score no longer qualifies: kept in the queue, flagged."""
        return self.stage == Stage.MQL and self.qualifies is False


def fetch_leads(
    conn: Connection, lead_ids: Iterable[str], *, lock: bool = False
) -> dict[str, LeadRow]:
    """The rows of ``lead_ids`` that exist; ``lock`` takes row locks (PostgreSQL) for an update.

    Locks are taken in ``lead_id`` order, so two writers touching overlapping leads queue
    instead of deadlocking.
    """
    ids = sorted(set(lead_ids))
    out: dict[str, LeadRow] = {}
    cols = [leads.c[name] for name in LEAD_COLUMNS]
    for start in range(0, len(ids), 2000):
        q = select(*cols).where(leads.c.lead_id.in_(ids[start : start + 2000]))
        if lock:
            q = q.order_by(leads.c.lead_id).with_for_update()
        for row in conn.execute(q):
            out[row.lead_id] = LeadRow(**row._mapping)
    return out


def lead_rows(conn: Connection, query: Any) -> list[LeadRow]:
    """Run a select over ``leads`` columns (as built by ``lead_select``) into ``LeadRow``s."""
    return [LeadRow(**row._mapping) for row in conn.execute(query)]


def lead_select() -> Any:
    """A select of every lead column, to be filtered and ordered by the caller."""
    return select(*[leads.c[n] for n in LEAD_COLUMNS])


@dataclass
class Changes:
    """Everything one operation decided, written at once by ``flush``."""

    lead_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    new_cycles: list[dict[str, Any]] = field(default_factory=list)
    cycle_updates: list[dict[str, Any]] = field(default_factory=list)
    dispositions: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def set(self, lead: LeadRow, **values: Any) -> None:
        """Change columns of a lead (in memory now, in the database at ``flush``)."""
        for key, value in values.items():
            setattr(lead, key, value)
        self.lead_updates.setdefault(lead.lead_id, {}).update(values)

    def record_score(
        self, lead: LeadRow, record: dict[str, Any], *, at: datetime, cause: str, model_hash: str
    ) -> None:
        """Store a lead's new latest score and append it to the score history."""
        self.set(
            lead,
            score=record,
            score_total=record["total"],
            qualifies=record["mql"],
            segment=record["segment"],
            score_model_hash=model_hash,
            scored_at=at,
        )
        self.history.append(
            {
                "lead_id": lead.lead_id,
                "at": at,
                "cause": cause,
                "model_hash": model_hash,
                "total": record["total"],
                "qualifies": record["mql"],
                "segment": record["segment"],
                "scores": record["scores"],
            }
        )

    def move(
        self,
        lead: LeadRow,
        to: Stage,
        *,
        at: datetime,
        cause: str,
        actor: str,
        model_hash: str | None = None,
        reason: str | None = None,
        note: str | None = None,
        import_key: str | None = None,
        sales_action: bool = False,
        amount: float | None = None,
        cycle: dict[str, Any] | None = None,
    ) -> None:
        """Move a lead to ``to`` (checked against the stage machine) and record the transition.

        Entering ``mql`` opens a new MQL cycle; ``cycle`` gives its SLA and recycling terms
        (segment, sla_hours, recycle_after_days, score_total) and what qualified it
        (``qualified_by``: ``lifecycle.stages.qualified_by``; an MQL when not given). Any other move updates the open
        cycle: the stage it reached, its end, and for a sales action the first touch.
        """
        check_move(lead.lead_id, lead.stage, to)
        if to is Stage.MQL:
            number = lead.cycle + 1
            terms = cycle or {}
            sla_hours = sla_hours_of(terms.get("sla_hours"))
            self.new_cycles.append(
                {
                    "lead_id": lead.lead_id,
                    "cycle": number,
                    "mql_at": at,
                    "cause": cause,
                    "model_hash": model_hash,
                    "segment": terms.get("segment"),
                    "score_total": terms.get("score_total"),
                    "sla_hours": sla_hours,
                    "sla_due_at": sla_due_at(at, sla_hours),
                    "recycle_after_days": terms.get("recycle_after_days"),
                    "first_touch_at": terms.get("first_touch_at"),
                    "last_action_at": None,
                    "stage": Stage.MQL.value,
                    "ended_at": None,
                    "amount": None,
                    "qualified_by": terms.get("qualified_by", MQL),
                }
            )
        else:
            number = lead.cycle
            self.cycle_updates.append(
                {
                    "b_lead_id": lead.lead_id,
                    "b_cycle": number,
                    "b_stage": to.value,
                    "b_ended_at": at if to in CYCLE_END else None,
                    "b_action_at": at if sales_action else None,
                    "b_amount": amount,
                }
            )
        self.transitions.append(
            {
                "lead_id": lead.lead_id,
                "cycle": number,
                "from_stage": lead.stage,
                "to_stage": to.value,
                "at": at,
                "cause": cause,
                "actor": actor,
                "model_hash": model_hash,
                "reason": reason,
                "note": note,
                "import_key": import_key,
            }
        )
        self.set(lead, stage=to.value, stage_since=at, cycle=number)

    def touch(self, lead: LeadRow, at: datetime) -> None:
        """A sales action without a stage change: first touch (if none yet) and last action."""
        self.cycle_updates.append(
            {
                "b_lead_id": lead.lead_id,
                "b_cycle": lead.cycle,
                "b_stage": lead.stage,
                "b_ended_at": None,
                "b_action_at": at,
                "b_amount": None,
            }
        )

    def notify(self, topic: str, lead_id: str, payload: dict[str, Any], at: datetime) -> None:
        """Queue a webhook message in the outbox (same transaction as the change it reports)."""
        self.outbox.append(
            {"topic": topic, "lead_id": lead_id, "payload": payload, "created_at": at}
        )

    def flush(self, conn: Connection) -> None:
        """Write everything collected, then forget it."""
        if self.lead_updates:
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for lead_id, values in self.lead_updates.items():
                key = tuple(sorted(values))
                by_columns.setdefault(key, []).append({**values, "lead_id": lead_id})
            for key, rows in by_columns.items():
                _update_leads(conn, key, rows)
        if self.new_cycles:
            conn.execute(mql_cycles.insert(), self.new_cycles)
        if self.cycle_updates:
            c = mql_cycles.c
            action_at = bindparam("b_action_at", type_=c.last_action_at.type)
            stmt = (
                update(mql_cycles)
                .where(and_(c.lead_id == bindparam("b_lead_id"), c.cycle == bindparam("b_cycle")))
                .values(
                    stage=bindparam("b_stage"),
                    ended_at=func.coalesce(
                        c.ended_at, bindparam("b_ended_at", type_=c.ended_at.type)
                    ),
                    first_touch_at=func.coalesce(c.first_touch_at, action_at),
                    last_action_at=func.coalesce(action_at, c.last_action_at),
                    amount=func.coalesce(bindparam("b_amount", type_=c.amount.type), c.amount),
                )
            )
            conn.execute(stmt, self.cycle_updates)
        if self.history:
            _insert(conn, score_history, self.history)
        for table, rows in (
            (transitions, self.transitions),
            (dispositions, self.dispositions),
            (outbox, self.outbox),
        ):
            if rows:
                conn.execute(table.insert(), rows)
        self.lead_updates.clear()
        for rows in (
            self.history, self.transitions, self.new_cycles, self.cycle_updates,
            self.dispositions, self.outbox,
        ):  # fmt: skip
            rows.clear()


# Bulk writes of many rows (a re-score updates and appends a row per lead) go straight to the
# driver's executemany: values are converted with each column's own bind processor (so they are
# stored exactly as SQLAlchemy stores them), but SQLAlchemy's per-row parameter handling, most of
# the cost of writing 100k score rows, is skipped.


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


_BIND: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}


def _processors(conn: Connection, table: Any, names: Sequence[str]) -> list[Any]:
    # Per dialect, table and columns: asked twice per live write, for the same columns.
    key = (f"{conn.dialect.name}+{conn.dialect.driver}", table.name, tuple(names))
    if key not in _BIND:
        dialect = conn.dialect
        _BIND[key] = [table.c[n].type._cached_bind_processor(dialect) for n in names]
    return _BIND[key]


def _rows(
    rows: list[dict[str, Any]], names: Sequence[str], procs: list[Any]
) -> list[tuple[Any, ...]]:
    # A column often holds the same object in every row (the time scored at, the model hash):
    # converted once (processors are pure), as each time and JSON value cost a call.
    last: list[Any] = [_NOTHING] * len(names)
    done: list[Any] = [None] * len(names)
    out = []
    for row in rows:
        values = []
        for i, (n, p) in enumerate(zip(names, procs, strict=True)):
            v = row[n]
            if p is not None:
                if v is not last[i]:
                    last[i], done[i] = v, p(v)
                v = done[i]
            values.append(v)
        out.append(tuple(values))
    return out


_NOTHING = object()


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _update_sql(conn: Connection, columns: Sequence[str]) -> str:
    """``UPDATE leads SET <columns> WHERE lead_id = ?``, parameters in that order."""
    ph = _placeholder(conn)
    sets = ", ".join(f"{_quote(conn, c)} = {ph}" for c in columns)
    return f"UPDATE leads SET {sets} WHERE lead_id = {ph}"


def _insert_sql(conn: Connection, table: Any, names: Sequence[str]) -> str:
    """``INSERT INTO table (<names>) VALUES (?, ...)``."""
    cols = ", ".join(_quote(conn, n) for n in names)
    return (
        f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join([_placeholder(conn)] * len(names))})"
    )


def _update_leads(conn: Connection, key: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """``UPDATE leads SET <key columns> WHERE lead_id = ?`` for each row (the new values by
    column name, and ``lead_id``)."""
    sql = _update_sql(conn, key)
    names = [*key, "lead_id"]
    run(conn, sql, _rows(rows, names, _processors(conn, leads, names)), many=True)


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """``INSERT INTO table`` of rows that all have the same keys."""
    names = list(rows[0])
    sql = _insert_sql(conn, table, names)
    run(conn, sql, _rows(rows, names, _processors(conn, table, names)), many=True)


def store_scores(
    conn: Connection,
    rows: Sequence[tuple[str, str, str, float, bool, str]],
    *,
    at: datetime,
    cause: str,
    model_hash: str,
) -> None:
    """``Changes.record_score`` and ``flush`` for many leads, with records already JSON text.

    ``rows``: (lead_id, record, scores, total, MQL flag, segment), the record and its scores
    encoded as JSON by the caller (the batch re-score builds them in DuckDB). Stores the same
    columns and values as ``record_score``: the lead's latest score and a score-history row.
    Totals, flags and texts are passed as the drivers take them (SQLite stores a bool as 0/1,
    as SQLAlchemy's ``Boolean`` does); the time goes through its column's bind processor.
    """
    if not rows:
        return
    scored_at = _processors(conn, leads, ["scored_at"])[0](at)
    sets = ("score", "score_total", "qualifies", "segment", "score_model_hash", "scored_at")
    conn.exec_driver_sql(
        _update_sql(conn, sets),
        [(rec, tot, q, seg, model_hash, scored_at, lid) for lid, rec, _, tot, q, seg in rows],
    )
    at_value = _processors(conn, score_history, ["at"])[0](at)
    names = ("lead_id", "at", "cause", "model_hash", "total", "qualifies", "segment", "scores")
    conn.exec_driver_sql(
        _insert_sql(conn, score_history, names),
        [(lid, at_value, cause, model_hash, tot, q, seg, sc) for lid, _, sc, tot, q, seg in rows],
    )
