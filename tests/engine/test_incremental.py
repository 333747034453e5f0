"""The incremental per-lead state gives what the pure engine gives (incremental == rebuild).

Generated models (the agreement tests' hostile ones and the reference model), events folded in
batches in any order (back-dated, future-dated, at window edges), ``as_of`` moving on by seconds
to years (long decays) and sometimes back: at every step the state's score equals
``score_lead`` over every event so far, or the state says it cannot answer (``None``) exactly
when an event later than ``as_of`` is in it or ``as_of`` went back before its last prune.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from agreement import TEXTS, TYPES, models
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from factories import AS_OF, REFERENCE_MODEL, explanation_differences, plan_of
from leadgate.engine import Event, Plan, compile_model, score_lead
from leadgate.engine import incremental as inc
from leadgate.model import load_model

REFERENCE = compile_model(load_model(REFERENCE_MODEL))
REF_TYPES = ("email_open", "email_click", "content_download", "page_view", "demo_request")
DAY = 86400
# Window lengths the generated models use: events exactly on a window's edge at some as_of.
EDGES = [int(d * DAY) for d in (0.5, 1, 3, 7, 30, 90, 180)]

offset_st = st.one_of(
    st.integers(-2 * DAY, 200 * DAY), st.sampled_from(EDGES), st.integers(0, 5 * 365 * DAY)
)
props_st = st.fixed_dictionaries(
    {}, optional={"url": st.sampled_from(["/pricing", "/blog/x", *TEXTS[:6]])}
)
step_st = st.one_of(
    st.sampled_from([0, 1, DAY // 2, DAY, 7 * DAY, 30 * DAY, *EDGES]),
    st.integers(-3 * DAY, 40 * DAY),
    st.sampled_from([365 * DAY, 3 * 365 * DAY]),  # years without an event: long decays
)


def _events(types: tuple[str, ...]) -> st.SearchStrategy[list[Event]]:
    return st.lists(
        st.builds(
            lambda t, off, props: (t, off, props), st.sampled_from(types), offset_st, props_st
        ),
        max_size=14,
    ).map(
        lambda rows: [
            Event("L1", t, AS_OF - timedelta(seconds=off), f"e{i}", props)
            for i, (t, off, props) in enumerate(rows)
        ]
    )


def _same(plan: Plan, state: inc.State, seen: list[Event], when: Any, profile: dict) -> bool:
    """Assert the state's score equals the pure one at ``when``; False when it refused."""
    spec = inc.spec_of(plan)
    assert spec is not None
    # The state goes through the store as JSON: it must come back the same.
    stored = json.loads(json.dumps(state))
    got = inc.evaluate(spec, plan, stored, profile, when, "L1")
    if "p" in stored:  # the profile rules' results it kept, for the next evaluation
        state["p"] = stored["p"]
    latest = max((e.epoch for e in seen), default=None)
    future = latest is not None and latest > when.timestamp()
    if got is None:
        assert future or (state["pruned"] is not None and when.timestamp() < state["pruned"])
        return False
    assert not future
    want = score_lead(plan, profile, seen, when, "L1")
    diffs = explanation_differences(
        want.explanation.to_dict(), got.explanation.to_dict(), ids=False
    )
    assert not diffs, diffs
    a, b = want.to_record(), got.to_record()
    assert abs(a.pop("total") - b.pop("total")) <= 1e-9
    sa, sb = a.pop("scores"), b.pop("scores")
    assert sa.keys() == sb.keys() and all(abs(sa[k] - sb[k]) <= 1e-9 for k in sa)
    assert a == b
    return True


def _run(
    plan: Plan, profiles: list[dict], events: list[Event], cuts: list[int], steps: list[int]
) -> None:
    """Fold ``events`` in batches (``cuts``), moving ``as_of`` by ``steps``, the profile taking
    each of ``profiles`` in turn (a profile change between batches, or the same one again): at
    every step the state, with the profile-rule results it kept, scores what the engine does."""
    spec = inc.spec_of(plan)
    assert spec is not None
    when = AS_OF
    state = inc.new_state(spec)
    seen: list[Event] = []
    batches = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    for i, (batch, step) in enumerate(zip(batches, steps + [0] * len(batches), strict=False)):
        profile = profiles[i % len(profiles)]
        when = when + timedelta(seconds=step)
        for ev in batch:
            inc.apply(spec, state, ev)
        seen += batch
        if not _same(plan, state, seen, when, profile):
            # What the write path does when the state refuses: rebuild it from every event.
            state = inc.build(spec, seen, when)
            _same(plan, state, seen, when, profile)
        else:
            inc.prune(spec, state, when)
            _same(plan, state, seen, when, profile)


def _cuts(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, n), max_size=4).map(sorted)


FAST = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FAST
@given(st.data())
def test_generated_models_incremental_equals_rebuild(data: st.DataObject) -> None:
    model = data.draw(models())
    model.pop("pql", None)  # a PQL block, like a measure beyond a count, is scored from events
    plan = plan_of(model)
    assume(inc.supports(plan))
    profiles = data.draw(
        st.lists(
            st.dictionaries(st.sampled_from(["title", "email"]), st.sampled_from(TEXTS)),
            min_size=1,
            max_size=3,
        )
    )
    events = data.draw(_events(TYPES))
    cuts = data.draw(_cuts(len(events)))
    steps = data.draw(st.lists(step_st, min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    _run(plan, profiles, events, cuts, steps)


@FAST
@given(_events(REF_TYPES), st.data())
def test_reference_model_incremental_equals_rebuild(
    events: list[Event], data: st.DataObject
) -> None:
    profile = {"title": "VP Sales", "email": "a@acme.com", "industry": "software"}
    # A profile change between batches (another e-mail domain, title and industry) and back;
    # and one that moves the lead to the enterprise segment and meets the disqualifier (the
    # state keeps the profile's answers to segment and check conditions too).
    other = {"title": "Student", "email": "b@gmail.com", "industry": "education"}
    rival = {"title": "Head of IT", "email": "c@rival.io", "company_size": 9000}
    profiles = data.draw(
        st.sampled_from(
            [[profile], [profile, other], [other, profile, profile], [rival, profile, rival]]
        )
    )
    cuts = data.draw(_cuts(len(events)))
    steps = data.draw(st.lists(step_st, min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    _run(REFERENCE, profiles, events, cuts, steps)


def test_decayed_sum_stays_finite_over_decades() -> None:
    """A decaying rule's sum is kept against its newest event: ten thousand events over twenty
    years, folded oldest last, never overflow and score what the pure engine scores."""
    spec = inc.spec_of(REFERENCE)
    assert spec is not None
    events = [
        Event("L1", "email_click", AS_OF - timedelta(hours=17 * i), f"e{i}") for i in range(10000)
    ]
    state = inc.new_state(spec)
    for ev in events:
        inc.apply(spec, state, ev)
    for years in (0, 1, 20):
        when = AS_OF + timedelta(days=365 * years)
        _same(REFERENCE, state, events, when, {})
    assert all(isinstance(x, int | float | list) for x in state["t"])
    assert json.dumps(state)  # no inf/nan (json would write Infinity)
    assert "Infinity" not in json.dumps(state) and "NaN" not in json.dumps(state)


def test_after_a_publish_the_new_model_rebuilds() -> None:
    """A state belongs to one plan: another model's spec does not accept its shape, or accepts
    it only when the tracks are the same (then the rebuild gives the same state)."""
    other = plan_of(
        {"dimensions": {"e": {"rules": [{"name": "v", "event": "page_view", "points": 1}]}}}
    )
    spec_ref, spec_other = inc.spec_of(REFERENCE), inc.spec_of(other)
    assert spec_ref is not None and spec_other is not None
    state = inc.new_state(spec_ref)
    assert not inc.usable(spec_other, state)
    assert inc.usable(spec_ref, json.loads(json.dumps(state)))


EDGE_MODEL = plan_of(
    {
        "dimensions": {
            "e": {
                "rules": [
                    {"name": "dl", "event": "download", "points": 10, "within_days": 7},
                    {"name": "dl2", "event": "download", "points": 3, "within_days": 7,
                     "half_life_days": 3, "max_count": 2},
                    {"name": "visits", "events": {"type": "visit", "min_count": 2,
                                                  "within_days": 1}, "points": 5},
                ]
            }
        },
        "require": [{"name": "recent", "events": {"type": "visit", "within_days": 0.5}}],
    }
)  # fmt: skip


def test_window_edges_exactly() -> None:
    """An event exactly ``within_days`` old counts; a microsecond later it does not, for event
    rules, count rules and gates alike, and a prune at the edge keeps it."""
    spec = inc.spec_of(EDGE_MODEL)
    assert spec is not None
    events = [
        Event("L1", "download", AS_OF - timedelta(days=7), "d1"),
        Event("L1", "download", AS_OF - timedelta(days=6), "d2"),
        Event("L1", "visit", AS_OF - timedelta(days=1), "v1"),
        Event("L1", "visit", AS_OF - timedelta(days=0.5), "v2"),
    ]
    state = inc.new_state(spec)
    for ev in events:
        inc.apply(spec, state, ev)
    for when in (AS_OF, AS_OF + timedelta(microseconds=1), AS_OF + timedelta(days=1)):
        inc.prune(spec, state, when)
        assert _same(EDGE_MODEL, state, events, when, {})
    # a back-dated event older than the last prune's window is never counted again
    old = Event("L1", "download", AS_OF - timedelta(days=30), "d0")
    inc.apply(spec, state, old)
    assert _same(EDGE_MODEL, state, [*events, old], AS_OF + timedelta(days=1), {})


def test_plans_beyond_plain_counts_are_not_kept_in_a_state() -> None:
    """Measures other than a count, account scope, points per a property and a PQL block have
    no track: such plans are scored from events (service/lead_state.score_from_states)."""
    assert inc.supports(REFERENCE)
    days = {"type": "open", "within_days": 7, "measure": "distinct_days", "min": 2}
    measured = {"dimensions": {"usage": {"rules": [{"name": "d", "events": days, "points": 5}]}}}
    assert not inc.supports(plan_of(measured))
    team = {**days, "measure": "count", "scope": "account"}
    shared = {"dimensions": {"usage": {"rules": [{"name": "t", "events": team, "points": 5}]}}}
    assert not inc.supports(plan_of(shared))
    plain = {**days, "measure": "count"}
    counted = {"dimensions": {"usage": {"rules": [{"name": "c", "events": plain, "points": 5}]}}}
    assert inc.supports(plan_of(counted))
