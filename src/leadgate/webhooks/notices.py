"""``lead.erased`` notices: tell downstream systems whom to erase, then forget it here too.

Erasing a person (``service/erasure.py``) writes one ``lead.erased`` outbox row per erased
record. Its payload carries the original ``lead_id`` only while a webhook still has to receive
it: when no active webhook subscribes to ``lead.erased`` the id is never written, and
``scrub_erasure_notices`` blanks it as soon as every subscribed webhook's delivery of the row has
ended (delivered, or given up after the retry schedule). The delivery worker calls it after
each pass, so the original id outlives the erasure only as long as the hand-off takes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from leadgate.store.db import Store
from leadgate.store.schema import outbox, webhook_deliveries, webhooks

TOPIC = "lead.erased"


def _subscribers(conn: Connection) -> list[Any]:
    rows = conn.execute(select(webhooks.c.id, webhooks.c.topics, webhooks.c.created_at).where(
        webhooks.c.active.is_(True)
    )).all()  # fmt: skip
    return [r for r in rows if not r.topics or TOPIC in r.topics]


def has_subscribers(conn: Connection) -> bool:
    """Whether an active webhook will receive ``lead.erased`` notices written now."""
    return bool(_subscribers(conn))


def scrub_erasure_notices(store: Store) -> int:
    """Blank the original lead id of every ``lead.erased`` notice no webhook still waits for;
    returns how many were blanked."""
    d = webhook_deliveries
    with store.write() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.payload, outbox.c.created_at).where(
                outbox.c.topic == TOPIC
            )
        ).all()
        waiting = [r for r in rows if (r.payload or {}).get("lead_id") is not None]
        if not waiting:
            return 0
        hooks = _subscribers(conn)
        ids = [r.id for r in waiting]
        ended = {
            (o, w)
            for o, w in conn.execute(
                select(d.c.outbox_id, d.c.webhook_id).where(
                    d.c.outbox_id.in_(ids), d.c.status != "pending"
                )
            )
        }
        done = [
            r for r in waiting
            if all((r.id, h.id) in ended for h in hooks if h.created_at <= r.created_at)
        ]  # fmt: skip
        for r in done:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == r.id)
                .values(payload={**r.payload, "lead_id": None})
            )
    return len(done)
