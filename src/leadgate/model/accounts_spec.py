"""The ``accounts:`` block of a model (issue #15): account scoring, buying group and the MQA.

Its keys as pydantic models; ``model/accounts_check.py`` checks what pydantic cannot (conditions,
one kind per rule, roll-up measures naming real dimensions) and ``engine/accounts_compile.py``
turns it into the account plan. ``model/spec.py`` holds it as ``ModelSpec.accounts``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadgate.model.spec import (
    MAX_COUNT,
    MAX_POINTS,
    CheckSpec,
    ConditionMap,
    Count,
    Days,
    EventTypes,
    Points,
)
from leadgate.model.spec import _Strict as Strict

# What a roll-up aggregates, and the one key that names it.
ROLLUP_KINDS = ("count", "sum", "max", "top_sum", "count_distinct")


class RollupSpec(Strict):
    """A roll-up over the account's scored leads: exactly one of ``count`` (leads matching
    ``where``), ``sum``/``max``/``top_sum`` (of ``total`` or a dimension score; ``top_sum`` adds
    the ``n`` largest) or ``count_distinct`` (of a lead field)."""

    count: Literal["leads"] | None = Field(None, description="Count the leads (write 'leads').")
    sum: str | None = Field(None, description="Sum of 'total' or a dimension score.")
    max: str | None = Field(None, description="Largest 'total' or dimension score.")
    top_sum: str | None = Field(None, description="Sum of the n largest 'total' or dimension.")
    count_distinct: str | None = Field(None, description="Distinct values of a lead field.")
    n: int | None = Field(None, gt=0, le=MAX_COUNT, description="How many leads top_sum adds.")
    where: ConditionMap | None = Field(
        None, description="Which leads count: their profile, score.total, score.<dim>, mql."
    )


class AccountRuleSpec(Strict):
    """An account rule: a profile rule on the account's fields (``when``), an event rule on
    account-level events (``event``) or a roll-up over its leads (``rollup``)."""

    name: str = Field(min_length=1, description="Shown in explanations; unique within a dimension.")
    points: Points = Field(description="Points on a match, per event, or per unit of a roll-up.")
    when: ConditionMap | None = Field(None, description="Condition on the account's fields.")
    event: EventTypes | None = Field(None, description="Account-level event type(s) counted.")
    where: ConditionMap | None = Field(None, description="Condition on event properties.")
    within_days: Days | None = None
    half_life_days: Days | None = None
    max_count: int | None = Field(None, gt=0, le=MAX_COUNT)
    rollup: RollupSpec | None = Field(None, description="A roll-up over the account's leads.")
    max_points: float | None = Field(
        None, gt=0, le=MAX_POINTS, description="Cap on the rule's points (event and roll-up)."
    )


class AccountDimensionSpec(Strict):
    """An account dimension: rules and an optional clip (as a lead dimension)."""

    description: str | None = None
    max: Points | None = None
    min: Points | None = None
    half_life_days: Days | None = Field(None, description="Default decay for its event rules.")
    within_days: Days | None = Field(None, description="Default window for its event rules.")
    rules: list[AccountRuleSpec] = Field(default_factory=list)


class RoleSpec(Strict):
    """A buying-group role: leads matching ``when`` (first matching role wins) fill it."""

    name: str = Field(min_length=1)
    when: ConditionMap
    required: Count = Field(1, description="Engaged leads the role needs to be complete.")


class BuyingGroupSpec(Strict):
    """The buying group: roles in order, when a lead counts as engaged, the completeness gate."""

    roles: list[RoleSpec] = Field(min_length=1)
    engaged_when: ConditionMap | None = Field(
        None, description="A lead fills its role only when this holds (always, when absent)."
    )
    min_completeness: float | None = Field(
        None, ge=0, le=1, description="MQA gate: mean over roles of min(filled / required, 1)."
    )


class AccountsSpec(Strict):
    """Account scoring and the MQA: scored per ``account_id`` after its leads are scored."""

    threshold: Points = Field(description="Account total needed for an MQA.")
    floors: dict[str, Points] = Field(default_factory=dict)
    abm_when: ConditionMap | None = Field(
        None, description="ABM accounts (their hand-off is the MQA): a condition on its fields."
    )
    dimensions: dict[str, AccountDimensionSpec] = Field(min_length=1)
    buying_group: BuyingGroupSpec | None = None
    require: list[CheckSpec] = Field(default_factory=list)
    disqualify: list[CheckSpec] = Field(default_factory=list)


__all__ = [
    "ROLLUP_KINDS",
    "AccountDimensionSpec",
    "AccountRuleSpec",
    "AccountsSpec",
    "BuyingGroupSpec",
    "RoleSpec",
    "RollupSpec",
]
