"""The account plan: the intermediate form of a model's ``accounts:`` block (issue #15).

An account is scored after its leads: its rules are profile rules on its own fields
(``ir.ProfileRule``), event rules on account-level events (``ir.EventRule``: events with an
``account_id`` and no ``lead_id``) and roll-ups over its scored leads (``RollupRule``). The
profile and event rules, with the account gates and disqualifiers, form ``AccountPlan.base``, an
ordinary ``ir.Plan`` whose "leads" are the accounts: both executors score it exactly as they
score leads, so those rules mean here what they mean for leads. The roll-ups, the buying group
and the MQA verdict are this module's and ``engine/accounts_qualify.py``'s.

Dispatch over account rule kinds is ``visit_account_rule`` (closed by ``assert_never``), with
one ``visit_<Node>`` per kind in each executor (``engine/accounts_python.py``,
``engine/accounts_sql.py``), as ``ir.RuleVisitor`` for lead rules (docs/engine.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, TypeVar, assert_never

from leadgate.engine import ir

T = TypeVar("T")
RollupKind = Literal["count", "sum", "max", "top_sum", "count_distinct"]
TOTAL = "total"  # a roll-up measure: the lead's total (else a lead dimension's name)
# The base plan's segment of the accounts ``abm_when`` matches (its policy is the same as the
# default segment's: the segment only tells the executors' shared answer, ``abm``).
ABM_SEGMENT = "abm"


@dataclass(frozen=True)
class Rollup:
    """An aggregate over the account's leads that match ``where`` (read on the lead view:
    its profile, ``score.total``, ``score.<dim>`` and ``mql``).

    ``measure``: ``total`` or a lead dimension (sum, max, top_sum), a lead field
    (count_distinct), None (count). ``n``: how many leads top_sum adds.
    """

    kind: RollupKind
    measure: str | None = None
    n: int | None = None
    where: ir.Cond | None = None


@dataclass(frozen=True)
class RollupRule:
    """``value * points`` capped at ``max_points`` (``sign * min(|v|, max_points)``)."""

    kind: ClassVar[str] = "rollup"  # AccountRuleResult.kind
    key: str
    name: str
    dimension: str
    rollup: Rollup
    points: float
    max_points: float | None = None


AccountRule = ir.ProfileRule | ir.EventRule | RollupRule


class AccountRuleVisitor(ABC, Generic[T]):
    """What an executor does with each kind of account rule (as ``ir.RuleVisitor``)."""

    @abstractmethod
    def visit_ProfileRule(self, rule: ir.ProfileRule) -> T: ...

    @abstractmethod
    def visit_EventRule(self, rule: ir.EventRule) -> T: ...

    @abstractmethod
    def visit_RollupRule(self, rule: RollupRule) -> T: ...


def visit_account_rule(rule: AccountRule, visitor: AccountRuleVisitor[T]) -> T:
    """``visitor``'s method for ``rule``'s kind."""
    if isinstance(rule, ir.ProfileRule):
        return visitor.visit_ProfileRule(rule)
    if isinstance(rule, ir.EventRule):
        return visitor.visit_EventRule(rule)
    if isinstance(rule, RollupRule):
        return visitor.visit_RollupRule(rule)
    assert_never(rule)


@dataclass(frozen=True)
class AccountDimension:
    """An account dimension: its rules in order, clipped to [min, max] when set."""

    name: str
    rules: tuple[AccountRule, ...]
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True)
class Role:
    """A buying-group role; a lead takes the first role whose ``when`` it matches."""

    name: str
    when: ir.Cond
    required: int


@dataclass(frozen=True)
class BuyingGroup:
    """Roles in order; a lead fills its role when ``engaged_when`` holds (always when None)."""

    roles: tuple[Role, ...]
    engaged_when: ir.Cond | None
    min_completeness: float | None


@dataclass(frozen=True)
class AccountPlan:
    """A model's accounts block in intermediate form.

    ``lead``: the lead plan (the roll-ups read its scores); ``base``: the account's own profile
    and event rules, gates and disqualifiers as a plan over accounts (no clip, no threshold),
    whose segment is ``ABM_SEGMENT`` for an account ``abm_when`` matches.
    """

    lead: ir.Plan
    base: ir.Plan
    dimensions: tuple[AccountDimension, ...]
    threshold: float
    floors: tuple[tuple[str, float], ...]
    gates: tuple[ir.Check, ...]
    disqualifiers: tuple[ir.Check, ...]
    buying_group: BuyingGroup | None
    abm_when: ir.Cond | None

    @property
    def rules(self) -> tuple[AccountRule, ...]:
        return tuple(r for d in self.dimensions for r in d.rules)

    @property
    def rollups(self) -> tuple[RollupRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RollupRule))

    def identity(self) -> dict[str, str]:
        return self.lead.identity()
