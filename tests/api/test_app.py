"""The app's background work: the periodic tick runs with the app (decay, MQL expiry)."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from api_helpers import Clock
from leadgate.api.app import create_app
from leadgate.engine import Event
from leadgate.service import get_lead, ingest_events, publish_model, upsert_lead
from store_helpers import TINY_MODEL


def test_periodic_tick_expires_untouched_mqls(tmp_path: Path) -> None:
    clock = Clock()
    app = create_app(str(tmp_path / "t.db"), clock=clock, tick_seconds=0.05)
    config = app.state.config
    store = config.store
    publish_model(store, TINY_MODEL, actor="t", as_of=clock.now)
    upsert_lead(store, "L1", {"title": "vp"}, clock.now)
    ingest_events(store, [Event("L1", "demo_request", clock.now, "d1", {})], clock.now)
    assert get_lead(store, "L1").stage == "mql"
    clock.advance(days=11)  # past recycle_after_days (10) with no sales action
    with TestClient(app):  # the lifespan starts the tick loop
        deadline = time.monotonic() + 30
        while get_lead(store, "L1").stage != "nurture":
            assert time.monotonic() < deadline, "the periodic tick never ran"
            time.sleep(0.05)
    assert config.tick_runs >= 1
    assert get_lead(store, "L1").transitions[-1].reason == "expired"
    store.close()
