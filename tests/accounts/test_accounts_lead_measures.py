"""``leadgate accounts`` scores the leads first: their ``scope: account`` measures read the
account's account-level events too (issue #16), on every engine, as ``leadgate score`` does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadgate.account_scoring import score_account_files
from store_helpers import POSTGRES_ENGINE, engine_options

ENGINES = [
    "python",
    "duckdb",
    "sqlite",
    POSTGRES_ENGINE,
]


MODEL = """\
name: t
version: "1"
threshold: 100
dimensions:
  usage:
    rules:
      - name: account visits
        events: {type: visit, scope: account, min_count: 2}
        points: 20
      - name: team
        events: {type: visit, scope: account, measure: {distinct: lead_id}, min: 2}
        points: 50
accounts:
  threshold: 10
  dimensions:
    engagement:
      rules:
        - name: engaged
          rollup: {count: leads, where: {score.usage: {gte: 20}}}
          points: 10
"""
LEAD_VISIT = "e1,L1,,visit,2026-11-01T00:00:00Z\n"
ACCOUNT_VISIT = "e2,,A1,visit,2026-11-01T01:00:00Z\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("lead_measures")
    (d / "model.yaml").write_text(MODEL, encoding="utf-8")
    (d / "leads.csv").write_text("lead_id,account_id\nL1,A1\nL2,A1\n", encoding="utf-8")
    (d / "accounts.csv").write_text("account_id,name\nA1,Acme\n", encoding="utf-8")
    head = "event_id,lead_id,account_id,type,timestamp\n"
    (d / "with.csv").write_text(head + LEAD_VISIT + ACCOUNT_VISIT, encoding="utf-8")
    (d / "without.csv").write_text(head + LEAD_VISIT, encoding="utf-8")
    return d


@pytest.mark.parametrize("engine", ENGINES)
def test_lead_measures_of_an_account_read_its_account_level_events(
    folder: Path, engine: str
) -> None:
    def score(events: str) -> tuple[float, bool]:
        (a,) = score_account_files(
            folder / "model.yaml", folder / "leads.csv", folder / events,
            folder / "accounts.csv", datetime(2026, 11, 2, tzinfo=UTC), engine=engine_options(engine),
        )  # fmt: skip
        return a.total, a.mqa

    # L1's visit and the account's: 2 account visits, so both leads score 20 (the account's
    # visit is no lead: "team" needs 2 distinct leads, 0); 2 engaged leads x 10 = 20, an MQA
    assert score("with.csv") == (20.0, True)
    # without the account's visit: 1 visit, no lead engaged
    assert score("without.csv") == (0.0, False)
