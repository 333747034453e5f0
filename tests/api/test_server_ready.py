"""``leadgate serve`` before it listens (``api/server._ready``): the published model compiled
(``service.accounts.warm_up``) and start-up's objects frozen out of the collector
(``api/gc_settle``)."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadgate.api import gc_settle
from leadgate.engine import Event
from leadgate.service import (
    account_handoff,
    ingest_events,
    publish_model,
    rescore,
    upsert_account,
    upsert_lead,
)
from leadgate.service.accounts import warm_up
from leadgate.store import open_store

ABM = Path(__file__).resolve().parents[2] / "src/leadgate/examples/b2b-abm.yaml"
NOW = datetime(2026, 11, 20, tzinfo=UTC)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settle_freezes_start_up_then_collects_what_requests_leave() -> None:
    before = list(gc.callbacks)
    try:
        gc_settle.settle()
        assert gc.get_freeze_count() > 0
        for _ in range(gc_settle.WARM_UP_FREEZES):
            gc.collect()
        assert gc.callbacks == before  # the warm-up freezes are over
        frozen = gc.get_freeze_count()
        garbage = _Cycle()
        alive = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert alive() is None  # a cycle made after the warm-up is collected, not frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.callbacks[:] = before


def test_warm_up_compiles_the_model_so_the_first_event_parses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(str(tmp_path / "s.db"))
    publish_model(store, ABM, actor="test", as_of=NOW)
    upsert_account(store, "A1", {"industry": "software", "tier": 1}, NOW)
    upsert_lead(store, "L1", {"account_id": "A1", "title": "VP Engineering"}, NOW)
    # a fresh process: nothing parsed or compiled yet
    monkeypatch.setattr(rescore, "_PARSED", {})
    monkeypatch.setattr(account_handoff, "_PLANS", {})
    store.cache.clear()
    warm_up(store)

    def refuse(*_: object) -> None:
        raise AssertionError("the model was parsed during the request")

    monkeypatch.setattr(rescore, "parse_model", refuse)
    event = Event(lead_id="L1", type="page_view", timestamp=NOW, properties={"url": "/pricing"})
    result = ingest_events(store, [event], NOW, actor="test")
    assert result.leads[0].account is not None  # type: ignore[attr-defined]
    assert result.leads[0].account.account_id == "A1"  # type: ignore[attr-defined]
