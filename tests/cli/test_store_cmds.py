"""The store commands as a user runs them: load, models, queue, dispose, leads show, sla, tick.

Commands run in-process (the app with every command module registered, errors mapped to exit
codes as ``leadgate.cli.main`` does) to keep the suite fast; tests/cli/test_score_cmds.py runs
the real ``python -m leadgate`` process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pytest

import leadgate.cli as cli
from leadgate.errors import LeadgateError

AS_OF = ["--as-of", "2026-03-01T00:00:00Z"]
MODEL = """\
name: cli
version: 1
threshold: 30
dimensions:
  fit:
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 20}
  intent:
    rules:
      - {name: demo, event: demo_request, points: 20}
"""


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    if not getattr(cli, "_store_test_registered", False):
        cli._register()
        cli._store_test_registered = True  # type: ignore[attr-defined]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run one command; return (exit code, stdout, stderr) as ``leadgate`` would."""
    code = 0
    try:
        cli.app(list(args), standalone_mode=False, prog_name="leadgate")
    except LeadgateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = cli.exit_code(exc)
    except click.exceptions.UsageError as exc:
        print(exc.format_message(), file=sys.stderr)
        code = 2
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "leads": tmp_path / "leads.csv",
        "events": tmp_path / "events.csv",
        "model": tmp_path / "model.yaml",
        "bad": tmp_path / "bad.csv",
    }
    paths["leads"].write_text(
        "lead_id,email,title\nL1,ann@acme.com,VP Sales\nL2,bob@beta.io,Engineer\n"
    )
    paths["events"].write_text(
        "event_id,lead_id,type,timestamp\ne1,L1,demo_request,2026-02-28T00:00:00Z\n"
    )
    paths["model"].write_text(MODEL)
    paths["bad"].write_text("lead_id,type,timestamp\nL1,demo_request,soon\n")
    return paths


def test_store_workflow(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    db = ["--db", str(tmp_path / "lg.db")]
    code, out, _ = run(capsys, "load", "leads", str(files["leads"]), *db, *AS_OF)
    assert code == 0 and "2 row(s): 2 new" in out
    assert run(capsys, "load", "events", str(files["events"]), *db, *AS_OF)[0] == 0
    code, out, _ = run(capsys, "models", "publish", str(files["model"]), "--dry-run", *db, *AS_OF)
    assert code == 0 and "would publish cli 1" in out and "1 new MQL(s)" in out and "dry run" in out
    code, out, _ = run(
        capsys, "models", "publish", str(files["model"]), "--actor", "ann", *db, *AS_OF
    )
    assert code == 0 and "published cli 1" in out
    code, out, _ = run(capsys, "queue", "--json", *db, *AS_OF)
    assert [i["lead_id"] for i in json.loads(out)] == ["L1"]
    code, out, _ = run(capsys, "dispose", "L1", "accept", "--actor", "rep", *db, *AS_OF)
    assert code == 0 and "L1: accept -> stage sal" in out
    code, out, _ = run(capsys, "leads", "show", "L1", "--json", *db)
    view = json.loads(out)
    assert [t["to_stage"] for t in view["transitions"]] == ["mql", "sal"]
    assert view["score"]["total"] == 40.0
    code, out, _ = run(capsys, "models", "list", "--json", *db)
    assert [(m["version"], m["published_by"]) for m in json.loads(out)] == [("1", "ann")]
    assert run(capsys, "sla", "--json", *db, "--as-of", "2026-03-05T00:00:00Z")[1].strip() == "[]"
    assert run(capsys, "tick", *db, *AS_OF)[0] == 0


def test_errors_are_one_line_with_exit_codes(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path
) -> None:
    db = ["--db", str(tmp_path / "lg.db")]
    code, _, err = run(capsys, "load", "events", str(files["bad"]), *db, *AS_OF)
    assert code == 1 and "bad.csv:2: timestamp: expected an ISO 8601 timestamp" in err
    code, _, err = run(capsys, "dispose", "nobody", "accept", *db, *AS_OF)
    assert code == 3 and "no lead 'nobody'" in err
    run(capsys, "load", "leads", str(files["leads"]), *db, *AS_OF)
    code, _, err = run(capsys, "dispose", "L2", "won", *db, *AS_OF)
    assert code == 3 and "'won' applies to leads at opportunity" in err
    code, _, err = run(capsys, "dispose", "L2", "reject", "--reason", "meh", *db, *AS_OF)
    assert code == 1 and "reason: unknown reason code 'meh'" in err
    code, _, err = run(capsys, "models", "diff", "1", "2", *db)
    assert code == 3 and "no published model '1'" in err


def test_db_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADGATE_DB", str(tmp_path / "env.db"))
    assert run(capsys, "load", "leads", str(files["leads"]), *AS_OF)[0] == 0
    assert (tmp_path / "env.db").exists()


def test_default_db_is_leadgate_db_in_the_current_directory(
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LEADGATE_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "load", "leads", str(files["leads"]), *AS_OF)[0] == 0
    assert (tmp_path / "leadgate.db").exists()
