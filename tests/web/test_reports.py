"""Report pages computed in the background: the same numbers as the report library, a page that
says it is computing (and reloads) when a computation outlasts the wait, the last result shown
while a changed store's is computed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from html import escape
from typing import Any

import pytest

from leadgate.report.rejections import rejection_report
from leadgate.report.store_frame import (
    frame_from_store,
    history_from_store,
    history_of_leads,
    store_plans,
)
from leadgate.service import dispose, mql_queue, upsert_lead
from leadgate.web import pages_reports, report_jobs


def test_rejections_from_the_rejected_leads_alone_equal_the_full_replay(web) -> None:
    # One rejection made in the store (its cycle has a model hash) beside the loaded ones.
    lead = mql_queue(web.store, as_of=web.clock())[0].lead_id
    dispose(web.store, lead, "reject", reason="competitor", actor="test", at=web.clock())
    plans = store_plans(web.store)
    full = history_from_store(web.store)
    expected = rejection_report(full.frame, ["channel", "segment"], history=full, plans=plans)
    frame = frame_from_store(web.store)
    rejected = frame.loc[frame["is_mql"] & frame["sal_status"].eq("rejected"), "lead_id"]
    some = history_of_leads(web.store, rejected.astype(str), frame)
    assert 0 < len(some.profiles) < len(full.profiles)
    got = rejection_report(frame, ["channel", "segment"], history=some, plans=plans)
    assert got.to_dict() == expected.to_dict()
    assert "top_rule" in got.by and got.rejected == len(rejected) > 0
    page = web.client("admin").get("/app/reports?view=rejections")
    assert page.status_code == 200 and "competitor" in page.text
    assert all(escape(r["group"]) in page.text for r in expected.by["top_rule"])


def _hold(monkeypatch: pytest.MonkeyPatch, view: str) -> threading.Event:
    """The view's computation waits for the returned event; requests do not wait for it."""
    gate = threading.Event()
    real = pages_reports.HANDLERS[view]

    def slow(ctx: Any) -> dict[str, Any]:
        assert gate.wait(30), "the test never released the computation"
        return real(ctx)

    monkeypatch.setitem(pages_reports.HANDLERS, view, slow)
    monkeypatch.setattr(report_jobs, "WAIT_SECONDS", 0.0)
    return gate


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The quality view's computation waits for the event."""
    gate = _hold(monkeypatch, "quality")
    yield gate
    gate.set()


def _wait_done(web: Any, jobs: report_jobs.ReportJobs) -> None:
    for _ in range(300):
        if not jobs._running:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the computation did not finish")


def test_a_long_computation_answers_computing_then_the_report(web, held) -> None:
    admin = web.client("admin")
    url = "/app/reports?view=quality&by=region"
    state = _web_state(web)
    started = state.reports.started
    first = admin.get(url)
    assert first.status_code == 202
    assert 'data-reload-seconds="5"' in first.text  # app.js reloads; without it, the link
    assert 'href="/app/reports?view=quality&amp;by=region">reload now' in first.text
    assert "being computed" in first.text and 'role="status"' in first.text
    again = admin.get(url)  # still running: not started twice
    assert again.status_code == 202 and state.reports.started == started + 1
    held.set()
    _wait_done(web, state.reports)
    ready = admin.get(url)
    assert ready.status_code == 200 and "being computed" not in ready.text
    assert "data-reload-seconds" not in ready.text and "<table" in ready.text


def test_a_changed_store_shows_the_last_result_while_computing(web, held) -> None:
    admin = web.client("admin")
    url = "/app/reports?view=quality&by=persona"
    state = _web_state(web)
    admin.get(url)
    held.set()
    _wait_done(web, state.reports)
    before = admin.get(url)
    assert before.status_code == 200
    held.clear()
    upsert_lead(web.store, "lead-after-the-report", {"source": "partner"}, web.clock())
    stale = admin.get(url)
    assert stale.status_code == 200 and "Computed at" in stale.text
    assert "data-reload-seconds" not in stale.text and "<table" in stale.text  # last numbers
    held.set()
    _wait_done(web, state.reports)
    fresh = admin.get(url)
    assert fresh.status_code == 200 and "Computed at" not in fresh.text


def test_a_view_as_of_now_says_when_only_the_minute_moved(
    web, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _hold(monkeypatch, "speed")
    gate.set()
    admin = web.client("admin")
    state = _web_state(web)
    admin.get("/app/reports?view=speed")
    _wait_done(web, state.reports)
    gate.clear()
    try:
        web.clock.advance(minutes=1)
        later = admin.get("/app/reports?view=speed")
        assert later.status_code == 200 and "Computed as of" in later.text
        assert "the result as of now is being computed" in later.text
        assert "store has changed" not in later.text
    finally:
        gate.set()
        _wait_done(web, state.reports)


def _web_state(web: Any) -> Any:
    """The web app's state (sessions, report jobs), found on the mounted ``/app`` app."""
    for route in web.app.routes:
        if getattr(route, "path", None) == "/app":
            return route.app.state.web
    raise AssertionError("no /app mount")
