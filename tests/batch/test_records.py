"""The fast record path (``record_maker`` on the query's record columns) against ``Score.to_record``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from leadgate.batch import score_file_records
from leadgate.batch.duckdb_runner import DuckDBScorer
from leadgate.batch.records import record_columns, record_maker, score_from_row
from leadgate.engine import compile_model
from leadgate.engine.record_spec import NAMES
from leadgate.model import parse_model

MODEL = """
name: m
version: 1
threshold: 10.5
floors: {fit: 3.25}
dimensions:
  fit:
    rules:
      - {name: t, when: {title: {contains: vp}}, points: 4}
  act:
    half_life_days: 7
    rules:
      - {name: o, event: open, points: 3}
require:
  - {name: work email, when: {email: {not_free_email: true}}}
disqualify:
  - {name: rival, when: {email: {domain_in: [rival.io]}}}
segments:
  - {name: big, when: {size: {gte: 100}}, threshold: 20, floors: {act: 1}}
"""
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def test_fast_records_equal_score_records(tmp_path: Path) -> None:
    plan = compile_model(parse_model(MODEL, "m.yaml"))
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,title,email,size\n"
        "a,VP sales,x@acme.com,5\n"
        "b,intern,x@gmail.com,500\n"
        "c,vp,x@rival.io,\n"
        "d,,,\n"
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,lead_id,type,timestamp\n"
        "1,a,open,2026-10-30T00:00:00Z\n2,b,open,2026-10-01T00:00:00Z\n"
    )
    scorer = DuckDBScorer()
    scorer.mount(leads, events)
    full = list(scorer.rows(plan, AS_OF))
    narrow = list(scorer.rows(plan, AS_OF, columns=record_columns(plan)))
    scorer.close()
    make = record_maker(plan, AS_OF)
    expected = [score_from_row(plan, row, AS_OF).to_record() for row in full]
    assert [make(row) for row in narrow] == expected
    # every producer writes record_spec.RECORD's fields in its order
    assert all(list(make(row)) == list(NAMES) for row in narrow)
    assert all(list(r) == list(NAMES) for r in expected)
    assert any(len(r["missing"]) >= 3 for r in expected)  # floors, gate and threshold texts
    assert score_file_records(plan, leads, events, AS_OF) == expected
