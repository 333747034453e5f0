"""A store with the demo's synthetic leads for the web app's tests, and signing in over HTTP.

``build_web_store`` makes a SQLite store from ``leadgate.synth`` (300 leads, seed 7) under the
reference model, plus two leads that test escaping and URL characters: ``acme/42`` (an MQL whose
title is a script tag) and ``odd id?#%`` (a lead id with URL characters).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadgate.demo import REFERENCE_MODEL as MODEL
from leadgate.engine import Event
from leadgate.service import ingest_events, load_file, publish_model, upsert_lead
from leadgate.store import open_store

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SCRIPT_TITLE = "<script>alert(1)</script>"
SLASH_ID = "acme/42"
ODD_ID = "odd id?#%"


def build_web_store(folder: Path, url: str | None = None) -> str:
    """A store with the synthetic leads and the two odd ones: at ``url``, else a SQLite file in
    ``folder``; returns its URL."""
    from leadgate.synth import generate

    path = url or str(folder / "web.db")
    data = generate(300, 7, folder / "synth", as_of=NOW)
    store = open_store(path)
    try:
        publish_model(store, MODEL.read_text(), actor="test", as_of=NOW)
        for kind in ("accounts", "leads", "events", "outcomes"):
            load_file(store, kind, getattr(data, kind), as_of=NOW)
        for lead_id in (SLASH_ID, ODD_ID):
            upsert_lead(
                store, lead_id,
                {"email": f"{len(lead_id)}@acme-corp.com", "title": SCRIPT_TITLE,
                 "first_name": "<b>Bold</b>", "company": "Acme & <Sons>", "industry": "software",
                 "company_size": 300, "country": "US", "source": "webinar"},
                NOW,
            )  # fmt: skip
            events = [
                Event(lead_id, "demo_request", NOW, f"{lead_id}-demo"),
                Event(lead_id, "webinar_attended", NOW, f"{lead_id}-web"),
                *(Event(lead_id, "page_view", NOW, f"{lead_id}-p{i}", {"url": "/pricing"})
                  for i in range(3)),
            ]  # fmt: skip
            ingest_events(store, events, NOW)
    finally:
        store.close()
    return path


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: Any, token: str) -> None:
    """Sign ``client`` (a TestClient or httpx client) in with ``token`` through the form."""
    form = client.get("/app/login")
    answer = client.post(
        "/app/login",
        data={"csrf": csrf_of(form.text), "key": token, "next": "/app/queue"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
