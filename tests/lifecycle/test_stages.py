"""The stage machine: every allowed transition works, every other one is refused."""

from __future__ import annotations

import itertools

import pytest

from leadgate.errors import ConflictError
from leadgate.lifecycle.stages import TRANSITIONS, Stage, can_move, check_move, enters_mql, stage_of

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
