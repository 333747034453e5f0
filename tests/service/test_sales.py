"""Dispositions through the store: stage moves, owner, cycle progress, outbox, queue order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leadgate.engine import Event
from leadgate.errors import ConflictError, NotFoundError
from leadgate.lifecycle.dispositions import DispositionError
from leadgate.service import (
    dispose,
    get_lead,
    ingest_events,
    mql_queue,
    publish_model,
    reject_reasons,
    set_reject_reasons,
    upsert_lead,
)
from leadgate.store import Store
from leadgate.store.schema import outbox
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _mql(store: Store, lead_id: str, opens: int = 0, at: datetime = T0) -> None:
    upsert_lead(store, lead_id, {"title": "VP", "email": f"{lead_id.lower()}@corp.com"}, at)
    evs = [Event(lead_id, "demo_request", at, f"d-{lead_id}", {})]
    evs += [Event(lead_id, "email_open", at, f"o-{lead_id}-{i}", {}) for i in range(opens)]
    ingest_events(store, evs, at)


def test_full_path_to_won(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "L1")
    dispose(store, "L1", "accept", actor="rep", at=T0 + H)
    dispose(store, "L1", "sql", actor="rep", at=T0 + 2 * H)
    dispose(store, "L1", "opportunity", amount=12000, actor="rep", at=T0 + 3 * H)
    state = dispose(store, "L1", "won", amount=15000, actor="rep", at=T0 + 4 * H)
    assert state.stage == "won"
    lead = get_lead(store, "L1")
    assert lead.owner == "rep"  # whoever accepts owns the lead
    assert [t.to_stage for t in lead.transitions] == ["mql", "sal", "sql", "opportunity", "won"]
    assert {t.cause for t in lead.transitions[1:]} == {"disposition"}
    cycle = lead.cycles[0]
    assert (cycle.stage, cycle.amount, cycle.first_touch_at, cycle.ended_at) == (
        "won",
        15000.0,
        T0 + H,
        T0 + 4 * H,
    )
    assert [d.action for d in lead.dispositions] == ["accept", "sql", "opportunity", "won"]


def test_illegal_disposition_is_a_conflict_and_changes_nothing(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "L1")
    with pytest.raises(
        ConflictError, match=r"lead 'L1' is at stage 'mql': 'won' applies to leads at opportunity"
    ):
        dispose(store, "L1", "won", actor="rep", at=T0 + H)
    assert get_lead(store, "L1").dispositions == []


def test_dispose_unknown_lead(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r"no lead 'x'"):
        dispose(store, "x", "accept", actor="rep", at=T0)


def test_mql_and_disposition_go_to_the_outbox(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "L1")
    dispose(store, "L1", "reject", reason="wrong_title", note="intern", actor="rep", at=T0 + H)
    with store.read() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    assert [r.topic for r in rows] == ["lead.mql", "lead.disposition"]
    assert rows[0].payload["score"]["mql"] is True
    assert (rows[1].payload["reason"], rows[1].payload["stage"]) == ("wrong_title", "nurture")


def test_configured_reasons_are_used(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "L1")
    set_reject_reasons(store, {"timing": "nurture", "fraud": "disqualified"}, T0)
    assert reject_reasons(store) == {"timing": "nurture", "fraud": "disqualified"}
    with pytest.raises(DispositionError, match=r"unknown reason code 'student'"):
        dispose(store, "L1", "reject", reason="student", actor="rep", at=T0)
    assert (
        dispose(store, "L1", "reject", reason="fraud", actor="rep", at=T0).stage == "disqualified"
    )


def test_queue_orders_by_score_then_age_and_filters(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "OLD", at=T0)
    _mql(store, "NEW", at=T0 + H)
    _mql(store, "TOP", opens=3, at=T0 + 2 * H)
    upsert_lead(store, "COLD", {"title": "VP"}, T0)
    queue = mql_queue(store, as_of=T0 + 3 * H)
    assert [i.lead_id for i in queue] == ["TOP", "OLD", "NEW"]
    assert queue[0].age_hours == 1.0
    dispose(store, "TOP", "touch", actor="rep", at=T0 + 3 * H)
    assert [i.lead_id for i in mql_queue(store, as_of=T0 + 3 * H, limit=1)] == ["TOP"]
    dispose(store, "OLD", "accept", actor="ann", at=T0 + 3 * H)
    assert [i.lead_id for i in mql_queue(store, as_of=T0 + 3 * H)] == ["TOP", "NEW"]
    assert mql_queue(store, as_of=T0, segment="enterprise") == []


def test_queue_refuses_unknown_sla_state(store: Store) -> None:
    with pytest.raises(DispositionError, match=r"sla_state: unknown SLA state 'late'"):
        mql_queue(store, as_of=T0, sla_state="late")
