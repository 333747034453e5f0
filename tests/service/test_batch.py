"""The batch path (DuckDB over the store) gives the same scores and transitions as the per-lead
path (ARCHITECTURE.md invariant 1, through the store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadgate.engine import Event
from leadgate.errors import UnsupportedTargetError
from leadgate.service import (
    get_lead,
    ingest_events,
    publish_model,
    tick,
    upsert_account,
    upsert_lead,
)
from leadgate.store import Store, open_store
from store_helpers import BACKENDS, two_temp_store_urls

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MODEL = """\
name: b
version: 1
threshold: 25
recycle_after_days: 5
dimensions:
  fit:
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 10}
      - {name: big, when: {account.size: {gte: 500}}, points: 10}
      - {name: flag, when: {trial: {eq: true}}, points: 5}
      - {name: score, when: {rating: {between: [2.5, 4]}}, points: 3}
  intent:
    half_life_days: 7
    rules:
      - {name: pricing, event: page_view, where: {url: {contains: /pricing}}, points: 10, max_count: 2}
      - {name: demo, event: demo_request, points: 20}
      - {name: busy, events: {type: email_open, min_count: 2, within_days: 30}, points: 4}
disqualify:
  - {name: rival, when: {email: {domain_in: [rival.io]}}}
segments:
  - {name: big, when: {account.size: {gte: 500}}, threshold: 30}
"""


def _fill(store: Store) -> None:
    upsert_account(store, "A1", {"size": 900}, T0)
    upsert_account(store, "A2", {"size": "120"}, T0)
    people = [
        ("L1", {"title": "VP", "account_id": "A1", "email": "a@x.com", "trial": "yes"}),
        ("L2", {"title": "vp sales", "account_id": "A2", "rating": 3.5, "email": "b@rival.io"}),
        ("L3", {"title": "Engineer", "account.size": 1000, "account_id": "A2"}),
        ("L4", {"title": "VP", "email": "A@X.com"}),  # duplicate of L1: its events count for L1
        ("L5", {"trial": True, "rating": "4"}),
    ]
    for lead_id, attrs in people:
        upsert_lead(store, lead_id, attrs, T0)
    events = [
        Event("L1", "page_view", T0, "e1", {"url": "/pricing/team"}),
        Event("L4", "demo_request", T0, "e2", {}),
        Event("L2", "demo_request", T0, "e3", {}),
        Event("L3", "page_view", T0, "e4", {"url": "/docs"}),
        Event("L3", "email_open", T0, "e5", {}),
        Event("L3", "email_open", T0, "e6", {}),
        Event("L5", "page_view", T0, "e7", {"url": "/PRICING"}),
        Event("L5", "page_view", T0, "e8", {"url": "/pricing"}),
        Event("L5", "page_view", T0, "e9", {"url": "/pricing"}),
    ]
    ingest_events(store, events, T0)


def _state(url: str) -> dict[str, object]:
    store = open_store(url)
    out = {}
    for lead_id in ("L1", "L2", "L3", "L4", "L5"):
        v = get_lead(store, lead_id)
        out[lead_id] = (
            v.stage, v.cycle, v.score and {**v.score, "total": round(v.score["total"], 9)},
            [(t.to_stage, t.cause, t.at) for t in v.transitions],
        )  # fmt: skip
    store.close()
    return out


@pytest.fixture(params=BACKENDS)
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with two_temp_store_urls(request.param, tmp_path) as urls:
        yield urls


def test_python_and_duckdb_paths_agree(two_urls: tuple[str, str]) -> None:
    results = []
    for url, engine in zip(two_urls, ("python", "duckdb"), strict=True):
        store = open_store(url)
        _fill(store)  # no model yet: stored, not scored
        publish_model(store, MODEL, actor="t", as_of=T0, engine=engine)
        tick(store, T0 + timedelta(days=6), engine=engine)  # decay and expiries
        publish_model(
            store,
            MODEL.replace("threshold: 25", "threshold: 12").replace("version: 1", "version: 2"),
            actor="t",
            as_of=T0 + timedelta(days=7),
            engine=engine,
        )
        store.close()
        results.append(_state(url))
    assert results[0] == results[1]
    moves = [(lead, to, cause) for lead, (*_, ts) in results[0].items() for to, cause, _ in ts]
    assert moves == [  # the data exercises the lifecycle, not just the scores
        ("L1", "mql", "model_change"),
        ("L1", "nurture", "expiry"),
        ("L5", "mql", "model_change"),
        ("L5", "nurture", "expiry"),
    ]


def test_unknown_engine_is_refused(store: Store) -> None:
    with pytest.raises(
        UnsupportedTargetError, match=r"unknown engine 'spark' \(use auto, python, duckdb\)"
    ):
        publish_model(store, MODEL, actor="t", as_of=T0, engine="spark")


def test_engine_choice_reaches_the_batch_path(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import leadgate.service.batch as batch

    calls: list[str] = []
    real = batch.batch_scores

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("batch")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "batch_scores", counting)
    _fill(store)
    publish_model(store, MODEL, actor="t", as_of=T0, engine="duckdb")
    tick(store, T0 + timedelta(days=1), engine="duckdb")
    assert calls == ["batch", "batch"]
    tick(store, T0 + timedelta(days=2), engine="python")
    tick(store, T0 + timedelta(days=3))  # auto: 5 leads are too few for the batch path
    assert calls == ["batch", "batch"]
