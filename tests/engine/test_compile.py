"""engine/compile.py: a validated model -> the plan (intermediate form) both executors read."""

from __future__ import annotations

from factories import plan_of
from leadgate.engine import ir

MODEL = {
    "threshold": 20,
    "floors": {"fit": 5},
    "require": [{"name": "business email", "when": {"email": {"not_free_email": True}}}],
    "disqualify": [{"name": "student", "when": {"title": {"contains": "student"}}}],
    "dimensions": {
        "fit": {"rules": [{"name": "vp", "when": {"title": "VP"}, "points": 10}]},
        "engagement": {
            "half_life_days": 30,
            "within_days": 90,
            "rules": [
                {"name": "opens", "event": "email_open", "points": 2, "max_count": 5},
                {"name": "clicks", "event": ["click", "tap"], "points": 3, "half_life_days": 7},
                {"name": "visits", "events": {"type": "visit", "min_count": 3}, "points": 8},
            ],
        },
    },
    "segments": [{"name": "enterprise", "when": {"size": {"gte": 1000}}, "threshold": 40}],
}


def test_rules_become_nodes_of_their_kind_with_stable_keys() -> None:
    plan = plan_of(MODEL)
    kinds = [(r.key, type(r).__name__, r.dimension) for r in plan.rules]
    assert kinds == [
        ("d0r0", "ProfileRule", "fit"), ("d1r0", "EventRule", "engagement"),
        ("d1r1", "EventRule", "engagement"), ("d1r2", "CountRule", "engagement"),
    ]  # fmt: skip


def test_dimension_defaults_apply_unless_a_rule_sets_its_own() -> None:
    opens, clicks = plan_of(MODEL).rules[1:3]
    assert isinstance(opens, ir.EventRule) and isinstance(clicks, ir.EventRule)
    assert (opens.half_life_days, opens.filter.within_days, opens.max_count) == (30, 90, 5)
    assert clicks.half_life_days == 7 and clicks.filter.types == ("click", "tap")


def test_text_values_are_folded_at_compile_time() -> None:
    vp = plan_of(MODEL).rules[0]
    assert isinstance(vp, ir.ProfileRule)
    assert vp.when == ir.Test("title", ir.Op.TEXT_IN, ("vp",))


def test_segments_inherit_the_top_level_policy_and_default_comes_last() -> None:
    plan = plan_of(MODEL)
    assert [s.name for s in plan.segments] == ["enterprise", ir.DEFAULT_SEGMENT]
    enterprise, default = plan.segments
    assert enterprise.policy.threshold == 40 and default.policy.threshold == 20
    assert enterprise.policy.floors == default.policy.floors == (("fit", 5),)
    assert [c.name for c in enterprise.policy.gates] == ["business email"]
    assert default.when is None


def test_the_plan_lists_each_check_and_event_filter_once() -> None:
    plan = plan_of(MODEL)
    assert [c.name for c in plan.checks] == ["business email", "student"]
    assert len(plan.event_filters) == 3
    assert plan.identity()["hash"] == plan_of(MODEL).hash  # deterministic


def test_the_plan_says_which_fields_it_reads() -> None:
    model = {
        **MODEL,
        "dimensions": {
            **MODEL["dimensions"],
            "intent": {
                "rules": [
                    {
                        "name": "pricing",
                        "event": "view",
                        "where": {"url": {"contains": "/pricing"}},
                        "points": 5,
                    }
                ]
            },
        },
    }
    fields = plan_of(model).fields()
    assert fields.profile == ("title", "size", "email")
    assert fields.properties == ("url",)
    assert fields.types == ("email_open", "click", "tap", "visit", "view")
