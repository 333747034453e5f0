"""The funnel frame from the store (SQLite): same numbers as from files; versions from the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadgate.engine import Event
from leadgate.report.frame import frame_from_files
from leadgate.report.funnel import funnel_report
from leadgate.report.rejections import rejection_report
from leadgate.report.sources import HistorySource
from leadgate.report.store_frame import history_from_store, store_model

pytest.importorskip("sqlalchemy")

from leadgate.service import dispose, ingest_events, load_file, publish_model, upsert_lead
from leadgate.store.db import open_store
from store_helpers import BACKENDS, temp_store_url

NOW = datetime(2026, 11, 1, tzinfo=UTC)
KEY = ["lead_id", "cycle", "mql_time", "sal_status", "sal_time", "reject_reason", "first_touch_time",
       "sql_time", "opportunity_time", "amount", "closed_time", "channel", "persona", "region",
       "is_mql", "sal", "sql", "opp", "won"]  # fmt: skip
MODEL = """\
name: tiny
version: {version}
threshold: {threshold}
dimensions:
  engagement:
    rules:
      - {{name: download, event: content_download, points: 10}}
"""


def test_store_frame_equals_file_frame_on_synthetic_history(synth: Any, tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "lg.db"))
    for kind, path in (
        ("accounts", synth.accounts),
        ("leads", synth.leads),
        ("outcomes", synth.outcomes),
    ):
        load_file(store, kind, path, as_of=NOW)
    from_store = history_from_store(store, with_events=False).frame
    store.close()
    from_files = frame_from_files(synth.leads, synth.outcomes, accounts=synth.accounts)
    a = from_store.sort_values(["lead_id", "cycle"]).reset_index(drop=True)[KEY]
    b = from_files.sort_values(["lead_id", "cycle"]).reset_index(drop=True)[KEY]
    assert a.equals(b)
    assert set(from_store.loc[from_store["is_mql"], "model_version"]) == {"imported"}
    fa = funnel_report(from_store, ["channel"], mix_versions=True).records()
    fb = funnel_report(from_files, ["channel"]).records()
    assert [r["mqls"] for r in fa] == [r["mqls"] for r in fb]
    assert [r["revenue"] for r in fa] == [r["revenue"] for r in fb]


def _live_store(tmp_path: Path, url: str | None = None) -> tuple[Any, Path]:
    """Three leads scored live under v1, then v2 (lower threshold) published; sales acts."""
    store = open_store(url or str(tmp_path / "live.db"))
    v1 = tmp_path / "v1.yaml"
    v1.write_text(MODEL.format(version=1, threshold=20))
    v2 = tmp_path / "v2.yaml"
    v2.write_text(MODEL.format(version=2, threshold=10))
    t0 = NOW - timedelta(days=60)
    publish_model(store, v1, actor="test", as_of=t0)
    for i, downloads in enumerate((3, 2, 1)):
        upsert_lead(
            store, f"L{i}", {"source": "web", "title": "VP Sales", "created_at": t0.isoformat()}, t0
        )
        ingest_events(store, [Event(f"L{i}", "content_download", t0 + timedelta(hours=k + 1), f"e{i}{k}")
                              for k in range(downloads)], t0 + timedelta(days=1))  # fmt: skip
    t1 = t0 + timedelta(days=2)
    dispose(store, "L0", "accept", actor="rep", at=t1)
    dispose(store, "L0", "sql", actor="rep", at=t1 + timedelta(days=1))
    dispose(store, "L0", "opportunity", amount=900.0, actor="rep", at=t1 + timedelta(days=2))
    dispose(store, "L0", "won", amount=1000.0, actor="rep", at=t1 + timedelta(days=20))
    dispose(store, "L1", "reject", reason="no_intent", actor="rep", at=t1)
    publish_model(store, v2, actor="test", as_of=t1 + timedelta(days=3))  # L2 now qualifies
    return store, v1


def test_live_store_cycles_transitions_dispositions_and_versions(tmp_path: Path) -> None:
    store, _ = _live_store(tmp_path)
    h = history_from_store(store)
    f = h.frame.set_index("lead_id")
    assert f.loc["L0", "won"] and f.loc["L0", "amount"] == 1000.0
    assert f.loc["L0", "model_version"] == "1"
    assert f.loc["L1", "sal_status"] == "rejected" and f.loc["L1", "reject_reason"] == "no_intent"
    assert f.loc["L2", "model_version"] == "2" and f.loc["L2", "is_mql"]
    assert len(h.events["L0"]) == 3
    report = funnel_report(h.frame)
    assert report.versions == ["1", "2"] and report.by == ["model_version"]
    per_version = {r.group["model_version"]: r.counts for r in report.rows}
    assert per_version["1"]["mqls"] == 2 and per_version["1"]["wins"] == 1
    assert per_version["2"]["mqls"] == 1
    # The rule behind each rejection comes from the version that made the MQL.
    plans = HistorySource(db=str(tmp_path / "live.db")).plans()
    rej = rejection_report(h.frame, [], history=h, plans=plans)
    assert rej.by["top_rule"] == [{"group": "engagement: download", "reason": "no_intent",
                                   "count": 1, "share": 1.0}]  # fmt: skip
    assert store_model(store, "2").spec.threshold == 10
    store.close()


def test_source_needs_exactly_one_history(tmp_path: Path) -> None:
    from leadgate.errors import LeadgateError

    with pytest.raises(LeadgateError, match="no history: give db URL, or leads and outcomes"):
        HistorySource().frame()
    with pytest.raises(LeadgateError, match="give either db or leads/outcomes files, not both"):
        HistorySource(db="x.db", leads=tmp_path / "l.csv").frame()
    with pytest.raises(LeadgateError, match="events: replaying history needs"):
        HistorySource(leads=tmp_path / "l.csv", outcomes=tmp_path / "o.csv").history()


def _same(a: Any, b: Any) -> bool:
    order = ["lead_id", "cycle"]
    a = a.sort_values(order).reset_index(drop=True)
    b = b.sort_values(order).reset_index(drop=True)
    return bool(a.equals(b))


def _same_history(a: Any, b: Any) -> bool:
    """Frame, profiles and events per lead equal (containers may be read-only in one of them)."""
    profiles = {k: dict(v) for k, v in a.profiles.items()} == {
        k: dict(v) for k, v in b.profiles.items()
    }
    events = {k: list(v) for k, v in a.events.items()} == {k: list(v) for k, v in b.events.items()}
    return profiles and events and _same(a.frame, b.frame)


@pytest.mark.parametrize("backend", BACKENDS)
def test_report_caches_reuse_until_the_store_changes(backend: str, tmp_path: Path) -> None:
    with temp_store_url(backend, tmp_path) as url:
        _check_report_caches(tmp_path, url)


def _check_report_caches(tmp_path: Path, url: str) -> None:
    from leadgate.report.store_frame import ReportCache, frame_from_store, store_plans
    from leadgate.service import upsert_account

    store, _ = _live_store(tmp_path, url)
    upsert_account(store, "A0", {"industry": "retail"}, NOW - timedelta(days=1))
    cache = ReportCache()
    first = cache.frames.get(store)
    first["scratch"] = 1  # a report adding a column must not change what the cache holds
    again = cache.frames.get(store)
    assert cache.frames.builds == 1 and "scratch" not in again
    assert _same(again, frame_from_store(store))
    h = cache.histories.get(store)
    h.frame["scratch"] = 1
    with pytest.raises(TypeError):
        h.profiles["L0"]["title"] = "CEO"  # type: ignore[index]
    with pytest.raises(TypeError):
        h.events["L0"] += ()  # type: ignore[index]
    with pytest.raises(AttributeError):
        h.events["L0"].append(h.events["L0"][0])  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        h.events["L0"][0].properties["x"] = 1  # type: ignore[index]
    assert _same_history(cache.histories.get(store), history_from_store(store))
    assert cache.histories.builds == 1 and "scratch" not in cache.histories.get(store).frame
    assert set(cache.plans.get(store)) == set(store_plans(store)) and cache.plans.builds == 1

    def funnel(frame: Any) -> Any:
        return funnel_report(frame, ["channel"]).to_dict()

    def broken(frame: Any) -> Any:
        raise ValueError("a bad form value")

    with pytest.raises(ValueError):
        cache.frames.derived(store, "broken", broken)
    assert cache.frames.derivations == 0  # a failure is not remembered
    assert cache.frames.derived(store, "funnel", funnel) == funnel(frame_from_store(store))
    t = NOW
    v3 = tmp_path / "v3.yaml"
    v3.write_text(MODEL.format(version=3, threshold=5))
    # (change, does it change the funnel frame, is it a publish)
    changes = [
        (lambda: upsert_lead(store, "L3", {"source": "ads", "title": "CTO"}, t), True, False),
        (lambda: ingest_events(
            store, [Event("L3", "content_download", t, "e-new")], t + timedelta(minutes=1)
        ), True, False),
        # An event no rule scores: the frame is the same, the replay history is not.
        (lambda: ingest_events(
            store, [Event("L0", "page_view", t, "e-view")], t + timedelta(minutes=1)
        ), False, False),
        # An event for a lead the store has not seen: the event creates it.
        (lambda: ingest_events(
            store, [Event("L4", "page_view", t, "e-l4")], t + timedelta(minutes=1)
        ), True, False),
        (lambda: dispose(store, "L2", "accept", actor="rep", at=t + timedelta(minutes=2)), True, False),
        (lambda: dispose(store, "L2", "touch", actor="rep", at=t + timedelta(minutes=3)), True, False),
        (lambda: upsert_lead(store, "L1", {"source": "partner", "title": "VP Sales"}, t + timedelta(minutes=4)), True, False),
        # A back-dated profile update (``load --as-of`` an earlier time): the latest updated_at
        # does not move, and the score does not change.
        (lambda: upsert_lead(store, "L3", {"source": "events", "title": "CTO"}, t + timedelta(seconds=30)), True, False),
        (lambda: upsert_account(store, "A1", {"industry": "software"}, t + timedelta(minutes=5)), True, False),
        (lambda: upsert_account(store, "A0", {"industry": "fintech"}, t + timedelta(minutes=1)), True, False),
        (lambda: publish_model(store, v3, actor="test", as_of=t + timedelta(minutes=6)), True, True),
    ]  # fmt: skip
    frames, plans = 1, 1
    for step, (change, moves_frame, publishes) in enumerate(changes, start=2):
        change()
        frames += moves_frame
        plans += publishes
        cached = cache.frames.get(store)
        assert cache.frames.builds == frames, f"change {step - 1}: frame builds"
        assert _same(cached, frame_from_store(store)), f"change {step - 1}"
        assert cache.frames.get(store) is not cached and cache.frames.builds == frames  # reused
        # A result derived from the frame is recomputed only when the frame was rebuilt.
        report = cache.frames.derived(store, "funnel", funnel)
        assert report == funnel(frame_from_store(store)), f"change {step - 1}: derived funnel"
        assert cache.frames.derived(store, "funnel", funnel) is report
        assert cache.frames.derivations == frames, f"change {step - 1}: derivations"
        history = cache.histories.get(store)
        assert cache.histories.builds == step, f"change {step - 1} not seen by the history"
        assert _same_history(history, history_from_store(store)), f"change {step - 1}"
        assert cache.histories.get(store).profiles is history.profiles  # unchanged: reused
        assert cache.histories.builds == step
        assert set(cache.plans.get(store)) == set(store_plans(store))
        assert cache.plans.builds == plans, f"change {step - 1}: plan builds"
    assert len(cache.plans.get(store)) == 3
    store.close()
