"""The stage machine: the stages a lead moves through and the transitions allowed, as data.

    lead ──► mql ──► sal ──► sql ──► opportunity ──► won | lost
               │       │       │
               ▼       ▼       ▼
            nurture (recycled) / disqualified          nurture ──► mql (a new cycle)

Stages move forward only through the edges in ``TRANSITIONS``; anything else raises
``ConflictError``. Each transition records time, cause, actor and model version
(``store.transitions``); each entry into ``mql`` opens a new MQL cycle (``store.mql_cycles``), so a
recycled lead that qualifies again is counted as a second cycle, not lost in an overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadgate.errors import ConflictError


class Stage(StrEnum):
    """Lifecycle stages. ``nurture`` holds recycled leads (expired or rejected for now)."""

    LEAD = "lead"
    MQL = "mql"
    SAL = "sal"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"


class Cause(StrEnum):
    """Why a transition (or a score change) happened."""

    SCORE = "score"  # a new event, profile or account change made the lead qualify
    DISPOSITION = "disposition"  # a sales action
    IMPORT = "import"  # historical outcomes loaded from a file
    MODEL_CHANGE = "model_change"  # a newly published model version
    EXPIRY = "expiry"  # recycle_after_days passed with no sales action
    TICK = "tick"  # time passed (decay, windows) -- used for score history only


S = Stage
# Allowed edges. Forward only; nurture is the one way back in (a new MQL cycle).
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    S.LEAD: frozenset({S.MQL, S.NURTURE, S.DISQUALIFIED}),
    S.MQL: frozenset({S.SAL, S.NURTURE, S.DISQUALIFIED}),
    S.SAL: frozenset({S.SQL, S.NURTURE, S.DISQUALIFIED, S.LOST}),
    S.SQL: frozenset({S.OPPORTUNITY, S.NURTURE, S.LOST}),
    S.OPPORTUNITY: frozenset({S.WON, S.LOST}),
    S.WON: frozenset(),
    S.LOST: frozenset({S.NURTURE}),
    S.NURTURE: frozenset({S.MQL, S.DISQUALIFIED}),
    S.DISQUALIFIED: frozenset(),
}

# Stages from which a qualifying score hands the lead to sales (opens an MQL cycle).
SCORE_ENTRY = frozenset({S.LEAD, S.NURTURE})
# Stages in which the MQL cycle has left the funnel (the cycle's ``ended_at`` is set).
CYCLE_END = frozenset({S.NURTURE, S.DISQUALIFIED, S.WON, S.LOST})
# Stages that are "with sales": the cycle is open and an expiry no longer applies after mql.
WITH_SALES = frozenset({S.SAL, S.SQL, S.OPPORTUNITY})


def stage_of(value: str) -> Stage:
    """Parse a stage name; raise ``ConflictError`` for an unknown one."""
    try:
        return Stage(value)
    except ValueError:
        names = ", ".join(s.value for s in Stage)
        raise ConflictError(f"unknown stage '{value}' (stages: {names})") from None


def can_move(current: str, target: str) -> bool:
    """Whether ``current -> target`` is an allowed transition."""
    return Stage(target) in TRANSITIONS[Stage(current)]


def check_move(lead_id: str, current: str, target: str) -> None:
    """Raise ``ConflictError`` unless ``current -> target`` is allowed."""
    if not can_move(current, target):
        allowed = ", ".join(sorted(TRANSITIONS[Stage(current)])) or "none (final stage)"
        raise ConflictError(
            f"lead '{lead_id}' is at stage '{current}': cannot move to '{target}' "
            f"(allowed from '{current}': {allowed})"
        )


def opens_cycle(stage: str) -> bool:
    """Whether a lead at ``stage`` can be handed to sales as a new MQL cycle (by a score or an
    imported outcome): a ``lead``, or a ``nurture`` lead (recycled or rejected) coming back."""
    return Stage(stage) in SCORE_ENTRY


def new_activity(last_event_at: datetime | None, stage_since: datetime) -> bool:
    """Has the lead done anything (an event) since it entered its current stage?

    Event time is compared with the stage's time, both in the lead's own timeline, so imported
    history (outcomes with past dates) and replays behave the same as live traffic.
    """
    return last_event_at is not None and last_event_at > stage_since


def enters_mql(stage: str, qualifies: bool, new_activity: bool) -> bool:
    """Whether a fresh score hands the lead to sales now.

    A ``lead`` that qualifies becomes an MQL the moment it qualifies. A ``nurture`` lead (recycled
    or rejected) must also show new activity since it entered nurture (an event dated after
    that moment): otherwise a lead that still qualifies would bounce straight back into the queue every
    ``recycle_after_days`` without anyone learning anything new about it.
    """
    if not qualifies or not opens_cycle(stage):
        return False
    return Stage(stage) is S.LEAD or new_activity


# What qualifies a lead for a hand-off to sales (a cycle's ``qualified_by``).
MQL, PQL, BOTH = "mql", "pql", "mql+pql"
QUALIFICATIONS = (MQL, PQL, BOTH)


def qualified_by(mql: bool, pql: bool) -> str | None:
    """What a fresh score qualifies the lead as: "mql", "pql", "mql+pql", or None (neither).

    An MQL and a PQL hand off alike (queue, SLA, dispositions, webhooks): the stage is ``mql``
    either way, and the cycle records which qualification opened it."""
    if mql and pql:
        return BOTH
    if mql:
        return MQL
    return PQL if pql else None


def hands_off(record: Mapping[str, Any]) -> bool:
    """A score record qualifies its lead for a hand-off: an MQL or a PQL (``qualified_by``)."""
    return qualified_by(bool(record.get("mql")), bool(record.get("pql"))) is not None
