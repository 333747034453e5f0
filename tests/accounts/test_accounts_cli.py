"""``leadgate accounts score`` / ``explain`` as a user runs them (the issue's flags and fields)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from accounts_helpers import ACCOUNTS, EVENTS, LEAD_MODEL, LEADS, MODEL
from cli_helpers import in_process, leadgate

FILES = ("--leads", "leads.jsonl", "--events", "events.jsonl", "--accounts", "accounts.jsonl")
AS_OF = ("--as-of", "2026-11-01")


def run(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    """``leadgate ARGS`` in ``cwd``: a process of its own when ``process`` (the first run of each
    test, as a user runs it), else through the same CLI in this process."""
    return (leadgate if process else in_process)(*args, cwd=cwd)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("accounts_cli")
    (d / "model.yaml").write_text(MODEL, encoding="utf-8")
    (d / "leads_only.yaml").write_text(LEAD_MODEL, encoding="utf-8")
    for name, rows in (("leads", LEADS), ("events", EVENTS), ("accounts", ACCOUNTS)):
        text = "".join(json.dumps(r) + "\n" for r in rows)
        (d / f"{name}.jsonl").write_text(text, encoding="utf-8")
    return d


def test_score_jsonl_has_the_issue_fields(folder: Path) -> None:
    done = run(folder, "accounts", "score", "-m", "model.yaml", *FILES, *AS_OF, "-f", "jsonl",
               process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    a1, a2 = (json.loads(line) for line in done.stdout.splitlines())
    for field in ("account_id", "scores", "total", "mqa", "missing", "buying_group",
                  "threshold", "as_of", "model"):  # fmt: skip
        assert field in a1
    assert a1["account_id"] == "A1" and a1["total"] == 85.0 and a1["mqa"] is False
    assert a1["buying_group"]["roles"]["decision maker"] == {
        "filled": 1, "required": 1, "members": ["L1"],
    }  # fmt: skip
    assert a2["missing"][1] == "role champion: 0 of 1 engaged"
    assert a1["as_of"] == "2026-11-01T00:00:00+00:00" and a1["model"]["name"] == "abm-test"


@pytest.mark.parametrize("engine", ["sqlite"])
def test_files_written_on_each_engine(folder: Path, engine: str) -> None:
    pq = folder / f"out_{engine}.parquet"
    done = run(folder, "accounts", "score", "-m", "model.yaml", *FILES, *AS_OF,
               "--engine", engine, "--out", str(pq))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote 2 records (0 MQAs)" in done.stderr
    import pyarrow.parquet as pq_mod

    table = pq_mod.read_table(pq).to_pylist()
    assert [r["account_id"] for r in table] == ["A1", "A2"]
    assert table[0]["score_engagement"] == 62.5
    assert json.loads(table[0]["buying_group"])["completeness"] == 0.8333


def test_table_and_explain(folder: Path) -> None:
    done = run(folder, "accounts", "score", "-m", "model.yaml", *FILES, *AS_OF, "--wide",
               process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 accounts, 0 MQAs" in done.stdout and "A1" in done.stdout
    done = run(folder, "accounts", "explain", "A1", "-m", "model.yaml", *FILES, *AS_OF, "--wide")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "best three leads" in out and "L1, L4, L2" in out and "practitioner" in out
    assert "threshold 100: short by 15 points" in out
    done = run(folder, "accounts", "explain", "A1", "-m", "model.yaml", *FILES, *AS_OF,
               "-f", "json", "--engine", "duckdb")  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    rules = {r["name"]: r for r in body["explanation"]["rules"]}
    assert rules["engaged people"]["leads"] == ["L1", "L2", "L4"]
    assert rules["pricing research"]["event_ids"] == ["x1"]


def test_errors_are_one_line(folder: Path) -> None:
    done = run(folder, "accounts", "score", "-m", "leads_only.yaml", *FILES, *AS_OF, process=True)
    assert done.returncode == 1
    assert "leads_only.yaml: the model has no 'accounts:' block" in done.stderr
    assert "Traceback" not in done.stderr
    done = run(folder, "accounts", "explain", "A9", "-m", "model.yaml", *FILES, *AS_OF)
    assert done.returncode == 3 and "no account with account_id 'A9'" in done.stderr
    done = run(folder, "accounts", "score", "-m", "model.yaml", *FILES, "-f", "xml")
    assert done.returncode == 1 and "--format: expected table, csv, jsonl or parquet" in done.stderr
