"""Bad input files as a user meets them: ``leadgate score`` on every engine and ``leadgate load``
print one line naming the file, the line and the problem, exit 1, and write nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cli_helpers import in_process, leadgate, one_line_error
from factories import REFERENCE_MODEL
from leadgate.batch.spark_runner import spark_available
from store_helpers import PG_URL

HEADER = "lead_id,email,title,industry,company_size,country"
ROWS = [f"{i},a{i}@acme.com,Director,software,800,US" for i in range(1, 61)]
EVENTS = (
    "lead_id,type,timestamp\n1,email_open,2026-11-01T00:00:00Z\n2,email_open,2026-11-01T00:00:00Z\n"
)
ENGINES = [
    "duckdb",
    "python",
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set"),
        ],
    ),
]


def _text(lines: list[str]) -> bytes:
    return "\n".join(lines).encode()


# byte 0xe9 on line 51 (issue 14: the Python reader said 42, DuckDB printed a traceback)
BAD_BYTE = _text([HEADER, *ROWS]).replace(
    b"50,a50@acme.com,Director", b"50,a50@acme.com,Dir\xe9ctor"
)
BAD_LEADS = {
    "not UTF-8": (BAD_BYTE, "leads.csv:51: not UTF-8 text: byte 0xe9 at column 20"),
    "0 bytes": (b"", "leads.csv:1: the file is empty (0 bytes)"),
    "header only": (_text([HEADER, ""]), "leads.csv:2: no rows after the header"),
    "truncated": (_text([HEADER, *ROWS[:3]])[:-9], "leads.csv:4: expected 6 columns, found 4"),
    "wrong delimiter": (
        _text([r.replace(",", "|") for r in [HEADER, *ROWS]]),
        "leads.csv:1: no lead_id column in the header (the header reads as one column: "
        "is the file delimited by '|'?",
    ),
}


# One case runs as a user runs it (a process of its own, on every engine and in ``load``); the
# other cases are the same rendering of a different reader error, run in this process.
BY_PROCESS = "not UTF-8"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(BAD_LEADS))
def test_score_names_the_bad_line_on_every_engine(tmp_path: Path, case: str, engine: str) -> None:
    content, expected = BAD_LEADS[case]
    leads = tmp_path / "leads.csv"
    leads.write_bytes(content)
    out = tmp_path / "scores.csv"
    run = leadgate if case == BY_PROCESS else in_process
    done = run(
        "score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine", engine,
        "--as-of", "2026-11-02", "--out", str(out),
    )  # fmt: skip
    one_line_error(done, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv"]  # no output, no temp file


@pytest.mark.parametrize("engine", ENGINES)
def test_score_names_a_bad_byte_in_the_events(tmp_path: Path, engine: str) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("\n".join([HEADER, *ROWS[:3]]) + "\n")
    events = tmp_path / "events.csv"
    events.write_bytes(EVENTS.encode().replace(b"2,email_open", b"2,email_\xffopen"))
    # DuckDB's own CSV error (a traceback before issue 14) by process; the others in process.
    run = leadgate if engine == "duckdb" else in_process
    done = run(
        "score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--events", str(events),
        "--engine", engine, "--as-of", "2026-11-02", "-f", "jsonl",
    )  # fmt: skip
    one_line_error(done, "events.csv:3: not UTF-8 text: byte 0xff at column 9")
    assert done.stdout == ""


@pytest.mark.parametrize("engine", ENGINES)
def test_bom_and_crlf_score_like_a_clean_file(tmp_path: Path, engine: str) -> None:
    clean, odd = tmp_path / "clean.csv", tmp_path / "odd.csv"
    lines = [HEADER, *ROWS[:5]]
    clean.write_text("\n".join(lines) + "\n")
    odd.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    outputs = []
    for leads in (clean, odd):
        # The odd file on the default engine as a user runs it; the rest in process.
        run = leadgate if leads is odd and engine == "duckdb" else in_process
        done = run(
            "score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine", engine,
            "--as-of", "2026-11-02", "-f", "csv",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 6


@pytest.mark.parametrize("case", list(BAD_LEADS))
def test_load_names_the_bad_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    content, expected = BAD_LEADS[case]
    leads = tmp_path / "leads.csv"
    leads.write_bytes(content)
    db = tmp_path / "store.db"
    run = leadgate if case == BY_PROCESS else in_process
    done = run("load", "leads", str(leads), "--db", str(db))
    if case == "header only":  # a day without new leads: nothing to load, not an error
        assert done.returncode == 0 and "0 row(s)" in done.stdout, done.stderr
        return
    one_line_error(done, expected)
    if db.exists():
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT count(*) FROM leads").fetchone() == (0,)


@pytest.mark.spark
@pytest.mark.skipif(not spark_available(), reason="PySpark or Java is not installed")
@pytest.mark.parametrize("case", ["not UTF-8", "truncated", "wrong delimiter"])
def test_score_names_the_bad_line_on_spark(tmp_path: Path, case: str) -> None:
    # "truncated" is found by Spark's own job (FAILFAST), then named by the Python reader. It
    # runs in this process, on the worker's Spark session: a process of its own would start a
    # JVM (the costliest thing in the suite) to test the same rendering of the error as the
    # other two cases, which are refused before Spark starts and run as real processes.
    content, expected = BAD_LEADS[case]
    leads = tmp_path / "leads.csv"
    leads.write_bytes(content)
    out = tmp_path / "scores.csv"
    args = (
        "score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--engine", "spark",
        "--as-of", "2026-11-02", "--out", str(out),
    )  # fmt: skip
    done = in_process(*args) if case == "truncated" else leadgate(*args)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and expected in errors[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.csv"]
