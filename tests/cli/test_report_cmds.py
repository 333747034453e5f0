"""``leadgate report ...``, ``calibrate`` and ``targets`` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli_helpers import in_process, leadgate
from factories import REFERENCE_MODEL
from leadgate.cli import _register, app
from leadgate.errors import LeadgateError

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from leadgate.synth import generate

    _register_once()
    return generate(800, 3, tmp_path_factory.mktemp("synth"))


_DONE: list[bool] = []


def _register_once() -> None:
    if not _DONE:
        _register()
        _DONE.append(True)


def files(d: Any, events: bool = False) -> list[str]:
    args = ["--leads", str(d.leads), "--outcomes", str(d.outcomes), "--accounts", str(d.accounts)]
    return args + (["--events", str(d.events)] if events else [])


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_funnel_table_csv_json_and_charts(data: Any, tmp_path: Path) -> None:
    table = invoke("report", "funnel", "--by", "channel", *files(data)).stdout
    assert (
        "Funnel · model versions: unknown" in table and "referral" in table and "MQL→SQL" in table
    )
    rows = list(csv.DictReader(io.StringIO(invoke("report", "funnel", "--by", "channel,segment",
                                                  "--format", "csv", *files(data)).stdout)))  # fmt: skip
    assert {"channel", "segment", "leads", "mqls", "mql:sql", "mql:sql_lo", "mql:sql_hi"} <= set(
        rows[0]
    )
    out = json.loads(invoke("report", "funnel", "--by", "cohort", "--format", "json", "--since",
                            "2026-01-01", "--chart", str(tmp_path), *files(data)).stdout)  # fmt: skip
    assert out["model_versions"] == ["unknown"] and out["by"] == ["cohort"]
    assert all(r["cohort"] >= "2026-01" for r in out["rows"] if r["mqls"])
    assert (tmp_path / "funnel.png").stat().st_size > 5000
    # named by its grouping (it was conversion_by_channel.png whatever --by said)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "conversion_by_cohort.png",
        "funnel.png",
    ]


def test_quality_rejections_speed(data: Any, tmp_path: Path) -> None:
    q = invoke("report", "quality", *files(data)).stdout
    assert "Lead quality" in q and "cold_list" in q
    r = invoke("report", "rejections", "--by", "persona", "--model", str(REFERENCE_MODEL),
               *files(data, events=True)).stdout  # fmt: skip
    assert (
        "Rejection reasons" in r
        and "Top reasons by persona" in r
        and "Top reasons by top_rule" in r
    )
    s = json.loads(invoke("report", "speed", "--format", "json", "--chart", str(tmp_path),
                          "--chart-format", "svg", *files(data)).stdout)  # fmt: skip
    assert [b["bucket"] for b in s["buckets"]] == [
        "<1h",
        "1-24h",
        "24-48h",
        ">48h",
        "never touched",
    ]
    assert (tmp_path / "speed_to_lead.svg").read_text().count("<svg") == 1


def test_compare(data: Any, tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(REFERENCE_MODEL.read_text().replace("threshold: 60 ", "threshold: 70 "))
    out = json.loads(invoke("report", "compare", "-a", str(REFERENCE_MODEL), "-b", str(strict),
                            "--format", "json", *files(data, events=True)).stdout)  # fmt: skip
    assert out["overlap"]["only_b"] == 0
    assert [s["set"] for s in out["sets"]] == [
        "A: all MQLs",
        "B: all MQLs",
        "both",
        "only A",
        "only B",
    ]


def test_calibrate_writes_a_new_version(data: Any, tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(REFERENCE_MODEL.read_text())
    before = model.read_bytes()
    result = invoke("calibrate", "--model", str(model), "--min-known", "10", "--chart", str(tmp_path),
                    *files(data, events=True))  # fmt: skip
    assert "Current vs recommended" in result.output and "Per segment" in result.output
    new = tmp_path / "m-v2.yaml"
    from leadgate.model import load_model

    assert load_model(new).version == "2"
    assert model.read_bytes() == before
    assert (tmp_path / "threshold_tradeoff.png").exists()
    j = json.loads(invoke("calibrate", "--model", str(model), "--no-write", "--format", "json",
                          "--target", "mql_sql>=0.3", *files(data, events=True)).stdout)  # fmt: skip
    assert j["target"] == "mql_sql >= 0.3" and j["written"] is None and j["curve"]


def test_targets(data: Any) -> None:
    with pytest.raises(LeadgateError, match="rates: missing mql:sal"):
        runner.invoke(app, ["targets", "--revenue", "1", "--deal-size", "1", "--rates", "lead:mql=.2"],
                      catch_exceptions=False)  # fmt: skip
    given = invoke("targets", "--revenue", "2000000", "--deal-size", "25000", "--period", "quarter",
                   "--rates", "lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25").stdout  # fmt: skip
    assert "20 wins per quarter" in given and "1,915" in given
    out = json.loads(invoke("targets", "--revenue", "2000000", "--deal-size", "25000", "--format",
                            "json", *files(data)).stdout)  # fmt: skip
    assert out["rates"] == "measured" and out["rows"][0]["channel"] == "all"
    assert {r["channel"] for r in out["rows"][1:]} >= {"referral", "cold_list"}


def _run(*args: str, db: str | None = None, process: bool = False) -> Any:
    """``leadgate ARGS`` (a process of its own when ``process``, else in this process), with
    ``LEADGATE_DB`` set to ``db`` or unset."""
    env = {"LEADGATE_DB": db} if db is not None else None
    return (leadgate if process else in_process)(*args, env=env)


def test_reports_read_the_store_named_by_leadgate_db(data: Any, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from leadgate.service import load_file
    from leadgate.store import open_store

    db = str(tmp_path / "lg.db")
    with open_store(db) as store:
        for kind, path in (("accounts", data.accounts), ("leads", data.leads),
                           ("outcomes", data.outcomes)):  # fmt: skip
            load_file(store, kind, path, as_of=datetime(2026, 11, 1, tzinfo=UTC))
    from_env = _run("report", "funnel", "--format", "json", "--mix-versions", db=db, process=True)
    assert from_env.returncode == 0, from_env.stderr
    given = _run("report", "funnel", "--format", "json", "--mix-versions", "--db", db)
    assert json.loads(from_env.stdout) == json.loads(given.stdout)
    assert json.loads(from_env.stdout)["rows"][0]["mqls"] > 0
    # files given: the environment does not stand in (no "--db or files, not both" clash)
    files_only = _run("report", "funnel", "--format", "json", *files(data), db=db)
    assert files_only.returncode == 0, files_only.stderr


def test_user_errors_are_one_line_with_exit_code(tmp_path: Path) -> None:
    r = _run("report", "funnel", process=True)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: no history: give --db URL, or --leads and --outcomes"
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,source\nA,web\n")
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("lead_id,mql_time,sal_status\nA,2026-01-01,perhaps\n")
    r = _run("report", "funnel", "--leads", str(leads), "--outcomes", str(outcomes))
    assert r.returncode == 1
    assert "outcomes.csv:2: sal_status: expected accepted or rejected, got 'perhaps'" in r.stderr
    assert "Traceback" not in r.stderr
