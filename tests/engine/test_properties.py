"""Rules that hold over all inputs, checked with hypothesis on the reference model."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from factories import AS_OF, REFERENCE_MODEL
from leadgate.engine import Event, compile_model, score_lead
from leadgate.model import load_model

PLAN = compile_model(load_model(REFERENCE_MODEL))
TYPES = [
    "email_open",
    "email_click",
    "content_download",
    "webinar_attended",
    "page_view",
    "demo_request",
    "other",
]

events_st = st.lists(
    st.builds(
        lambda i, t, age, url: Event(
            "L1", t, AS_OF - timedelta(seconds=age), f"e{i}", {"url": url}
        ),
        st.integers(0, 10**6),
        st.sampled_from(TYPES),
        st.integers(-10 * 86400, 400 * 86400),
        st.sampled_from(["/pricing", "/blog/x", "/PRICING/teams"]),
    ),
    max_size=25,
    unique_by=lambda e: e.event_id,
)
profile_st = st.fixed_dictionaries(
    {},
    optional={
        "title": st.sampled_from(["VP Sales", "Director IT", "Engineer", "Student", ""]),
        "industry": st.sampled_from(["software", "retail", "Fintech"]),
        "company_size": st.one_of(st.integers(1, 20000), st.sampled_from(["300", "n/a"])),
        "country": st.sampled_from(["US", "FR", "de"]),
        "email": st.sampled_from(["a@acme.com", "b@gmail.com", "c@rival.io", "d@uni.edu"]),
    },
)


@given(profile_st, events_st, st.randoms())
def test_event_order_never_matters(profile: dict, events: list[Event], rnd) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    a = score_lead(PLAN, profile, events, AS_OF, "L1").to_record()
    b = score_lead(PLAN, profile, shuffled, AS_OF, "L1").to_record()
    assert a["mql"] == b["mql"] and abs(a["total"] - b["total"]) < 1e-9


@given(profile_st, events_st)
def test_future_events_do_not_exist(profile: dict, events: list[Event]) -> None:
    past = [e for e in events if e.timestamp <= AS_OF]
    assert (
        score_lead(PLAN, profile, events, AS_OF, "L1").to_record()
        == score_lead(PLAN, profile, past, AS_OF, "L1").to_record()
    )


@given(profile_st, events_st)
def test_scores_respect_caps_and_explanations_add_up(profile: dict, events: list[Event]) -> None:
    s = score_lead(PLAN, profile, events, AS_OF, "L1")
    assert s.scores["fit"] <= 60
    assert abs(sum(s.scores.values()) - s.total) < 1e-9
    for d in s.explanation.dimensions:
        parts = sum(r.points for r in s.explanation.rules if r.dimension == d.name)
        assert abs(parts - d.rule_sum) < 1e-9
    opened = next(r for r in s.explanation.rules if r.name == "opened email")
    assert opened.points <= 10
    pricing = next(r for r in s.explanation.rules if r.name == "pricing page")
    assert pricing.events_counted <= 3
    assert s.mql == (not s.missing)


@given(profile_st, events_st)
def test_a_new_positive_event_never_lowers_engagement(profile: dict, events: list[Event]) -> None:
    before = score_lead(PLAN, profile, events, AS_OF, "L1").scores["engagement"]
    extra = Event("L1", "webinar_attended", AS_OF - timedelta(days=3), "extra", {})
    after = score_lead(PLAN, profile, [*events, extra], AS_OF, "L1").scores["engagement"]
    assert after >= before
