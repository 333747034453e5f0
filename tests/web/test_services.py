"""What the pages read from the service layer: the queue board, lead search, the preview (whose
counts must equal the dry-run publish's), model notes, and the demo store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.service import list_models, mql_queue, publish_model
from leadgate.service.preview import preview_model
from leadgate.service.workbench import (
    HOT_RATIO,
    SORTS,
    queue_board,
    search_leads,
    temperature,
)
from store_helpers import PG_URL, temp_store_url
from web_helpers import MODEL, NOW, ODD_ID, SLASH_ID, build_web_store, csrf_of


@given(st.floats(-200, 400), st.floats(0.5, 200))
def test_temperature_follows_the_line(total: float, threshold: float) -> None:
    t = temperature(total, threshold)
    assert t == (
        "hot" if total >= threshold * HOT_RATIO else "warm" if total >= threshold else "cold"
    )


def test_queue_board_filters_and_sorts(web) -> None:
    everything = mql_queue(web.store, as_of=NOW)
    board = queue_board(web.store, as_of=NOW)
    assert board.total == len(everything) and len(board.items) == len(everything)
    dues = [b.item.sla_due_at for b in board.items]
    assert dues == sorted(dues)
    by_score = queue_board(web.store, as_of=NOW, sort="score")
    totals = [b.item.total for b in by_score.items]
    assert totals == sorted(totals, reverse=True)
    webinar = queue_board(web.store, as_of=NOW, channel="webinar")
    assert webinar.items and all(b.channel == "webinar" for b in webinar.items)
    assert SLASH_ID in {b.item.lead_id for b in webinar.items}
    page = queue_board(web.store, as_of=NOW, sort="age", offset=2, limit=3)
    assert [b.item.lead_id for b in page.items] == [
        b.item.lead_id for b in queue_board(web.store, as_of=NOW, sort="age").items[2:5]
    ]
    channels = {b.channel for b in board.items if b.channel}
    assert board.channels == sorted(channels)  # the filter offers the queue's channels
    assert webinar.channels == board.channels and webinar.total == len(webinar.items)
    later = queue_board(web.store, as_of=NOW + timedelta(days=8), channel="webinar")
    assert all(b.change_7d is not None for b in later.items)  # scored 8 days before


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("descending", [False, True])
def test_queue_board_orders_as_sorting_the_queue(web, sort: str, descending: bool) -> None:
    keys = {
        "sla": lambda q: (q.sla_due_at, q.lead_id),
        "score": lambda q: (-(q.total or 0.0), q.lead_id),
        "age": lambda q: (q.mql_at, q.lead_id),
    }
    expected = sorted(mql_queue(web.store, as_of=NOW), key=keys[sort], reverse=descending)
    board = queue_board(web.store, as_of=NOW, sort=sort, descending=descending)
    assert [b.item.lead_id for b in board.items] == [q.lead_id for q in expected]
    assert [b.item for b in board.items] == expected  # the same items as GET /v1/mqls
    late = NOW + timedelta(days=2)
    breached = [q for q in mql_queue(web.store, as_of=late) if q.sla_state == "breached"]
    assert queue_board(web.store, as_of=late).breached == len(breached) > 0


def test_search_finds_by_id_email_name_and_company(web) -> None:
    assert search_leads(web.store, SLASH_ID)[0].lead_id == SLASH_ID
    assert SLASH_ID in {h.lead_id for h in search_leads(web.store, "ACME-CORP.com")}
    assert SLASH_ID in {h.lead_id for h in search_leads(web.store, "acme & <sons")}
    assert SLASH_ID in {h.lead_id for h in search_leads(web.store, "<b>bold")}
    assert search_leads(web.store, "%") == [] or all(
        "%" in (h.lead_id + (h.email or "") + h.name + (h.company or ""))
        for h in search_leads(web.store, "%")
    )
    assert search_leads(web.store, "   ") == []


@pytest.mark.parametrize("threshold", ["45", "75"])
def test_preview_counts_equal_the_dry_run_publish(web, threshold: str) -> None:
    draft = MODEL.read_text().replace("version: 1", "version: 9", 1)
    draft = draft.replace("threshold: 60 ", f"threshold: {threshold} ", 1)
    preview = preview_model(web.store, draft, actor="t", as_of=NOW)
    for engine in ("python", "duckdb"):
        dry = publish_model(web.store, draft, actor="t", as_of=NOW, dry_run=True, engine=engine)
        assert preview.summary == dry.summary, engine
    moved = preview.summary.starts_qualifying + preview.summary.stops_qualifying
    assert moved > 0 and len(preview.entering) + len(preview.leaving) == moved
    assert sum(preview.draft_counts) == preview.summary.scored
    assert sum(preview.mqls_after.values()) - sum(preview.mqls_now.values()) == (
        preview.summary.starts_qualifying - preview.summary.stops_qualifying
    )
    for mover in preview.leaving:
        assert "short by" in mover.why or "gate" in mover.why or "floor" in mover.why


def test_preview_on_the_batch_path_equals_the_per_lead_one(
    web, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadgate.service import rescore

    draft = MODEL.read_text().replace("version: 1", "version: 9", 1)
    draft = draft.replace("threshold: 60 ", "threshold: 45 ", 1)
    monkeypatch.setattr(rescore, "BATCH_MIN_LEADS", 10**9)
    per_lead = preview_model(web.store, draft, actor="t", as_of=NOW)
    monkeypatch.setattr(rescore, "BATCH_MIN_LEADS", 1)  # a "big" store: DuckDB scores it
    batch = preview_model(web.store, draft, actor="t", as_of=NOW)
    assert per_lead.summary.starts_qualifying > 0
    assert batch.summary == per_lead.summary
    assert batch.mqls_now == per_lead.mqls_now and batch.mqls_after == per_lead.mqls_after
    assert (batch.edges, batch.published_counts, batch.draft_counts) == (
        per_lead.edges, per_lead.published_counts, per_lead.draft_counts,
    )  # fmt: skip
    for mine, theirs in ((batch.entering, per_lead.entering), (batch.leaving, per_lead.leaving)):
        assert [(m.lead_id, m.stage, m.segment, m.why) for m in mine] == [
            (m.lead_id, m.stage, m.segment, m.why) for m in theirs
        ]
        assert [m.new_total for m in mine] == pytest.approx([m.new_total for m in theirs])


def test_preview_of_the_active_model_changes_nothing(web) -> None:
    preview = preview_model(web.store, MODEL.read_text(), actor="t", as_of=NOW)
    assert preview.summary.starts_qualifying == preview.summary.stops_qualifying == 0
    assert not preview.entering and not preview.leaving


def test_publish_keeps_the_change_note(tmp_path: Path) -> None:
    from leadgate.store import open_store

    with open_store(str(tmp_path / "n.db")) as store:
        publish_model(store, MODEL.read_text(), actor="a", as_of=NOW, note="  first cut ")
        v2 = MODEL.read_text().replace("version: 1", "version: 2", 1)
        publish_model(store, v2.replace("threshold: 60 ", "threshold: 50 "), actor="a", as_of=NOW)
        assert [v.note for v in list_models(store)] == ["first cut", None]


def test_demo_serve_prints_url_and_key_and_serves(tmp_path: Path) -> None:
    port = os.environ.get("LEADGATE_TEST_DEMO_PORT")
    if not port:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadgate", "demo", "--serve", "--leads", "150", "--out",
         str(tmp_path / "demo"), "--port", port],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while not any("leadgate API on" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        url = re.search(r"open (http://\S+)/app", text).group(1)  # type: ignore[union-attr]
        token = re.search(r"^(lg_\S+)$", text, re.M).group(1)  # type: ignore[union-attr]
        assert re.search(r"[\d,]+ MQLs and [\d,]+ MQAs waiting, ABM model published", text), text
        # The URL is announced just before the server binds its port: wait until it answers.
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not come up"
            time.sleep(0.1)
        with httpx.Client(base_url=url, follow_redirects=True) as client:
            form = client.get("/app/login")
            signed = client.post(
                "/app/login", data={"csrf": csrf_of(form.text), "key": token, "next": "/app/queue"}
            )  # fmt: skip
            assert signed.status_code == 200 and "MQL queue" in signed.text
            assert client.get("/app/settings").status_code == 200  # the key is an admin's
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set")
def test_the_pages_reads_on_postgresql(tmp_path: Path) -> None:
    from leadgate.store import open_store

    with temp_store_url("postgres", tmp_path) as url:
        build_web_store(tmp_path, url)
        with open_store(url) as store:
            queue = mql_queue(store, as_of=NOW)
            board = queue_board(store, as_of=NOW, sort="score")
            assert [b.item for b in board.items] == sorted(
                queue, key=lambda q: (-(q.total or 0.0), q.lead_id)
            )
            webinar = queue_board(store, as_of=NOW, channel="webinar")
            assert SLASH_ID in {b.item.lead_id for b in webinar.items}
            assert search_leads(store, "acme & <sons")[0].lead_id in (SLASH_ID, ODD_ID)
            draft = MODEL.read_text().replace("threshold: 60 ", "threshold: 45 ", 1)
            draft = draft.replace("version: 1", "version: 2", 1)
            dry = publish_model(store, draft, actor="t", as_of=NOW, dry_run=True)
            assert preview_model(store, draft, actor="t", as_of=NOW).summary == dry.summary
