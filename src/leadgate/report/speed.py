"""Speed-to-lead: how fast sales first touches a new MQL, SLA breaches, conversion by bucket.

Time to first touch is ``first_touch_time - mql_time`` of each MQL cycle. A cycle breaches its SLA
(``sla_hours``: the model's, per segment, or the store's record of it) when the first touch came
later, or when it was never touched and the SLA had already run out at ``as_of``. Conversion
(MQL->SQL, MQL->won) is measured per response bucket: under 1 h, 1-24 h, 24-48 h, over 48 h and
never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.report.frame import select
from leadgate.report.funnel import choose_versions
from leadgate.report.stats import Rate

# (label, lower bound in hours inclusive, upper bound exclusive)
BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<1h", 0.0, 1.0),
    ("1-24h", 1.0, 24.0),
    ("24-48h", 24.0, 48.0),
    (">48h", 48.0, float("inf")),
)
UNTOUCHED = "never touched"


@dataclass
class SpeedBucket:
    bucket: str
    mqls: int
    mql_sql: Rate
    mql_won: Rate

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bucket": self.bucket, "mqls": self.mqls}
        for name in ("mql_sql", "mql_won"):
            d = getattr(self, name).to_dict()
            out[name], out[f"{name}_lo"], out[f"{name}_hi"] = d["rate"], d["lo"], d["hi"]
        return out


@dataclass
class SpeedReport:
    versions: list[str]
    mqls: int
    touched: int
    quantiles_hours: dict[str, float | None]  # p25, median, p75, p90, mean
    sla_breaches: int
    breached_late: int  # touched after the SLA
    breached_untouched: int  # never touched and the SLA has run out
    buckets: list[SpeedBucket]
    hours: list[float]  # every touched cycle's time to first touch, for the chart

    @property
    def breach_rate(self) -> Rate:
        return Rate(self.sla_breaches, self.mqls)

    def records(self) -> list[dict[str, Any]]:
        return [b.record() for b in self.buckets]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "speed",
            "model_versions": self.versions,
            "mqls": self.mqls,
            "touched": self.touched,
            "hours_to_first_touch": self.quantiles_hours,
            "sla_breaches": self.sla_breaches,
            "sla_breach_rate": self.breach_rate.to_dict(),
            "breached_late": self.breached_late,
            "breached_untouched": self.breached_untouched,
            "buckets": self.records(),
        }


def bucket_of(hours: float | None) -> str:
    """The response bucket of a time to first touch (None: never touched)."""
    if hours is None or hours != hours:
        return UNTOUCHED
    for label, lo, hi in BUCKETS:
        if lo <= hours < hi:
            return label
    return BUCKETS[0][0]  # a touch recorded before the MQL time counts as immediate


def speed_report(
    frame: pd.DataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    as_of: datetime | None = None,
    model_version: str | Sequence[str] | None = None,
    mix_versions: bool = False,
) -> SpeedReport:
    """Time to first touch, SLA breaches and conversion by response bucket for the MQL cohort.

    ``as_of`` decides whether an untouched MQL has breached its SLA yet (default: the latest time
    in the frame).
    """
    frame, _, versions = choose_versions(frame, [], model_version, mix_versions)
    mqls = select(frame[frame["is_mql"]], since=since, until=until)
    hours = (mqls["first_touch_time"] - mqls["mql_time"]).dt.total_seconds() / 3600.0
    touched = hours.dropna()
    if as_of is None:
        stamps = pd.concat(
            [frame[c].dropna() for c in ("mql_time", "first_touch_time", "closed_time")]
        )
        now = stamps.max() if len(stamps) else None
    else:
        now = pd.Timestamp(as_of)
    sla = mqls["sla_hours"].fillna(DEFAULT_SLA_HOURS)
    late = (hours > sla).fillna(False)
    untouched = hours.isna()
    if now is not None:
        expired = ((now - mqls["mql_time"]).dt.total_seconds() / 3600.0) > sla
        untouched_breach = untouched & expired
    else:
        untouched_breach = untouched
    buckets_of = hours.map(lambda h: bucket_of(None if pd.isna(h) else float(h)))
    buckets: list[SpeedBucket] = []
    for label in [b[0] for b in BUCKETS] + [UNTOUCHED]:
        g = mqls[buckets_of == label]
        buckets.append(
            SpeedBucket(
                label, len(g), Rate(int(g["sql"].sum()), len(g)), Rate(int(g["won"].sum()), len(g))
            )
        )
    arr = touched.to_numpy(dtype=float)

    def q(p: float) -> float | None:
        return float(np.quantile(arr, p)) if arr.size else None

    quantiles = {
        "p25": q(0.25),
        "median": q(0.5),
        "p75": q(0.75),
        "p90": q(0.9),
        "mean": float(arr.mean()) if arr.size else None,
    }
    return SpeedReport(
        versions,
        len(mqls),
        int(arr.size),
        quantiles,
        int(late.sum() + untouched_breach.sum()),
        int(late.sum()),
        int(untouched_breach.sum()),
        buckets,
        [float(h) for h in arr],
    )
