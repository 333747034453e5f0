"""Speed-to-lead: the time from MQL to sales' first touch, and the SLA it is held to.

Each MQL cycle carries its SLA (``sla_hours`` of the lead's segment in the model that made it an
MQL; ``DEFAULT_SLA_HOURS`` when it gives none) and its due time (``sla_due_at``). A cycle is
``met`` when the first touch came by the due time, ``breached`` when it came later or has not
come and the due time has passed, and ``pending`` otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# The one SLA default: a model's ``sla_hours`` when it sets none, the terms of imported cycles
# without an active model, and the reports' SLA for file outcomes that carry none. Written as an
# int: ``ModelSpec.sla_hours`` defaults to it and a model's content hash includes the default
# (``24``, not ``24.0``, as before this constant was shared).
DEFAULT_SLA_HOURS: float = 24
SLA_STATES = ("pending", "breached", "met")


def sla_hours_of(hours: float | None) -> float:
    """The SLA a new MQL cycle is held to: ``hours``, or the default when none (or 0) is given."""
    return float(hours or DEFAULT_SLA_HOURS)


def sla_due_at(mql_at: datetime, hours: float | None) -> datetime:
    """When the first touch of a cycle that became an MQL at ``mql_at`` is due."""
    return mql_at + timedelta(hours=sla_hours_of(hours))


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
