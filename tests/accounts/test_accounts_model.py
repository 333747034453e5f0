"""The ``accounts:`` block: parsed, validated with located errors, compiled to the account plan."""

from __future__ import annotations

import pytest

from accounts_helpers import LEAD_MODEL, MODEL
from leadgate.engine import ir
from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import RollupRule
from leadgate.errors import ModelError
from leadgate.model import parse_model


def _problems(text: str) -> list[str]:
    with pytest.raises(ModelError) as info:
        parse_model(text, "m.yaml")
    return [str(p) for p in info.value.problems]


def test_the_issue_model_compiles_to_its_plan() -> None:
    plan = compile_accounts(parse_model(MODEL))
    kinds = [type(r) for r in plan.rules]
    assert kinds == [ir.ProfileRule, RollupRule, RollupRule, ir.EventRule]
    rollups = plan.rollups
    assert [(r.rollup.kind, r.rollup.measure, r.rollup.n) for r in rollups] == [
        ("count", None, None),
        ("top_sum", "total", 3),
    ]
    assert rollups[0].max_points == 40
    event = plan.rules[3]
    assert isinstance(event, ir.EventRule) and event.half_life_days == 14  # dimension default
    assert plan.buying_group is not None
    assert [r.name for r in plan.buying_group.roles] == [
        "decision maker",
        "champion",
        "practitioner",
    ]
    assert plan.floors == (("fit", 20.0),) and plan.threshold == 100
    # the base plan holds only the account's own rules, under the same keys
    assert [r.key for r in plan.base.rules] == ["a0r0", "a2r0"]


def test_a_model_without_accounts_keeps_its_hash() -> None:
    lead_only = parse_model(LEAD_MODEL)
    assert lead_only.spec.accounts is None
    assert parse_model(MODEL).hash != lead_only.hash
    with pytest.raises(ModelError, match="no 'accounts:' block"):
        compile_accounts(lead_only)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "  rules: []\n",
            "m.yaml:13:3: accounts.rules: unknown key 'rules'",
        ),
        (
            "  dimensions:\n    e:\n      rules:\n        - {name: x, points: 1, rollup: {sum: engagment}}\n",
            "m.yaml:16:41: accounts.dimensions.e.rules[0].rollup.sum: 'sum' takes 'total' or a "
            "dimension of the lead model, got 'engagment' (hint: did you mean 'engagement'?)",
        ),
        (
            "  dimensions:\n    e:\n      rules:\n        - {name: x, points: 1, rollup: {top_sum: total}}\n",
            "m.yaml:16:32: accounts.dimensions.e.rules[0].rollup: 'top_sum' needs 'n'",
        ),
        (
            "  dimensions:\n    e:\n      rules:\n        - {name: x, points: 1, rollup: {count: leads, sum: total}}\n",
            "a roll-up needs exactly one of count, sum, max, top_sum, count_distinct",
        ),
        (
            "  dimensions:\n    e:\n      rules:\n        - {name: x, points: 1, when: {a: 1}, rollup: {count: leads}}\n",
            "an account rule needs exactly one of 'when'",
        ),
        (
            "  dimensions:\n    e:\n      rules:\n        - {name: x, points: 1, rollup: {count: leads, where: {score.fitt: {gte: 1}}}}\n",
            "'score.fitt': the lead model has no dimension 'fitt' (hint: did you mean 'fit'?)",
        ),
        (
            "  floors: {intent: 3}\n  dimensions:\n    e:\n      rules: []\n",
            "m.yaml:13:12: accounts.floors.intent: floor for an account dimension that does not exist",
        ),
        (
            "  dimensions: {e: {rules: []}}\n  buying_group:\n    roles:\n      - {name: a, when: {title: {matchs: x}}}\n",
            "accounts.buying_group.roles[0].when.title.matchs: unknown operator 'matchs'",
        ),
        (
            "  dimensions: {e: {rules: []}}\n  buying_group: {roles: [{name: a, when: {t: 1}}], min_completeness: 1.5}\n",
            "accounts.buying_group.min_completeness: input should be less than or equal to 1",
        ),
    ],
)
def test_bad_accounts_blocks_are_located(block: str, expected: str) -> None:
    text = LEAD_MODEL + "accounts:\n  threshold: 10\n" + block
    found = _problems(text)
    assert any(expected in p for p in found), found
