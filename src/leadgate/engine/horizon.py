"""How far back a model can still see: the age beyond which no event changes any score.

ARCHITECTURE.md "Scoring semantics": an event counts only inside its rule's window
(``within_days``), and an event rule without a window counts ``points * 0.5 ** (age /
half_life_days)``. So an event older than its filter's window, or (no window) so old that its
decayed points are below ``TOLERANCE`` (1e-9 of a point, the executors' agreement tolerance),
cannot change a score: it is safe to delete (``service/retention.py``). A count rule, gate or
disqualifier without a window, or an event rule with neither window nor half-life, counts
events of any age: the horizon is then unbounded (``None``).

The decay bound: ``|points| * 0.5 ** (age / h) < TOLERANCE`` when
``age > h * log2(|points| / TOLERANCE)``. Each deleted event then moves a lead's total by less
than 1e-9; ``k`` such events by less than ``k * 1e-9``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import assert_never

from leadgate.engine import ir

TOLERANCE = 1e-9


def rule_horizon_days(rule: ir.Rule) -> float | None:
    """Days after which an event cannot change this rule's points (0: the rule reads no
    events; ``None``: no such age)."""
    match rule:
        case ir.ProfileRule():
            return 0.0
        case ir.CountRule():
            return rule.count.filter.within_days
        case ir.EventRule():
            if rule.filter.within_days is not None:
                return rule.filter.within_days
            if rule.half_life_days is None or rule.points_per is not None:
                return None  # points per unit: no bound on an event's points
            if abs(rule.points) <= TOLERANCE:
                return 0.0
            return rule.half_life_days * math.log2(abs(rule.points) / TOLERANCE)
        case _:
            assert_never(rule)


@dataclass(frozen=True)
class Horizon:
    """The age in days after which no event changes a score (``None``: unbounded), and the
    rule or check that sets it (the one that looks furthest back)."""

    days: float | None
    by: str = ""


def horizon(plan: ir.Plan) -> Horizon:
    """How far back ``plan`` looks: the furthest any rule or check can still count an event."""
    ages: list[tuple[float, str]] = []
    for rule in plan.rules:
        age = rule_horizon_days(rule)
        if age is None:
            return Horizon(None, f"rule '{rule.name}'")
        ages.append((age, f"rule '{rule.name}'"))
    tests = [(c.name, c.events) for c in (*plan.checks, *plan.pql_gates)]
    tests += [(s.name, s.events) for s in plan.signals]
    for name, events in tests:
        if events is not None:
            if events.filter.within_days is None:
                return Horizon(None, f"check '{name}'")
            ages.append((events.filter.within_days, f"check '{name}'"))
    if not ages:
        return Horizon(0.0)
    days, by = max(ages)
    return Horizon(days, by)
