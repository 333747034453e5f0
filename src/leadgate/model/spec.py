"""The scoring model's structure as pydantic models: what keys a model YAML file may hold.

Conditions (``when``/``where``) are kept as mappings here and checked by ``model/conditions.py``,
which knows the operator language; ``model/loader.py`` runs both checks and locates problems.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from leadgate.model.conditions import CONDITION_JSON_SCHEMA

ConditionMap = Annotated[dict[str, Any], WithJsonSchema(CONDITION_JSON_SCHEMA)]
EventTypes = Annotated[
    str | list[str],
    Field(description="An event type, or a list of event types (any of them counts)."),
]
Days = Annotated[float, Field(gt=0, description="A number of days (decimals allowed).")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventCountSpec(_Strict):
    """An event-count test: ``min_count`` or more events of ``type`` in the window."""

    type: EventTypes
    where: ConditionMap | None = None
    within_days: Days | None = None
    min_count: int = Field(1, ge=0)
    max_count: int | None = Field(None, ge=0)


class RuleSpec(_Strict):
    """A scoring rule: a profile rule (``when``), an event rule (``event`` + optional ``where``),
    or a count rule (``events``: flat points when an event count holds)."""

    name: str = Field(min_length=1, description="Shown in explanations; unique within a dimension.")
    points: float = Field(description="Points when the rule matches (per event for event rules).")
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
    max_points: float | None = Field(None, gt=0, description="Cap on the rule's total points.")
    max_count: int | None = Field(None, gt=0, description="Count only the N most recent events.")


class DimensionSpec(_Strict):
    """A dimension (fit, engagement, intent, or any name): rules and an optional clip."""

    description: str | None = None
    max: float | None = Field(None, description="The dimension's score is clipped to this.")
    min: float | None = Field(None, description="The dimension's score never goes below this.")
    half_life_days: Days | None = Field(None, description="Default decay for its event rules.")
    within_days: Days | None = Field(None, description="Default window for its event rules.")
    rules: list[RuleSpec] = Field(default_factory=list)


class CheckSpec(_Strict):
    """A gate (``require``) or knock-out (``disqualify``); ``when`` and/or ``events``."""

    name: str = Field(min_length=1)
    when: ConditionMap | None = None
    events: EventCountSpec | None = None


class SegmentSpec(_Strict):
    """A segment variant: first match wins; unset keys inherit from the top level."""

    name: str = Field(min_length=1)
    when: ConditionMap
    threshold: float | None = None
    floors: dict[str, float] | None = Field(
        None, description="Merged over the top-level floors, key by key."
    )
    require: list[CheckSpec] | None = Field(None, description="Replaces the top-level gates.")
    disqualify: list[CheckSpec] | None = Field(
        None, description="Replaces the top-level disqualifiers."
    )
    sla_hours: float | None = Field(None, gt=0)
    recycle_after_days: Days | None = None


class ModelSpec(_Strict):
    """A whole scoring model: the file marketing and sales sign off on."""

    name: str = Field(min_length=1)
    version: str = Field(description="Human version label; the content hash is the identity.")
    description: str | None = None
    threshold: float
    floors: dict[str, float] = Field(default_factory=dict)
    dimensions: dict[str, DimensionSpec] = Field(min_length=1)
    require: list[CheckSpec] = Field(default_factory=list)
    disqualify: list[CheckSpec] = Field(default_factory=list)
    segments: list[SegmentSpec] = Field(default_factory=list)
    sla_hours: float = Field(24, gt=0, description="Speed-to-lead SLA for a new MQL, in hours.")
    recycle_after_days: Days | None = Field(
        None, description="An MQL with no sales action for this long goes back to nurture."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value
