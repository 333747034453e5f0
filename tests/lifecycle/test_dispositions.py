"""Dispositions: actions by stage, reason codes, notes and amounts."""

from __future__ import annotations

import itertools

import pytest

from leadgate.errors import ConflictError, IngestError
from leadgate.lifecycle.dispositions import (
    ACTIONS,
    DEFAULT_REJECT_REASONS,
    DispositionError,
    plan_disposition,
)
from leadgate.lifecycle.stages import Stage

# (stage, action) -> resulting stage; touch keeps the stage. Everything else is refused.
ALLOWED = {
    ("mql", "accept"): "sal",
    ("mql", "reject"): "nurture",
    ("sal", "reject"): "nurture",
    ("sal", "sql"): "sql",
    ("sal", "lost"): "lost",
    ("sal", "recycle"): "nurture",
    ("sql", "opportunity"): "opportunity",
    ("sql", "lost"): "lost",
    ("sql", "recycle"): "nurture",
    ("opportunity", "won"): "won",
    ("opportunity", "lost"): "lost",
    ("lost", "recycle"): "nurture",
    ("mql", "touch"): "mql",
    ("sal", "touch"): "sal",
    ("sql", "touch"): "sql",
    ("opportunity", "touch"): "opportunity",
}
MATRIX = list(itertools.product([s.value for s in Stage], ACTIONS))


@pytest.mark.parametrize(("stage", "action"), MATRIX)
def test_every_action_from_every_stage(stage: str, action: str) -> None:
    kwargs = {"reason": "no_intent"} if action == "reject" else {}
    if (stage, action) in ALLOWED:
        plan = plan_disposition("L1", stage, action, **kwargs)
        assert (plan.target or stage) == ALLOWED[(stage, action)]
    else:
        with pytest.raises(ConflictError, match=r"lead 'L1' is at stage"):
            plan_disposition("L1", stage, action, **kwargs)


@pytest.mark.parametrize(("reason", "target"), sorted(DEFAULT_REJECT_REASONS.items()))
def test_each_reason_code_sends_the_lead_to_its_stage(reason: str, target: str) -> None:
    plan = plan_disposition("L1", "mql", "reject", reason=reason, note="why")
    assert plan.target == target


def test_reject_needs_a_known_reason() -> None:
    with pytest.raises(DispositionError, match=r"reason: a reject needs a reason code"):
        plan_disposition("L1", "mql", "reject")
    with pytest.raises(DispositionError, match=r"reason: unknown reason code 'meh'"):
        plan_disposition("L1", "mql", "reject", reason="meh")


def test_other_needs_a_note() -> None:
    with pytest.raises(DispositionError, match=r"note: reason 'other' needs a note"):
        plan_disposition("L1", "mql", "reject", reason="other", note="  ")
    assert (
        plan_disposition("L1", "mql", "reject", reason="other", note="moved abroad").note
        == "moved abroad"
    )


def test_configured_reason_codes_replace_the_defaults() -> None:
    reasons = {"timing": "nurture", "fraud": "disqualified"}
    assert (
        plan_disposition("L1", "mql", "reject", reason="fraud", reasons=reasons).target
        == "disqualified"
    )
    with pytest.raises(
        DispositionError, match=r"unknown reason code 'student' \(use timing, fraud\)"
    ):
        plan_disposition("L1", "mql", "reject", reason="student", reasons=reasons)


def test_unknown_action_is_bad_input() -> None:
    with pytest.raises(IngestError, match=r"action: unknown action 'call'"):
        plan_disposition("L1", "mql", "call")


@pytest.mark.parametrize("amount", [-1.0, float("nan"), float("inf"), True, "5"])
def test_amount_must_be_a_finite_non_negative_number(amount: object) -> None:
    with pytest.raises(DispositionError, match=r"amount: must"):
        plan_disposition("L1", "sql", "opportunity", amount=amount)  # type: ignore[arg-type]
