"""The per-lead executor: decay, windows, caps, max_count, dimensions, segments, gates, floors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import AS_OF, REFERENCE_MODEL, ev, plan_of
from leadgate.engine import Event, compile_model, score_lead
from leadgate.model import load_model


def _dim(rule: dict, **dim: object) -> dict:
    return {"dimensions": {"engagement": {**dim, "rules": [{"name": "r", **rule}]}}}


def test_decay_at_exact_ages() -> None:
    plan = plan_of(_dim({"event": "email_click", "points": 8}, half_life_days=30))
    for days, expected in [(0, 8.0), (30, 4.0), (60, 2.0), (90, 1.0), (15, 8 * 0.5**0.5)]:
        s = score_lead(plan, {}, [ev("email_click", days)], AS_OF, "L1")
        assert s.total == pytest.approx(expected, abs=1e-12)
        r = s.explanation.rules[0]
        assert r.raw_points == 8 and r.decayed_points == pytest.approx(expected, abs=1e-12)


def test_rule_half_life_overrides_dimension() -> None:
    plan = plan_of(_dim({"event": "x", "points": 8, "half_life_days": 10}, half_life_days=30))
    assert score_lead(plan, {}, [ev("x", 10)], AS_OF, "L1").total == pytest.approx(4.0)


def test_events_after_as_of_do_not_exist() -> None:
    plan = plan_of(_dim({"event": "x", "points": 5}))
    later = Event("L1", "x", AS_OF + timedelta(seconds=1), "late")
    at = Event("L1", "x", AS_OF, "at")
    s = score_lead(plan, {}, [later, at], AS_OF, "L1")
    assert s.total == 5 and s.explanation.rules[0].event_ids == ("at",)
    assert score_lead(plan, {}, [later, at], AS_OF + timedelta(seconds=1), "L1").total == 10


def test_window_is_inclusive() -> None:
    plan = plan_of(_dim({"event": "x", "points": 1, "within_days": 30}))
    events = [ev("x", 30), ev("x", 30.0001), ev("x", 1)]
    assert score_lead(plan, {}, events, AS_OF, "L1").total == 2


def test_cap_applies_after_decay() -> None:
    plan = plan_of(_dim({"event": "open", "points": 2, "max_points": 10}, half_life_days=30))
    events = [ev("open", 0, f"e{i}") for i in range(8)]  # 16 points, capped at 10
    r = score_lead(plan, {}, events, AS_OF, "L1").explanation.rules[0]
    assert (r.raw_points, r.decayed_points, r.points, r.capped) == (16, 16, 10, True)
    old = [ev("open", 60, f"o{i}") for i in range(8)]  # 8 x 0.5 = 4 points, under the cap
    r = score_lead(plan, {}, old, AS_OF, "L1").explanation.rules[0]
    assert r.points == pytest.approx(4.0) and not r.capped


def test_negative_points_cap_bounds_magnitude() -> None:
    plan = plan_of(_dim({"event": "unsubscribe", "points": -20, "max_points": 30}))
    s = score_lead(plan, {}, [ev("unsubscribe", 1, "a"), ev("unsubscribe", 2, "b")], AS_OF, "L1")
    assert s.total == -30


def test_max_count_keeps_most_recent() -> None:
    plan = plan_of(_dim({"event": "page_view", "points": 8, "max_count": 2}, half_life_days=10))
    events = [ev("page_view", d, f"p{d}") for d in (30, 0, 10, 20)]
    r = score_lead(plan, {}, events, AS_OF, "L1").explanation.rules[0]
    assert r.events_counted == 2
    assert r.event_ids == ("p0", "p10")
    assert r.points == pytest.approx(8 + 4)


def test_where_on_event_properties_and_type_lists() -> None:
    plan = plan_of(
        _dim(
            {
                "event": ["page_view", "visit"],
                "where": {"url": {"contains": "/pricing"}},
                "points": 1,
            }
        )
    )
    events = [
        ev("page_view", 1, "a", url="/pricing"),
        ev("visit", 1, "b", url="/Pricing/team"),
        ev("page_view", 1, "c", url="/blog"),
        ev("page_view", 1, "d"),
    ]
    assert score_lead(plan, {}, events, AS_OF, "L1").total == 2


def test_count_rule_flat_points() -> None:
    plan = plan_of(
        _dim(
            {
                "events": {"type": "visit", "min_count": 3, "max_count": 5, "within_days": 30},
                "points": 7,
            }
        )
    )
    assert score_lead(plan, {}, [ev("visit", d, f"v{d}") for d in (1, 2)], AS_OF, "L1").total == 0
    assert (
        score_lead(plan, {}, [ev("visit", d, f"v{d}") for d in (1, 2, 3)], AS_OF, "L1").total == 7
    )
    assert score_lead(plan, {}, [ev("visit", d, f"v{d}") for d in range(6)], AS_OF, "L1").total == 0
    assert (
        score_lead(plan, {}, [ev("visit", d, f"v{d}") for d in (1, 2, 40)], AS_OF, "L1").total == 0
    )


def test_dimension_max_and_min_clip() -> None:
    plan = plan_of({"dimensions": {"fit": {"max": 15, "min": -5, "rules": [
        {"name": "a", "when": {"a": 1}, "points": 10}, {"name": "b", "when": {"b": 1}, "points": 10},
        {"name": "c", "when": {"c": 1}, "points": -30}]}}})  # fmt: skip
    s = score_lead(plan, {"a": 1, "b": 1}, [], AS_OF, "L1")
    assert s.scores == {"fit": 15} and s.explanation.dimensions[0].clipped
    assert score_lead(plan, {"c": 1}, [], AS_OF, "L1").scores == {"fit": -5}


def test_worked_example_is_an_mql_at_70() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    profile = {
        "title": "Director of Marketing",
        "industry": "software",
        "company_size": 800,
        "country": "US",
        "email": "dana@acme-corp.com",
    }
    events = [
        Event("L1", "content_download", AS_OF, "e1", {"asset": "whitepaper"}),
        Event("L1", "email_click", AS_OF, "e2", {}),
        Event("L1", "page_view", AS_OF, "e3", {"url": "https://acme.example/pricing"}),
    ]
    s = score_lead(plan, profile, events, AS_OF, "L1")
    points = {r.name: r.points for r in s.explanation.rules if r.matched}
    assert points == {
        "senior title": 20,
        "target industry": 15,
        "ideal company size": 10,
        "downloaded content": 10,
        "clicked email": 5,
        "pricing page": 10,
    }
    assert s.total == 70 and s.mql and s.missing == [] and s.segment == "default"


def test_engaged_student_fails_the_fit_floor() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    profile = {
        "title": "Student",
        "industry": "education",
        "country": "US",
        "email": "sam@state.edu",
    }
    events = [
        Event("L1", t, AS_OF - timedelta(days=1), f"{t}{i}", {"url": "/pricing"})
        for i in range(3)
        for t in ("webinar_attended", "content_download", "demo_request", "page_view")
    ]
    s = score_lead(plan, profile, events, AS_OF, "L1")
    assert s.total >= 60  # engaged enough on points alone...
    assert not s.mql  # ...but the fit floor says no
    assert s.scores["fit"] == -50
    assert s.missing == ["fit floor 20: short by 70"]
    assert s.explanation.dimensions[0].floor_met is False


def test_segments_inherit_and_merge_floors() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    big = {
        "title": "VP Engineering",
        "industry": "software",
        "company_size": 8000,
        "country": "US",
        "email": "v@big.com",
    }
    events = [
        Event("L1", "demo_request", AS_OF, "d", {}),
        Event("L1", "email_click", AS_OF, "c", {}),
    ]
    s = score_lead(plan, big, events, AS_OF, "L1")
    assert s.segment == "enterprise"
    assert s.explanation.threshold == 80
    assert s.total == 20 + 15 + 5 + 30  # no size points above 5000
    assert s.missing == ["threshold 80: short by 10 points"]
    # the enterprise fit floor is 30; the engagement floor of 5 is inherited from the top level
    floors = {d.name: d.floor for d in s.explanation.dimensions}
    assert floors == {"fit": 30, "engagement": 5, "intent": None}
    small = dict(big, company_size=300)
    s2 = score_lead(plan, small, events, AS_OF, "L1")
    assert s2.segment == "default" and s2.mql and s2.total == 80


def test_gates_and_disqualifiers_explained() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    profile = {"title": "VP Sales", "industry": "software", "company_size": 900, "country": "US"}
    events = [
        Event("L1", "demo_request", AS_OF, "d", {}),
        Event("L1", "email_click", AS_OF, "c", {}),
    ]
    free = score_lead(plan, {**profile, "email": "vp@gmail.com"}, events, AS_OF, "L1")
    assert free.total == 80 and not free.mql and free.missing == ["gate failed: business email"]
    rival = score_lead(plan, {**profile, "email": "vp@rival.io"}, events, AS_OF, "L1")
    assert not rival.mql and rival.missing == ["disqualified: competitor"]
    ok = score_lead(plan, {**profile, "email": "vp@acme.com"}, events, AS_OF, "L1")
    assert ok.mql and all(c.ok for c in ok.explanation.checks)


def test_event_count_gate() -> None:
    plan = plan_of({
        "threshold": 0,
        "dimensions": {"fit": {"rules": []}},
        "require": [{"name": "two high-value assets", "events": {"type": ["content_download", "webinar_attended"], "min_count": 2, "within_days": 90}}],
    })  # fmt: skip
    one = [ev("content_download", 10, "a"), ev("webinar_attended", 100, "b")]
    two = [ev("content_download", 10, "a"), ev("webinar_attended", 80, "b")]
    s1 = score_lead(plan, {}, one, AS_OF, "L1")
    assert not s1.mql and s1.explanation.checks[0].events_counted == 1
    assert score_lead(plan, {}, two, AS_OF, "L1").mql


def test_threshold_tolerance_and_record_shape() -> None:
    plan = plan_of(
        {
            "threshold": 0.3,
            "dimensions": {"e": {"rules": [{"name": "r", "event": "x", "points": 0.1}]}},
        }
    )
    s = score_lead(plan, {}, [ev("x", 1, "a"), ev("x", 2, "b"), ev("x", 3, "c")], AS_OF, "L1")
    assert s.mql  # 0.1 * 3 is 0.30000000000000004 or 0.29999999999999993 depending on order
    rec = s.to_record()
    assert set(rec) >= {"lead_id", "segment", "scores", "total", "mql", "missing", "model"}
    assert set(rec["model"]) == {"name", "version", "hash"}


def test_score_is_pure_and_order_independent() -> None:
    plan = compile_model(load_model(REFERENCE_MODEL))
    events = [ev("email_open", d, f"o{d}") for d in (1, 5, 9, 40, 3, 2)] + [
        ev("page_view", d, f"p{d}", url="/pricing") for d in (4, 1, 7, 2)
    ]
    a = score_lead(plan, {"email": "a@b.com"}, events, AS_OF, "L1")
    b = score_lead(plan, {"email": "a@b.com"}, list(reversed(events)), AS_OF, "L1")
    assert a.to_record() == b.to_record()
