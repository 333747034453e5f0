"""``leadgate score`` output written by DuckDB (``batch.write_score_records``) is byte for byte
what ``io.writers`` writes for ``score_file_records``' records, in the leads file's order, whole
or not at all."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from leadgate.batch import score_file_records, top_score_records, write_score_records
from leadgate.engine import compile_model
from leadgate.errors import IngestError
from leadgate.executors import DuckDBOptions
from leadgate.io.writers import write_records
from leadgate.model import parse_model

# Names a writer must escape or quote: quotes, commas, a backslash, a newline, non-ASCII.
MODEL = """
name: 'm "1", b'
version: '2\\\\x'
threshold: 5
floors: {'fit, "f"': 3.25}
dimensions:
  'fit, "f"':
    rules:
      - {name: t, when: {title: {contains: vp}}, points: 4}
  "act\\u00e9 \\\\":
    half_life_days: 7
    rules:
      - {name: o, event: open, points: 3}
require:
  - {name: "work \\"email\\",\\nplease", when: {email: {not_free_email: true}}}
disqualify:
  - {name: "rival; co", when: {email: {domain_in: [rival.io]}}}
segments:
  - {name: 'big, "B"', when: {size: {gte: 100}}, threshold: 20, floors: {"act\\u00e9 \\\\": 1}}
"""
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
LEADS = [
    {"lead_id": "z-last-in-order", "title": "VP", "email": "x@acme.com", "size": 5},
    {"lead_id": 'q"uote,comma', "title": "vp", "email": "x@gmail.com", "size": 500},
    {"lead_id": "back\\slash\ttab\x01ctl", "title": "intern", "email": "x@rival.io"},
    {"lead_id": "new\nline\r", "title": "vp ops", "email": "y@acme.com", "size": 1000},
    {"lead_id": "é€😀", "email": ""},
    {"lead_id": "a", "title": "VP", "email": "z@acme.com", "size": 50},
]
EVENTS = [
    {"lead_id": "z-last-in-order", "type": "open", "timestamp": "2026-10-30T10:00:00Z"},
    {"lead_id": "a", "type": "open", "timestamp": "2026-10-25T00:00:01Z"},
    {"lead_id": "a", "type": "open", "timestamp": "2026-09-01T00:00:00Z"},
    {"lead_id": "new\nline\r", "type": "open", "timestamp": "2026-10-31T23:00:00Z"},
]


def _files(tmp_path: Path, leads: list[dict[str, object]]) -> tuple[Path, Path]:
    lead_file, event_file = tmp_path / "leads.jsonl", tmp_path / "events.jsonl"
    lead_file.write_text("".join(json.dumps(r) + "\n" for r in leads), encoding="utf-8")
    event_file.write_text("".join(json.dumps(r) + "\n" for r in EVENTS), encoding="utf-8")
    return lead_file, event_file


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_file_is_what_the_python_writer_writes(tmp_path: Path, fmt: str) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, events = _files(tmp_path, LEADS)
    records = score_file_records(plan, leads, events, AS_OF)
    assert any(len(r["missing"]) >= 3 for r in records)  # gate, floors and threshold texts
    assert any(r["mql"] for r in records)
    expected, got = tmp_path / f"python.{fmt}", tmp_path / f"duckdb.{fmt}"
    write_records(records, expected, fmt)
    rows, mqls = write_score_records(plan, leads, events, AS_OF, fmt, got)
    assert (rows, mqls) == (len(records), sum(r["mql"] for r in records))
    if fmt == "parquet":
        # DuckDB marks the columns it knows are never NULL; the values and names are the same.
        a, b = pq.read_table(expected), pq.read_table(got)
        assert a.column_names == b.column_names
        assert a.to_pylist() == b.to_pylist()
        assert [f.type for f in a.schema] == [f.type for f in b.schema]
    else:
        assert got.read_bytes() == expected.read_bytes()
    assert not list(tmp_path.glob(".leadgate-*"))  # no temp file left


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_stream_is_what_the_cli_printed_before(tmp_path: Path, fmt: str) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, events = _files(tmp_path, LEADS)
    expected = tmp_path / f"python.{fmt}"
    write_records(score_file_records(plan, leads, events, AS_OF), expected, fmt)
    out = io.StringIO(newline="")
    seen: list[tuple[int, int | None]] = []
    write_score_records(
        plan, leads, events, AS_OF, fmt, None, stream=out, progress=lambda d, t: seen.append((d, t))
    )
    assert out.getvalue() == expected.read_bytes().decode("utf-8")
    assert seen and seen[-1] == (len(LEADS), len(LEADS))


def test_order_is_the_leads_file_order_across_batches(tmp_path: Path) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    ids = [f"L{(i * 7919) % 5003:05d}" for i in range(5003)]  # a permutation, not sorted
    leads, events = _files(tmp_path, [{"lead_id": i, "title": "vp"} for i in ids])
    out = tmp_path / "s.jsonl"
    assert write_score_records(plan, leads, events, AS_OF, "jsonl", out)[0] == len(ids)
    assert [json.loads(line)["lead_id"] for line in out.read_text().splitlines()] == ids


def _permuted_leads(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    ids = [f"L{(i * 7919) % n:07d}" for i in range(n)]  # a permutation, not sorted
    path = tmp_path / "many.csv"
    titles = ["vp" if i % 3 else "intern" for i in range(n)]
    pa_csv.write_csv(pa.table({"lead_id": ids, "title": titles}), path)
    return path, ids


def test_order_is_kept_across_row_groups_and_threads(tmp_path: Path) -> None:
    """The lines are written without a sort of their own (the scored rows are sorted before):
    order must survive several Parquet row groups (122,880 rows each) read by several threads,
    in a file after the CSV header (``copy_lines``) and on a stream (``stream_lines``)."""
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, ids = _permuted_leads(tmp_path, 300_000)
    options = DuckDBOptions(threads=4)
    out = tmp_path / "s.csv"
    write_score_records(plan, leads, None, AS_OF, "csv", out, options=options)
    with out.open(newline="", encoding="utf-8") as f:
        assert [row["lead_id"] for row in csv.DictReader(f)] == ids
    stream = io.StringIO(newline="")
    write_score_records(plan, leads, None, AS_OF, "jsonl", None, options=options, stream=stream)
    assert [json.loads(line)["lead_id"] for line in stream.getvalue().splitlines()] == ids


def test_a_bad_leads_file_writes_nothing(tmp_path: Path) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, events = _files(tmp_path, [*LEADS, {"lead_id": "a", "title": "again"}])
    out = tmp_path / "s.csv"
    out.write_text("the previous output\n")
    with pytest.raises(IngestError) as err:
        write_score_records(plan, leads, events, AS_OF, "csv", out)
    assert "duplicate lead_id 'a'" in str(err.value) and err.value.line == 7
    assert out.read_text() == "the previous output\n"
    assert not list(tmp_path.glob(".leadgate-*"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_leads_file_without_rows_is_refused_and_writes_nothing(tmp_path: Path, fmt: str) -> None:
    # A header alone is an export that went wrong: there is nothing to score (issue 14).
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,title\n")
    got = tmp_path / f"duckdb.{fmt}"
    with pytest.raises(IngestError, match=r"leads.csv:2: no rows after the header"):
        write_score_records(plan, leads, None, AS_OF, fmt, got)
    assert not got.exists() and not list(tmp_path.glob(".leadgate-*"))


@pytest.mark.parametrize("limit", [0, 3, 100])
def test_top_records_are_the_tables_rows(tmp_path: Path, limit: int) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    ties = [{"lead_id": f"tie{i}", "title": "vp", "email": "t@acme.com"} for i in range(4)]
    leads, events = _files(tmp_path, [*LEADS, *ties])
    records = score_file_records(plan, leads, events, AS_OF)
    expected = sorted(records, key=lambda r: (not r["mql"], -r["total"]))[:limit]
    top, total, mqls = top_score_records(plan, leads, events, AS_OF, limit)
    assert top == expected
    assert (total, mqls) == (len(records), sum(r["mql"] for r in records))


BAD_EVENTS = {
    "no lead": ({"lead_id": "", "type": "open", "timestamp": "2026-10-30T00:00:00Z"}, "lead_id"),
    "no type": ({"lead_id": "a", "type": " \t", "timestamp": "2026-10-30T00:00:00Z"}, "type"),
    "bad time": ({"lead_id": "a", "type": "open", "timestamp": "yesterday"}, "timestamp"),
    "no time": ({"lead_id": "a", "type": "open", "timestamp": None}, "timestamp"),
    # Of a type no rule counts, for a lead the leads file lacks, in the future: still refused.
    "bad time, uncounted": (
        {"lead_id": "nobody", "type": "fax", "timestamp": "2099-13-01T00:00:00Z"},
        "timestamp",
    ),
}


@pytest.mark.parametrize("bad", list(BAD_EVENTS))
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("events_format", ["jsonl", "csv"])
def test_a_bad_event_row_is_found_in_the_scoring_pass(
    tmp_path: Path, bad: str, fmt: str, events_format: str
) -> None:
    """No scan of the events for the checks: the scoring pass counts the refused rows, and
    the error is the one the separate check gives (file, line, field), with nothing written.
    CSV too, where DuckDB may push the time cast into its reader, which then fails itself."""
    import csv

    from leadgate.batch.duckdb_runner import DuckDBScorer

    plan = compile_model(parse_model(MODEL, "m.yaml"))
    row, field = BAD_EVENTS[bad]
    leads, events = _files(tmp_path, LEADS)
    if events_format == "csv":
        events = tmp_path / "events.csv"
        with events.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["lead_id", "type", "timestamp"])
            writer.writeheader()
            writer.writerows([*EVENTS, row])
    else:
        with events.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    scorer = DuckDBScorer()
    scorer.mount(leads, events)
    with pytest.raises(IngestError) as expected:
        scorer.check_events()
    scorer.close()
    out = tmp_path / f"s.{fmt}"
    with pytest.raises(IngestError) as got:
        write_score_records(plan, leads, events, AS_OF, fmt, out)
    assert str(got.value) == str(expected.value)
    header = 1 if events_format == "csv" else 0
    assert (got.value.field, got.value.line) == (field, len(EVENTS) + 1 + header)
    assert not out.exists() and not list(tmp_path.glob(".leadgate-*"))
    with pytest.raises(IngestError) as top:
        top_score_records(plan, leads, events, AS_OF, 3)
    assert str(top.value) == str(expected.value)


def test_good_events_are_not_scanned_a_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadgate.batch.duckdb_runner import DuckDBScorer

    def no_scan(self: DuckDBScorer) -> None:
        raise AssertionError("check_events scanned the events again")

    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, events = _files(tmp_path, LEADS)
    expected = tmp_path / "python.jsonl"
    write_records(score_file_records(plan, leads, events, AS_OF), expected, "jsonl")
    monkeypatch.setattr(DuckDBScorer, "check_events", no_scan)
    out = tmp_path / "s.jsonl"
    assert write_score_records(plan, leads, events, AS_OF, "jsonl", out)[0] == len(LEADS)
    assert out.read_bytes() == expected.read_bytes()
