"""Live lead changes: score returned in the same call, score history, explanations, accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadgate.engine import Event
from leadgate.errors import NotFoundError
from leadgate.service import get_lead, ingest_events, publish_model, upsert_account, upsert_lead
from leadgate.store import Store
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
D = timedelta(days=1)


def test_before_any_model_leads_are_stored_unscored(store: Store) -> None:
    state = upsert_lead(store, "L1", {"title": "VP"}, T0)
    assert (state.stage, state.score) == ("lead", None)


def test_each_change_returns_the_score_record(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    state = upsert_lead(store, "L1", {"title": "VP"}, T0)
    assert state.score is not None
    assert list(state.score) == [
        "lead_id", "segment", "scores", "total", "mql", "pql", "pql_signals", "missing",
        "threshold", "as_of", "model",
    ]  # fmt: skip
    assert (state.score["total"], state.score["mql"], state.stage) == (20.0, False, "lead")
    state = ingest_events(store, [Event("L1", "demo_request", T0, "d1", {})], T0).leads[0]
    assert (state.score["total"], state.stage, state.cycle) == (40.0, "mql", 1)


def test_score_history_keeps_every_change_with_cause_and_model(store: Store) -> None:
    report = publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP"}, T0)
    ingest_events(store, [Event("L1", "email_open", T0, "o1", {})], T0)
    ingest_events(store, [Event("L1", "email_open", T0, "o1", {})], T0 + D)  # replay: no change
    from leadgate.service import tick

    tick(store, T0 + D)  # decay moves 22 -> 21.87: less than a point, not recorded on a tick
    tick(store, T0 + 10 * D)  # decay halves the open: 22 -> 21
    history = get_lead(store, "L1").score_history
    assert [(p.total, p.cause) for p in history] == [
        (20.0, "score"),
        (22.0, "score"),
        (21.0, "tick"),
    ]
    assert {p.model_hash for p in history} == {report.model["hash"]}


def test_get_lead_explains_the_score(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP"}, T0)
    view = get_lead(store, "L1")
    assert view.explanation is not None
    matched = [r["name"] for r in view.explanation["rules"] if r["matched"]]
    assert matched == ["vp"]
    assert view.score and view.score["missing"] == ["threshold 30: short by 10 points"]
    later = get_lead(store, "L1", T0 + D)
    assert later.score and later.score["as_of"] == (T0 + D).isoformat()


def test_unknown_lead_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"no lead 'nobody'"):
        get_lead(store, "nobody")


def test_account_change_rescores_its_leads(store: Store) -> None:
    model = TINY_MODEL.replace(
        "      - {name: vp,",
        "      - {name: big, when: {account.tier: {eq: gold}}, points: 20}\n      - {name: vp,",
    )
    publish_model(store, model, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP", "account_id": "A1"}, T0)
    upsert_lead(store, "L2", {"title": "Intern", "account_id": "A1"}, T0)
    states = upsert_account(store, "A1", {"tier": "gold"}, T0)
    assert [(s.lead_id, s.stage, s.score and s.score["total"]) for s in states] == [
        ("L1", "mql", 40.0),
        ("L2", "lead", 20.0),
    ]
