"""engine/sql_events.py: the event half of the query (which events count, top-N, decay), run on
DuckDB over small tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from factories import AS_OF, plan_of
from leadgate.engine.sql import InputShape, compile_query, matches_query

PLAN = plan_of(
    {
        "dimensions": {
            "engagement": {
                "rules": [
                    {
                        "name": "opens",
                        "event": "open",
                        "points": 8,
                        "half_life_days": 10,
                        "max_count": 2,
                    },
                    {"name": "clicks", "event": "click", "points": 1},
                ]
            }
        }
    }
)
EVENTS = [
    ("e1", "L1", "open", "2026-10-31T00:00:00Z"),
    ("e2", "L1", "open", "2026-10-22T00:00:00Z"),  # 10 days old
    ("e3", "L1", "open", "2026-10-12T00:00:00Z"),  # third most recent: not counted
    ("e4", "L1", "open", "2026-11-02T00:00:00Z"),  # after as_of: does not exist
    ("e5", "L1", "view", "2026-10-31T00:00:00Z"),  # no rule counts views
    ("e6", "L1", "click", "2026-10-30T00:00:00Z"),
]


@pytest.fixture
def con() -> Any:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE leads AS SELECT * FROM (VALUES ('L1'), ('L2')) AS t(lead_id)")
    con.execute(
        'CREATE TABLE events (event_id TEXT, lead_id TEXT, type TEXT, "timestamp" TIMESTAMPTZ)'
    )
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", EVENTS)
    yield con
    con.close()


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_the_n_most_recent_events_count_each_with_its_own_decay(con: Any) -> None:
    shape = InputShape(lead_columns={}, event_columns={})
    rows = {r["lead_id"]: r for r in _rows(con, compile_query(PLAN, AS_OF).sql("duckdb"))}
    opens, clicks = PLAN.rules
    l1 = rows["L1"]
    assert l1[f"events_{opens.key}"] == 2
    # 1 day old and 10 days old: 8 * 0.5**0.1 + 8 * 0.5
    assert l1[f"points_{opens.key}"] == pytest.approx(8 * 0.5**0.1 + 4, abs=1e-9)
    assert l1[f"points_{clicks.key}"] == 1.0
    assert rows["L2"][f"events_{opens.key}"] == 0 and rows["L2"]["total"] == 0.0
    assert "top_" + opens.key in compile_query(PLAN, AS_OF, shape=shape).sql("duckdb")


def test_only_counted_types_at_or_before_as_of_reach_the_matches(con: Any) -> None:
    shape = InputShape(lead_columns={}, event_columns={}, lead="L1")
    query = matches_query(PLAN, AS_OF, "duckdb", shape)
    assert query is not None
    found = {r["eid"]: r for r in _rows(con, query.sql("duckdb"))}
    assert sorted(found) == ["e1", "e2", "e3", "e6"]
    opens = PLAN.rules[0].key
    assert [e for e, r in sorted(found.items()) if r[f"hit_{opens}"]] == ["e1", "e2", "e3"]


def test_without_event_rules_there_are_no_matches() -> None:
    plan = plan_of(
        {"dimensions": {"fit": {"rules": [{"name": "vp", "when": {"t": "vp"}, "points": 1}]}}}
    )
    shape = InputShape(lead_columns={}, event_columns={}, lead="L1")
    assert matches_query(plan, datetime(2026, 11, 1, tzinfo=UTC), "duckdb", shape) is None
