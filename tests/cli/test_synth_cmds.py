"""``leadgate synth`` as a user runs it: files written, summary shown, one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli_helpers import in_process, leadgate


def run(*args: str, process: bool = True) -> subprocess.CompletedProcess[str]:
    """``leadgate synth ARGS`` as a user runs it (a process of its own) or, for a variation of a
    behaviour already seen that way, through the same CLI in this process."""
    return (leadgate if process else in_process)("synth", *args)


def test_synth_writes_the_data_set_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "data"
    done = run("--leads", "300", "--seed", "4", "--out", str(out), "--format", "csv")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["accounts.csv", "events.csv", "leads.csv", "outcomes.csv", "truth.csv"]
    assert len((out / "leads.csv").read_text().splitlines()) == 301
    assert "300 leads" in done.stdout and "events/s" in done.stdout
    assert "handed to sales" in done.stdout


def test_synth_as_of_sets_the_data_sets_now(tmp_path: Path) -> None:
    done = run("--leads", "50", "--out", str(tmp_path), "--as-of", "2025-06-30", "-f", "jsonl",
               process=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = max(line.split('"timestamp":"')[1][:20] for line in (tmp_path / "events.jsonl").open())
    assert last <= "2025-06-30T00:00:00Z"
    assert "2025-06-30T00:00:00+00:00" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leads", "-5"], "--leads: must be at least 1, got -5"),
        (["--leads", "10", "--seed", "-1"], "--seed: must be 0 or more, got -1"),
        (["--leads", "10", "--format", "xml"], "--format: expected one of parquet, csv, jsonl"),
        (["--leads", "10", "--as-of", "soon"], "--as-of: expected an ISO 8601 time"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*args, "--out", str(tmp_path / "out"), process=args[1] == "-5")
    assert done.returncode == 1
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_out_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = run("--leads", "10", "--out", str(blocker / "data"))
    assert done.returncode == 1
    assert "cannot write to" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
