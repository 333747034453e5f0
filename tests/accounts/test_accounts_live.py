"""The real-time account path (issues #15/#16): single events leave the store as a bulk load and
the batch re-score do; a teammate's activity re-scores the account's other leads; account
events through ``leadgate load events`` are validated and all-or-nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadgate.errors import IngestError
from leadgate.io.account_events import split_row
from leadgate.service import ingest_events, publish_model, tick, upsert_account, upsert_lead
from leadgate.service.load import load_file
from leadgate.service.retention import apply_retention
from leadgate.service.settings import change_setting
from leadgate.store import Store, open_store
from leadgate.store.audit import Actor
from leadgate.store.schema import (
    account_events,
    account_states,
    events,
    leads,
    mqa_cycles,
    mql_cycles,
    outbox,
)
from store_helpers import BACKENDS, temp_store_url

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
BEFORE = AS_OF - timedelta(days=60)

# Points only add (no disqualifier, no upper bound): a lead or account that qualifies after some
# of the events qualifies after all of them, so single events and one load hand off alike.
MODEL = """\
name: live
version: 1
threshold: 25
dimensions:
  fit:
    rules:
      - {name: senior, when: {title: {matches: '\\bvp\\b'}}, points: 10}
  engagement:
    rules:
      - {name: opened, event: email_open, points: 5, max_points: 20}
      - name: team active
        events: {type: page_view, within_days: 60, scope: account, measure: {distinct: lead_id}, min: 2}
        points: 10
      # account-level page views count too (issue #16)
      - name: account browsing
        events: {type: page_view, within_days: 60, scope: account, min_count: 3}
        points: 5
accounts:
  threshold: 30
  abm_when: {tier: {in: [1]}}
  dimensions:
    engagement:
      rules:
        - name: engaged people
          rollup: {count: leads, where: {score.engagement: {gte: 10}}}
          points: 10
    intent:
      rules:
        - {name: pricing, event: page_view, where: {url: {contains: /pricing}}, points: 5}
  buying_group:
    roles:
      - {name: exec, when: {title: {matches: '\\bvp\\b'}}, required: 1}
      - {name: user, when: {title: {matches: 'engineer'}}, required: 1}
    engaged_when: {score.engagement: {gte: 5}}
"""
ACCOUNTS = {"A1": {"tier": 1}, "A2": {"tier": 3}}
LEADS = {
    "L1": {"account_id": "A1", "title": "vp sales"},
    "L2": {"account_id": "A1", "title": "engineer"},
    "L3": {"account_id": "A2", "title": "vp data"},
    "L4": {"account_id": "A2", "title": "engineer"},
    "L5": {"title": "vp ops"},
}

rows = st.builds(
    lambda owner, kind, day, url: {
        **({"account_id": owner} if owner.startswith("A") else {"lead_id": owner}),
        "type": "page_view" if owner.startswith("A") else kind,
        "timestamp": (AS_OF - timedelta(days=day)).isoformat(),
        "url": url,
    },
    st.sampled_from([*LEADS, *ACCOUNTS]),
    st.sampled_from(["email_open", "page_view"]),
    st.integers(1, 40),
    st.sampled_from(["/pricing", "/home"]),
)


def _setup(store: Store) -> None:
    publish_model(store, MODEL, actor="t", as_of=BEFORE)
    for account_id, attrs in ACCOUNTS.items():
        upsert_account(store, account_id, attrs, BEFORE)
    for lead_id, attrs in LEADS.items():
        upsert_lead(store, lead_id, attrs, BEFORE)


def _one_by_one(store: Store, batch: list[dict[str, Any]]) -> None:
    for row in batch:
        owned = split_row(dict(row))
        if owned.account:
            ingest_events(store, [], AS_OF, account_events=[owned.event])
        else:
            ingest_events(store, [owned.event], AS_OF)


def _at_once(store: Store, batch: list[dict[str, Any]], folder: Path) -> None:
    path = folder / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in batch), encoding="utf-8")
    load_file(store, "events", path, as_of=AS_OF)
    # the batch re-score (DuckDB over the store, as at 5,000 leads and more): every account
    tick(store, AS_OF, engine="duckdb")


def _snapshot(store: Store) -> dict[str, Any]:
    with store.read() as conn:
        lead_rows = {
            r.lead_id: (r.stage, r.cycle, r.score)
            for r in conn.execute(
                select(leads.c.lead_id, leads.c.stage, leads.c.cycle, leads.c.score)
            )
        }
        # An untouched account keeps its earlier score: the same but for its as_of.
        accts = {
            r.account_id: (r.stage, r.cycle, r.mqa, r.abm, {**r.score, "as_of": None})
            for r in conn.execute(select(account_states))
        }
        cycles = sorted(
            (r.lead_id, r.cycle, r.qualified_by) for r in conn.execute(select(mql_cycles))
        )
        mqas = sorted(
            (r.account_id, r.cycle, r.qualified_by, r.handoff)
            for r in conn.execute(select(mqa_cycles))
        )
        notes = sorted(
            (r.topic, r.lead_id or "", str(r.payload.get("account_id")))
            for r in conn.execute(select(outbox))
        )
        counts = [len(conn.execute(select(t.c.event_id)).all()) for t in (events, account_events)]
    return {"leads": lead_rows, "accounts": accts, "mql_cycles": cycles, "mqa_cycles": mqas,
            "outbox": notes, "events": counts}  # fmt: skip


PLANS: dict[str, Any] = {}


def _equal_both_ways(url_a: str, url_b: str, batch: list[dict[str, Any]], folder: Path) -> None:
    with open_store(url_a) as live, open_store(url_b) as bulk:
        for s in (live, bulk):  # the compiled model, shared: parsing it is most of a small run
            s.cache.update(PLANS)
        _one_by_one(live, batch)
        _at_once(bulk, batch, folder)
        assert _snapshot(live) == _snapshot(bulk)
        PLANS.update(live.cache)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store set up once (migrations, model, accounts, leads); examples copy it."""
    folder = tmp_path_factory.mktemp("template")
    with temp_store_url("sqlite", folder) as url, open_store(url) as s:
        _setup(s)
    return folder / "leadgate.db"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=st.lists(rows, min_size=1, max_size=8))
def test_single_events_leave_the_store_a_load_and_batch_rescore_leave(
    template: Path, batch: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("a.db", "b.db"):
            shutil.copyfile(template, folder / name)
        _equal_both_ways(str(folder / "a.db"), str(folder / "b.db"), batch, folder)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", [p for p in BACKENDS if p.id == "postgres"])
def test_single_events_equal_a_load_on_postgresql(backend: str) -> None:
    day = (AS_OF - timedelta(days=3)).isoformat()
    batch = [
        {"lead_id": "L1", "type": "email_open", "timestamp": day, "url": "/home"},
        {"lead_id": "L1", "type": "email_open", "timestamp": day, "url": "/pricing"},
        {"lead_id": "L2", "type": "page_view", "timestamp": day, "url": "/home"},
        {"lead_id": "L1", "type": "page_view", "timestamp": day, "url": "/home"},
        {"account_id": "A1", "type": "page_view", "timestamp": day, "url": "/pricing"},
        {"lead_id": "L3", "type": "email_open", "timestamp": day, "url": "/home"},
    ]
    with (
        tempfile.TemporaryDirectory() as tmp,
        temp_store_url(backend, Path(tmp)) as url_a,
        temp_store_url(backend, Path(tmp)) as url_b,
    ):
        for url in (url_a, url_b):
            with open_store(url) as s:
                _setup(s)
        _equal_both_ways(url_a, url_b, batch, Path(tmp))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with temp_store_url("sqlite", tmp_path) as url, open_store(url) as s:
        _setup(s)
        yield s


def test_a_teammates_activity_rescores_the_accounts_other_leads(store: Store) -> None:
    day = (AS_OF - timedelta(days=2)).isoformat()
    ingest_events(
        store, [split_row({"lead_id": "L3", "type": "page_view", "timestamp": day}).event], AS_OF
    )
    ingest_events(
        store, [split_row({"lead_id": "L4", "type": "page_view", "timestamp": day}).event], AS_OF
    )
    with store.read() as conn:
        score = dict(conn.execute(select(leads.c.lead_id, leads.c.score)).all())
    # L3 had no event of its own since L4's, yet its team-activity rule now holds: 10 + 10 = 20
    assert score["L3"]["scores"]["engagement"] == 10.0
    assert score["L1"]["scores"]["engagement"] == 0.0  # another account: untouched


def test_an_account_level_event_rescores_every_lead_of_its_account(store: Store) -> None:
    """Issue #16: an account-level event counts in the ``scope: account`` measures of each of
    the account's leads, and re-scores them all in its own request; it adds no distinct lead."""

    def view(owner: dict[str, str], days: int) -> Any:
        at = (AS_OF - timedelta(days=days)).isoformat()
        return split_row({**owner, "type": "page_view", "timestamp": at}).event

    ingest_events(store, [view({"lead_id": "L3"}, 2)], AS_OF)
    ingest_events(store, [], AS_OF, account_events=[view({"account_id": "A2"}, 3)])
    with store.read() as conn:
        before = dict(conn.execute(select(leads.c.lead_id, leads.c.score)).all())
    ingest_events(store, [], AS_OF, account_events=[view({"account_id": "A2"}, 4)])
    with store.read() as conn:
        score = dict(conn.execute(select(leads.c.lead_id, leads.c.score)).all())
    # one lead page view and two account page views: 3 in the account, "account browsing" (5)
    # holds; "team active" needs 2 distinct leads and an account's event is no lead: 0
    assert before["L3"]["scores"]["engagement"] == 0.0  # 2 page views: not yet
    assert score["L3"]["scores"]["engagement"] == 5.0
    assert score["L4"]["scores"]["engagement"] == 5.0  # no event of its own, re-scored
    assert score["L1"]["scores"]["engagement"] == 0.0  # another account: untouched


def test_load_refuses_an_unknown_account_naming_file_line_and_field(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "lead_id,account_id,type,timestamp\n"
        "L1,,email_open,2026-11-01T00:00:00Z\n"
        ",A1,page_view,2026-11-01T00:00:00Z\n"
        ",A9,page_view,2026-11-02T00:00:00Z\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as bad:
        load_file(store, "events", path, as_of=AS_OF)
    # the CLI prints this one line: file, line, field
    assert str(bad.value).startswith(f"{path}:4: account_id: no account 'A9'")
    with store.read() as conn:  # nothing half-written
        assert conn.execute(select(events.c.event_id)).all() == []
        assert conn.execute(select(account_events.c.event_id)).all() == []
    neither = tmp_path / "neither.csv"
    neither.write_text(
        "lead_id,type,timestamp\n,email_open,2026-11-01T00:00:00Z\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match=f"{neither}:2: lead_id: needs a lead_id"):
        load_file(store, "events", neither, as_of=AS_OF)
    path.write_text(
        "lead_id,account_id,type,timestamp,url\n,A1,page_view,2026-11-01T00:00:00Z,/pricing\n",
        encoding="utf-8",
    )
    assert load_file(store, "events", path, as_of=AS_OF).inserted == 1
    assert load_file(store, "events", path, as_of=AS_OF).ignored == 1  # a replay adds nothing
    with store.read() as conn:
        assert len(conn.execute(select(account_events.c.event_id)).all()) == 1
        (a1,) = conn.execute(select(account_states).where(account_states.c.account_id == "A1"))
    assert a1.score["scores"]["intent"] == 5.0  # re-scored by the load


def test_retention_deletes_old_account_events_with_the_lead_events(store: Store) -> None:
    old, recent = (AS_OF - timedelta(days=d) for d in (200, 5))
    visits = [
        split_row({"account_id": "A1", "type": "page_view", "timestamp": t.isoformat()}).event
        for t in (old, recent)
    ]
    ingest_events(store, [], AS_OF, account_events=visits)
    ops = Actor("cli:ops")
    change_setting(store, "retention.events_days", 100, at=AS_OF, by=ops, force=True)
    report = apply_retention(store, AS_OF, by=ops, force=True)
    assert report.events == 1
    with store.read() as conn:
        kept = conn.execute(select(account_events.c.timestamp)).scalars().all()
    assert kept == [recent]
