"""Previewing a draft model: the dry-run publish with what the model page shows beside it.

``preview_model`` re-scores every stored lead under the draft (nothing is written) in one pass
through the same ``apply_scores`` a publish runs, so its counts are the dry-run publish's
(``leadgate models publish --dry-run``). Beside the counts it keeps what a person needs to decide:
the score distribution under the published model and the draft, MQL counts by segment now and
after, and the leads that would start or stop qualifying, each with why.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from leadgate.engine import as_utc, compile_model
from leadgate.lifecycle.stages import Cause
from leadgate.service.models import active_model, read_model_source
from leadgate.service.rescore import ActiveModel, _batch_engine, _chunks_all, rescore, score_rows
from leadgate.service.shapes import RescoreSummary
from leadgate.store.db import Store
from leadgate.store.history import lead_rows, lead_select
from leadgate.store.schema import leads

MAX_LISTED = 200  # leads listed as entering or leaving (the counts cover all)
BIN = 10.0


@dataclass(frozen=True)
class Mover:
    """A lead whose MQL flag the draft would turn on (entering) or off (leaving), and why."""

    lead_id: str
    stage: str
    old_total: float | None
    new_total: float
    segment: str
    why: str


@dataclass
class ModelPreview:
    """What publishing the draft would do, with distributions and the leads it moves."""

    model: dict[str, str]
    previous: dict[str, str] | None
    summary: RescoreSummary
    edges: list[float] = field(default_factory=list)
    published_counts: list[int] = field(default_factory=list)
    draft_counts: list[int] = field(default_factory=list)
    mqls_now: dict[str, int] = field(default_factory=dict)  # segment -> leads qualifying now
    mqls_after: dict[str, int] = field(default_factory=dict)
    entering: list[Mover] = field(default_factory=list)
    leaving: list[Mover] = field(default_factory=list)


def _bins(published: list[float], draft: list[float]) -> tuple[list[float], list[int], list[int]]:
    values = published + draft
    if not values:
        return [0.0, BIN], [0], [0]
    lo = math.floor(min(values) / BIN) * BIN
    hi = max(math.floor(max(values) / BIN) * BIN + BIN, lo + BIN)
    n = round((hi - lo) / BIN)
    edges = [lo + i * BIN for i in range(n + 1)]

    def count(xs: list[float]) -> list[int]:
        out = [0] * n
        for x in xs:
            out[min(n - 1, int((x - lo) // BIN))] += 1
        return out

    return edges, count(published), count(draft)


# A lead as the preview compares it: id, stage, stored total, MQL flag and segment, then the
# draft's total, MQL flag and segment.
Compared = tuple[str, str, float | None, bool | None, str | None, float, bool, str]


def _per_lead(conn: Connection, candidate: ActiveModel, as_of: datetime) -> Iterator[Compared]:
    for rows in _chunks_all(conn):
        for r, score in zip(rows, score_rows(conn, candidate, rows, as_of), strict=True):
            yield (r.lead_id, r.stage, r.score_total, r.qualifies, r.segment,
                   score.total, score.mql, score.segment)  # fmt: skip


def _batch(conn: Connection, candidate: ActiveModel, as_of: datetime) -> Iterator[Compared]:
    """The per-lead rows from the batch path (DuckDB): the scoring query joined with each lead's
    stored snapshot, in ``lead_id`` order, totals and flags as the records hold them."""
    from leadgate.service.batch import batch_scores
    from leadgate.service.rescore_batch import _scores_query

    with batch_scores(conn, candidate.plan, as_of, snapshot=True, sort=False) as (con, query):
        cur = con.execute(
            f"SELECT s.lead_id, l.old_stage, l.old_score_total, l.old_qualifies, l.old_segment, "
            f"s.total, s.mql, s.segment FROM ({_scores_query(candidate, query)}) s "
            "JOIN lg_raw_leads l ON l.ord = s.input_row ORDER BY s.input_row"
        )
        while rows := cur.fetchmany(10_000):
            for lead_id, stage, old_total, old_q, old_seg, total, mql, segment in rows:
                yield (lead_id, stage, old_total, None if old_q is None else bool(old_q),
                       old_seg, total, bool(mql), segment)  # fmt: skip


def _movers(
    conn: Connection, candidate: ActiveModel, moved: list[Compared], as_of: datetime
) -> list[Mover]:
    """The listed movers with why: each scored again on its own (a few hundred at most)."""
    rows = {r.lead_id: r for r in lead_rows(conn, lead_select().where(
        leads.c.lead_id.in_([m[0] for m in moved])))}  # fmt: skip
    listed = [rows[m[0]] for m in moved if m[0] in rows]
    scores = {r.lead_id: s for r, s in zip(listed, score_rows(conn, candidate, listed, as_of),
                                           strict=True)}  # fmt: skip
    out = []
    for lead_id, stage, old_total, _, _, total, mql, segment in moved:
        score = scores[lead_id]
        threshold = score.explanation.threshold
        if mql:
            why = f"total {total:.1f} reaches the line {threshold:g}"
            if old_total is not None:
                why += f" (was {old_total:.1f})"
        else:
            why = "; ".join(score.missing) or "does not qualify"
        out.append(Mover(lead_id, stage, old_total, total, segment, why))
    return out


def preview_model(store: Store, text: str, *, actor: str, as_of: datetime) -> ModelPreview:
    """Score every lead under the draft ``text`` at ``as_of`` and report what would change.

    The counts are the dry-run publish's own: ``rescore(..., apply=False)``, which takes the batch
    path (DuckDB) on a big store. The distributions and MQL counts come from the same scores
    (the batch query's columns on a big store, the per-lead engine on a small one); the leads
    listed as entering or leaving are scored again one by one for why.

    Raises:
        ModelError: the draft is invalid (with line and column).
    """
    model, yaml_text = read_model_source(text)
    as_of = as_utc(as_of)
    published: list[float] = []
    draft: list[float] = []
    now: Counter[str] = Counter()
    after: Counter[str] = Counter()
    entering: list[Compared] = []
    leaving: list[Compared] = []
    summary = RescoreSummary()
    with store.read() as conn:
        current = active_model(conn, store)
        previous = current.identity() if current else None
        candidate = ActiveModel(
            (current.id + 1) if current else 1, model.name, model.version, model.hash,
            compile_model(model), yaml_text,
        )  # fmt: skip
        if current is not None and current.hash == model.hash:
            candidate = current
        else:  # what ``leadgate models publish --dry-run`` counts, by the same call
            rescore(conn, candidate, None, as_of, cause=Cause.MODEL_CHANGE, actor=actor,
                    apply=False, summary=summary)  # fmt: skip
        compared = _batch if _batch_engine(conn, "auto", None) else _per_lead
        for row in compared(conn, candidate, as_of):
            _, _, old_total, old_q, old_seg, total, mql, segment = row
            if old_total is not None:
                published.append(old_total)
            if old_q:
                now[old_seg or "default"] += 1
            draft.append(total)
            if mql:
                after[segment] += 1
            if bool(old_q) == mql or candidate is current:
                continue
            target = entering if mql else leaving
            if len(target) < MAX_LISTED:
                target.append(row)
        movers = _movers(conn, candidate, entering + leaving, as_of)
    edges, pub_counts, draft_counts = _bins(published, draft)
    return ModelPreview(
        model=model.identity(), previous=previous, summary=summary, edges=edges,
        published_counts=pub_counts, draft_counts=draft_counts, mqls_now=dict(now),
        mqls_after=dict(after), entering=movers[: len(entering)], leaving=movers[len(entering) :],
    )  # fmt: skip
