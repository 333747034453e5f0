"""Finding and delivering every undelivered outbox message: ``leadgate webhooks recover``.

Fan-out (``delivery.fan_out``) cannot skip a committed message, but a store may hold messages
that never got their deliveries: written by a version whose fan-out cursor skipped late commits
on PostgreSQL, or restored from a backup taken mid-way. ``recover`` checks the whole outbox
against the active webhooks, whatever the rows' fan-out marks say, and creates each missing
delivery (same rules as fan-out: the webhook's topics, rows created since it was added);
optionally it queues failed deliveries again. ``deliver_all`` then sends everything due, pass
after pass, until nothing due is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update

from leadgate.store.db import Store
from leadgate.store.schema import outbox
from leadgate.webhooks.delivery import (
    DeliveryPolicy,
    PassResult,
    active_hooks,
    create_deliveries,
    run_once,
)
from leadgate.webhooks.registry import retry_failed

BATCH = 2000


@dataclass
class Recovery:
    """What ``recover`` found: messages lacking a delivery, and failed ones queued again."""

    checked: int = 0  # outbox rows checked
    missing: int = 0  # deliveries created for messages that lacked them
    requeued: int = 0  # failed deliveries queued again


def recover(
    store: Store, *, failed: bool = False, now: datetime | None = None, batch: int = BATCH
) -> Recovery:
    """Create every missing delivery of every outbox row; with ``failed``, retry failed ones.

    Walks the outbox by id in batches (one transaction each), so it can run while the server
    delivers: an existing (outbox, webhook) pair is never duplicated.
    """
    now = now or datetime.now(UTC)
    out = Recovery()
    last = 0
    while True:
        with store.write() as conn:
            hooks = active_hooks(conn)
            rows = conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.created_at)
                .where(outbox.c.id > last)
                .order_by(outbox.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            out.checked += len(rows)
            out.missing += create_deliveries(conn, rows, hooks, now)
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]), outbox.c.fanned_out_at.is_(None))
                .values(fanned_out_at=now)
            )
        last = rows[-1].id
    if failed:
        out.requeued = retry_failed(store, now=now)
    return out


def deliver_all(store: Store, client: httpx.Client, policy: DeliveryPolicy) -> PassResult:
    """Delivery passes until one finds less than a full batch due; the totals of all passes.

    A delivery that fails is scheduled for a later retry (not due now), so this ends after about
    one attempt per due delivery; the server's worker (or the next run) takes the retries.
    """
    total = PassResult()
    while True:
        result = run_once(store, client, policy)
        total.fanned_out += result.fanned_out
        total.delivered += result.delivered
        total.retrying += result.retrying
        total.failed += result.failed
        if result.delivered + result.retrying + result.failed < policy.batch:
            return total
