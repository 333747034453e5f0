"""Speed-to-lead: SLA state per MQL cycle, per-segment SLAs from the model, breaches listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadgate.engine import Event
from leadgate.lifecycle.sla import (
    DEFAULT_SLA_HOURS,
    overdue_hours,
    sla_due_at,
    sla_hours_of,
    sla_state,
    speed_to_lead_hours,
)
from leadgate.model.spec import ModelSpec
from leadgate.service import (
    dispose,
    ingest_events,
    mql_queue,
    publish_model,
    sla_breaches,
    upsert_lead,
)
from leadgate.store import Store
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("touch", "as_of", "state"),
    [
        (None, 23, "pending"),
        (None, 24, "pending"),
        (None, 25, "breached"),
        (24, 99, "met"),
        (25, 26, "breached"),
    ],
)
def test_sla_state(touch: int | None, as_of: int, state: str) -> None:
    due = T0 + 24 * H
    assert sla_state(due, None if touch is None else T0 + touch * H, T0 + as_of * H) == state


def test_overdue_and_speed_to_lead() -> None:
    due = T0 + 24 * H
    assert overdue_hours(due, T0 + 30 * H, T0 + 99 * H) == 6.0
    assert overdue_hours(due, None, T0 + 26 * H) == 2.0
    assert overdue_hours(due, T0 + H, T0 + 99 * H) == 0.0
    assert speed_to_lead_hours(T0, T0 + 90 * timedelta(minutes=1)) == 1.5
    assert speed_to_lead_hours(T0, None) is None


def _mql(store: Store, lead_id: str, **attrs: object) -> None:
    upsert_lead(store, lead_id, {"title": "VP", **attrs}, T0)
    ingest_events(store, [Event(lead_id, "demo_request", T0, f"d-{lead_id}", {})], T0)


def test_segment_sla_and_breaches(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "ENT", company_size=9000)  # enterprise: 4 h
    _mql(store, "SMB", company_size=10)  # default: 24 h
    _mql(store, "FAST", company_size=10)
    dispose(store, "FAST", "touch", actor="rep", at=T0 + 2 * H)
    at_5h = sla_breaches(store, as_of=T0 + 5 * H)
    assert [(b.lead_id, b.sla_hours, b.overdue_hours) for b in at_5h] == [("ENT", 4.0, 1.0)]
    at_30h = sla_breaches(store, as_of=T0 + 30 * H)
    assert [b.lead_id for b in at_30h] == ["ENT", "SMB"]  # most overdue first
    assert sla_breaches(store, as_of=T0 + 30 * H, segment="default")[0].lead_id == "SMB"


def test_queue_filters_by_sla_state(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "ENT", company_size=9000)
    _mql(store, "SMB", company_size=10)
    dispose(store, "SMB", "touch", actor="rep", at=T0 + H)
    states = {i.lead_id: i.sla_state for i in mql_queue(store, as_of=T0 + 5 * H)}
    assert states == {"ENT": "breached", "SMB": "met"}
    assert [i.lead_id for i in mql_queue(store, as_of=T0 + 5 * H, sla_state="breached")] == ["ENT"]


def test_late_touch_stays_a_breach_after_acceptance(store: Store) -> None:
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    _mql(store, "SMB", company_size=10)
    dispose(store, "SMB", "accept", actor="rep", at=T0 + 30 * H)
    [breach] = sla_breaches(store, as_of=T0 + 100 * H)
    assert (breach.first_touch_at, breach.overdue_hours) == (T0 + 30 * H, 6.0)


def test_one_sla_default() -> None:
    assert sla_hours_of(None) == DEFAULT_SLA_HOURS == 24
    assert sla_hours_of(4) == 4.0
    assert sla_due_at(T0, None) == T0 + 24 * H
    assert sla_due_at(T0, 1.5) == T0 + 90 * timedelta(minutes=1)
    # A model without sla_hours gets the same default (an int: it is part of the content hash).
    assert ModelSpec.model_fields["sla_hours"].default is DEFAULT_SLA_HOURS
