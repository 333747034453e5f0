"""Publishing models: dry run versus apply, every version kept, diffs, bad models refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadgate.engine import Event
from leadgate.errors import ModelError, NotFoundError
from leadgate.service import (
    diff_models,
    get_lead,
    ingest_events,
    list_models,
    publish_model,
    upsert_lead,
)
from leadgate.store import Store
from store_helpers import TINY_MODEL, snapshot

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STRICTER = TINY_MODEL.replace("version: 1", "version: 2").replace("threshold: 30", "threshold: 45")
LOOSER = TINY_MODEL.replace("version: 1", "version: 3").replace("threshold: 30", "threshold: 15")


def _leads(store: Store) -> None:
    upsert_lead(store, "VP", {"title": "VP"}, T0)  # 20: below 30
    upsert_lead(store, "HOT", {"title": "VP"}, T0)
    ingest_events(store, [Event("HOT", "demo_request", T0, "d1", {})], T0)  # 40: MQL under v1


def test_dry_run_reports_and_writes_nothing(store: Store) -> None:
    _leads(store)
    publish_model(store, TINY_MODEL, actor="ann", as_of=T0)
    before = snapshot(store)
    report = publish_model(store, LOOSER, actor="ann", as_of=T0 + timedelta(hours=1), dry_run=True)
    assert report.dry_run and report.summary.new_mqls == 1
    assert [(e.lead_id, e.change) for e in report.examples] == [("VP", "new_mql")]
    assert snapshot(store) == before


def test_apply_records_transitions_under_the_new_version(store: Store) -> None:
    _leads(store)
    first = publish_model(store, TINY_MODEL, actor="ann", as_of=T0)
    assert first.summary.new_mqls == 1  # HOT, cause model_change
    dry = publish_model(store, LOOSER, actor="bob", as_of=T0, dry_run=True)
    real = publish_model(store, LOOSER, actor="bob", as_of=T0)
    assert dry.summary == real.summary
    vp = get_lead(store, "VP")
    [t] = vp.transitions
    assert (t.to_stage, t.cause, t.actor, t.model_hash) == (
        "mql",
        "model_change",
        "bob",
        real.model["hash"],
    )
    assert vp.score_history[-1].model_hash == real.model["hash"]


def test_stricter_model_flags_mqls_instead_of_dropping_them(store: Store) -> None:
    _leads(store)
    publish_model(store, TINY_MODEL, actor="ann", as_of=T0)
    report = publish_model(store, STRICTER, actor="ann", as_of=T0)
    assert report.summary.no_longer_qualifying == 1
    hot = get_lead(store, "HOT")
    assert (hot.stage, hot.qualifies, hot.no_longer_qualifies) == ("mql", False, True)


def test_every_version_is_kept_and_the_newest_is_active(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="ann", as_of=T0)
    publish_model(store, STRICTER, actor="bob", as_of=T0 + timedelta(days=1))
    again = publish_model(store, STRICTER, actor="bob", as_of=T0 + timedelta(days=2))
    assert again.summary.scored == 0  # already active: nothing to do
    versions = list_models(store)
    assert [(v.version, v.published_by, v.active) for v in versions] == [
        ("1", "ann", False),
        ("2", "bob", True),
    ]
    assert "threshold: 45" in STRICTER


def test_diff_lists_spec_changes_and_the_yaml_diff(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="ann", as_of=T0)
    publish_model(store, STRICTER, actor="ann", as_of=T0)
    d = diff_models(store, "1", "2")
    assert d.changes == ["changed version: '1' -> '2'", "changed threshold: 30.0 -> 45.0"]
    assert "-threshold: 30\n+version: 2\n+threshold: 45" in d.yaml_diff
    assert diff_models(store, d.a.hash[:8], "2").a.id == 1


def test_unknown_version_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"no published model 'v9'"):
        diff_models(store, "v9", "1")


def test_invalid_model_is_refused_with_its_location(store: Store) -> None:
    with pytest.raises(ModelError, match=r"<published model>:3"):
        publish_model(
            store, TINY_MODEL.replace("threshold: 30", "threshold: lots"), actor="a", as_of=T0
        )
    assert list_models(store) == []


def test_text_is_never_taken_for_a_file_name(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(TINY_MODEL)
    with pytest.raises(ModelError, match=r"<published model>:1"):
        publish_model(store, str(path), actor="a", as_of=T0)
    assert publish_model(store, path, actor="a", as_of=T0).model["name"] == "tiny"
