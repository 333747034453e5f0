"""What a fresh score decides for a stored lead, before any stage moves: the pure decisions a
re-score makes per lead, shared by the per-lead path and the batch path.

- ``score_changed``: the store records the fresh score (and a score-history row) when the total
  moved by at least the resolution, or the MQL flag, segment or model changed, or the lead had
  no score yet.
- ``may_move``: the score can change more than the stored score: its MQL flag flips (the
  lead starts or stops qualifying, counted and labelled) or it enters MQL
  (``stages.enters_mql``: a new cycle, or a recycled lead re-entering).

``service.rescore.apply_scores`` calls them for each lead; the batch re-score
(``service/rescore_batch.py``) evaluates the same decisions in SQL over every lead at once, and
tests/service/test_rescore_classify.py checks that SQL against these functions over generated
stored states.
"""

from __future__ import annotations

from datetime import datetime

from leadgate.lifecycle.stages import enters_mql, new_activity


def score_changed(
    *,
    old_total: float | None,
    old_qualifies: bool | None,
    old_segment: str | None,
    old_model_hash: str | None,
    total: float,
    qualifies: bool,
    segment: str | None,
    model_hash: str,
    resolution: float,
) -> bool:
    """Whether a fresh score differs from the stored one enough to be recorded."""
    if old_total is None or old_model_hash != model_hash:
        return True
    return (
        abs(total - old_total) >= resolution
        or qualifies != bool(old_qualifies)
        or segment != old_segment
    )


def may_move(
    *,
    stage: str,
    stage_since: datetime,
    last_event_at: datetime | None,
    old_qualifies: bool | None,
    qualifies: bool,
) -> bool:
    """Whether a fresh score does more than replace the stored score: its MQL flag flips, or it
    hands the lead to sales (``enters_mql``)."""
    return qualifies != bool(old_qualifies) or enters_mql(
        stage, qualifies, new_activity(last_event_at, stage_since)
    )
