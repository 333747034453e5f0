"""Outbox delivery: fan-out, signed POSTs, retries with exponential backoff, leases, give-up.

A real HTTP receiver on loopback; the clock is passed in, so backoff is checked without sleeping.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from api_helpers import free_port, receiver
from leadgate.store.schema import outbox, webhook_deliveries
from leadgate.webhooks import verify
from leadgate.webhooks.delivery import (
    DeliveryPolicy,
    WebhookWorker,
    claim_due,
    fan_out,
    run_once,
)
from leadgate.webhooks.registry import add_webhook, remove_webhook, retry_failed

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "a-long-enough-secret"
FAST = DeliveryPolicy(base_seconds=10, max_seconds=100, max_attempts=4, lease_seconds=30)


def _emit(store, topic: str = "lead.mql", lead_id: str = "L1", at: datetime = T0) -> int:  # type: ignore[no-untyped-def]
    with store.write() as conn:
        return int(
            conn.execute(
                outbox.insert().values(
                    topic=topic,
                    lead_id=lead_id,
                    payload={"lead_id": lead_id, "n": 1},
                    created_at=at,
                )
            ).inserted_primary_key[0]
        )


def _deliveries(store) -> list:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return list(conn.execute(select(webhook_deliveries).order_by(webhook_deliveries.c.id)))


def test_fan_out_once_per_matching_webhook(store) -> None:  # type: ignore[no-untyped-def]
    _emit(store, at=T0 - timedelta(hours=1))  # before any webhook: nobody gets it
    all_topics, _ = add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0)
    mql_only, _ = add_webhook(
        store, "http://127.0.0.1:9/b", secret=SECRET, topics=["lead.mql"], now=T0
    )
    first = _emit(store, "lead.mql", at=T0)
    second = _emit(store, "lead.disposition", at=T0 + timedelta(seconds=1))
    assert fan_out(store, now=T0) == 3
    assert fan_out(store, now=T0) == 0  # idempotent
    pairs = {(d.outbox_id, d.webhook_id) for d in _deliveries(store)}
    assert pairs == {(first, all_topics.id), (first, mql_only.id), (second, all_topics.id)}
    assert all(d.status == "pending" and d.attempts == 0 for d in _deliveries(store))


def test_backlog_is_skipped_while_nobody_listens(store) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        _emit(store, lead_id=f"L{i}")
    assert fan_out(store, now=T0) == 0
    add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0 + timedelta(minutes=1))
    new = _emit(store, at=T0 + timedelta(minutes=2))
    assert fan_out(store, now=T0) == 1
    assert [d.outbox_id for d in _deliveries(store)] == [new]


def test_delivers_signed_json(store) -> None:  # type: ignore[no-untyped-def]
    with receiver() as rx, httpx.Client() as client:
        add_webhook(store, rx.url, secret=SECRET, now=T0)
        outbox_id = _emit(store)
        result = run_once(store, client, FAST, clock=lambda: T0)
        assert (result.fanned_out, result.delivered) == (1, 1)
        (hit,) = rx.hits
    assert verify(SECRET, hit.body, hit.headers["X-Leadgate-Signature"])
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["X-Leadgate-Topic"] == "lead.mql"
    assert hit.headers["X-Leadgate-Attempt"] == "1"
    assert hit.json == {
        "id": outbox_id,
        "topic": "lead.mql",
        "created_at": T0.isoformat(),
        "data": {"lead_id": "L1", "n": 1},
    }
    (row,) = _deliveries(store)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)


def test_retries_with_exponential_backoff_until_delivered(store) -> None:  # type: ignore[no-untyped-def]
    now = [T0]
    with receiver(fail_first=2) as rx, httpx.Client() as client:
        add_webhook(store, rx.url, secret=SECRET, now=T0)
        _emit(store)
        waits = []
        for _ in range(3):
            result = run_once(store, client, FAST, clock=lambda: now[0])
            (row,) = _deliveries(store)
            if row.status == "delivered":
                break
            assert result.retrying == 1
            assert "HTTP 500" in row.last_error
            waits.append((row.next_attempt_at - now[0]).total_seconds())
            # Not due yet: a pass before the wait is over sends nothing.
            assert run_once(store, client, FAST, clock=lambda: now[0]).retrying == 0
            now[0] = row.next_attempt_at
        assert len(rx.hits) == 1
        assert rx.hits[0].headers["X-Leadgate-Attempt"] == "3"
    assert 9 <= waits[0] <= 11 and 18 <= waits[1] <= 22  # 10 s, then 20 s (+-10% jitter)
    (row,) = _deliveries(store)
    assert (row.status, row.attempts) == ("delivered", 3)


def test_gives_up_after_max_attempts(store) -> None:  # type: ignore[no-untyped-def]
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    add_webhook(store, dead, secret=SECRET, now=T0)
    _emit(store)
    with httpx.Client(timeout=2) as client:
        for i in range(FAST.max_attempts):
            at = T0 + i * timedelta(seconds=FAST.max_seconds * 2)
            run_once(store, client, FAST, clock=lambda at=at: at)
    (row,) = _deliveries(store)
    assert (row.status, row.attempts) == ("failed", FAST.max_attempts)
    assert "ConnectError" in row.last_error
    assert row.next_attempt_at is None


def test_a_claimed_but_unrecorded_delivery_is_retried_after_its_lease(store) -> None:  # type: ignore[no-untyped-def]
    add_webhook(store, "http://127.0.0.1:9/x", secret=SECRET, now=T0)
    _emit(store)
    fan_out(store, now=T0)
    (job,) = claim_due(store, FAST, now=T0)  # a worker takes it ... and dies before recording
    assert claim_due(store, FAST, now=T0 + timedelta(seconds=29)) == []  # leased to it
    (again,) = claim_due(store, FAST, now=T0 + timedelta(seconds=31))  # at least once
    assert again.delivery_id == job.delivery_id
    assert json.loads(again.body) == json.loads(job.body)


def test_removing_a_webhook_drops_its_pending_deliveries(store) -> None:  # type: ignore[no-untyped-def]
    hook, _ = add_webhook(store, "http://127.0.0.1:9/x", secret=SECRET, now=T0)
    _emit(store)
    fan_out(store, now=T0)
    remove_webhook(store, hook.id)
    (row,) = _deliveries(store)
    assert (row.status, row.last_error) == ("failed", "webhook removed")
    assert claim_due(store, FAST, now=T0) == []


def test_worker_thread_delivers_on_wake(store) -> None:  # type: ignore[no-untyped-def]
    with receiver() as rx:
        add_webhook(store, rx.url, secret=SECRET, now=T0)
        worker = WebhookWorker(store, policy=FAST, interval=30, clock=lambda: T0)
        worker.start()
        try:
            _emit(store)
            worker.wake()
            rx.wait_for(1)
        finally:
            worker.stop()


@pytest.mark.parametrize("attempts", [1, 2, 5, 30])
def test_delay_doubles_and_is_capped(attempts: int) -> None:
    policy = DeliveryPolicy(base_seconds=2, max_seconds=60)
    expected = min(2 * 2 ** (attempts - 1), 60)
    assert 0.9 * expected <= policy.delay(attempts).total_seconds() <= 1.1 * expected


def test_failed_deliveries_can_be_queued_again(store) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    hook, _ = add_webhook(store, f"http://127.0.0.1:{port}/hook", secret=SECRET, now=T0)
    _emit(store)
    give_up = DeliveryPolicy(max_attempts=1)
    with httpx.Client(timeout=2) as client:
        assert run_once(store, client, give_up, clock=lambda: T0).failed == 1
        assert retry_failed(store, hook.id + 1, now=T0) == 0  # another webhook: nothing
        with receiver(port=port) as rx:
            assert retry_failed(store, now=T0) == 1
            assert run_once(store, client, give_up, clock=lambda: T0).delivered == 1
            assert len(rx.hits) == 1
