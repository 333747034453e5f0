"""Concurrent writers on one store (the API's worker threads): no lost events, no double MQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from leadgate.engine import Event
from leadgate.service import get_lead, ingest_events, publish_model, upsert_lead
from leadgate.store import Store, open_store
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_parallel_events_for_one_new_lead(store: Store, store_url: str) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "OTHER", {"title": "VP"}, T0)

    def worker(n: int) -> None:
        s = open_store(store_url)
        for i in range(5):
            ingest_events(s, [Event("NEW", "demo_request", T0, f"w{n}-{i}", {})], T0)
            ingest_events(s, [Event("OTHER", "email_open", T0, f"o{n}-{i}", {})], T0)
        s.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, range(4)))
    upsert_lead(store, "NEW", {"title": "VP"}, T0)
    new, other = get_lead(store, "NEW"), get_lead(store, "OTHER")
    assert new.explanation is not None
    demo = next(r for r in new.explanation["rules"] if r["name"] == "demo")
    assert demo["events_counted"] == 20
    assert [(t.to_stage, t.cycle) for t in new.transitions] == [("mql", 1)]
    assert [(t.to_stage, t.cycle) for t in other.transitions] == [("mql", 1)]


def test_profile_and_events_racing_for_a_new_lead(store: Store, store_url: str) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)

    def events(n: int) -> None:
        s = open_store(store_url)
        ingest_events(s, [Event(f"R{n}", "demo_request", T0, f"r{n}", {})], T0)
        s.close()

    def profile(n: int) -> None:
        s = open_store(store_url)
        upsert_lead(s, f"R{n}", {"title": "VP"}, T0)
        s.close()

    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(f, n) for n in range(8) for f in (events, profile)]
        for job in jobs:
            job.result()
    for n in range(8):
        lead = get_lead(store, f"R{n}")
        assert (lead.attrs, lead.stage, lead.cycle) == ({"title": "VP"}, "mql", 1)
