"""Measures and the PQL at the command line: explain shows measured values, bounds, signals and
gates; score's table has a PQL column; a summed property that is not a number is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import in_process, leadgate

# The first run of each test as a user runs it (a process of its own), the others in process.
run = in_process

MODEL = """\
name: pu
version: 1
threshold: 100
dimensions:
  fit:
    rules:
      - {name: big, when: {size: {gte: 100}}, points: 25}
  usage:
    rules:
      - name: active days
        events: {type: session_start, within_days: 7, measure: distinct_days, min: 3}
        points: 15
      - name: posts
        events: {type: post_created, measure: {sum: count}, min: 20}
        points: 20
pql:
  signals:
    - {name: upgrade, events: {type: plan_upgraded}}
    - {name: team, events: {type: session_start, scope: account, measure: {distinct: lead_id}, min: 2}}
  require: [{name: fit floor, when: {score.fit: {gte: 20}}}]
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "model.yaml").write_text(MODEL)
    (tmp_path / "leads.csv").write_text("lead_id,size,account_id\nL1,200,A\nL2,10,A\n")
    (tmp_path / "events.csv").write_text(
        "event_id,lead_id,type,timestamp,count\n"
        "e1,L1,session_start,2026-10-31T10:00:00Z,\n"
        "e2,L1,session_start,2026-10-30T10:00:00Z,\n"
        "e3,L2,session_start,2026-10-29T10:00:00Z,\n"
        "e4,L1,post_created,2026-10-29T10:00:00Z,12\n"
    )
    return {
        k: tmp_path / f"{k}.{x}"
        for k, x in (("model", "yaml"), ("leads", "csv"), ("events", "csv"))
    }


def _args(files: dict[str, Path]) -> list[str]:
    return ["-m", str(files["model"]), "--leads", str(files["leads"]), "--events", str(files["events"]),
            "--as-of", "2026-11-01T00:00:00Z"]  # fmt: skip


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_explain_shows_measures_and_the_pql(files: dict[str, Path], engine: str) -> None:
    by = leadgate if engine == "duckdb" else in_process
    out = by("explain", "L1", *_args(files), "--engine", engine, "--wide")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "· PQL ·" in text and "PQL signals (1 held, 1 needed)" in text
    assert "distinct_days >= 3" in text and "sum count >= 20" in text
    assert "distinct lead_id (account) >= 2" in text and "fit floor" in text
    js = json.loads(run("explain", "L1", *_args(files), "-f", "json", "--engine", engine).stdout)
    assert js["pql"] is True and js["pql_signals"] == ["team"]
    rules = {r["name"]: r for r in js["explanation"]["rules"]}
    assert rules["active days"]["measured"] == 2 and rules["posts"]["measured"] == 12
    gate = js["explanation"]["pql"]["gates"][0]
    assert gate["ok"] is True and gate["name"] == "fit floor"
    # L2: the team signal holds, but its fit is 0: not a PQL
    l2 = json.loads(run("explain", "L2", *_args(files), "-f", "json", "--engine", engine).stdout)
    assert l2["pql"] is False and l2["pql_signals"] == ["team"]


def test_score_table_has_a_pql_column(files: dict[str, Path]) -> None:
    out = leadgate("score", *_args(files), "--wide")
    assert out.returncode == 0, out.stderr
    assert "PQL" in out.stdout and "yes (team)" in out.stdout and "no (team)" in out.stdout


@pytest.mark.parametrize("engine", ["python", "duckdb", "sqlite"])
def test_a_summed_value_that_is_not_a_number_is_one_line(
    files: dict[str, Path], engine: str
) -> None:
    with files["events"].open("a") as fh:
        fh.write("e5,L2,post_created,2026-10-29T10:00:00Z,a dozen\n")
    by = leadgate if engine == "duckdb" else in_process
    out = by("score", *_args(files), "--engine", engine, "-f", "jsonl")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "events.csv:6: count: expected a number, got 'a dozen'" in out.stderr
