"""Builders for small hand-made funnel frames: a lead, an MQL cycle, and the frame of both.

Imported by the tests of this folder as ``from report_builders import ...``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from leadgate.report.frame import build_frame

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    """A time ``days`` and ``hours`` after T0 (2026-01-05 09:00 UTC)."""
    return T0 + timedelta(days=days, hours=hours)


def lead(lead_id: str, channel: str = "web", **attrs: Any) -> dict[str, Any]:
    base = {
        "lead_id": lead_id,
        "created_at": at(),
        "channel": channel,
        "segment": "smb",
        "persona": "manager",
        "region": "NA",
        "industry": "software",
        "company_size": 100.0,
    }
    base.update(attrs)
    return base


def cycle(lead_id: str, stage: str, mql: datetime | None = None, **extra: Any) -> dict[str, Any]:
    """An MQL cycle that got as far as ``stage``: mql, rejected, sal, sql, opp, won, lost."""
    m = mql or at(1)
    c: dict[str, Any] = {
        "lead_id": lead_id,
        "mql_time": m,
        "first_touch_time": m + timedelta(hours=2),
    }
    if stage == "rejected":
        c.update(sal_status="rejected", sal_time=m + timedelta(days=1), reject_reason="no_intent")
    order = ["sal", "sql", "opp", "won"]
    if stage in order or stage == "lost":
        c.update(sal_status="accepted", sal_time=m + timedelta(days=1))
    if stage in ("sql", "opp", "won", "lost"):
        c["sql_time"] = m + timedelta(days=3)
    if stage in ("opp", "won", "lost"):
        c["opportunity_time"] = m + timedelta(days=5)
        c["amount"] = 1000.0
    if stage in ("won", "lost"):
        c.update(outcome=stage, closed_time=m + timedelta(days=30))
    c.update(extra)
    return c


def make_frame(
    leads: list[dict[str, Any]], cycles: list[dict[str, Any]], **kw: Any
) -> pd.DataFrame:
    return build_frame(leads, cycles, **kw)
