"""Speed-to-lead: the time from MQL to sales' first touch, and the SLA it is held to.

Each MQL cycle carries its SLA (``sla_hours`` of the lead's segment in the model that made it an
MQL; 24 h by default) and its due time. A cycle is ``met`` when the first touch came by the due
time, ``breached`` when it came later or has not come and the due time has passed, and
``pending`` otherwise.
"""

from __future__ import annotations

from datetime import datetime

DEFAULT_SLA_HOURS = 24.0
SLA_STATES = ("pending", "breached", "met")


def sla_state(due_at: datetime, first_touch_at: datetime | None, as_of: datetime) -> str:
    """``met``, ``breached`` or ``pending`` for one MQL cycle at ``as_of``."""
    if first_touch_at is not None:
        return "met" if first_touch_at <= due_at else "breached"
    return "breached" if as_of > due_at else "pending"


def overdue_hours(due_at: datetime, first_touch_at: datetime | None, as_of: datetime) -> float:
    """How late the first touch was (or, untouched, how overdue the cycle is at ``as_of``)."""
    end = first_touch_at if first_touch_at is not None else as_of
    return max(0.0, (end - due_at).total_seconds() / 3600.0)


def speed_to_lead_hours(mql_at: datetime, first_touch_at: datetime | None) -> float | None:
    """Hours from MQL to first touch; ``None`` while untouched."""
    if first_touch_at is None:
        return None
    return (first_touch_at - mql_at).total_seconds() / 3600.0
