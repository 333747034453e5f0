"""Replays (calibrate, compare, rejections) score a lead as ``leadgate score`` does: with
``scope: account`` measures over its account's events, its other leads' and the account-level
ones, from files and from the store (issue #16)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadgate.engine import compile_model
from leadgate.model import parse_model
from leadgate.report.history import History, history_from_files, replay
from leadgate.report.store_frame import history_from_store, history_of_leads
from leadgate.service import load_file
from leadgate.store.db import open_store

AS_OF = datetime(2026, 11, 2, tzinfo=UTC)
MODEL = """\
name: t
version: "1"
threshold: 100
dimensions:
  usage:
    rules:
      - name: account visits
        events: {type: visit, scope: account, min_count: 3}
        points: 20
      - name: team
        events: {type: visit, scope: account, measure: {distinct: lead_id}, min: 2}
        points: 50
      - name: own visit
        events: {type: visit, min_count: 1}
        points: 1
"""
# A1: L1 and L2 visit once each, the account once more (no lead): 3 account visits, 2 leads.
# A2: L3 visits once, its account once: 2 visits, 1 lead.
EVENTS = (
    "event_id,lead_id,account_id,type,timestamp\n"
    "e1,L1,,visit,2026-11-01T00:00:00Z\n"
    "e2,L2,,visit,2026-11-01T01:00:00Z\n"
    "e3,,A1,visit,2026-11-01T02:00:00Z\n"
    "e4,L3,,visit,2026-11-01T03:00:00Z\n"
    "e5,,A2,visit,2026-11-01T04:00:00Z\n"
)
EXPECTED = {"L1": 71.0, "L2": 71.0, "L3": 1.0}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("replay_accounts")
    (d / "leads.csv").write_text(
        "lead_id,account_id,created_at\nL1,A1,2026-10-01T00:00:00Z\n"
        "L2,A1,2026-10-01T00:00:00Z\nL3,A2,2026-10-01T00:00:00Z\n",
        encoding="utf-8",
    )
    (d / "accounts.csv").write_text("account_id,name\nA1,Acme\nA2,Bolt\n", encoding="utf-8")
    (d / "events.csv").write_text(EVENTS, encoding="utf-8")
    (d / "outcomes.csv").write_text("lead_id,mql_time\n", encoding="utf-8")
    return d


def _totals(history: History) -> dict[str, float]:
    plan = compile_model(parse_model(MODEL))
    scores = replay(plan, history, as_of=AS_OF, at_handoff=False)
    return {lead: s.total for lead, s in sorted(scores.items())}


def test_a_replay_from_files_reads_the_accounts_events(folder: Path) -> None:
    history = history_from_files(
        folder / "leads.csv", folder / "events.csv", folder / "outcomes.csv",
        accounts=folder / "accounts.csv",
    )  # fmt: skip
    assert _totals(history) == EXPECTED


def test_a_replay_from_the_store_reads_the_accounts_events(folder: Path, tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "lg.db"))
    try:
        for kind in ("accounts", "leads", "events"):
            load_file(store, kind, folder / f"{kind}.csv", as_of=AS_OF)
        whole = history_from_store(store)
        assert _totals(whole) == EXPECTED
        # a few leads' history (the rejections page) brings their accounts whole
        few = history_of_leads(store, ["L1"], whole.frame)
        assert set(few.profiles) == {"L1", "L2"} and set(few.account_events) == {"A1"}
        assert _totals(few) == {"L1": 71.0, "L2": 71.0}
    finally:
        store.close()
