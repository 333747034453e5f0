"""The scoring model's structure as pydantic models: what keys a model YAML file may hold.

Conditions (``when``/``where``) are kept as mappings here and checked by ``model/conditions.py``,
which knows the operator language; ``model/loader.py`` runs both checks and locates problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.model.conditions import CONDITION_JSON_SCHEMA

if TYPE_CHECKING:
    from leadgate.model.accounts_spec import AccountsSpec

ConditionMap = Annotated[dict[str, Any], WithJsonSchema(CONDITION_JSON_SCHEMA)]
EventTypes = Annotated[
    str | list[str],
    Field(description="An event type, or a list of event types (any of them counts)."),
]
# Bounds keep every value finite through the arithmetic on it (sums of points, dates plus days):
# a model with ``recycle_after_days: 1e308`` would publish and then break every tick.
MAX_DAYS = 36_500  # 100 years
MAX_POINTS = 1e9
MAX_COUNT = 1_000_000_000
Days = Annotated[
    float, Field(gt=0, le=MAX_DAYS, description="A number of days (decimals allowed).")
]
Points = Annotated[float, Field(ge=-MAX_POINTS, le=MAX_POINTS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class _Strict(BaseModel):
    # allow_inf_nan=False: YAML's .nan and .inf are refused wherever a number is expected.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


MEASURES = "count, distinct_days, {sum: PROPERTY} or {distinct: PROPERTY}"
Measure = Annotated[
    str | dict[str, str],
    Field(
        description="What is measured over the matching events: count (default), distinct_days "
        "(UTC calendar days with an event), {sum: PROPERTY} or {distinct: PROPERTY}."
    ),
]


def measure_parts(measure: str | dict[str, str]) -> tuple[str, str | None]:
    """(kind, property) of a validated measure: ("count", None), ("sum", "seats")..."""
    if isinstance(measure, str):
        return measure, None
    ((kind, prop),) = measure.items()
    return kind, prop


Bound = Annotated[float, Field(ge=-MAX_POINTS * MAX_COUNT, le=MAX_POINTS * MAX_COUNT)]


class EventCountSpec(_Strict):
    """An event-count test: ``min_count`` or more events of ``type`` in the window; or, with
    ``measure``, the measure within ``[min, max]``."""

    type: EventTypes
    where: ConditionMap | None = None
    within_days: Days | None = None
    min_count: Count = 1
    max_count: Count | None = None
    measure: Measure = "count"
    min: Bound | None = Field(None, description="The measure is at least this (inclusive).")
    max: Bound | None = Field(None, description="The measure is at most this (inclusive).")
    scope: Literal["lead", "account"] = Field(
        "lead", description="account: over every event of the lead's account."
    )

    @field_validator("measure", mode="before")
    @classmethod
    def _measure(cls, value: object) -> object:
        if value in ("count", "distinct_days"):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((kind, prop),) = value.items()
            if kind in ("sum", "distinct") and isinstance(prop, str) and prop.strip():
                return {kind: prop.strip()}
        raise ValueError(f"expected {MEASURES}")


class RuleSpec(_Strict):
    """A scoring rule: a profile rule (``when``), an event rule (``event`` + optional ``where``),
    or a count rule (``events``: flat points when an event count holds)."""

    name: str = Field(min_length=1, description="Shown in explanations; unique within a dimension.")
    points: Points = Field(description="Points when the rule matches (per event for event rules).")
    when: ConditionMap | None = Field(None, description="Profile condition (profile rule).")
    events: EventCountSpec | None = Field(
        None, description="Event-count condition (count rule): flat points, no decay."
    )
    event: EventTypes | None = Field(None, description="Event type(s) counted (event rule).")
    where: ConditionMap | None = Field(None, description="Condition on event properties.")
    within_days: Days | None = Field(None, description="Only events at most this many days old.")
    half_life_days: Days | None = Field(
        None, description="Recency decay: an event's points halve every this many days."
    )
    max_points: float | None = Field(
        None, gt=0, le=MAX_POINTS, description="Cap on the rule's total points."
    )
    max_count: int | None = Field(
        None, gt=0, le=MAX_COUNT, description="Count only the N most recent events."
    )
    points_per: str | None = Field(
        None,
        min_length=1,
        description="Points per unit of this numeric event property (e.g. seats added).",
    )


class DimensionSpec(_Strict):
    """A dimension (fit, engagement, intent, or any name): rules and an optional clip."""

    description: str | None = None
    max: Points | None = Field(None, description="The dimension's score is clipped to this.")
    min: Points | None = Field(None, description="The dimension's score never goes below this.")
    half_life_days: Days | None = Field(None, description="Default decay for its event rules.")
    within_days: Days | None = Field(None, description="Default window for its event rules.")
    rules: list[RuleSpec] = Field(default_factory=list)


class CheckSpec(_Strict):
    """A gate (``require``) or knock-out (``disqualify``); ``when`` and/or ``events``."""

    name: str = Field(min_length=1)
    when: ConditionMap | None = None
    events: EventCountSpec | None = None


class SignalSpec(_Strict):
    """A named PQL signal: an event-count test (any measure, any scope)."""

    name: str = Field(min_length=1)
    events: EventCountSpec


class PqlSpec(_Strict):
    """The Product Qualified Lead: gates pass and at least ``min_signals`` signals hold."""

    signals: list[SignalSpec] = Field(min_length=1)
    min_signals: int = Field(1, ge=1, le=MAX_COUNT)
    require: list[CheckSpec] = Field(
        default_factory=list,
        description="Gates; their conditions may read the lead's scores (score.<dimension>, "
        "score.total).",
    )


class SegmentSpec(_Strict):
    """A segment variant: first match wins; unset keys inherit from the top level."""

    name: str = Field(min_length=1)
    when: ConditionMap
    threshold: Points | None = None
    floors: dict[str, Points] | None = Field(
        None, description="Merged over the top-level floors, key by key."
    )
    require: list[CheckSpec] | None = Field(None, description="Replaces the top-level gates.")
    disqualify: list[CheckSpec] | None = Field(
        None, description="Replaces the top-level disqualifiers."
    )
    sla_hours: float | None = Field(None, gt=0, le=MAX_DAYS * 24)
    recycle_after_days: Days | None = None


class ModelSpec(_Strict):
    """A whole scoring model: the file marketing and sales sign off on."""

    name: str = Field(min_length=1)
    version: str = Field(description="Human version label; the content hash is the identity.")
    description: str | None = None
    threshold: Points
    floors: dict[str, Points] = Field(default_factory=dict)
    dimensions: dict[str, DimensionSpec] = Field(min_length=1)
    require: list[CheckSpec] = Field(default_factory=list)
    disqualify: list[CheckSpec] = Field(default_factory=list)
    segments: list[SegmentSpec] = Field(default_factory=list)
    sla_hours: float = Field(
        DEFAULT_SLA_HOURS,
        gt=0,
        le=MAX_DAYS * 24,
        description="Speed-to-lead SLA for a new MQL, in hours.",
    )
    recycle_after_days: Days | None = Field(
        None, description="An MQL with no sales action for this long goes back to nurture."
    )
    accounts: AccountsSpec | None = Field(
        None, description="Account scores, buying group and the MQA (docs/model-guide.md)."
    )
    pql: PqlSpec | None = Field(None, description="What makes a Product Qualified Lead.")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value
