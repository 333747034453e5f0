"""Recycling: untouched MQLs expire to nurture, recycled leads qualify again as a new cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadgate.engine import Event
from leadgate.lifecycle.recycling import expired_at, expires_at
from leadgate.service import dispose, get_lead, ingest_events, publish_model, tick, upsert_lead
from leadgate.store import Store
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
D = timedelta(days=1)


def test_expires_at() -> None:
    assert expires_at(T0, None, None) is None
    assert expires_at(T0, None, 10) == T0 + 10 * D
    assert expires_at(T0, T0 + 2 * D, 10) == T0 + 12 * D  # a sales action restarts the clock


def test_expired_at_is_the_due_time_once_reached() -> None:
    assert expired_at(T0, None, 10, T0 + 10 * D - timedelta(microseconds=1)) is None
    assert expired_at(T0, None, 10, T0 + 10 * D) == T0 + 10 * D  # due exactly at as_of
    assert expired_at(T0, None, 10, T0 + 30 * D) == T0 + 10 * D  # dated when it ran out
    assert expired_at(T0, None, None, T0 + 999 * D) is None  # no recycle_after_days: never


def _setup(store: Store, **attrs: object) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP", **attrs}, T0)
    ingest_events(store, [Event("L1", "demo_request", T0, "d1", {})], T0)


def test_untouched_mql_expires_to_nurture_at_the_due_time(store: Store) -> None:
    _setup(store)
    assert tick(store, T0 + 9 * D).summary.expired == 0
    report = tick(store, T0 + 12 * D)
    assert report.summary.expired == 1
    lead = get_lead(store, "L1")
    last = lead.transitions[-1]
    assert (last.from_stage, last.to_stage, last.cause, last.reason, last.actor) == (
        "mql", "nurture", "expiry", "expired", "system",
    )  # fmt: skip
    assert last.at == T0 + 10 * D  # dated when it ran out, not when tick ran
    assert (lead.cycles[0].stage, lead.cycles[0].ended_at) == ("nurture", T0 + 10 * D)


def test_segment_recycle_days_apply(store: Store) -> None:
    _setup(store, company_size=9000)  # enterprise: 3 days
    assert tick(store, T0 + 3 * D).summary.expired == 1


def test_a_touch_restarts_the_clock_and_acceptance_stops_it(store: Store) -> None:
    _setup(store)
    dispose(store, "L1", "touch", actor="rep", at=T0 + 5 * D)
    assert tick(store, T0 + 12 * D).summary.expired == 0
    assert tick(store, T0 + 15 * D).summary.expired == 1
    upsert_lead(store, "L2", {"title": "VP"}, T0)
    ingest_events(store, [Event("L2", "demo_request", T0, "d2", {})], T0)
    dispose(store, "L2", "accept", actor="rep", at=T0 + D)
    tick(store, T0 + 60 * D)
    assert get_lead(store, "L2").stage == "sal"


def test_recycled_lead_needs_new_activity_then_opens_a_second_cycle(store: Store) -> None:
    _setup(store)
    tick(store, T0 + 10 * D)  # expired; the lead still qualifies (demo 10 days old: 20 + 10 = 30)
    assert get_lead(store, "L1").stage == "nurture"
    assert tick(store, T0 + 10 * D).summary.new_mqls == 0  # nothing new: stays in nurture
    later = T0 + 20 * D
    result = ingest_events(store, [Event("L1", "demo_request", later, "d2", {})], later)
    assert (result.leads[0].stage, result.leads[0].cycle) == ("mql", 2)
    lead = get_lead(store, "L1")
    assert [c.cycle for c in lead.cycles] == [1, 2]
    assert [(t.to_stage, t.cycle) for t in lead.transitions] == [
        ("mql", 1),
        ("nurture", 1),
        ("mql", 2),
    ]


def test_rejected_lead_can_come_back_with_new_activity(store: Store) -> None:
    _setup(store)
    dispose(store, "L1", "reject", reason="no_intent", actor="rep", at=T0 + D)
    again = T0 + 2 * D
    state = ingest_events(store, [Event("L1", "demo_request", again, "d2", {})], again).leads[0]
    assert (state.stage, state.cycle) == ("mql", 2)


def test_disqualified_lead_never_comes_back(store: Store) -> None:
    _setup(store)
    dispose(store, "L1", "reject", reason="competitor", actor="rep", at=T0 + D)
    again = T0 + 2 * D
    state = ingest_events(store, [Event("L1", "demo_request", again, "d2", {})], again).leads[0]
    assert state.stage == "disqualified"
