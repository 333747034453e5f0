"""A full re-score (publish, ``tick``) on the batch path, without a Python object per lead.

DuckDB scores every lead (``service.batch``), compares each fresh score with the lead's stored
snapshot (``lifecycle.scores.score_changed`` and ``may_move``, in SQL: ``classify_sql``), and
builds the score records as JSON text (``batch.records.record_sql``). Leads then fall in three
sets:

- unchanged (score within the resolution, same MQL flag, segment and model): only counted;
- changed, but their MQL flag stays and they cannot enter MQL: their new score and a history row
  are written in bulk (``store.history.store_scores``), straight from DuckDB's rows;
- the rest, whose flag flips or who enter MQL (few): read back as ``LeadRow``s and passed
  through ``rescore.apply_scores``, the one place lifecycle decisions are made, in ``lead_id``
  order as the per-lead path takes them.

So the stored result (scores, history, transitions, cycles, outbox, summary and examples) is the
per-lead path's (tests/service/test_rescore_batch.py compares them lead by lead).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Generator, Mapping
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlglot import exp

from leadgate.batch.records import record_sql, scores_sql
from leadgate.engine.sql import dimension_column
from leadgate.lifecycle.stages import SCORE_ENTRY, Cause, Stage
from leadgate.service import batch
from leadgate.service.account_handoff import abm_leads
from leadgate.service.rescore import (
    CHUNK,
    ActiveModel,
    Progress,
    apply_scores,
    resolution_of,
)
from leadgate.service.shapes import LeadChange, RescoreSummary
from leadgate.store.history import Changes, lead_rows, lead_select, store_scores
from leadgate.store.schema import leads

# Rows per bulk write: bounded memory (a few tens of MB of JSON) at any store size.
WRITE_CHUNK = 20_000
# DuckDB's cap for the scoring query. At 1M leads / 23M events the query with the snapshot
# comparison took 27 s wall and 51 s CPU under 2 GB (spilling), 17 s and 18 s under 4 GB.
MEMORY_LIMIT = "4GB"

# The SQL form of the per-lead decisions (``q``: the fresh score, ``l``: the stored state):
# ``changed`` is ``lifecycle.scores.score_changed`` and ``work`` is ``lifecycle.scores.may_move``
# (its MQL flag flips, or ``stages.enters_mql``: it hands off (``handoff``: an MQL or a PQL,
# ``stages.hands_off``) at a stage that opens a cycle, a
# ``lead`` or a ``nurture`` lead with an event after its stage began). Both are exact, not
# approximations: tests/service/test_rescore_classify.py evaluates them over generated stored
# states on SQLite and PostgreSQL and compares lead by lead with the Python functions. The
# ``work`` leads then take the Python decision itself (``apply_scores``).
_CLASSIFY = """
CREATE TEMP TABLE lg_scored AS
SELECT q.*,
  coalesce(
    l.old_score_total IS NULL OR l.old_score_model_hash IS DISTINCT FROM $model_hash
    OR abs(q.total - l.old_score_total) >= $resolution
    OR q.mql <> coalesce(l.old_qualifies <> 0, false)
    OR q.segment IS DISTINCT FROM l.old_segment
    OR q.pql <> coalesce(l.old_pql <> 0, false) OR q.pql_held <> coalesce(l.old_pql_held, 0),
  true) AS changed,
  coalesce(
    q.mql <> coalesce(l.old_qualifies <> 0, false)
    OR (q.handoff AND list_contains($entry, l.old_stage) AND (
      l.old_stage = $lead_stage
      OR coalesce(CAST(l.old_last_event_at AS TIMESTAMPTZ)
                  > CAST(l.old_stage_since AS TIMESTAMPTZ), false))),
  true) AS work,
  coalesce(l.old_segment IS NOT NULL AND l.old_segment <> q.segment, false) AS segment_moved
FROM ({scores}) AS q JOIN lg_raw_leads AS l ON l.ord = q.input_row
"""


def classify_sql(scores: str) -> str:
    """``lg_scored``: the rows of the DuckDB query ``scores`` (``lead_id``, ``input_row``,
    ``total``, ``mql``, ``segment``, ...) with ``changed``, ``work`` and ``segment_moved``, against
    ``lg_raw_leads`` (``batch.batch_scores(snapshot=True)``). Run with ``classify_params``."""
    return _CLASSIFY.format(scores=scores)


def classify_params(model_hash: str, resolution: float) -> dict[str, Any]:
    """The parameters of ``classify_sql``: the model, the resolution, the lifecycle's stages."""
    return {
        "model_hash": model_hash,
        "resolution": resolution,
        "entry": sorted(s.value for s in SCORE_ENTRY),
        "lead_stage": Stage.LEAD.value,
    }


_COUNTS = """
SELECT count(*) FILTER (WHERE NOT work), count(*) FILTER (WHERE changed AND NOT work),
  count(*) FILTER (WHERE changed AND NOT work AND segment_moved)
FROM lg_scored
"""


def _scores_query(model: ActiveModel, query: str) -> str:
    """The columns records and the comparison read, totals and flags as records hold them."""
    plan = model.plan
    cols: list[exp.Expression] = [
        exp.column(exp.to_identifier(n, quoted=True))
        for n in (
            "lead_id", "segment", "segment_index", "input_row",
            *(dimension_column(plan, i) for i in range(len(plan.dimensions))),
            *(f"check_{c.key}" for c in plan.checks),
            *(f"signal_{s.key}" for s in plan.signals),
        )
    ]  # fmt: skip
    # As ``records.record_maker`` reads them: a missing total is 0, a missing flag false.
    total = exp.Coalesce(
        this=exp.cast(exp.column("total"), "double"), expressions=[exp.Literal.number(0)]
    )
    mql = exp.Coalesce(this=exp.cast(exp.column("mql"), "boolean"), expressions=[exp.false()])
    pql = exp.Coalesce(this=exp.cast(exp.column("pql"), "boolean"), expressions=[exp.false()])
    held: exp.Expression = exp.Literal.number(0)
    for sig in plan.signals:  # the signals held (``lifecycle.scores.pql_state``)
        one = exp.Case(
            ifs=[exp.If(this=exp.column(f"signal_{sig.key}"), true=exp.Literal.number(1))],
            default=exp.Literal.number(0),
        )
        held = exp.Add(this=held, expression=one)
    return (
        exp.select(
            *cols,
            exp.alias_(total, "total"),
            exp.alias_(mql, "mql"),
            exp.alias_(pql, "pql"),
            exp.alias_(exp.or_(mql.copy(), pql.copy()), "handoff"),
            exp.alias_(held, "pql_held"),
        )
        .from_(exp.paren(exp.maybe_parse(query, dialect="duckdb")).as_("q0"))
        .sql("duckdb")
    )


def _prefetched(cur: Any) -> Generator[list[tuple[Any, ...]], None, None]:
    """``cur``'s rows in chunks, the next chunk fetched by a thread while the caller writes.

    DuckDB builds the JSON and SQLite writes with the GIL released, so the two overlap on two
    cores. At most two chunks wait, so memory stays bounded whatever the store's size.
    """
    chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                rows = cur.fetchmany(WRITE_CHUNK)
                while not stop.is_set():
                    try:
                        chunks.put(rows, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not rows:
                    return
        except BaseException as err:  # handed to the caller's thread, raised there
            chunks.put(err)

    worker = threading.Thread(target=fetch, name="leadgate-rescore-fetch", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        worker.join()


class _Record:
    """A record parsed from DuckDB's JSON, standing in for the ``Score`` ``apply_scores`` reads."""

    __slots__ = ("_record",)

    def __init__(self, record: dict[str, Any]) -> None:
        self._record = record

    def to_record(self) -> dict[str, Any]:
        return self._record


def _apply_work(
    conn: Any,
    model: ActiveModel,
    work: list[tuple[str, str]],
    *,
    apply: bool,
    progress: Progress | None,
    **kw: Any,
) -> None:
    changes = Changes()
    for start in range(0, len(work), CHUNK):
        part = work[start : start + CHUNK]
        q = lead_select().where(leads.c.lead_id.in_([lead_id for lead_id, _ in part]))
        rows: Mapping[str, Any] = {r.lead_id: r for r in lead_rows(conn, q)}
        pairs = ((rows[lead_id], _Record(json.loads(rec))) for lead_id, rec in part)
        held = abm_leads(conn, model, list(rows.values()))  # ABM: the account hands off
        apply_scores(changes, model, pairs, held=held, **kw)
        if apply:
            changes.flush(conn)
        else:
            changes = Changes()
        if progress:
            progress(len(part))


def rescore_all(
    conn: Any,
    model: ActiveModel,
    as_of: datetime,
    *,
    cause: Cause,
    actor: str,
    apply: bool,
    summary: RescoreSummary,
    examples: list[LeadChange] | None,
    progress: Progress | None,
) -> None:
    """Re-score every primary lead on DuckDB and record what changes (see the module docstring)."""
    plan = model.plan
    params = classify_params(model.hash, resolution_of(cause))
    record, scores = record_sql(plan, as_of).sql("duckdb"), scores_sql(plan).sql("duckdb")
    scoring = batch.batch_scores(
        conn, plan, as_of, memory_limit=MEMORY_LIMIT, snapshot=True, sort=False
    )
    with scoring as (con, query):
        con.execute(classify_sql(_scores_query(model, query)), params)
        rest, changed, moved = con.execute(_COUNTS).fetchone()
        work = con.execute(
            f"SELECT lead_id, {record} FROM lg_scored WHERE work ORDER BY input_row"
        ).fetchall()
        _apply_work(
            conn, model, work, apply=apply, progress=progress, at=as_of, cause=cause,
            actor=actor, summary=summary, examples=examples,
        )  # fmt: skip
        summary.scored += rest
        summary.score_changed += changed
        summary.segment_changed += moved
        if apply:
            cur = con.execute(
                f"SELECT lead_id, {record}, {scores}, total, mql, segment FROM lg_scored "
                "WHERE changed AND NOT work ORDER BY input_row"
            )
            # closing: the fetching thread stops before DuckDB closes, even if a write fails.
            with closing(_prefetched(cur)) as chunks:
                for rows in chunks:
                    store_scores(conn, rows, at=as_of, cause=cause.value, model_hash=model.hash)
                    if progress:
                        progress(len(rows))
            if progress:
                progress(rest - changed)
        elif progress:
            progress(rest)
