"""The Mattermost and PostHog PQL definitions (``src/leadgate/examples``) say what their
handbooks say, on hand-built workspaces, on every engine."""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadgate.batch import score_file_records
from leadgate.engine import compile_model
from leadgate.model import load_model
from leadgate.scoring import score_files

EXAMPLES = Path(__file__).resolve().parents[2] / "src/leadgate/examples"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
ENGINES = ["python", "duckdb", "sqlite"]
if os.environ.get("LEADGATE_TEST_PG_URL"):
    ENGINES.append("postgres")


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        w.writerows(rows)
    return path


def _event(i: int, lead: str, type_: str, hours_ago: float, **props: Any) -> dict[str, Any]:
    stamp = (AS_OF - timedelta(hours=hours_ago)).isoformat().replace("+00:00", "Z")
    return {"event_id": f"e{i}", "lead_id": lead, "type": type_, "timestamp": stamp, **props}


def _pqls(model: str, tmp: Path, leads: list[dict[str, Any]], events: list[dict[str, Any]],
          accounts: list[dict[str, Any]], engine: str) -> dict[str, list[str] | None]:  # fmt: skip
    files = (
        _write(tmp / "leads.csv", leads), _write(tmp / "events.csv", events),
        _write(tmp / "accounts.csv", accounts),
    )  # fmt: skip
    path = EXAMPLES / f"{model}.yaml"
    if engine == "python":
        records = score_files(path, files[0], files[1], AS_OF, accounts=files[2])
    else:
        plan = compile_model(load_model(path))
        records = score_file_records(
            plan, files[0], files[1], AS_OF, engine=engine, accounts=files[2]
        )
    return {r["lead_id"]: r["pql_signals"] if r["pql"] else None for r in records}


@pytest.mark.parametrize("engine", ENGINES)
def test_mattermost(engine: str, tmp_path: Path) -> None:
    # W1: 25 users active in the last day; W2: one upgrade; W3: a gmail user upgrading
    leads = [{"lead_id": f"u{i}", "account_id": "W1", "email": f"u{i}@acme.com"} for i in range(25)]
    leads += [
        {"lead_id": "b1", "account_id": "W2", "email": "b1@beta.io"},
        {"lead_id": "b2", "account_id": "W2", "email": "b2@beta.io"},
        {"lead_id": "g1", "account_id": "W3", "email": "g1@gmail.com"},
    ]
    events = [_event(i, f"u{i}", "session_start", 2 + i * 0.5) for i in range(25)]
    events += [_event(100, "b1", "plan_upgraded", 48), _event(101, "g1", "plan_upgraded", 48)]
    accounts = [{"account_id": a, "company_size": 300} for a in ("W1", "W2", "W3")]
    got = _pqls("mattermost-pql", tmp_path, leads, events, accounts, engine)
    assert all(got[f"u{i}"] == ["25 daily active users"] for i in range(25)), got
    assert got["b1"] == ["self-serve upgrade"] and got["b2"] is None
    assert got["g1"] is None  # a personal mailbox is never a PQL


@pytest.mark.parametrize("engine", ENGINES)
def test_posthog(engine: str, tmp_path: Path) -> None:
    leads = [
        {"lead_id": "p1", "account_id": "C1", "email": "p1@big.com", "title": "VP Engineering"},
        {"lead_id": "p2", "account_id": "C2", "email": "p2@huge.com", "title": "CTO"},
        {"lead_id": "p3", "account_id": "C2", "email": "p3@huge.com", "title": "Engineer"},
        {"lead_id": "p4", "account_id": "C3", "email": "p4@tiny.com", "title": "CTO"},
        {"lead_id": "p5", "account_id": "C1", "email": "p5@big.com", "title": "Engineer"},
    ]
    events = []
    for i, lead in enumerate(("p1", "p2", "p3", "p4")):
        events += [
            _event(10 * i, lead, "signed_up", 100),
            _event(10 * i + 1, lead, "event_ingested", 50, events=10),
            _event(10 * i + 2, lead, "invite_sent", 40),
        ]
    accounts = [
        {"account_id": "C1", "company_size": 900},
        {"account_id": "C2", "company_size": 5000},
        {"account_id": "C3", "company_size": 40},
    ]
    got = _pqls("posthog-pql", tmp_path, leads, events, accounts, engine)
    # p1: first sign-up of a 900-person company, ingested and invited: routed to sales
    assert got["p1"] == ["ingested an event", "invited a teammate"]
    # p2, p3: their company has two sign-ups; p4: 40 employees; p5: invited nobody
    assert got["p2"] is None and got["p3"] is None and got["p4"] is None and got["p5"] is None
