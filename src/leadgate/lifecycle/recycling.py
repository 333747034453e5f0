"""Recycling: an MQL that sales leaves alone for ``recycle_after_days`` goes back to nurture.

The clock starts at the MQL moment and restarts at every sales action (a touch or a
disposition) on the cycle; when it runs out with the lead still at ``mql``, ``tick`` moves the
lead to ``nurture`` with cause ``expiry`` and reason ``expired``, dated at the moment it ran out
(not when ``tick`` happened to run), so reports see the true time. A model without
``recycle_after_days`` (in the segment or at the top level) never expires MQLs.

A recycled lead can qualify again: it re-enters ``mql`` as a new cycle when it qualifies and has
an event after it entered nurture (``lifecycle.stages.enters_mql``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

EXPIRED = "expired"


def expires_at(
    mql_at: datetime, last_action_at: datetime | None, recycle_after_days: float | None
) -> datetime | None:
    """When an untouched MQL cycle expires, or ``None`` if it never does."""
    if recycle_after_days is None:
        return None
    start = max(mql_at, last_action_at) if last_action_at is not None else mql_at
    return start + timedelta(days=recycle_after_days)


def expired_at(
    mql_at: datetime,
    last_action_at: datetime | None,
    recycle_after_days: float | None,
    as_of: datetime,
) -> datetime | None:
    """The moment an MQL cycle expired if it has by ``as_of`` (``tick`` recycles it, dated then);
    ``None`` while it has not (or never does)."""
    due = expires_at(mql_at, last_action_at, recycle_after_days)
    return due if due is not None and due <= as_of else None
