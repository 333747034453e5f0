"""Retention: old events, outbox messages and delivery records go; scores and pending hand-offs
stay."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leadgate.engine import Event
from leadgate.errors import ConflictError
from leadgate.service import get_lead, ingest_events, publish_model, tick, upsert_lead
from leadgate.service.retention import apply_retention
from leadgate.service.settings import change_setting
from leadgate.store import Store
from leadgate.store.audit import Actor, list_audit
from leadgate.store.schema import events, outbox, webhook_deliveries, webhooks

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
OPS = Actor("cli:ops")
# Visits count for 30 days; demo requests decay (half-life 10 days): horizon 10*log2(30e9) days.
MODEL = """\
name: r
version: 1
threshold: 25
dimensions:
  engagement:
    rules:
      - {name: visit, event: page_view, points: 2, within_days: 30}
      - {name: demo, event: demo_request, points: 30, half_life_days: 10}
"""
HORIZON = 10 * math.log2(30 / 1e-9)  # days


def _count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_events_beyond_the_horizon_go_and_scores_stay(store: Store) -> None:
    now = T0 + 1000 * DAY
    publish_model(store, MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {}, T0)
    ages = [1, 20, 40, 300, 360, 400, 900]  # days before now
    evs = [Event("L1", "demo_request", now - a * DAY, f"d{a}", {}) for a in ages]
    evs += [Event("L1", "page_view", now - a * DAY, f"v{a}", {}) for a in ages]
    ingest_events(store, evs, now)
    with pytest.raises(ConflictError, match=r"rule 'demo' counts events up to 348.0 days old"):
        change_setting(store, "retention.events_days", 300, at=now, by=OPS)
    change_setting(store, "retention.events_days", 349, at=now, by=OPS)

    dry = apply_retention(store, now, by=OPS, dry_run=True)
    assert (dry.events, dry.changes_scores) == (6, False) and _count(store, events) == 14
    assert dry.horizon_by == "rule 'demo'" and abs(dry.horizon_days - HORIZON) < 1e-6

    before = tick(store, now)
    total_before = get_lead(store, "L1").score["total"]
    done = apply_retention(store, now, by=OPS)
    assert done.events == 6 and _count(store, events) == 8  # 360, 400, 900 days, both types
    tick(store, now + timedelta(seconds=1))
    assert abs(get_lead(store, "L1").score["total"] - total_before) < 1e-9
    assert before.summary.scored == 1
    (entry,) = list_audit(store, action="retention.apply")
    assert entry.actor == "cli:ops" and entry.details["events"] == 6


def test_a_retention_shorter_than_the_horizon_needs_force(store: Store) -> None:
    now = T0 + 100 * DAY
    change_setting(store, "retention.events_days", 5, at=T0, by=OPS)  # no model yet: accepted
    publish_model(store, MODEL, actor="t", as_of=T0)
    ingest_events(store, [Event("L1", "page_view", now - 10 * DAY, "v", {})], now)
    with pytest.raises(ConflictError, match="would change scores"):
        apply_retention(store, now, by=OPS)
    assert _count(store, events) == 1  # refused: nothing deleted
    forced = apply_retention(store, now, by=OPS, force=True)
    assert forced.changes_scores and forced.events == 1 and _count(store, events) == 0


def test_outbox_messages_go_only_once_delivered(store: Store) -> None:
    now = T0 + 100 * DAY
    with store.write() as conn:
        hook = conn.execute(
            webhooks.insert().values(url="https://x.example/h", secret="s" * 16, topics=[],
                                     active=True, created_at=T0)
        ).inserted_primary_key[0]  # fmt: skip
        for n, status in enumerate(["delivered", "failed", "pending"]):
            conn.execute(
                outbox.insert().values(
                    id=n + 1, topic="lead.mql", lead_id=f"L{n}", payload={}, created_at=T0
                )
            )
            conn.execute(
                webhook_deliveries.insert().values(
                    outbox_id=n + 1, webhook_id=hook, status=status, attempts=1
                )
            )
        conn.execute(
            outbox.insert().values(id=9, topic="lead.mql", payload={}, created_at=now - DAY)
        )
    change_setting(store, "retention.outbox_days", 30, at=now, by=OPS)
    report = apply_retention(store, now, by=OPS)
    assert (report.outbox, report.deliveries) == (2, 2)
    with store.read() as conn:
        assert sorted(conn.execute(select(outbox.c.id)).scalars()) == [3, 9]
        assert list(conn.execute(select(webhook_deliveries.c.status)).scalars()) == ["pending"]


def test_delivery_records_alone(store: Store) -> None:
    now = T0 + 100 * DAY
    with store.write() as conn:
        conn.execute(
            webhooks.insert().values(id=1, url="https://x.example/h", secret="s" * 16, topics=[],
                                     active=True, created_at=T0)
        )  # fmt: skip
        conn.execute(outbox.insert().values(id=1, topic="lead.mql", payload={}, created_at=T0))
        conn.execute(
            webhook_deliveries.insert().values(outbox_id=1, webhook_id=1, status="delivered",
                                               attempts=1)
        )  # fmt: skip
    change_setting(store, "retention.deliveries_days", 7, at=now, by=OPS)
    report = apply_retention(store, now, by=OPS)
    assert (report.deliveries, report.outbox) == (1, 0)
    assert _count(store, outbox) == 1 and _count(store, webhook_deliveries) == 0
