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

from collections.abc import Mapping
from datetime import datetime
from typing import Any

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
    old_pql: tuple[bool, int] = (False, 0),
    pql: tuple[bool, int] = (False, 0),
) -> bool:
    """Whether a fresh score differs from the stored one enough to be recorded (``pql``: the
    PQL flag and signals held, ``pql_state``)."""
    if old_total is None or old_model_hash != model_hash:
        return True
    return (
        abs(total - old_total) >= resolution
        or qualifies != bool(old_qualifies)
        or segment != old_segment
        or pql != old_pql
    )


def pql_state(record: Mapping[str, Any] | None) -> tuple[bool, int]:
    """A score record's PQL flag and how many signals it holds: a change in either is recorded
    (a signal traded for another with nothing else changing is not: the count is what the
    batch path compares)."""
    if not record:
        return (False, 0)
    return (bool(record.get("pql")), len(record.get("pql_signals") or ()))


def may_move(
    *,
    stage: str,
    stage_since: datetime,
    last_event_at: datetime | None,
    old_qualifies: bool | None,
    qualifies: bool,
    handoff: bool | None = None,
) -> bool:
    """Whether a fresh score does more than replace the stored score: its MQL flag flips, or it
    hands the lead to sales (``enters_mql``; ``handoff``: an MQL or a PQL, ``stages.hands_off``,
    the MQL flag when not given)."""
    hands = qualifies if handoff is None else handoff
    return qualifies != bool(old_qualifies) or enters_mql(
        stage, hands, new_activity(last_event_at, stage_since)
    )
