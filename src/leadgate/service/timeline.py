"""The store's history moves forward: a re-score dated before the store's latest scoring is
refused unless forced.

``tick``, ``publish`` and ``load`` re-score at an ``as_of`` the user may give; one in the past
would write score history and transitions dated before those already recorded (a tick at
2020-01-01 on a store scored to 2026 rewrote every lead's score as of 2020). ``check_forward``
is the one test; ``force`` is for a deliberate replay.

A time the caller did not pin (``pinned=False``: "now", read before the write lock was held) is
not a replay: another writer may have scored a moment later while this one waited for the lock.
Such a time moves up to the latest scoring instead of being refused (``forward_as_of``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from leadgate.engine import as_utc
from leadgate.errors import LeadgateError
from leadgate.store.schema import leads


class HistoryBackwardsError(LeadgateError):
    """Raised when a re-score's ``as_of`` is before the store's latest scoring time."""

    def __init__(self, as_of: datetime, latest: datetime) -> None:
        self.as_of = as_of
        self.latest = latest
        super().__init__(
            f"as_of {as_of.isoformat()} is before the store's latest scoring time "
            f"{latest.isoformat()}: scores and history would move backwards in time "
            "(force: re-score at that time anyway)"
        )


def latest_scoring(conn: Connection) -> datetime | None:
    """The newest time any lead of the store was scored at (None before the first score)."""
    latest = conn.execute(select(func.max(leads.c.scored_at))).scalar()
    return as_utc(latest) if latest is not None else None


def check_forward(conn: Connection, as_of: datetime, *, force: bool = False) -> None:
    """Refuse a re-score at ``as_of`` before the latest one, unless ``force``.

    Raises:
        HistoryBackwardsError: ``as_of`` is before the store's latest scoring time.
    """
    if force:
        return
    latest = latest_scoring(conn)
    if latest is not None and as_utc(as_of) < latest:
        raise HistoryBackwardsError(as_utc(as_of), latest)


def forward_as_of(
    conn: Connection, as_of: datetime, *, pinned: bool = True, force: bool = False
) -> datetime:
    """The time a re-score runs at, read under the write lock: ``as_of`` when it is not before
    the store's latest scoring; else, when not ``pinned``, that latest time.

    Raises:
        HistoryBackwardsError: a ``pinned`` ``as_of`` is before the latest scoring (unless
            ``force``).
    """
    as_of = as_utc(as_of)
    if pinned:
        check_forward(conn, as_of, force=force)
        return as_of
    latest = latest_scoring(conn)
    return max(as_of, latest) if latest is not None else as_of
