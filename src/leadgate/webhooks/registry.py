"""Webhook URLs: add (with the HMAC secret), list with delivery counts, and deactivate.

``leadgate webhooks add URL --secret S`` and ``POST /v1/webhooks`` both land here. A webhook
receives the outbox rows created after it was added (never the backlog from before it existed).
Targets in private, loopback and link-local ranges are refused unless allowed (``targets.py``);
adding, removing and re-queueing are audited (``store/audit.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from leadgate.errors import FieldError, NotFoundError
from leadgate.store.audit import SYSTEM, Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.schema import webhook_deliveries, webhooks
from leadgate.webhooks.targets import allowed_networks, check_target

TOPICS = ("lead.mql", "lead.disposition", "lead.erased", "account.mqa")


@dataclass(frozen=True)
class Webhook:
    """A configured webhook; ``counts`` are its deliveries by status (pending, delivered, failed)."""

    id: int
    url: str
    topics: tuple[str, ...]
    active: bool
    created_at: datetime
    counts: dict[str, int]


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldError(
            f"expected an http(s) URL such as https://example.com/hook, got {url!r}", "url"
        )
    return url


def _check_topics(topics: list[str] | tuple[str, ...] | None) -> list[str]:
    out: list[str] = []
    for topic in topics or ():
        if topic not in TOPICS:
            raise FieldError(f"unknown topic '{topic}' (use {', '.join(TOPICS)})", "topics")
        out.append(topic)
    return out


def add_webhook(
    store: Store,
    url: str,
    *,
    secret: str | None = None,
    topics: list[str] | tuple[str, ...] | None = None,
    now: datetime | None = None,
    by: Actor = SYSTEM,
) -> tuple[Webhook, str]:
    """Add a webhook; returns it and its secret (generated when not given).

    Raises:
        FieldError: the URL is not http(s), the secret is too short or a topic is unknown.
        TargetError: the URL's host is in a refused range (field ``url``).
    """
    url = _check_url(url)
    if secret is not None and len(secret) < 16:
        raise FieldError("must be at least 16 characters (or omit it to generate one)", "secret")
    secret = secret or secrets.token_urlsafe(32)
    chosen = _check_topics(topics)
    now = now or datetime.now(UTC)
    with store.read() as conn:
        allowed = allowed_networks(conn)
    check_target(url, allowed)  # outside the transaction: DNS may take a while
    with store.write() as conn:
        new_id = conn.execute(
            webhooks.insert().values(
                url=url, secret=secret, topics=chosen, active=True, created_at=now
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        record_audit(
            conn, by, "webhook.add", at=now, target=new_id, details={"url": url, "topics": chosen}
        )
    return Webhook(new_id, url, tuple(chosen), True, now, {}), secret


def list_webhooks(store: Store, *, include_inactive: bool = False) -> list[Webhook]:
    """Webhooks with their delivery counts by status, oldest first."""
    query = select(webhooks).order_by(webhooks.c.id)
    if not include_inactive:
        query = query.where(webhooks.c.active.is_(True))
    counts_q = select(
        webhook_deliveries.c.webhook_id, webhook_deliveries.c.status, func.count()
    ).group_by(webhook_deliveries.c.webhook_id, webhook_deliveries.c.status)
    with store.read() as conn:
        rows = conn.execute(query).all()
        counts: dict[int, dict[str, int]] = {}
        for webhook_id, status, n in conn.execute(counts_q):
            counts.setdefault(webhook_id, {})[status] = n
    return [
        Webhook(r.id, r.url, tuple(r.topics or ()), r.active, r.created_at, counts.get(r.id, {}))
        for r in rows
    ]


def remove_webhook(
    store: Store, webhook_id: int, *, now: datetime | None = None, by: Actor = SYSTEM
) -> None:
    """Deactivate a webhook: nothing new is fanned out to it; pending deliveries are dropped.

    Raises:
        NotFoundError: no webhook has that id.
    """
    now = now or datetime.now(UTC)
    with store.write() as conn:
        found = conn.execute(
            update(webhooks).where(webhooks.c.id == webhook_id).values(active=False)
        ).rowcount
        if not found:
            raise NotFoundError(f"no webhook with id {webhook_id}")
        conn.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.status == "pending",
            )
            .values(status="failed", last_error="webhook removed")
        )
        record_audit(conn, by, "webhook.remove", at=now, target=webhook_id)


def retry_failed(
    store: Store,
    webhook_id: int | None = None,
    *,
    now: datetime | None = None,
    by: Actor = SYSTEM,
) -> int:
    """Queue the failed deliveries of active webhooks again (all, or one webhook's); returns how
    many. For a receiver that was down longer than the retry schedule lasts."""
    now = now or datetime.now(UTC)
    d = webhook_deliveries
    active = select(webhooks.c.id).where(webhooks.c.active.is_(True))
    if webhook_id is not None:
        active = active.where(webhooks.c.id == webhook_id)
    with store.write() as conn:
        count = int(
            conn.execute(
                update(d)
                .where(d.c.status == "failed", d.c.webhook_id.in_(active))
                .values(status="pending", attempts=0, next_attempt_at=now)
            ).rowcount
        )
        record_audit(
            conn, by, "webhook.retry", at=now, target=webhook_id, details={"queued": count}
        )
    return count
