"""Group commit: concurrent event requests merged into one write still answer each on its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from api_helpers import Clock
from leadgate.api.app import create_app
from leadgate.engine import Event
from leadgate.errors import IngestError
from leadgate.service import publish_model, upsert_lead
from store_helpers import TINY_MODEL


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock()
    app = create_app(str(tmp_path / "b.db"), clock=clock)
    cfg = app.state.config
    publish_model(cfg.store, TINY_MODEL, actor="t", as_of=clock.now)
    upsert_lead(cfg.store, "L1", {"title": "vp", "email": "a@x.com"}, clock.now)
    upsert_lead(cfg.store, "L2", {"title": "vp", "email": "A@x.com "}, clock.now)  # duplicate of L1
    yield cfg
    cfg.store.close()


def _ev(lead: str, event_id: str, clock_now, type_: str = "email_open") -> Event:  # type: ignore[no-untyped-def]
    return Event(lead, type_, clock_now - timedelta(hours=1), event_id, {})


async def _submit_all(cfg, requests):  # type: ignore[no-untyped-def]
    return await asyncio.gather(*(cfg.batcher.submit(evs, "key:t") for evs in requests))


def test_merged_requests_get_their_own_leads_and_counts(config) -> None:  # type: ignore[no-untyped-def]
    now = config.clock()
    calls = []
    original = config.batcher._write

    def spy(items, actor):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        return original(items, actor)

    config.batcher._write = spy
    requests = [
        [_ev("L1", "e1", now)],
        [_ev("L3", "e2", now), _ev("L3", "e3", now)],
        [_ev("L1", "e1", now)],  # same id as the first request: a replay within the batch
        [_ev("L2", "e4", now, "demo_request")],  # a duplicate lead: counts for L1
    ]
    answers = asyncio.run(_submit_all(config, requests))
    assert calls == [5]  # one write for the four requests
    assert [[s.lead_id for s in a.leads] for a in answers] == [["L1"], ["L3"], ["L1"], ["L1"]]
    assert [(a.inserted, a.ignored) for a in answers] == [(1, 0), (2, 0), (0, 1), (1, 0)]
    # Every answer shows the state after the shared commit: L1 has its demo request too.
    assert answers[0].leads[0].stage == answers[3].leads[0].stage == "mql"


def test_a_failing_merged_write_is_retried_request_by_request(config) -> None:  # type: ignore[no-untyped-def]
    now = config.clock()
    original = config.batcher._write

    def poisoned(items, actor):  # type: ignore[no-untyped-def]
        if any(e.event_id == "bad" for e in items):
            raise IngestError("refused by the store", field="event_id")
        return original(items, actor)

    config.batcher._write = poisoned
    requests = [[_ev("L1", f"ok{i}", now)] for i in range(3)] + [[_ev("L3", "bad", now)]]

    async def run():  # type: ignore[no-untyped-def]
        return await asyncio.gather(
            *(config.batcher.submit(evs, "key:t") for evs in requests), return_exceptions=True
        )

    results = asyncio.run(run())
    assert [type(r).__name__ for r in results] == ["Answer", "Answer", "Answer", "IngestError"]
    assert all(r.inserted == 1 for r in results[:3])


def test_without_group_commit_each_request_is_its_own_write(config) -> None:  # type: ignore[no-untyped-def]
    now = config.clock()
    config.batcher.merge = False
    calls = []
    original = config.batcher._write

    def spy(items, actor):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        return original(items, actor)

    config.batcher._write = spy
    answers = asyncio.run(_submit_all(config, [[_ev("L1", f"s{i}", now)] for i in range(4)]))
    assert calls == [1, 1, 1, 1]
    assert [a.inserted for a in answers] == [1, 1, 1, 1]
