"""Bulk and live ingestion: idempotent replays, atomic rejection, email normalisation, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadgate.engine import Event
from leadgate.errors import IngestError
from leadgate.service import get_lead, ingest_events, load_file, publish_model, upsert_lead
from leadgate.store import Store
from store_helpers import TINY_MODEL, snapshot, table_counts

T0 = datetime(2026, 3, 1, tzinfo=UTC)

LEADS = """lead_id,email,title,company_size
L1, Ann@Acme.COM ,VP Sales,300
L2,bob@beta.io,Engineer,50
L3,ann@acme.com,VP Marketing,300
"""
EVENTS = """event_id,lead_id,type,timestamp,url
e1,L1,demo_request,2026-02-28T10:00:00Z,
e2,L1,email_open,2026-02-27T10:00:00Z,
e3,L2,page_view,2026-02-27T11:00:00Z,/pricing
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_event_replay_adds_nothing(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", EVENTS)
    first = load_file(store, "events", path, as_of=T0)
    before = snapshot(store)
    again = load_file(store, "events", path, as_of=T0)
    assert (first.inserted, first.ignored) == (3, 0)
    assert (again.inserted, again.ignored) == (0, 3)
    assert snapshot(store) == before


def test_events_without_ids_get_content_ids_so_replays_add_nothing(
    store: Store, tmp_path: Path
) -> None:
    path = write(
        tmp_path, "events.csv", "lead_id,type,timestamp\nL1,email_open,2026-02-27T10:00:00Z\n"
    )
    load_file(store, "events", path, as_of=T0)
    again = load_file(store, "events", path, as_of=T0)
    assert again.ignored == 1
    assert table_counts(store)["events"] == 1


def test_live_event_replay_is_ignored_and_keeps_the_score(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP"}, T0)
    ev = Event("L1", "demo_request", T0, "x1", {})
    first = ingest_events(store, [ev], T0)
    history = table_counts(store)["score_history"]
    second = ingest_events(store, [ev, ev], T0)
    assert (first.inserted, second.inserted, second.ignored) == (1, 0, 2)
    assert second.leads[0].score == first.leads[0].score
    assert table_counts(store)["score_history"] == history


def test_a_bad_event_row_rejects_the_whole_file(store: Store, tmp_path: Path) -> None:
    load_file(store, "events", write(tmp_path, "ok.csv", EVENTS), as_of=T0)
    before = snapshot(store)
    bad = EVENTS.replace("e1,L1", "n1,L1").replace(
        "e3,L2,page_view,2026-02-27T11:00:00Z", "n3,L2,page_view,yesterday"
    )
    with pytest.raises(IngestError, match=r"bad\.csv:4: timestamp: expected an ISO 8601"):
        load_file(store, "events", write(tmp_path, "bad.csv", bad), as_of=T0)
    assert snapshot(store) == before


def test_a_bad_outcome_row_rolls_back_the_rows_before_it(store: Store, tmp_path: Path) -> None:
    load_file(store, "leads", write(tmp_path, "leads.csv", LEADS), as_of=T0)
    before = snapshot(store)
    outcomes = (
        "lead_id,mql_time,sal_status,sal_time,reject_reason\n"
        "L1,2026-01-01T00:00:00Z,accepted,2026-01-02T00:00:00Z,\n"
        "L2,2026-01-01T00:00:00Z,rejected,2026-01-02T00:00:00Z,bored\n"
    )
    with pytest.raises(IngestError, match=r"o\.csv:3: reject_reason: unknown reason code 'bored'"):
        load_file(store, "outcomes", write(tmp_path, "o.csv", outcomes), as_of=T0)
    assert snapshot(store) == before


def test_outcomes_for_unknown_leads_are_refused(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", "lead_id,mql_time\nZZ,2026-01-01T00:00:00Z\n")
    with pytest.raises(IngestError, match=r"o\.csv:2: lead_id: unknown lead 'ZZ'"):
        load_file(store, "outcomes", path, as_of=T0)


def test_outcome_times_must_run_forward(store: Store, tmp_path: Path) -> None:
    load_file(store, "leads", write(tmp_path, "leads.csv", LEADS), as_of=T0)
    path = write(
        tmp_path, "o.csv",
        "lead_id,mql_time,sal_status,sal_time,sql_time\n"
        "L1,2026-01-05T00:00:00Z,accepted,2026-01-06T00:00:00Z,2026-01-04T00:00:00Z\n",
    )  # fmt: skip
    with pytest.raises(
        IngestError, match=r"o\.csv:2: sql_time: is earlier than the step before it"
    ):
        load_file(store, "outcomes", path, as_of=T0)


def test_outcomes_replay_history_once(store: Store, tmp_path: Path) -> None:
    load_file(store, "leads", write(tmp_path, "leads.csv", LEADS), as_of=T0)
    path = write(
        tmp_path, "o.csv",
        "lead_id,mql_time,sal_status,sal_time,reject_reason,first_touch_time,sql_time,"
        "opportunity_time,amount,closed_time,outcome\n"
        "L1,2026-01-01T00:00:00Z,accepted,2026-01-02T00:00:00Z,,2026-01-01T05:00:00Z,"
        "2026-01-10T00:00:00Z,2026-01-20T00:00:00Z,5000,2026-02-01T00:00:00Z,won\n"
        "L2,2026-01-01T00:00:00Z,rejected,2026-01-03T00:00:00Z,student,,,,,,\n",
    )  # fmt: skip
    first = load_file(store, "outcomes", path, as_of=T0)
    before = snapshot(store)
    again = load_file(store, "outcomes", path, as_of=T0)
    assert (first.inserted, again.inserted, again.ignored) == (2, 0, 2)
    assert snapshot(store) == before
    l1 = get_lead(store, "L1")
    assert [t.to_stage for t in l1.transitions] == ["mql", "sal", "sql", "opportunity", "won"]
    assert {t.cause for t in l1.transitions} == {"import"}
    cycle = l1.cycles[0]
    assert (cycle.stage, cycle.amount) == ("won", 5000.0)
    assert cycle.first_touch_at == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert get_lead(store, "L2").stage == "disqualified"  # "student" disqualifies


def test_emails_are_normalised_and_second_lead_flagged_duplicate(
    store: Store, tmp_path: Path
) -> None:
    report = load_file(store, "leads", write(tmp_path, "leads.csv", LEADS), as_of=T0)
    assert (report.inserted, report.duplicates) == (3, 1)
    l1, l3 = get_lead(store, "L1"), get_lead(store, "L3")
    assert l1.attrs["email"] == "ann@acme.com"
    assert (l1.duplicate_of, l3.duplicate_of) == (None, "L1")


def test_duplicates_are_not_scored_and_their_events_count_for_the_first_lead(
    store: Store, tmp_path: Path
) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    load_file(store, "leads", write(tmp_path, "leads.csv", LEADS), as_of=T0)
    result = ingest_events(store, [Event("L3", "demo_request", T0, "d1", {})], T0)
    assert [s.lead_id for s in result.leads] == ["L1"]  # counted for the person's first lead
    assert result.leads[0].stage == "mql"
    dup = get_lead(store, "L3")
    assert (dup.score, dup.stage, dup.score_history) == (None, "lead", [])


def test_same_email_in_a_later_upsert_is_a_duplicate(store: Store) -> None:
    upsert_lead(store, "A", {"email": "x@y.com"}, T0)
    state = upsert_lead(store, "B", {"email": "  X@Y.com"}, T0)
    assert state.duplicate_of == "A"
    assert upsert_lead(store, "A", {"email": "x@y.com", "title": "VP"}, T0).duplicate_of is None


def test_events_before_the_profile_create_a_bare_lead(store: Store) -> None:
    ingest_events(store, [Event("NEW", "email_open", T0, "o1", {})], T0)
    lead = get_lead(store, "NEW")
    assert (lead.stage, lead.attrs) == ("lead", {})


def test_unknown_kind_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"unknown kind 'people'"):
        load_file(store, "people", tmp_path / "x.csv", as_of=T0)


def test_nested_attributes_are_refused_on_upsert(store: Store) -> None:
    with pytest.raises(IngestError, match=r"company: must be text, a number"):
        upsert_lead(store, "L1", {"company": {"name": "x"}}, T0)


def test_live_events_without_ids_get_content_ids(store: Store) -> None:
    ev = Event("L1", "email_open", T0, "", {"campaign": "spring"})
    first = ingest_events(store, [ev], T0)
    again = ingest_events(store, [ev], T0)
    assert (first.inserted, again.inserted, again.ignored) == (1, 0, 1)


OUTCOME_HEADER = "lead_id,mql_time,first_touch_time,sal_status,sal_time,sql_time\n"


def _live_mql(store: Store, at: datetime) -> None:
    """L1 becomes an MQL by scoring at ``at``: its live cycle opens then."""
    publish_model(store, TINY_MODEL, actor="t", as_of=at)
    upsert_lead(store, "L1", {"title": "VP", "email": "l1@corp.com"}, at)
    ingest_events(store, [Event("L1", "demo_request", at, "d-L1", {})], at)
    assert get_lead(store, "L1").stage == "mql"


def test_outcome_times_before_a_live_cycle_do_not_make_speed_negative(
    store: Store, tmp_path: Path
) -> None:
    from leadgate.report.speed import speed_report
    from leadgate.report.store_frame import frame_from_store

    live = datetime(2026, 3, 10, tzinfo=UTC)
    _live_mql(store, live)
    # The CRM qualified L1 a week before leadgate did, touched it and accepted it before then;
    # the SQL step came after the live cycle opened.
    path = write(
        tmp_path, "o.csv",
        OUTCOME_HEADER
        + "L1,2026-03-03T00:00:00Z,2026-03-04T00:00:00Z,accepted,2026-03-05T00:00:00Z,"
        "2026-03-12T00:00:00Z\n",
    )  # fmt: skip
    report = load_file(store, "outcomes", path, as_of=live)
    assert (report.inserted, report.adjusted) == (1, 1)
    lead = get_lead(store, "L1")
    assert [t.to_stage for t in lead.transitions] == ["mql", "sal", "sql"]
    times = [t.at for t in lead.transitions]
    assert times == sorted(times) and times[1] == live  # accepted: placed at the cycle's start
    assert "2026-03-05T00:00:00+00:00 precedes this MQL cycle" in (lead.transitions[1].note or "")
    cycle = lead.cycles[-1]
    # the first sales action inside the cycle is the SQL step, not the pre-cycle touch
    assert cycle.first_touch_at == datetime(2026, 3, 12, tzinfo=UTC)
    assert cycle.first_touch_at >= cycle.mql_at
    speed = speed_report(frame_from_store(store))
    assert speed.touched == 1 and min(speed.hours) >= 0


def test_outcome_touch_inside_a_live_cycle_is_its_first_touch(store: Store, tmp_path: Path) -> None:
    live = datetime(2026, 3, 10, tzinfo=UTC)
    _live_mql(store, live)
    path = write(
        tmp_path, "o.csv",
        OUTCOME_HEADER + "L1,2026-03-03T00:00:00Z,2026-03-10T06:00:00Z,,,\n",
    )  # fmt: skip
    report = load_file(store, "outcomes", path, as_of=live)
    assert (report.inserted, report.adjusted) == (1, 0)
    cycle = get_lead(store, "L1").cycles[-1]
    assert cycle.first_touch_at == live + (datetime(2026, 3, 10, 6, tzinfo=UTC) - live)
    assert cycle.stage == "mql"


def test_outcome_touch_before_a_live_cycle_is_not_its_first_touch(
    store: Store, tmp_path: Path
) -> None:
    live = datetime(2026, 3, 10, tzinfo=UTC)
    _live_mql(store, live)
    path = write(
        tmp_path, "o.csv", OUTCOME_HEADER + "L1,2026-03-03T00:00:00Z,2026-03-04T00:00:00Z,,,\n"
    )
    report = load_file(store, "outcomes", path, as_of=live)
    assert report.adjusted == 1
    assert get_lead(store, "L1").cycles[-1].first_touch_at is None
