"""The MQA, defined once: when an account is a Marketing Qualified Account, and what it lacks.

docs/semantics.md "Accounts": an account is an MQA when no disqualifier matches, every gate
passes, every floor is met, its buying group's completeness meets ``min_completeness`` (when a
buying group sets one) and its total meets the threshold; a bar is met as for leads
(``qualify.meets``: ``value + EPSILON >= bar``). Lacks come in that order; a completeness short of
its bar is told role by role ("role champion: 0 of 1 engaged"), for each role not filled.
Both account executors read the verdict from here (``met``: the SQL's decisions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from leadgate.engine import ir
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_result import RoleResult
from leadgate.engine.qualify import meets, qualify
from leadgate.engine.result import CheckResult, Lack

COMPLETENESS = "completeness"  # the key of the completeness bar in ``met``


def policy_of(plan: AccountPlan) -> ir.Policy:
    """The account requirements as a lead policy (disqualifiers, gates, floors, threshold)."""
    return ir.Policy(plan.threshold, plan.floors, plan.gates, plan.disqualifiers)


def completeness_of(roles: Sequence[RoleResult]) -> float:
    """Mean over roles of ``min(filled / required, 1)``."""
    return math.fsum(r.completeness for r in roles) / len(roles)


@dataclass(frozen=True)
class AccountVerdict:
    floor_met: Mapping[str, bool]
    completeness_met: bool
    threshold_met: bool
    lacks: tuple[Lack, ...]

    @property
    def mqa(self) -> bool:
        return not self.lacks


def qualify_account(
    plan: AccountPlan,
    checks: Sequence[CheckResult],
    scores: Mapping[str, float],
    total: float,
    roles: Sequence[RoleResult],
    met: Mapping[str, bool] | None = None,
) -> AccountVerdict:
    """The verdict on one account (``met``: floors by dimension, "total" and "completeness"
    already decided, as the SQL's columns give them; decided here when absent).

    The lead verdict (``qualify.qualify``) over the account's disqualifiers, gates, floors and
    threshold, with the buying group's completeness bar between the floors and the threshold.
    """
    verdict = qualify(plan.base, policy_of(plan), checks, scores, total, met)
    completeness_met = True
    role_lacks: list[Lack] = []
    group = plan.buying_group
    if group is not None and group.min_completeness is not None:
        completeness_met = (
            met[COMPLETENESS]
            if met is not None
            else bool(meets(completeness_of(roles), group.min_completeness))
        )
        if not completeness_met:
            role_lacks = [
                Lack("role", r.name, float(r.required - r.filled), r.filled, r.required)
                for r in roles
                if r.filled < r.required
            ]
    lacks = list(verdict.lacks)
    at = len(lacks) - (0 if verdict.threshold_met else 1)  # the threshold's lack comes last
    lacks[at:at] = role_lacks
    return AccountVerdict(verdict.floor_met, completeness_met, verdict.threshold_met, tuple(lacks))
