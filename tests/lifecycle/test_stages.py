"""The stage machine: every allowed transition works, every other one is refused."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadgate.errors import ConflictError
from leadgate.lifecycle.scores import may_move, score_changed
from leadgate.lifecycle.stages import (
    TRANSITIONS,
    Stage,
    can_move,
    check_move,
    enters_mql,
    new_activity,
    opens_cycle,
    stage_of,
)

EXPECTED = {
    ("lead", "mql"), ("lead", "nurture"), ("lead", "disqualified"),
    ("mql", "sal"), ("mql", "nurture"), ("mql", "disqualified"),
    ("sal", "sql"), ("sal", "nurture"), ("sal", "disqualified"), ("sal", "lost"),
    ("sql", "opportunity"), ("sql", "nurture"), ("sql", "lost"),
    ("opportunity", "won"), ("opportunity", "lost"),
    ("lost", "nurture"),
    ("nurture", "mql"), ("nurture", "disqualified"),
}  # fmt: skip
PAIRS = list(itertools.product([s.value for s in Stage], repeat=2))


def test_the_table_is_exactly_the_documented_edges() -> None:
    edges = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert edges == EXPECTED


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED))
def test_legal_transitions_pass(current: str, target: str) -> None:
    assert can_move(current, target)
    check_move("L1", current, target)


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p not in EXPECTED])
def test_illegal_transitions_are_conflicts(current: str, target: str) -> None:
    assert not can_move(current, target)
    with pytest.raises(
        ConflictError, match=rf"lead 'L1' is at stage '{current}': cannot move to '{target}'"
    ):
        check_move("L1", current, target)


def test_won_and_disqualified_are_final() -> None:
    with pytest.raises(ConflictError, match=r"allowed from 'won': none \(final stage\)"):
        check_move("L1", "won", "nurture")


def test_unknown_stage_names_the_stages() -> None:
    with pytest.raises(ConflictError, match=r"unknown stage 'closed' \(stages: lead, mql"):
        stage_of("closed")


@pytest.mark.parametrize(
    ("stage", "qualifies", "activity", "enters"),
    [
        ("lead", True, False, True),
        ("lead", False, True, False),
        ("nurture", True, True, True),
        ("nurture", True, False, False),  # recycled and nothing new: stays in nurture
        ("mql", True, True, False),
        ("sal", True, True, False),
        ("lost", True, True, False),
        ("disqualified", True, True, False),
    ],
)
def test_who_enters_mql_on_a_score(
    stage: str, qualifies: bool, activity: bool, enters: bool
) -> None:
    assert enters_mql(stage, qualifies, activity) is enters


def test_new_activity_is_an_event_strictly_after_the_stage_began() -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    assert new_activity(t + timedelta(microseconds=1), t)
    assert not new_activity(t, t)  # same moment: nothing new
    assert not new_activity(None, t)
    assert [s.value for s in Stage if opens_cycle(s)] == ["lead", "nurture"]


@pytest.mark.parametrize(
    ("old_q", "new_q", "stage", "moves"),
    [
        (False, True, "mql", True),  # starts qualifying (counted) though it cannot enter
        (True, False, "mql", True),  # stops qualifying: flagged in the queue
        (True, True, "lead", True),  # enters MQL
        (True, True, "mql", False),
        (None, False, "lead", False),  # no score before and none that qualifies now
        (True, True, "nurture", False),  # nothing new since it was recycled
    ],
)
def test_may_move(old_q: bool | None, new_q: bool, stage: str, moves: bool) -> None:
    t = datetime(2026, 3, 1, tzinfo=UTC)
    got = may_move(
        stage=stage, stage_since=t, last_event_at=t, old_qualifies=old_q, qualifies=new_q
    )
    assert got is moves


def test_score_changed() -> None:
    base: dict[str, Any] = {
        "old_total": 10.0, "old_qualifies": True, "old_segment": "a", "old_model_hash": "h",
        "total": 10.0, "qualifies": True, "segment": "a", "model_hash": "h", "resolution": 0.5,
    }  # fmt: skip
    assert not score_changed(**base)
    changes: list[dict[str, Any]] = [
        {"total": 10.5}, {"total": 9.5}, {"qualifies": False}, {"segment": "b"},
        {"model_hash": "h2"}, {"old_total": None},
    ]  # fmt: skip
    for change in changes:
        assert score_changed(**{**base, **change}), change
    assert not score_changed(**{**base, "total": 10.49})
