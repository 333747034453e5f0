"""The live write path (``service/ingest_live.py``, issue 17): how many statements an event costs,
and that its one read of a lead gives the row every other reader gets.

Statements are counted with a SQLAlchemy ``before_cursor_execute`` hook (``BEGIN``/``COMMIT``
are not cursor executions): a count is deterministic, so an upper bound is asserted. The bound is
the design's (service/ingest_live.py): model id, lead read with state and account, event insert,
lead update, score history, state write; SQLite adds ``BEGIN IMMEDIATE`` (a cursor execution
there), PostgreSQL its table lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import event

from leadgate.engine import Event
from leadgate.service import ingest_events, ingest_live, publish_model, upsert_account, upsert_lead
from leadgate.store import Store, open_store
from leadgate.store.history import fetch_leads
from leadgate.store.live_write import ReadForWrite, read_for_write
from store_helpers import BACKENDS, TINY_MODEL, snapshot, temp_store_url

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# The six of the design, and SQLite's BEGIN IMMEDIATE or PostgreSQL's table lock.
SINGLE_EVENT_BOUND = {"sqlite": 7, "postgresql": 7}


@contextmanager
def statements(store: Store) -> Iterator[Callable[[], list[str]]]:
    """The SQL statements sent to the driver while in the block (as a function: read it after)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield lambda: list(seen)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store with the tiny model, 20 leads (one with an account, one a duplicate of another)
    and one event each, so that every lead has its incremental state."""
    with temp_store_url(request.param, tmp_path_factory.mktemp("live")) as url:
        store = open_store(url)
        publish_model(store, TINY_MODEL, actor="t", as_of=T0)
        upsert_account(store, "A1", {"company_size": 9000, "industry": "software"}, T0)
        for i in range(20):
            attrs = {"title": "VP Sales" if i % 2 else "Analyst", "email": f"p{i}@acme.com"}
            if i == 3:
                attrs["account_id"] = "A1"
            upsert_lead(store, f"L{i}", attrs, T0)
        upsert_lead(store, "D1", {"email": "p1@acme.com"}, T0)  # a duplicate of L1
        ingest_events(store, [Event(f"L{i}", "email_open", T0, f"w{i}") for i in range(20)], T0)
        try:
            yield store
        finally:
            store.close()


def test_a_single_event_is_a_few_statements(live: Store) -> None:
    at = T0 + timedelta(hours=1)
    with statements(live) as sent:
        result = ingest_events(live, [Event("L5", "email_open", at, "s1")], at)
    assert result.inserted == 1 and result.leads[0].lead_id == "L5"
    assert len(sent()) <= SINGLE_EVENT_BOUND[live.dialect], [s[:60] for s in sent()]
    # Every statement is one of the write's own: nothing reads the lead twice.
    assert sum("FROM leads" in s for s in sent()) == 1, sent()


def test_a_batch_costs_the_same_statements_as_one_event(live: Store) -> None:
    """A batch over many leads: each lead read and written once, in bulk statements, so the
    count does not grow with the events or the leads (an MQL adds its transition, cycle and
    outbox rows: three more)."""
    at = T0 + timedelta(hours=2)
    batch = [
        Event(f"L{i % 20}", "email_open", at - timedelta(seconds=i), f"b{i}") for i in range(200)
    ]
    with statements(live) as sent:
        result = ingest_events(live, batch, at)
    assert result.inserted == 200 and len(result.leads) == 20
    assert any(s.startswith("INSERT INTO transitions") for s in sent())  # MQLs were made
    assert len(sent()) <= SINGLE_EVENT_BOUND[live.dialect] + 3, [s[:60] for s in sent()]


def test_a_replayed_event_writes_nothing(live: Store) -> None:
    at = T0 + timedelta(hours=3)
    ingest_events(live, [Event("L7", "email_open", at, "r1")], at)
    before = snapshot(live)
    with statements(live) as sent:
        result = ingest_events(live, [Event("L7", "email_open", at, "r1")], at)
    assert (result.inserted, result.ignored) == (0, 1)
    assert result.leads[0].lead_id == "L7"
    assert snapshot(live) == before
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in sent())


def test_a_duplicates_event_counts_for_its_primary(live: Store) -> None:
    at = T0 + timedelta(hours=4)
    result = ingest_events(live, [Event("D1", "demo_request", at, "d1")], at)
    assert [s.lead_id for s in result.leads] == ["L1"]
    assert result.leads[0].stage == "mql"  # VP (20) + demo (20) >= 30


def test_the_write_path_reads_the_rows_every_reader_reads(live: Store) -> None:
    """One SELECT on the driver, values through the columns' own processors: the same rows as
    ``fetch_leads`` (scores, times, flags, attributes, account), and the states."""
    ids = ["L1", "L3", "D1", "L4", "nobody"]
    with live.write() as conn:
        got = ReadForWrite({}, {}, {})
        read_for_write(conn, ids, got)
        want = fetch_leads(conn, ids)
    assert got.rows == want
    assert set(got.states) == {"L1", "L3", "L4"}  # a duplicate keeps no state of its own
    assert got.accounts == {"A1": {"company_size": 9000, "industry": "software"}}
    assert got.rows["L1"].score is not None and isinstance(got.rows["L1"].scored_at, datetime)


def test_a_failed_batch_writes_nothing(live: Store) -> None:
    """Atomicity: a failure after the events and a new lead were inserted (here, in scoring)
    leaves every table as it was, the batch's other events and leads included."""
    at = T0 + timedelta(hours=5)
    before = snapshot(live)
    batch = [Event("L8", "email_open", at, "x1"), Event("NEW", "email_open", at, "x0")]
    boom = RuntimeError("scoring failed")
    with (
        mock.patch.object(ingest_live, "apply_scores", side_effect=boom),
        pytest.raises(RuntimeError),
    ):
        ingest_events(live, batch, at, actor="t")
    assert snapshot(live) == before


def test_profile_rule_results_follow_account_and_profile_changes(tmp_path: Path) -> None:
    """The state keeps which profile rules matched; an account or profile change between events
    makes the next event see the new profile (the kept results are by a digest of it)."""
    model = TINY_MODEL.replace(
        "      - {name: vp,",
        "      - {name: big, when: {account.tier: {eq: gold}}, points: 5}\n      - {name: vp,",
    )
    store = open_store(str(tmp_path / "s.db"))
    try:
        publish_model(store, model, actor="t", as_of=T0)
        upsert_account(store, "A1", {"tier": "silver"}, T0)
        upsert_lead(store, "L1", {"title": "Analyst", "account_id": "A1"}, T0)
        steps: list[float] = []

        def event(n: int) -> None:
            at = T0 + timedelta(minutes=n)
            result = ingest_events(store, [Event("L1", "page_view", at, f"p{n}")], at)
            score = result.leads[0].score
            assert score is not None
            steps.append(score["total"])

        event(1)
        event(2)  # the kept results, same profile
        upsert_account(store, "A1", {"tier": "gold"}, T0 + timedelta(minutes=2))
        event(3)
        upsert_lead(store, "L1", {"title": "VP", "account_id": "A1"}, T0 + timedelta(minutes=3))
        event(4)
        upsert_account(store, "A1", {"tier": "silver"}, T0 + timedelta(minutes=4))
        event(5)
        assert steps == [0.0, 0.0, 5.0, 25.0, 20.0]
    finally:
        store.close()
