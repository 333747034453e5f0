"""Readers: formats, type inference, nested fields, accounts, located errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadgate.errors import IngestError
from leadgate.io import Position, iter_events, read_events, read_leads, write_records
from leadgate.io.formats import infer_cell


def test_infer_cell_round_trips_numbers_only() -> None:
    assert infer_cell("200") == 200
    assert infer_cell("-3") == -3
    assert infer_cell("12.5") == 12.5
    assert infer_cell("007") == "007"
    assert infer_cell("12.50") == "12.50"
    assert infer_cell("1e3") == "1e3"
    assert infer_cell("") is None
    assert infer_cell("US") == "US"


def test_csv_leads_with_accounts(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("account_id,industry,employees\nA1,software,800\n")
    (tmp_path / "l.csv").write_text(
        "lead_id,account_id,email,company_size\n1,A1,x@y.com,250\n2,,z@w.com,\n"
    )
    leads = read_leads(tmp_path / "l.csv", tmp_path / "a.csv")
    assert leads[0] == {
        "lead_id": "1",
        "account_id": "A1",
        "email": "x@y.com",
        "company_size": 250,
        "account.industry": "software",
        "account.employees": 800,
    }
    assert leads[1] == {"lead_id": "2", "email": "z@w.com"}


def test_jsonl_nested_objects_flatten(tmp_path: Path) -> None:
    p = tmp_path / "l.jsonl"
    p.write_text(json.dumps({"lead_id": 7, "account": {"industry": "fintech"}}) + "\n")
    assert read_leads(p) == [{"lead_id": "7", "account.industry": "fintech"}]


def test_bad_rows_name_file_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text(
        "lead_id,type,timestamp\n1,email_open,2026-01-01T00:00:00Z\n2,email_open,yesterday\n"
    )
    with pytest.raises(IngestError, match=r"e\.csv:3: timestamp: expected an ISO 8601 timestamp"):
        read_events(p)
    p.write_text("lead_id,type,timestamp\n1,,2026-01-01\n")
    with pytest.raises(IngestError, match=r"e\.csv:2: type: is required"):
        read_events(p)
    q = tmp_path / "l.csv"
    q.write_text("lead_id,email\n1,a@b.c\n1,c@d.e\n")
    with pytest.raises(IngestError, match=r"l\.csv:3: lead_id: duplicate lead_id '1'"):
        read_leads(q)
    q.write_text("lead_id,email\n1,a@b.c,extra\n")
    with pytest.raises(IngestError, match=r"l\.csv:2: expected 2 columns, found 3"):
        read_leads(q)
    j = tmp_path / "l.jsonl"
    j.write_text('{"lead_id": 1}\n{oops}\n')
    with pytest.raises(IngestError, match=r"l\.jsonl:2: not valid JSON"):
        read_leads(j)
    with pytest.raises(IngestError, match=r"cannot tell the format"):
        read_leads(tmp_path / "x.xlsx")


def test_events_timestamps_zones_and_ids(tmp_path: Path) -> None:
    p = tmp_path / "e.csv"
    p.write_text(
        "lead_id,type,timestamp,url\n"
        "1,page_view,2026-01-01T10:00:00,/pricing\n"
        "1,page_view,2026-01-01T12:00:00+02:00,/pricing\n"
    )
    a, b = read_events(p)
    assert a.timestamp == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert b.timestamp == a.timestamp
    assert a.properties == {"url": "/pricing"}
    # Derived ids depend on content only, so the same row always gets the same id.
    assert a.event_id == b.event_id
    assert read_events(p)[0].event_id == a.event_id


def test_parquet_events(tmp_path: Path) -> None:
    table = pa.table(
        {
            "event_id": ["e1"],
            "lead_id": ["1"],
            "type": ["demo_request"],
            "timestamp": pa.array([datetime(2026, 2, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
            "asset": [None],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    (e,) = read_events(tmp_path / "e.parquet")
    assert (
        e.event_id == "e1"
        and e.timestamp == datetime(2026, 2, 1, tzinfo=UTC)
        and e.properties == {}
    )


def test_write_records_formats(tmp_path: Path) -> None:
    recs = [
        {
            "lead_id": "1",
            "scores": {"fit": 5.0},
            "total": 5.0,
            "mql": False,
            "missing": ["a", "b"],
            "model": {"name": "m"},
        }
    ]
    assert write_records(recs, tmp_path / "o.jsonl", "jsonl") == 1
    assert json.loads((tmp_path / "o.jsonl").read_text()) == recs[0]
    write_records(recs, tmp_path / "o.csv", "csv")
    assert (tmp_path / "o.csv").read_text().splitlines()[
        0
    ] == "lead_id,score_fit,total,mql,missing,model_name"
    write_records(recs, tmp_path / "o.parquet", "parquet")
    assert pq.read_table(tmp_path / "o.parquet").column("score_fit").to_pylist() == [5.0]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_iter_events_reads_as_asked_and_fails_where_the_bad_row_is(
    tmp_path: Path, suffix: str
) -> None:
    rows = [{"lead_id": f"L{i}", "type": "open", "timestamp": "2026-02-01"} for i in range(3000)]
    rows[-1]["timestamp"] = "soon"
    path = tmp_path / f"e{suffix}"
    if suffix == ".csv":
        path.write_text(
            "lead_id,type,timestamp\n"
            + "".join(f"{r['lead_id']},open,{r['timestamp']}\n" for r in rows)
        )
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=3000)  # one row group
    position = Position()
    events = iter_events(path, position)
    first = [next(events) for _ in range(10)]  # the bad last row is not reached yet
    assert [e.lead_id for e in first] == [f"L{i}" for i in range(10)]
    assert 0 < position.fraction() < 1
    with pytest.raises(IngestError, match=rf"e{suffix}:\d+: timestamp: expected an ISO 8601"):
        list(events)
    assert position.fraction() == 1.0
