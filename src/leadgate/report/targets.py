"""The funnel-targets calculator: how many leads each period must bring to hit a revenue goal.

Back-solving from revenue: ``wins = ceil(revenue_per_period / deal_size)``, then each stage
before it is the stage after divided by the conversion rate between them, rounded up (you cannot
hand sales 0.4 of a lead)::

    opps = ceil(wins / opp:won)   sqls = ceil(opps / sql:opp)   sals = ceil(sqls / sal:sql)
    mqls = ceil(sals / mql:sal)   leads = ceil(mqls / lead:mql)

Rates are given (``lead:mql=.2,mql:sal=.7,...``) or measured from history. With measured rates
each channel is solved with its own rates for its share of the wins (its share of won deals in
the history, or an even split when nothing was won): the leads each channel would have to supply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from leadgate.errors import OptionError
from leadgate.report.funnel import funnel_counts

STEPS = ("lead:mql", "mql:sal", "sal:sql", "sql:opp", "opp:won")
STAGES = ("leads", "mqls", "sals", "sqls", "opps", "wins")
PERIODS = {"year": 1, "quarter": 4, "month": 12}
# Shortcuts people write: ``mql:sql`` is not a step but a product of two.
_ALIASES = {"lead:mql": "lead:mql", "mql:sal": "mql:sal", "sal:sql": "sal:sql",
            "sql:opp": "sql:opp", "sql:opportunity": "sql:opp", "opp:won": "opp:won",
            "opportunity:won": "opp:won"}  # fmt: skip


MIN_RATE = 1e-6


def parse_rates(text: str) -> dict[str, float]:
    """``lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25`` -> rates; all five needed.

    Raises:
        LeadgateError: an unknown step, a rate outside (0, 1], or a missing step.
    """
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        key = _ALIASES.get(name.strip().lower())
        if not sep or key is None:
            raise OptionError(
                "rates", f"expected STEP=RATE with STEP one of {', '.join(STEPS)}, got '{part}'"
            )
        try:
            rate = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            raise OptionError("rates", f"{name}: expected a number, got '{value}'") from None
        if not 0 < rate <= 1:  # NaN fails too
            raise OptionError("rates", f"{name}: a conversion rate must be in (0, 1], got {value}")
        if rate < MIN_RATE:  # the back-solved counts would overflow
            raise OptionError("rates", f"{name}: {value} is below {MIN_RATE}, too small to plan")
        rates[key] = rate
    missing = [s for s in STEPS if s not in rates]
    if missing:
        raise OptionError(
            "rates", f"missing {', '.join(missing)} (all of {', '.join(STEPS)} are needed)"
        )
    return rates


def back_solve(wins: float, rates: Mapping[str, float]) -> dict[str, int | None]:
    """Stage counts needed for ``wins`` wins; None from the first stage whose rate is 0."""
    need: dict[str, int | None] = {"wins": math.ceil(wins - 1e-9)}
    current: float | None = need["wins"]
    for stage, step in zip(reversed(STAGES[:-1]), reversed(STEPS), strict=True):
        rate = rates.get(step) or 0.0
        # Round each stage up, then solve the one before from the rounded count.
        current = None if current is None or rate <= 0 else math.ceil(current / rate - 1e-9)
        need[stage] = None if current is None else int(current)
    return {s: need[s] for s in STAGES}


@dataclass
class TargetRow:
    """One row of the plan: a channel (or "all") with its rates, share of wins, stage counts."""

    channel: str
    share: float
    rates: dict[str, float]
    need: dict[str, int | None]

    def record(self) -> dict[str, Any]:
        return {"channel": self.channel, "share": self.share, **self.rates, **self.need}


@dataclass
class TargetsPlan:
    revenue: float
    deal_size: float
    period: str
    revenue_per_period: float
    wins_per_period: int
    source: str  # "given" or "measured"
    total: TargetRow
    channels: list[TargetRow] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [self.total.record(), *(c.record() for c in self.channels)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "targets",
            "revenue": self.revenue,
            "deal_size": self.deal_size,
            "period": self.period,
            "revenue_per_period": self.revenue_per_period,
            "wins_per_period": self.wins_per_period,
            "rates": self.source,
            "rows": self.records(),
        }


def measured_rates(frame: pd.DataFrame) -> dict[str, float]:
    """The five step rates of a funnel frame (cohort-measured, as in the funnel report)."""
    counts, _ = funnel_counts(frame, frame[frame["is_mql"]])
    pairs = {"lead:mql": ("mqls_of_leads", "leads"), "mql:sal": ("sals", "mqls"),
             "sal:sql": ("sqls", "sals"), "sql:opp": ("opps", "sqls"), "opp:won": ("wins", "opps")}  # fmt: skip
    return {step: (counts[k] / counts[n] if counts[n] else 0.0) for step, (k, n) in pairs.items()}


def funnel_targets(
    revenue: float,
    deal_size: float,
    *,
    rates: Mapping[str, float] | None = None,
    frame: pd.DataFrame | None = None,
    period: str = "month",
) -> TargetsPlan:
    """Back-solve the funnel for ``revenue`` (per year) at ``deal_size`` per won deal.

    Give ``rates`` (all five steps), or a funnel ``frame`` to measure them overall and per channel.
    """
    if revenue <= 0 or deal_size <= 0:
        raise OptionError(
            "", "{revenue} and {deal_size} must be positive", mentions=("revenue", "deal_size")
        )
    if period not in PERIODS:
        raise OptionError("period", f"expected {', '.join(PERIODS)}, got '{period}'")
    per_period = revenue / PERIODS[period]
    wins = math.ceil(per_period / deal_size - 1e-9)
    if rates is not None:
        total = TargetRow("all", 1.0, dict(rates), back_solve(wins, rates))
        return TargetsPlan(revenue, deal_size, period, per_period, wins, "given", total)
    if frame is None:
        raise OptionError(
            "",
            "targets: give {rates}, or history ({db}, or {leads} and {outcomes}) to measure them",
            mentions=("rates", "db", "leads", "outcomes"),
        )
    overall = measured_rates(frame)
    total = TargetRow("all", 1.0, overall, back_solve(wins, overall))
    channels = sorted(set(frame["channel"]))
    won_by = {c: int(frame.loc[frame["channel"] == c, "won"].sum()) for c in channels}
    all_won = sum(won_by.values())
    rows = []
    for c in channels:
        share = won_by[c] / all_won if all_won else 1 / len(channels)
        r = measured_rates(frame[frame["channel"] == c])
        rows.append(TargetRow(c, share, r, back_solve(wins * share, r)))
    rows.sort(key=lambda row: -row.share)
    return TargetsPlan(revenue, deal_size, period, per_period, wins, "measured", total, rows)
