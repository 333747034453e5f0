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
from dataclasses import dataclass, field
from datetime import datetime

from leadgate.engine import as_utc, compile_model
from leadgate.lifecycle.stages import Cause
from leadgate.service.models import active_model, read_model_source
from leadgate.service.rescore import ActiveModel, _chunks_all, apply_scores, score_rows
from leadgate.service.shapes import RescoreSummary
from leadgate.store.db import Store
from leadgate.store.history import Changes

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


def preview_model(store: Store, text: str, *, actor: str, as_of: datetime) -> ModelPreview:
    """Score every lead under the draft ``text`` at ``as_of`` and report what would change.

    Raises:
        ModelError: the draft is invalid (with line and column).
    """
    model, yaml_text = read_model_source(text)
    as_of = as_utc(as_of)
    published: list[float] = []
    draft: list[float] = []
    now: Counter[str] = Counter()
    after: Counter[str] = Counter()
    entering: list[Mover] = []
    leaving: list[Mover] = []
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
        for rows in _chunks_all(conn):
            scores = score_rows(conn, candidate, rows, as_of)
            olds = [(r.lead_id, r.stage, r.score_total, r.qualifies, r.segment) for r in rows]
            if candidate is not current:
                apply_scores(
                    Changes(), candidate, zip(rows, scores, strict=True), at=as_of,
                    cause=Cause.MODEL_CHANGE, actor=actor, summary=summary,
                )  # fmt: skip
            for (lead_id, stage, old_total, old_q, old_seg), score in zip(
                olds, scores, strict=True
            ):
                if old_total is not None:
                    published.append(old_total)
                if old_q:
                    now[old_seg or "default"] += 1
                draft.append(score.total)
                if score.mql:
                    after[score.segment] += 1
                if bool(old_q) == score.mql or candidate is current:
                    continue
                threshold = score.explanation.threshold
                if score.mql:
                    why = f"total {score.total:.1f} reaches the line {threshold:g}"
                    if old_total is not None:
                        why += f" (was {old_total:.1f})"
                    target = entering
                else:
                    why = "; ".join(score.missing) or "does not qualify"
                    target = leaving
                if len(target) < MAX_LISTED:
                    target.append(Mover(lead_id, stage, old_total, score.total, score.segment, why))
    edges, pub_counts, draft_counts = _bins(published, draft)
    return ModelPreview(
        model=model.identity(), previous=previous, summary=summary, edges=edges,
        published_counts=pub_counts, draft_counts=draft_counts, mqls_now=dict(now),
        mqls_after=dict(after), entering=entering, leaving=leaving,
    )  # fmt: skip
