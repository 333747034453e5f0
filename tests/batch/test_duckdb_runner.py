"""DuckDBScorer's deferred lead checks: the same errors, raised from the rows ``copy_to`` wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from leadgate.batch.duckdb_runner import DuckDBScorer
from leadgate.engine import compile_model
from leadgate.errors import IngestError
from leadgate.model import parse_model

MODEL = """
name: m
version: 1
threshold: 1
dimensions:
  fit:
    rules:
      - {name: t, when: {title: {contains: vp}}, points: 5}
  act:
    rules:
      - {name: o, event: open, points: 3}
"""
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _files(tmp_path: Path, lead_lines: list[str]) -> tuple[Path, Path]:
    leads = tmp_path / "l.csv"
    leads.write_text("lead_id,title\n" + "".join(line + "\n" for line in lead_lines))
    events = tmp_path / "e.csv"
    events.write_text("lead_id,type,timestamp\nL1,open,2026-10-30T00:00:00Z\n")
    return leads, events


def _copy(tmp_path: Path, leads: Path, events: Path, check_leads: bool) -> Path:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    out = tmp_path / f"out-{check_leads}.parquet"
    scorer = DuckDBScorer()
    try:
        scorer.mount(leads, events, check_leads=check_leads)
        scorer.copy_to(plan, AS_OF, out)
    finally:
        scorer.close()
    return out


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["L1,vp", "L2,cto", "L1,ceo"], r"l\.csv:4: lead_id: duplicate lead_id 'L1'"),
        (["L1,vp", ",cto", "L3,ceo"], r"l\.csv:3: lead_id: is required"),
    ],
)
@pytest.mark.parametrize("check_leads", [True, False])
def test_bad_leads_raise_the_same_error_checked_before_or_after(
    tmp_path: Path, lines: list[str], message: str, check_leads: bool
) -> None:
    leads, events = _files(tmp_path, lines)
    with pytest.raises(IngestError, match=message):
        _copy(tmp_path, leads, events, check_leads)
    assert list(tmp_path.glob("out-*.parquet")) == []  # no output from a bad file


def test_deferred_check_writes_what_the_checked_path_writes(tmp_path: Path) -> None:
    leads, events = _files(tmp_path, ["L1,vp", "L2,cto", "L3,VP sales"])
    read = "SELECT * FROM read_parquet('{}') ORDER BY input_row"
    checked = duckdb.sql(read.format(_copy(tmp_path, leads, events, True))).fetchall()
    deferred = duckdb.sql(read.format(_copy(tmp_path, leads, events, False))).fetchall()
    assert deferred == checked
    totals = duckdb.sql(
        f"SELECT lead_id, total FROM read_parquet('{tmp_path / 'out-False.parquet'}') "
        "ORDER BY input_row"
    ).fetchall()
    assert totals == [("L1", 8.0), ("L2", 0.0), ("L3", 5.0)]


def test_rows_check_deferred_leads_before_returning_any(tmp_path: Path) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads, events = _files(tmp_path, ["L1,vp", "L1,cto"])
    scorer = DuckDBScorer()
    scorer.mount(leads, events, check_leads=False)
    with pytest.raises(IngestError, match=r"l\.csv:3: lead_id: duplicate lead_id 'L1'"):
        next(scorer.rows(plan, AS_OF))
    scorer.close()


DISTINCT_MODEL = """
name: d
version: 1
threshold: 1
dimensions:
  usage:
    rules:
      - {name: opens, event: open, points: 1}
      - name: breadth
        events: {type: feature_used, measure: {distinct: feature}, min: 2}
        points: 10
"""


def test_each_reader_of_the_events_gets_its_type_filter_in_the_parquet_scan(
    tmp_path: Path,
) -> None:
    """A ``{distinct: PROPERTY}`` measure reads the events a second time; each reader's scan
    still returns only the event types it counts (no shared scan of every row: #16's cost)."""
    leads, events = tmp_path / "l.csv", tmp_path / "e.parquet"
    leads.write_text("lead_id\nL1\nL2\n")
    rows = [("L1", "open"), ("L1", "feature_used"), ("L2", "feature_used")] + [("L2", "view")] * 97
    values = [
        f"('{lead}', '{typ}', '2026-10-30T00:00:00Z', 'f{i % 3}')"
        for i, (lead, typ) in enumerate(rows)
    ]
    duckdb.sql(
        f"SELECT * FROM (VALUES {','.join(values)}) AS t(lead_id, type, timestamp, feature)"
    ).write_parquet(str(events))
    plan = compile_model(parse_model(DISTINCT_MODEL, "d.yaml"))
    scorer = DuckDBScorer()
    try:
        scorer.mount(leads, events, check_leads=False)
        query = scorer.query(plan, AS_OF, sort=False)
        profile = tmp_path / "profile.json"
        scorer.con.execute("PRAGMA enable_profiling='json'")
        scorer.con.execute(f"PRAGMA profiling_output='{profile}'")
        scorer.con.execute(query).fetchall()
        scorer.con.execute("PRAGMA disable_profiling")
    finally:
        scorer.close()
    nodes, scanned = json.loads(profile.read_text())["operator"], []
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("children", []))
        if node.get("name") in ("PARQUET_SCAN", "READ_PARQUET", "TABLE_SCAN"):
            scanned.append(node["intermediate_rows"])
    assert scanned and max(scanned) <= 3, scanned  # 3 opens and features of 100 rows
