"""Tables fit 80 columns without cutting a value; ``--wide`` shows every column.

The commands run as a user runs them (a subprocess with ``COLUMNS=80``, output piped: the first
run of each test; the others through the same ``leadgate.cli.main`` in this process); the
fitting rule itself is a property over random tables and widths.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from cli_helpers import in_process, leadgate
from factories import REFERENCE_MODEL
from leadgate.cli.tables import print_table


def run(*args: str, columns: int = 80, process: bool = False) -> subprocess.CompletedProcess[str]:
    """``leadgate ARGS`` with ``COLUMNS`` set, output piped: a process of its own (the first run
    of each test, as a user runs it) or in this process (the test's other runs)."""
    res = (leadgate if process else in_process)(*args, env={"COLUMNS": str(columns)})
    assert res.returncode == 0, res.stderr
    return res


def assert_fits(out: str, width: int = 80) -> None:
    too_wide = [line for line in out.splitlines() if cell_len(line) > width]
    assert not too_wide, too_wide
    assert "…" not in out  # no value cut short


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from leadgate.synth import generate

    return generate(300, 3, tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def db(data: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    from datetime import UTC, datetime

    from leadgate.service import load_file, publish_model
    from leadgate.store import open_store

    url = str(tmp_path_factory.mktemp("store") / "leadgate.db")
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    with open_store(url) as store:
        publish_model(store, REFERENCE_MODEL, actor="test", as_of=as_of)
        for kind in ("accounts", "leads", "events", "outcomes"):
            load_file(store, kind, getattr(data, kind), as_of=as_of)
    return url


def test_report_funnel_fits_80_columns_and_wide_shows_every_column(data: Any, db: str) -> None:
    # one run per source (each a subprocess): narrow from the store, --wide from files
    narrow = run("report", "funnel", "--by", "channel", "--db", db, process=True).stdout
    assert_fits(narrow)
    assert "left out to fit 80 columns: " in narrow and "revenue" in narrow.split("left out")[1]
    files = ["--leads", str(data.leads), "--outcomes", str(data.outcomes)]
    wide = run("report", "funnel", "--by", "channel", "--wide", *files).stdout
    header = next(line for line in wide.splitlines() if "leads" in line and "MQLs" in line)
    assert "revenue" in header and "MQL→won" in header
    assert "left out" not in wide and "…" not in wide


def test_store_tables_keep_timestamps_whole(db: str) -> None:
    models = run("models", "list", "--db", db, process=True).stdout
    assert_fits(models)
    assert "099a51541aa62bcf" in models  # the hash is kept, the publisher is left out first
    assert "published at" in models and "T" in models.split("published at")[1]
    queue = run("queue", "--db", db, "--as-of", "2026-11-01", "--limit", "5").stdout
    assert_fits(queue)
    lead = re.findall(r"L\d{7}", queue)[0]
    shown = run("leads", "show", lead, "--db", db).stdout
    assert_fits(shown)
    assert "+00:00" in shown  # a whole ISO timestamp, seconds and offset included


def test_score_and_explain_tables_fit(data: Any) -> None:
    files = ["--model", str(REFERENCE_MODEL), "--leads", str(data.leads), "--events",
             str(data.events), "--as-of", "2026-11-01"]  # fmt: skip
    assert_fits(run("score", *files, process=True).stdout)
    explained = run("explain", "L0000042", *files).stdout
    assert_fits(explained)
    assert "target industry" in explained or "senior title" in explained  # rule names whole


def test_nothing_on_stderr_but_what_is_said(data: Any, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    res = run("score", "--model", str(REFERENCE_MODEL), "--leads", str(data.leads), "--out",
              str(out), "--as-of", "2026-11-01", process=True)  # fmt: skip
    assert res.stderr.startswith("wrote ") and res.stderr.count("\n") == 1
    # both by process: a stray line could come from below Python (a library writing to fd 2)
    res = run("report", "funnel", "--leads", str(data.leads), "--outcomes", str(data.outcomes),
              process=True)  # fmt: skip
    assert res.stderr == ""


words = st.text(alphabet="abcdefghij0123456789.,%-:", min_size=1, max_size=14)
cells = st.lists(words, min_size=1, max_size=3).map(" ".join)


@given(
    rows=st.integers(1, 4).flatmap(
        lambda n: st.lists(st.lists(cells, min_size=n, max_size=n), min_size=1, max_size=4)
    ),
    width=st.integers(30, 120),
)
def test_every_kept_cell_is_whole_and_the_table_fits(rows: list[list[str]], width: int) -> None:
    table = Table(*(f"c{i}" for i in range(len(rows[0]))))
    for row in rows:
        table.add_row(*row)
    console = Console(width=width, record=True, color_system=None)
    with console.capture() as cap:
        print_table(console, table)
    out = cap.get()
    lines = out.splitlines()
    assert all(cell_len(line) <= width for line in lines)
    kept = [c.header for c in table.columns]
    assert kept[0] == "c0"  # the first column is never left out
    for row in rows:
        for i, text in enumerate(row):
            if f"c{i}" in kept:  # a kept cell: each of its words is on some line, whole
                assert all(any(w in line for line in lines) for w in text.split())
    if len(kept) < len(rows[0]):  # the note says so (wrapped at the width like the table)
        assert "--wide shows them" in " ".join(out.split())


def test_store_charts_are_named_by_their_grouping(db: str, tmp_path: Path) -> None:
    # Several model versions in the store and no --by: the bars are the versions, and the file
    # says so (it was conversion_by_channel.png); the funnel chart's title says it pools them.
    res = run("report", "funnel", "--db", db, "--chart", str(tmp_path), "--format", "json",
              process=True)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "conversion_by_model_version.png", "funnel.png",
    ]  # fmt: skip
    assert "conversion_by_model_version.png" in res.stderr
