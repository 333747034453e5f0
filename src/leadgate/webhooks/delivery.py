"""Delivering the outbox: fan-out to webhooks, claiming due deliveries, POSTing, backoff.

At least once, surviving restarts: everything a delivery needs is in the store.

1. ``fan_out`` turns each ``outbox`` row not yet fanned out into one ``webhook_deliveries`` row
   per active webhook whose topics match (pending, due now) and marks the row ``fanned_out_at``
   in the same transaction. Rows are found by that mark, not by id: PostgreSQL may commit a lower
   outbox id after a higher one, and a row is fanned out whenever it becomes visible, so no
   commit order can make fan-out skip a message. (A cursor over ids that looked back 200 ids
   used to lose rows committed later than that; migration 0002 adds the mark unset on every
   row, so the first fan-out after the upgrade re-checks them all, and ``recovery.recover``
   finds any message still without its deliveries.)
2. ``claim_due`` takes due pending deliveries and pushes their ``next_attempt_at`` a lease ahead
   in the same transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several server workers
   never send the same delivery at once, and a worker that dies mid-send is retried after the
   lease.
3. ``send`` POSTs the signed JSON; ``record_result`` marks it delivered, or schedules the next
   attempt after ``policy.delay(attempts)`` (exponential, capped), or gives up after
   ``policy.max_attempts`` (status ``failed``, kept with its last error).

``WebhookWorker`` runs these steps in a background thread started with the server.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, select, update

from leadgate.store.db import Store
from leadgate.store.ingest import INSERT_IGNORE
from leadgate.store.schema import outbox, webhook_deliveries, webhooks
from leadgate.webhooks.notices import scrub_erasure_notices
from leadgate.webhooks.signing import SIGNATURE_HEADER, sign
from leadgate.webhooks.targets import allowed_networks, delivery_refusal

log = logging.getLogger(__name__)

USER_AGENT = "leadgate-webhooks/1"

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry schedule: attempt n waits ``base * 2**(n-1)`` seconds (capped), +-10% jitter."""

    base_seconds: float = 2.0
    max_seconds: float = 3600.0
    max_attempts: int = 30  # 2 s ... 1 h: about 20 hours of retries with the defaults
    lease_seconds: float = 60.0  # a claimed delivery is retried after this if never recorded
    timeout_seconds: float = 10.0
    batch: int = 50

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds)
        return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


@dataclass(frozen=True)
class Job:
    """One claimed delivery: where to send what, and how many attempts came before."""

    delivery_id: int
    outbox_id: int
    webhook_id: int
    url: str
    secret: str
    topic: str
    attempts: int
    body: bytes


def _body(row: Any) -> bytes:
    payload = {
        "id": row.outbox_id,
        "topic": row.topic,
        "created_at": row.created_at.isoformat(),
        "data": row.payload,
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def wanted_pairs(rows: Sequence[Any], hooks: Sequence[Any]) -> list[tuple[int, int]]:
    """(outbox id, webhook id) for each row and each active webhook that should receive it.

    A webhook gets the rows of its topics (all topics when it names none) created since it was
    added: never the backlog from before it existed.
    """
    return [
        (row.id, hook.id)
        for row in rows
        for hook in hooks
        if (not hook.topics or row.topic in hook.topics) and row.created_at >= hook.created_at
    ]


def create_deliveries(
    conn: Connection, rows: Sequence[Any], hooks: Sequence[Any], now: datetime
) -> int:
    """Insert the pending deliveries ``rows`` x ``hooks`` still lack; returns how many.

    Idempotent: a pair that already has a delivery (whatever its status) is left alone, also
    when a concurrent recovery inserts it meanwhile (the unique (outbox_id, webhook_id) pair).
    """
    pairs = wanted_pairs(rows, hooks)
    if not pairs:
        return 0
    d = webhook_deliveries
    have = {
        (o, w)
        for o, w in conn.execute(
            select(d.c.outbox_id, d.c.webhook_id).where(
                d.c.outbox_id.in_(sorted({o for o, _ in pairs}))
            )
        )
    }
    new = [
        {
            "outbox_id": o,
            "webhook_id": w,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
        }
        for o, w in pairs
        if (o, w) not in have
    ]
    if not new:
        return 0
    insert = INSERT_IGNORE[conn.dialect.name](d).on_conflict_do_nothing()
    return len(conn.execute(insert.returning(d.c.id), new).all())


def active_hooks(conn: Connection) -> list[Any]:
    """The rows of the active webhooks."""
    return list(conn.execute(select(webhooks).where(webhooks.c.active.is_(True))).all())


def fan_out(store: Store, *, now: datetime | None = None, batch: int = 500) -> int:
    """Create pending deliveries for every outbox row not fanned out yet; returns how many.

    Each row is marked ``fanned_out_at`` in the transaction that creates its deliveries, so a
    row is fanned out exactly when it is visible, whatever order the writers committed in
    (PostgreSQL may commit a lower outbox id after a higher one; a cursor over ids skipped those).
    Rows are taken in batches of ``batch``; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several
    server processes fan out at once without taking the same rows.
    """
    now = now or _now()
    created = 0
    while True:
        with store.write() as conn:
            hooks = active_hooks(conn)
            pending = outbox.c.fanned_out_at.is_(None)
            if not hooks:
                # Nobody listens: the backlog is marked done (a webhook only gets rows created
                # after it was added, so none of these could ever be delivered).
                conn.execute(update(outbox).where(pending).values(fanned_out_at=now))
                return created
            query = (
                select(outbox.c.id, outbox.c.topic, outbox.c.created_at)
                .where(pending)
                .order_by(outbox.c.id)
                .limit(batch)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if not rows:
                return created
            created += create_deliveries(conn, rows, hooks, now)
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(fanned_out_at=now)
            )
        if len(rows) < batch:
            return created


def claim_due(store: Store, policy: DeliveryPolicy, *, now: datetime | None = None) -> list[Job]:
    """Take up to ``policy.batch`` due pending deliveries, leasing them for ``lease_seconds``."""
    now = now or _now()
    d = webhook_deliveries
    with store.write() as conn:
        query = (
            select(d.c.id)
            .where(d.c.status == "pending", d.c.next_attempt_at <= now)
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(policy.batch)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        lease = now + timedelta(seconds=policy.lease_seconds)
        conn.execute(update(d).where(d.c.id.in_(ids)).values(next_attempt_at=lease))
        rows = conn.execute(
            select(
                d.c.id.label("delivery_id"),
                d.c.outbox_id,
                d.c.webhook_id,
                d.c.attempts,
                webhooks.c.url,
                webhooks.c.secret,
                outbox.c.topic,
                outbox.c.payload,
                outbox.c.created_at,
            )
            .join(webhooks, webhooks.c.id == d.c.webhook_id)
            .join(outbox, outbox.c.id == d.c.outbox_id)
            .where(d.c.id.in_(ids))
            .order_by(d.c.outbox_id, d.c.id)
        ).all()
    return [
        Job(
            r.delivery_id, r.outbox_id, r.webhook_id, r.url, r.secret, r.topic, r.attempts, _body(r)
        )
        for r in rows
    ]


def send(job: Job, client: httpx.Client) -> str | None:
    """POST one delivery; ``None`` on a 2xx answer, else the error to record."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(job.secret, job.body),
        "X-Leadgate-Topic": job.topic,
        "X-Leadgate-Delivery": str(job.delivery_id),
        "X-Leadgate-Attempt": str(job.attempts + 1),
    }
    try:
        response = client.post(job.url, content=job.body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


def record_result(
    store: Store,
    job: Job,
    error: str | None,
    policy: DeliveryPolicy,
    *,
    now: datetime | None = None,
) -> str:
    """Store what happened to one attempt; returns the delivery's new status."""
    now = now or _now()
    attempts = job.attempts + 1
    d = webhook_deliveries
    values: dict[str, Any] = {"attempts": attempts, "last_error": error}
    if error is None:
        values.update(status="delivered", delivered_at=now, next_attempt_at=None)
    elif attempts >= policy.max_attempts:
        values.update(status="failed", next_attempt_at=None)
    else:
        values.update(next_attempt_at=now + policy.delay(attempts))
    with store.write() as conn:
        conn.execute(
            update(d).where(d.c.id == job.delivery_id, d.c.status == "pending").values(**values)
        )
    return str(values.get("status", "pending"))


@dataclass
class PassResult:
    """What one worker pass did."""

    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def run_once(
    store: Store, client: httpx.Client, policy: DeliveryPolicy, *, clock: Clock = _now
) -> PassResult:
    """One pass: fan out new outbox rows, then send every due delivery once (unless its target
    now resolves into a refused range: ``targets.py``), then blank delivered erasure notices."""
    result = PassResult(fanned_out=fan_out(store, now=clock()))
    with store.read() as conn:
        allowed = allowed_networks(conn)
    for job in claim_due(store, policy, now=clock()):
        error = delivery_refusal(job.url, allowed) or send(job, client)
        status = record_result(store, job, error, policy, now=clock())
        if status == "delivered":
            result.delivered += 1
        elif status == "failed":
            result.failed += 1
        else:
            result.retrying += 1
    if result.delivered or result.failed:
        scrub_erasure_notices(store)
    return result


class WebhookWorker:
    """A background thread delivering the outbox: a pass every ``interval`` seconds or on ``wake``.

    Started and stopped with the server (``leadgate.api.server``). Errors of one pass (database
    briefly unavailable, a lock) are logged and the next pass retries: the worker must outlive
    them, and the store keeps every delivery until it is recorded.
    """

    def __init__(
        self,
        store: Store,
        *,
        policy: DeliveryPolicy | None = None,
        interval: float = 1.0,
        clock: Clock = _now,
    ) -> None:
        self.store = store
        self.policy = policy or DeliveryPolicy()
        self.interval = interval
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="leadgate-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Run a pass now (called after a request wrote to the outbox)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        with httpx.Client(timeout=self.policy.timeout_seconds, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    result = run_once(self.store, client, self.policy, clock=self.clock)
                    busy = result.delivered + result.retrying + result.failed >= self.policy.batch
                except Exception:  # the worker must survive a failed pass; see class docstring
                    log.exception("webhook delivery pass failed; retrying")
                    busy = False
                if not busy:
                    self._wake.wait(self.interval)
                    self._wake.clear()
