"""``leadgate sql``: the printed query runs as documented and scores like the Python executor."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from factories import AS_OF, REFERENCE_MODEL, ev
from leadgate.cli import _register, app
from leadgate.engine import compile_model, score_lead
from leadgate.model import load_model

_register()
runner = CliRunner()


def test_printed_duckdb_query_runs_on_documented_tables() -> None:
    res = runner.invoke(app, ["sql", "-m", str(REFERENCE_MODEL), "--as-of", AS_OF.isoformat()])
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert text.startswith('-- leadgate scoring query: model "b2b-inbound"')
    assert '--   "company_size"' in text and '--   "url" (event property' in text
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE leads (lead_id INTEGER, title TEXT, industry TEXT, company_size INTEGER,"
        " country TEXT, email TEXT)"
    )
    con.execute(
        "INSERT INTO leads VALUES (1, 'VP Sales', 'software', 300, 'US', 'a@acme.com'),"
        " (2, 'Engineer', 'retail', 10, 'FR', 'b@gmail.com')"
    )
    con.execute(
        "CREATE TABLE events (event_id TEXT, lead_id INTEGER, type TEXT, timestamp TIMESTAMP, url TEXT)"
    )
    events = [
        ev("demo_request", 2, "d1"),
        ev("webinar_attended", 10, "w1"),
        ev("page_view", 1, "p1", url="/pricing"),
    ]
    for e in events:
        con.execute(
            "INSERT INTO events VALUES (?, 1, ?, ?, ?)",
            [e.event_id, e.type, e.timestamp.replace(tzinfo=None), e.properties.get("url")],
        )
    rows = con.execute(text).fetchall()
    names = [d[0] for d in con.description]
    got = {r[0]: dict(zip(names, r, strict=True)) for r in rows}
    plan = compile_model(load_model(REFERENCE_MODEL))
    lead1 = {
        "title": "VP Sales",
        "industry": "software",
        "company_size": 300,
        "country": "US",
        "email": "a@acme.com",
    }
    expected = score_lead(plan, lead1, events, AS_OF, "1")
    assert got["1"]["total"] == pytest.approx(expected.total, abs=1e-9)
    assert got["1"]["mql"] is expected.mql is True
    assert got["2"]["check_g0"] is False  # a free mailbox fails the business-email gate


@pytest.mark.parametrize("dialect", ["postgres", "sqlite", "spark", "snowflake", "bigquery"])
def test_every_dialect_prints(dialect: str, tmp_path: Path) -> None:
    out = tmp_path / "q.sql"
    res = runner.invoke(
        app,
        ["sql", "-m", str(REFERENCE_MODEL), "-d", dialect, "--as-of", "2026-11-01", "-o", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "WITH ev AS" in out.read_text()


def test_unknown_dialect_is_one_line() -> None:
    res = runner.invoke(app, ["sql", "-m", str(REFERENCE_MODEL), "-d", "oracle"])
    assert res.exit_code != 0
    assert "--dialect: expected one of duckdb, postgres" in str(res.exception) + res.output


def test_score_defaults_to_duckdb_and_prints_python_records(tmp_path: Path) -> None:
    import json

    leads = tmp_path / "leads.csv"
    leads.write_text(
        "lead_id,title,email,company_size\n1,VP Sales,a@acme.com,300\n2,Intern,b@gmail.com,10\n"
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "lead_id,type,timestamp\n1,demo_request,2026-10-30T10:00:00Z\n1,demo_request,2026-10-31T10:00:00Z\n"
    )
    base = ["score", "-m", str(REFERENCE_MODEL), "--leads", str(leads), "--events", str(events)]
    base += ["--as-of", "2026-11-01", "-f", "jsonl"]
    sql = runner.invoke(app, base)
    py = runner.invoke(app, [*base, "--engine", "python"])
    assert sql.exit_code == 0 and py.exit_code == 0, sql.output + py.output
    a = [json.loads(line) for line in sql.stdout.splitlines()]
    b = [json.loads(line) for line in py.stdout.splitlines()]
    assert [r["lead_id"] for r in a] == ["1", "2"]
    for x, y in zip(a, b, strict=True):
        assert x["mql"] == y["mql"] and x["missing"] == y["missing"]
        assert x["total"] == pytest.approx(y["total"], abs=1e-9)
