"""Rejections by reason, channel, segment and the rule that contributed most."""

from __future__ import annotations

from report_builders import at, cycle, lead, make_frame

from leadgate.engine import Event, compile_model
from leadgate.model import parse_model
from leadgate.report.history import History
from leadgate.report.rejections import rejection_report

MODEL = """\
name: r
version: 1
threshold: 10
dimensions:
  fit:
    rules:
      - {name: senior, when: {title: {contains: vp}}, points: 5}
  engagement:
    rules:
      - {name: download, event: content_download, points: 8}
"""


def _history() -> History:
    leads = [lead("S1", "content", segment="smb"), lead("S2", "content", segment="smb"),
             lead("V1", "events", segment="ent"), lead("V2", "events", segment="ent")]  # fmt: skip
    cycles = [
        cycle("S1", "rejected", reject_reason="student"),
        cycle("S2", "rejected", reject_reason="student"),
        cycle("V1", "rejected", reject_reason="competitor"),
        cycle("V2", "sal"),
    ]
    profiles = {
        "S1": {"lead_id": "S1", "title": "student"},
        "S2": {"lead_id": "S2", "title": "student"},
        "V1": {"lead_id": "V1", "title": "VP Sales"},
        "V2": {"lead_id": "V2", "title": "VP Sales"},
    }
    # Students got in on downloads (before their MQL time); the VP on the title. A download
    # after the MQL time does not count: the rule is judged as it stood at hand-off.
    events = {
        "S1": [
            Event("S1", "content_download", at(0), "e1"),
            Event("S1", "content_download", at(0, 1), "e2"),
        ],
        "S2": [Event("S2", "content_download", at(0), "e3")],
        "V1": [Event("V1", "content_download", at(5), "e4")],
    }
    return History(profiles, events, make_frame(leads, cycles))


def test_reasons_overall_and_by_dimension() -> None:
    h = _history()
    report = rejection_report(h.frame, ["channel", "segment"])
    assert report.mqls == 4 and report.rejected == 3
    assert report.reasons[0] == {"reason": "student", "count": 2, "share": 2 / 3}
    assert report.top_reasons("channel", "content") == ["student"]
    assert report.top_reasons("segment", "ent") == ["competitor"]
    assert "top_rule" not in report.by


def test_top_rule_comes_from_the_explanation_at_hand_off() -> None:
    h = _history()
    plan = compile_model(parse_model(MODEL, "r.yaml"))
    report = rejection_report(h.frame, [], history=h, plan=plan)
    rows = {(r["group"], r["reason"]): r["count"] for r in report.by["top_rule"]}
    assert rows == {("engagement: download", "student"): 2, ("fit: senior", "competitor"): 1}


def test_plans_by_hash_win_over_the_fallback_plan() -> None:
    h = _history()
    h.frame.loc[h.frame["lead_id"] == "V1", "model_hash"] = "h1"
    other = compile_model(parse_model(MODEL.replace("senior, when", "title rule, when"), "o.yaml"))
    plan = compile_model(parse_model(MODEL, "r.yaml"))
    report = rejection_report(h.frame, [], history=h, plan=plan, plans={"h1": other})
    groups = {r["group"] for r in report.by["top_rule"]}
    assert groups == {"engagement: download", "fit: title rule"}


def test_records_are_long_format() -> None:
    records = rejection_report(_history().frame, ["channel"]).records()
    assert {"dimension": "all", "group": "all", "reason": "competitor", "count": 1,
            "share": 1 / 3} in records  # fmt: skip
    assert any(r["dimension"] == "channel" and r["group"] == "events" for r in records)


def test_each_rejected_cycle_is_explained_at_its_own_mql_time() -> None:
    model = MODEL + "      - {name: webinar, event: webinar_attended, points: 20}\n"
    plan = compile_model(parse_model(model, "r.yaml"))
    cycles = [
        cycle("A", "rejected", mql=at(1), reject_reason="no_intent"),
        cycle("A", "rejected", mql=at(10), reject_reason="wrong_title"),
    ]
    events = {
        "A": [
            Event("A", "content_download", at(0), "d"),
            Event("A", "webinar_attended", at(5), "w"),
        ]
    }
    h = History({"A": {"lead_id": "A"}}, events, make_frame([lead("A")], cycles))
    report = rejection_report(h.frame, [], history=h, plan=plan)
    pairs = {(r["group"], r["reason"]) for r in report.by["top_rule"]}
    assert pairs == {("engagement: download", "no_intent"), ("engagement: webinar", "wrong_title")}
