"""Typed Parquet timestamps (as real users' files have them) score like ISO-8601 text on DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from leadgate.batch import score_file_records
from leadgate.batch.duckdb_runner import DuckDBScorer
from leadgate.engine import compile_model
from leadgate.model import parse_model

MODEL = """
name: m
version: 1
threshold: 1
dimensions:
  act:
    half_life_days: 10
    rules:
      - {name: o, event: open, points: 3, within_days: 20}
"""
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
STAMPS = ["2026-10-30 06:30:00", "2026-10-02 00:00:00", "2026-11-02 00:00:00"]


@pytest.mark.parametrize(
    "sql_type", ["TEXT", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_MS", "TIMESTAMP_NS"]
)
def test_typed_timestamps_score_as_text_does(tmp_path: Path, sql_type: str) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id\na\nb\n")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    values = ", ".join(
        f"('{i}', '{'b' if i else 'a'}', 'open', '{s}+00')" for i, s in enumerate(STAMPS)
    )
    stamp = (
        "replace(replace(ts, ' ', 'T'), '+00', 'Z')"
        if sql_type == "TEXT"
        else f"CAST(CAST(ts AS TIMESTAMPTZ) AS {sql_type})"
    )
    events = tmp_path / "events.parquet"
    con.execute(
        f"COPY (SELECT id AS event_id, lead AS lead_id, typ AS type, {stamp} AS timestamp "
        f"FROM (VALUES {values}) v(id, lead, typ, ts)) TO '{events}' (FORMAT parquet)"
    )
    stored = con.execute(f"SELECT typeof(timestamp) FROM '{events}' LIMIT 1").fetchone()
    assert stored is not None
    assert (stored[0] == "VARCHAR") == (sql_type == "TEXT"), stored  # typed columns stay typed
    con.close()
    scorer = DuckDBScorer()
    scorer.mount(leads, events)
    scorer.check_events()  # typed times are readable times
    scorer.close()
    got = {r["lead_id"]: r["scores"]["act"] for r in score_file_records(plan, leads, events, AS_OF)}
    # a: 1.73 days old (counted), b: 30 days old (outside within_days); the future one never counts
    assert got["a"] == pytest.approx(3 * 0.5 ** ((1 + 17.5 / 24) / 10), abs=1e-9)
    assert got["b"] == 0.0
