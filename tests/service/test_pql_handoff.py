"""A PQL hands off like an MQL: a cycle in the queue with its SLA, a ``lead.mql`` webhook
message naming what qualified it, never a second cycle while one is live; the cycle records
``qualified_by`` (``mql``, ``pql`` or ``mql+pql``), on the per-lead and the batch paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leadgate.engine import Event
from leadgate.lifecycle.stages import qualified_by
from leadgate.service import get_lead, ingest_events, publish_model, upsert_lead
from leadgate.store import Store
from leadgate.store.schema import mql_cycles, outbox

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
# MQL: a VP (20) with a demo (20) reaches 30. PQL: an upgrade, or 3 active days in a week,
# for a lead with some fit.
PQL_MODEL = """\
name: pql
version: 1
threshold: 30
sla_hours: 4
dimensions:
  fit:
    rules:
      - {name: vp, when: {title: {contains: vp}}, points: 20}
      - {name: manager, when: {title: {contains: manager}}, points: 5}
  engagement:
    rules:
      - {name: demo, event: demo_request, points: 20}
pql:
  signals:
    - {name: upgrade, events: {type: plan_upgraded}}
    - {name: active, events: {type: session_start, within_days: 7, measure: distinct_days, min: 3}}
  require: [{name: some fit, when: {score.fit: {gt: 0}}}]
"""


def test_qualified_by() -> None:
    assert qualified_by(True, False) == "mql"
    assert qualified_by(False, True) == "pql"
    assert qualified_by(True, True) == "mql+pql"
    assert qualified_by(False, False) is None


def _ev(lead: str, type_: str, days_ago: float, n: int) -> Event:
    return Event(lead, type_, AS_OF - timedelta(days=days_ago), f"{lead}-{n}", {})


def _cycles(store: Store) -> dict[str, list[tuple[int, str | None, str]]]:
    out: dict[str, list[tuple[int, str | None, str]]] = {}
    with store.engine.connect() as conn:
        q = select(mql_cycles.c.lead_id, mql_cycles.c.cycle, mql_cycles.c.qualified_by,
                   mql_cycles.c.stage).order_by(mql_cycles.c.lead_id, mql_cycles.c.cycle)  # fmt: skip
        for row in conn.execute(q):
            out.setdefault(row.lead_id, []).append((row.cycle, row.qualified_by, row.stage))
    return out


LEADS = {
    "mql": {"title": "VP Sales"},  # VP + demo: 40, no signal
    "pql": {"title": "Product Manager"},  # 5 points; upgraded
    "both": {"title": "VP Product"},  # VP + demo, and active 3 days
    "student": {"title": "student"},  # upgraded, but no fit: not a PQL
}
EVENTS = [
    _ev("mql", "demo_request", 1, 0),
    _ev("pql", "plan_upgraded", 2, 0),
    _ev("both", "demo_request", 1, 0),
    *[_ev("both", "session_start", d, d) for d in (1, 2, 3)],
    _ev("student", "plan_upgraded", 2, 0),
]
EXPECTED = {"mql": [(1, "mql", "mql")], "pql": [(1, "pql", "mql")], "both": [(1, "mql+pql", "mql")]}


def test_a_pql_hands_off_once_and_records_what_qualified_it(store: Store) -> None:
    publish_model(store, PQL_MODEL, actor="t", as_of=AS_OF)
    for lead_id, attrs in LEADS.items():
        upsert_lead(store, lead_id, attrs, AS_OF)
    ingest_events(store, EVENTS, AS_OF)
    assert _cycles(store) == EXPECTED
    view = get_lead(store, "pql")
    assert view.stage == "mql" and view.score is not None
    assert view.score["pql"] and view.score["pql_signals"] == ["upgrade"]
    assert not view.score["mql"]
    assert get_lead(store, "student").stage == "lead"
    # a live cycle is not opened twice: more signals and a demo change nothing
    later = AS_OF + timedelta(hours=1)
    ingest_events(
        store,
        [Event("pql", "session_start", later - timedelta(days=d), f"x{d}", {}) for d in (0, 1, 2)]
        + [Event("pql", "demo_request", later, "x9", {})],
        later,
    )
    assert _cycles(store)["pql"] == [(1, "pql", "mql")]
    with store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.lead_id, outbox.c.topic, outbox.c.payload))
        messages = {row.lead_id: row.payload for row in rows if row.topic == "lead.mql"}
    assert {k: v["qualified_by"] for k, v in messages.items()} == {
        "mql": "mql", "pql": "pql", "both": "mql+pql",
    }  # fmt: skip


def test_the_batch_rescore_hands_off_pqls_too(store: Store) -> None:
    for lead_id, attrs in LEADS.items():
        upsert_lead(store, lead_id, attrs, AS_OF)
    ingest_events(store, EVENTS, AS_OF)
    publish_model(store, PQL_MODEL, actor="t", as_of=AS_OF, engine="duckdb")
    assert _cycles(store) == EXPECTED


def test_the_funnel_is_split_by_qualification(store: Store) -> None:
    from leadgate.report.funnel import funnel_report
    from leadgate.report.store_frame import frame_from_store

    publish_model(store, PQL_MODEL, actor="t", as_of=AS_OF)
    for lead_id, attrs in LEADS.items():
        upsert_lead(store, lead_id, attrs, AS_OF)
    ingest_events(store, EVENTS, AS_OF)
    report = funnel_report(frame_from_store(store))
    rows = {r.group["qualified_by"]: r for r in report.rows}
    assert set(rows) == {"mql", "pql", "mql+pql", "none"}
    assert rows["pql"].counts["mqls"] == 1 and rows["none"].counts["mqls"] == 0
    rate = rows["pql"].rates["mql:won"].to_dict()
    assert rate["n"] == 1 and rate["lo"] == 0.0 and 0 < rate["hi"] < 1  # Wilson, n = 1


ACCOUNT_MODEL = """\
name: team
version: 1
threshold: 10
dimensions:
  usage:
    rules:
      - name: team adoption
        events: {type: session_start, scope: account, measure: {distinct: lead_id}, min: 2}
        points: 10
"""


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_account_scope_reads_the_stored_account(store: Store, engine: str) -> None:
    """A re-score (per lead or batch) measures over every stored lead of the account."""
    for lead_id, account in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("solo", None)):
        upsert_lead(store, lead_id, {"account_id": account} if account else {}, AS_OF)
    ingest_events(
        store, [_ev(lead, "session_start", 1, 0) for lead in ("a1", "a2", "b1", "solo")], AS_OF
    )
    publish_model(store, ACCOUNT_MODEL, actor="t", as_of=AS_OF, engine=engine)
    totals = {}
    for lead in ("a1", "a2", "b1", "solo"):
        score = get_lead(store, lead).score
        assert score is not None
        totals[lead] = score["total"]
    assert totals == {"a1": 10.0, "a2": 10.0, "b1": 0.0, "solo": 0.0}
