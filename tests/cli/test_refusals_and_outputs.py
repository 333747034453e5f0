"""Refusals and outputs as a user meets them (issue 14): history never moves backwards without
--force, a version label names one model, calibrate checks --out first and writes a round-trip
edit; output files follow the umask, errors name the user's path, a missing folder is refused by
every command that writes."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import in_process, leadgate, one_line_error
from factories import REFERENCE_MODEL

LEADS = "lead_id,email,title,industry,company_size,country\n" + "".join(
    f"{i},a{i}@acme.com,VP Sales,software,800,US\n" for i in range(1, 6)
)
EVENTS = "lead_id,type,timestamp\n1,demo_request,2026-11-01T00:00:00Z\n"


# Each refusal runs once as a user runs it (``leadgate``, a process of its own); the setup and
# the variations of a behaviour already seen that way run in this process (``in_process``).
run = in_process


refused = one_line_error


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture(scope="module")
def scored_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store scored up to 2026-11-03 by the CLI (in process): leads, the reference model, one
    event."""
    folder = tmp_path_factory.mktemp("store")
    db = folder / "s.db"
    (folder / "leads.csv").write_text(LEADS)
    (folder / "events.csv").write_text(EVENTS)
    steps = [
        ("load", "leads", str(folder / "leads.csv"), "--as-of", "2026-11-01"),
        ("models", "publish", str(REFERENCE_MODEL), "--as-of", "2026-11-02"),
        ("load", "events", str(folder / "events.csv"), "--as-of", "2026-11-03"),
    ]
    for step in steps:
        done = run(*step, "--db", str(db))
        assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def store(scored_store: Path, tmp_path: Path) -> Path:
    """A copy of the scored store of its own (built once a module: three CLI runs)."""
    db = tmp_path / "s.db"
    for suffix in ("", "-wal", "-shm"):  # a WAL left by the last run travels with the file
        source = scored_store.with_name(scored_store.name + suffix)
        if source.exists():
            shutil.copyfile(source, db.with_name(db.name + suffix))
    return db


def test_a_tick_back_in_time_is_refused_unless_forced(store: Path) -> None:
    history = _count(store, "score_history")
    done = leadgate("tick", "--db", str(store), "--as-of", "2020-01-01")
    refused(done, "--as-of 2020-01-01T00:00:00+00:00", "2026-11-03", "--force")
    assert _count(store, "score_history") == history  # nothing written
    assert run("tick", "--db", str(store), "--as-of", "2026-12-01").returncode == 0
    forced = run("tick", "--db", str(store), "--as-of", "2026-11-05", "--force")
    assert forced.returncode == 0, forced.stderr


def test_a_load_or_publish_that_would_rescore_back_in_time_is_refused(
    store: Path, tmp_path: Path
) -> None:
    more = tmp_path / "more.csv"
    more.write_text("lead_id,type,timestamp\n2,demo_request,2026-10-01T00:00:00Z\n")
    events = _count(store, "events")
    done = leadgate("load", "events", str(more), "--db", str(store), "--as-of", "2026-10-02")
    refused(done, "--as-of 2026-10-02", "backwards", "--force")
    assert _count(store, "events") == events
    other = tmp_path / "m.yaml"
    other.write_text(REFERENCE_MODEL.read_text().replace("version: 1", "version: 2"))
    done = run("models", "publish", str(other), "--db", str(store), "--as-of", "2026-10-02")
    refused(done, "backwards")
    assert run("models", "publish", str(other), "--db", str(store)).returncode == 0


def test_a_second_model_under_a_published_label_is_refused(store: Path, tmp_path: Path) -> None:
    changed = tmp_path / "m.yaml"
    changed.write_text(REFERENCE_MODEL.read_text().replace("threshold: 60 ", "threshold: 61 "))
    versions = _count(store, "model_versions")
    done = leadgate("models", "publish", str(changed), "--db", str(store))
    refused(done, "b2b-inbound version '1' is already published with other content")
    assert _count(store, "model_versions") == versions
    same = run("models", "publish", str(REFERENCE_MODEL), "--db", str(store))
    assert same.returncode == 0 and "nothing to do" in same.stdout  # the same content: a no-op
    assert _count(store, "model_versions") == versions


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from leadgate.synth import generate

    return generate(600, 5, tmp_path_factory.mktemp("synth"))


def _history_args(data: Any) -> list[str]:
    return ["--leads", str(data.leads), "--outcomes", str(data.outcomes), "--events",
            str(data.events), "--accounts", str(data.accounts)]  # fmt: skip


def test_calibrate_writes_a_round_trip_edit_with_a_fresh_label(
    history: Any, tmp_path: Path
) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(REFERENCE_MODEL.read_text())
    (tmp_path / "m-v2.yaml").write_text("# an earlier calibration, still in review\n")
    done = run("calibrate", "--model", str(model), "--min-known", "10", *_history_args(history))
    assert done.returncode == 0, done.stderr
    new = tmp_path / "m-v3.yaml"  # v2 is taken by the file beside it
    before, after = model.read_text().splitlines(), new.read_text().splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert ("version: 1", "version: 3") in changed
    # Only values change: every changed line keeps its key and its comment.
    for old, line in changed:
        assert old.split(":")[0] == line.split(":")[0]
        assert old.partition("#")[2] == line.partition("#")[2]
    assert "# The reference model" in after[0]


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("missing/m2.yaml", ("missing/m2.yaml: folder", "does not exist")),
        (".", ("is a folder",)),
    ],
)
def test_calibrate_checks_out_before_the_replay(
    history: Any, tmp_path: Path, out: str, words: tuple[str, ...]
) -> None:
    # The events file is 0 bytes: a replay would stop on it. --out is checked first.
    empty = tmp_path / "events.csv"
    empty.write_bytes(b"")
    args = ["--leads", str(history.leads), "--outcomes", str(history.outcomes),
            "--events", str(empty)]  # fmt: skip
    target = tmp_path / out
    by = leadgate if out == "." else in_process
    done = by("calibrate", "--model", str(REFERENCE_MODEL), "--out", str(target), *args)
    refused(done, *words)


@pytest.mark.parametrize("engine", ["duckdb", "python", "sqlite"])
def test_outputs_follow_the_umask_on_every_engine(tmp_path: Path, engine: str) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"scores.{fmt}"
        by = leadgate if fmt == "parquet" else in_process  # DuckDB wrote parquet 0644
        done = by("score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine",
                   engine, "--as-of", "2026-11-02", "--out", str(out), umask=0o027)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o640, fmt
    # Replacing a file keeps that file's mode, as a shell redirection does.
    out = tmp_path / "scores.csv"
    out.chmod(0o604)
    done = run("score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine", engine,
               "--as-of", "2026-11-02", "--out", str(out), umask=0o077)  # fmt: skip
    assert done.returncode == 0 and stat.S_IMODE(out.stat().st_mode) == 0o604


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_an_unwritable_out_names_the_users_path(tmp_path: Path, engine: str) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    by = leadgate if engine == "duckdb" else in_process
    done = by(
        "score",
        "-m",
        str(REFERENCE_MODEL),
        "--leads",
        str(leads),
        "--engine",
        engine,
        "--out",
        "/sys/scores.csv",
    )  # fmt: skip (/sys refuses new files, even to root)
    line = refused(done, "/sys/scores.csv")
    assert ".leadgate-" not in line


def test_every_command_refuses_a_missing_output_folder(history: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS)
    model = str(REFERENCE_MODEL)
    commands = {
        "score": ["score", "-m", model, "--leads", str(leads), "--out", f"{missing}/s.csv"],
        "sql": ["sql", "-m", model, "--out", f"{missing}/q.sql"],
        "fit": ["fit", "--data", str(leads), "--target", "x", "--id", "lead_id",
                "--out", f"{missing}/m.yaml"],
        "calibrate": ["calibrate", "--model", model, "--out", f"{missing}/m.yaml",
                      *_history_args(history)],
        "report": ["report", "funnel", "--leads", str(history.leads), "--outcomes",
                   str(history.outcomes), "--chart", f"{missing}/charts"],
        "synth": ["synth", "--leads", "20", "--out", f"{missing}/data"],
    }  # fmt: skip
    for name, args in commands.items():
        by = leadgate if name == "score" else in_process
        done = by(*args)
        refused(done, f"folder {missing}", "does not exist (create it first)")
        assert not missing.parent.exists(), name
