"""The CLI as a user runs it: validate, schema, score, explain, and one-line errors.

Each user-facing behaviour runs once as a process of its own (``leadgate``); the other runs go
through the same ``leadgate.cli.main`` in this process (``run``), at a fraction of the cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import in_process, leadgate
from factories import REFERENCE_MODEL

run = in_process


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,email,title,industry,company_size,country\n"
        "1,dana@acme.com,Director of Marketing,software,800,US\n"
        "2,sam@state.edu,Student,education,,US\n"
        "3,vp@rival.io,VP Sales,software,900,US\n"
    )
    events = tmp_path / "events.jsonl"
    rows = [
        {
            "lead_id": "1",
            "type": "content_download",
            "timestamp": "2026-11-01T00:00:00Z",
            "asset": "whitepaper",
        },
        {"lead_id": "1", "type": "email_click", "timestamp": "2026-11-01T00:00:00Z"},
        {
            "lead_id": "1",
            "type": "page_view",
            "timestamp": "2026-11-01T00:00:00Z",
            "url": "/pricing",
        },
        {"lead_id": "2", "type": "demo_request", "timestamp": "2026-10-30T00:00:00Z"},
        {"lead_id": "3", "type": "demo_request", "timestamp": "2026-10-30T00:00:00Z"},
    ]
    events.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"leads": leads, "events": events, "dir": tmp_path}


def test_validate_ok_and_errors(tmp_path: Path) -> None:
    ok = run("validate", str(REFERENCE_MODEL))
    assert ok.returncode == 0 and "b2b-inbound" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nversion: 1\nthreshold: 5\ndimensions:\n  fit:\n    rules:\n      - {name: a, when: {t: {matchs: x}}, points: 1}\n"
    )
    res = leadgate("validate", str(bad))
    assert res.returncode == 1
    assert "bad.yaml:7:" in res.stdout and "did you mean 'matches'" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_schema_is_json() -> None:
    res = run("schema")
    assert res.returncode == 0
    assert json.loads(res.stdout)["title"] == "leadgate scoring model"


def test_score_jsonl_records(files: dict[str, Path]) -> None:
    res = run(
        "score",
        "--model",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--events",
        str(files["events"]),
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--format",
        "jsonl",
        "--engine",
        "python",
    )
    assert res.returncode == 0, res.stderr
    recs = {r["lead_id"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert set(recs) == {"1", "2", "3"}
    assert recs["1"]["total"] == 70 and recs["1"]["mql"] is True
    assert recs["1"]["scores"] == {"fit": 45, "engagement": 15, "intent": 10}
    assert recs["1"]["model"]["name"] == "b2b-inbound" and len(recs["1"]["model"]["hash"]) == 16
    assert recs["2"]["mql"] is False and any("fit floor" in m for m in recs["2"]["missing"])
    assert recs["3"]["missing"][0] == "disqualified: competitor"


def test_score_to_files_and_table(files: dict[str, Path]) -> None:
    out = files["dir"] / "scores.csv"
    res = run(
        "score",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--events",
        str(files["events"]),
        "--as-of",
        "2026-11-01",
        "--out",
        str(out),
        "--engine",
        "python",
    )
    assert res.returncode == 0, res.stderr
    assert (
        out.read_text()
        .splitlines()[0]
        .startswith("lead_id,segment,score_fit,score_engagement,score_intent,total,mql")
    )
    table = run(
        "score",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--events",
        str(files["events"]),
        "--as-of",
        "2026-11-01",
        "--engine",
        "python",
    )
    assert "3 leads" in table.stdout and "1 MQLs" in table.stdout
    # The default engine builds only the rows it shows; the same table.
    on_duckdb = run(*[a for a in table.args[1:] if a not in ("--engine", "python")])
    assert on_duckdb.returncode == 0, on_duckdb.stderr
    assert on_duckdb.stdout == table.stdout


def test_explain_table_and_json(files: dict[str, Path]) -> None:
    args = (
        "explain",
        "2",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--events",
        str(files["events"]),
        "--as-of",
        "2026-11-01",
    )
    res = run(*args)
    assert res.returncode == 0, res.stderr
    assert "not an MQL" in res.stdout and "fit floor 20: short by 70" in res.stdout
    js = json.loads(run(*args, "--format", "json").stdout)
    assert js["explanation"]["lacks"][0]["kind"] == "floor"
    assert any(
        r["name"] == "demo request" and r["points"] == 30 for r in js["explanation"]["rules"]
    )


def test_user_errors_are_one_line(files: dict[str, Path]) -> None:
    missing = leadgate("explain", "99", "-m", str(REFERENCE_MODEL), "--leads", str(files["leads"]))
    assert missing.returncode == 3 and "no lead with lead_id '99'" in missing.stderr
    bad_events = files["dir"] / "bad.csv"
    bad_events.write_text("lead_id,type,timestamp\n1,email_open,not-a-time\n")
    res = run(
        "score",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--events",
        str(bad_events),
        "--engine",
        "python",
    )
    assert res.returncode == 1
    assert "bad.csv:2: timestamp: expected an ISO 8601 timestamp" in res.stderr
    assert "Traceback" not in res.stderr
    res = run(
        "score",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(files["leads"]),
        "--as-of",
        "someday",
        "--engine",
        "python",
    )
    assert res.returncode == 1 and "--as-of" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_duckdb_output_is_the_python_engines_output(files: dict[str, Path], fmt: str) -> None:
    """The default engine writes its records from DuckDB; on these whole-number scores the
    bytes are exactly the Python engine's, to stdout and to a file."""
    common = [
        "score", "-m", str(REFERENCE_MODEL), "--leads", str(files["leads"]),
        "--events", str(files["events"]), "--as-of", "2026-11-01T00:00:00Z", "--format", fmt,
    ]  # fmt: skip
    python_out, duck_out = files["dir"] / f"p.{fmt}", files["dir"] / f"d.{fmt}"
    res = run(*common, "--engine", "python", "--out", str(python_out))
    assert res.returncode == 0, res.stderr
    res = run(*common, "--out", str(duck_out))
    assert res.returncode == 0, res.stderr
    assert "wrote 3 records (1 MQLs)" in res.stderr
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(duck_out).to_pylist() == pq.read_table(python_out).to_pylist()
        return
    assert duck_out.read_bytes() == python_out.read_bytes()
    streamed = subprocess.run(
        [sys.executable, "-m", "leadgate", *common], capture_output=True, timeout=120
    )
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == python_out.read_bytes()


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_out_naming_a_folder_is_one_line(files: dict[str, Path], engine: str) -> None:
    folder = files["dir"] / "already-a-folder"
    folder.mkdir()
    by = leadgate if engine == "duckdb" else run
    res = by("score", "-m", str(REFERENCE_MODEL), "--leads", str(files["leads"]),
             "--out", str(folder), "--engine", engine)  # fmt: skip
    assert res.returncode == 1
    assert res.stderr.strip() == f"error: {folder}: is a folder; give the file to write"
    assert not list(files["dir"].glob(".leadgate-*"))


def _with_ids(files: dict[str, Path]) -> Path:
    """The events file with an event_id column (ids the SQL engines can list)."""
    lines = files["events"].read_text().splitlines()
    out = files["dir"] / "events-ids.jsonl"
    out.write_text(
        "".join(
            json.dumps({"event_id": f"e{i}", **json.loads(x)}) + "\n" for i, x in enumerate(lines)
        )
    )
    return out


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_explain_json_is_the_same_on_every_engine(files: dict[str, Path], engine: str) -> None:
    events = _with_ids(files)
    common = ["-m", str(REFERENCE_MODEL), "--leads", str(files["leads"]), "--events", str(events)]
    common += ["--as-of", "2026-11-01T00:00:00Z", "--format", "json"]
    python = run("explain", "1", *common)
    sql = run("explain", "1", *common, "--engine", engine)
    assert python.returncode == 0 and sql.returncode == 0, sql.stderr
    want, got = json.loads(python.stdout), json.loads(sql.stdout)
    assert got == want
    ids = [i for r in got["explanation"]["rules"] for i in r["event_ids"]]
    assert ids, "the explained lead's counted events are listed"


def test_score_explain_adds_the_explanation(files: dict[str, Path]) -> None:
    events = _with_ids(files)
    args = ["score", "-m", str(REFERENCE_MODEL), "--leads", str(files["leads"])]
    args += ["--events", str(events), "--as-of", "2026-11-01T00:00:00Z", "-f", "jsonl", "--explain"]
    python = [json.loads(x) for x in run(*args, "--engine", "python").stdout.splitlines()]
    duck = [json.loads(x) for x in run(*args).stdout.splitlines()]
    assert [r["lead_id"] for r in duck] == ["1", "2", "3"]
    for a, b in zip(python, duck, strict=True):
        assert set(b) == {*set(a)} and "explanation" in b
        for ra, rb in zip(a["explanation"]["rules"], b["explanation"]["rules"], strict=True):
            assert {**ra, "event_ids": []} == {**rb, "event_ids": []}
        assert a["explanation"]["lacks"] == b["explanation"]["lacks"]
    table = run(*args[:-3], "--explain")
    assert table.returncode == 1 and "--explain" in table.stderr
