"""A webhook's delivery log (each delivery with its attempts and last error) and a test send.

The settings page of the web app shows these; ``send_test`` POSTs a signed ``webhook.test``
message at once (outside the outbox: nothing is stored or retried), so an admin can check a
receiver before real events flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from leadgate.errors import NotFoundError
from leadgate.store.db import Store
from leadgate.store.schema import outbox, webhook_deliveries, webhooks
from leadgate.webhooks.delivery import Job, send
from leadgate.webhooks.targets import allowed_networks, delivery_refusal

TEST_TOPIC = "webhook.test"


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery of an outbox message to a webhook."""

    id: int
    topic: str
    lead_id: str | None
    created_at: datetime
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


def delivery_log(store: Store, webhook_id: int, *, limit: int = 50) -> list[DeliveryRow]:
    """A webhook's newest deliveries first (at most ``limit``)."""
    d, o = webhook_deliveries.c, outbox.c
    q = (
        select(d.id, o.topic, o.lead_id, o.created_at, d.status, d.attempts, d.next_attempt_at,
               d.delivered_at, d.last_error)
        .select_from(webhook_deliveries.join(outbox, outbox.c.id == d.outbox_id))
        .where(d.webhook_id == webhook_id)
        .order_by(d.id.desc())
        .limit(limit)
    )  # fmt: skip
    with store.read() as conn:
        return [DeliveryRow(*row) for row in conn.execute(q)]


def send_test(
    store: Store, webhook_id: int, *, now: datetime | None = None, timeout: float = 10.0
) -> str | None:
    """POST a signed test message to a webhook now; ``None`` if it answered 2xx, else the error.

    The target allow-list applies as to every delivery (``webhooks/targets.py``): a URL that
    resolves to a refused address is not called, and the refusal is the error returned.

    Raises:
        NotFoundError: no active webhook has that id.
    """
    with store.read() as conn:
        row = conn.execute(
            select(webhooks.c.url, webhooks.c.secret).where(
                webhooks.c.id == webhook_id, webhooks.c.active.is_(True)
            )
        ).first()
        allowed = allowed_networks(conn)
    if row is None:
        raise NotFoundError(f"no active webhook with id {webhook_id}")
    at = (now or datetime.now(UTC)).isoformat()
    body = json.dumps(
        {"id": 0, "topic": TEST_TOPIC, "created_at": at, "data": {"test": True}},
        separators=(",", ":"), sort_keys=True,
    ).encode()  # fmt: skip
    job = Job(0, 0, webhook_id, row.url, row.secret, TEST_TOPIC, 0, body)
    refused = delivery_refusal(row.url, allowed)
    if refused is not None:
        return refused
    with httpx.Client(timeout=timeout) as client:
        return send(job, client)
