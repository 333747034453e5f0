"""The audit log: an append-only record of who changed what, and when (ARCHITECTURE.md invariant 9).

Every model publish, key create/revoke/rotate, webhook add/remove/retry, reject-reason change,
disposition, erasure, retention run and settings change calls ``record_audit`` in the same
transaction as the change itself, so a change and its audit row commit or roll back together.

``actor`` is who acted: ``key:<name>`` for an API key (its id goes in ``key_id``), ``cli:<os
user>`` for the command line, ``system`` for the server's own work. It is always taken from the
authenticated key or the local operator, never from a request body. The library never updates
or deletes an audit row; the one exception is erasure, which rewrites an erased person's lead id
in ``target`` to their tombstone id (``service/erasure.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, or_, select

from leadgate.engine import as_utc
from leadgate.errors import FieldError
from leadgate.store.db import Store
from leadgate.store.schema import audit_log

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log: ``key:<name>`` with the key's id, ``cli:<user>``, ``system``."""

    name: str
    key_id: int | None = None


SYSTEM = Actor("system")


class AuditEntry(BaseModel):
    """One audit row: when, who (actor and key id), the action, its target and details."""

    id: int
    at: datetime
    actor: str
    key_id: int | None = None
    action: str
    target: str | None = None
    details: dict[str, Any]


class AuditFilterError(FieldError):
    """Raised for a bad audit filter (``limit`` out of range, ``since`` after ``until``)."""


def record_audit(
    conn: Connection,
    by: Actor,
    action: str,
    *,
    at: datetime,
    target: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit row (in the caller's transaction)."""
    conn.execute(
        audit_log.insert().values(
            at=as_utc(at),
            actor=by.name[:255],
            key_id=by.key_id,
            action=action,
            target=None if target is None else str(target)[:255],
            details=details or {},
        )
    )


def list_audit(
    store: Store,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit rows, newest first.

    Args:
        actor: only this actor (exact, e.g. ``key:ci`` or ``cli:alice``).
        action: only this action (``key.create``) or family (``key`` matches ``key.*``).
        since: only rows at or after this time.
        until: only rows before this time.
        limit: at most this many rows (1 to 10,000).

    Raises:
        AuditFilterError: ``limit`` out of range or ``since`` not before ``until``.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise AuditFilterError(f"must be between 1 and {MAX_LIMIT}, got {limit}", "limit")
    for name, text in (("actor", actor), ("action", action)):
        if text is not None and not text.isprintable():
            raise AuditFilterError("must not contain control characters", name)
    since, until = _utc(since, "since"), _utc(until, "until")
    if since is not None and until is not None and since >= until:
        raise AuditFilterError("must be before until", "since")
    c = audit_log.c
    q = select(audit_log).order_by(c.id.desc()).limit(limit)
    if actor is not None:
        q = q.where(c.actor == actor)
    if action is not None:
        family = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = q.where(or_(c.action == action, c.action.like(f"{family}.%", escape="\\")))
    if since is not None:
        q = q.where(c.at >= since)
    if until is not None:
        q = q.where(c.at < until)
    with store.read() as conn:
        return [AuditEntry.model_validate(dict(r._mapping)) for r in conn.execute(q)]


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 has no UTC time
        raise AuditFilterError(f"{value.isoformat()} is out of range", name) from None
