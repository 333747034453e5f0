"""The store's history moves forward: a pinned re-score time before the latest scoring is
refused, an unpinned one ("now", read before a writer scored) moves up to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadgate.service import load_file, publish_model, tick, upsert_lead
from leadgate.service.timeline import HistoryBackwardsError, latest_scoring
from leadgate.store import Store
from store_helpers import TINY_MODEL

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LATER = T0 + timedelta(hours=5)


def _scored_at(store: Store) -> datetime | None:
    with store.read() as conn:
        return latest_scoring(conn)


@pytest.fixture
def scored(store: Store) -> Store:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP Sales"}, LATER)  # a writer scored at LATER
    return store


def test_a_pinned_time_before_the_latest_scoring_is_refused(scored: Store) -> None:
    with pytest.raises(HistoryBackwardsError, match="before the store's latest scoring"):
        tick(scored, T0 + timedelta(hours=1))
    assert _scored_at(scored) == LATER  # nothing written
    tick(scored, T0 + timedelta(hours=1), force=True)  # a deliberate replay


def test_an_unpinned_time_moves_up_to_the_latest_scoring(scored: Store) -> None:
    report = tick(scored, T0 + timedelta(hours=1), pinned=False)
    assert report.as_of == LATER
    v2 = TINY_MODEL.replace("version: 1", "version: 2").replace("threshold: 30", "threshold: 25")
    publish_model(scored, v2, actor="t", as_of=T0, pinned=False)
    assert _scored_at(scored) == LATER  # never dated before what was already recorded


def test_an_unpinned_load_moves_up_too(scored: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,title\nL2,VP Sales\n")
    with pytest.raises(HistoryBackwardsError):
        load_file(scored, "leads", leads, as_of=T0)
    load_file(scored, "leads", leads, as_of=T0, pinned=False)
    assert _scored_at(scored) == LATER
