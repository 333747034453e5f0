"""The intermediate form both executors read: small frozen nodes compiled once from a model.

ARCHITECTURE.md "Scoring semantics" and docs/semantics.md define what each node means. The Python
executor (``engine/python.py``) visits these nodes per lead; the SQL compiler (``engine/sql.py``)
turns the same nodes into sqlglot expressions. Neither executor reads YAML.

Value semantics every executor implements (docs/semantics.md, "Values"):
- a missing value is ``None`` or the empty string; a missing value matches no test except
  ``exists: false``;
- *text* tests compare the value's text with ASCII-only case folding;
- *numeric* tests read the value as a number when it is a number, or text that matches
  ``NUMBER_PATTERN``; anything else counts as missing for that test.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar, assert_never

# A value is numeric when its text matches this; shared by both executors so that "12", "1e3"
# and "-0.5" are numbers everywhere and "12 users" is not.
NUMBER_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

SECONDS_PER_DAY = 86400.0

# Scores are compared to thresholds and floors with this tolerance so that two executors whose
# sums differ in the last bits (summation order) still agree on qualification.
EPSILON = 1e-9

DEFAULT_SEGMENT = "default"

T = TypeVar("T")


class Op(StrEnum):
    """The normalised test operators; the YAML operators map onto these (model/conditions.py)."""

    NUM_EQ = "num_eq"
    NUM_NE = "num_ne"
    NUM_GT = "num_gt"
    NUM_GTE = "num_gte"
    NUM_LT = "num_lt"
    NUM_LTE = "num_lte"
    NUM_BETWEEN = "num_between"  # arg: (low, high), inclusive
    NUM_IN = "num_in"  # arg: tuple of floats
    NUM_NOT_IN = "num_not_in"
    TEXT_IN = "text_in"  # arg: tuple of folded strings (eq is a one-element in)
    TEXT_NOT_IN = "text_not_in"
    BOOL_EQ = "bool_eq"  # arg: bool; text 'true','1','yes','y','t' is true; 'false','0','no','n','f' false
    CONTAINS = "contains"  # arg: folded substring
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    MATCHES = "matches"  # arg: RE2 pattern, case-insensitive, unanchored search
    EXISTS = "exists"  # arg: bool
    DOMAIN_IN = "domain_in"  # arg: tuple of folded domains; a subdomain matches too
    DOMAIN_MATCHES = "domain_matches"  # arg: RE2 pattern on the folded domain
    FREE_EMAIL = "free_email"  # arg: bool (True: the domain is a free mailbox provider)


TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")


@dataclass(frozen=True)
class Test:
    """One operator applied to one field (a profile attribute or an event property)."""

    field: str
    op: Op
    arg: object


@dataclass(frozen=True)
class AllOf:
    """True when every item is true (an empty AllOf is true)."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    """True when at least one item is true (an empty AnyOf is false)."""

    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    """True when the item is false (so a missing value under ``not`` matches)."""

    item: Cond


Cond = Test | AllOf | AnyOf | Not


@dataclass(frozen=True)
class EventFilter:
    """Which events count: type in ``types``, ``where`` on properties, age within the window."""

    types: tuple[str, ...]
    where: Cond | None = None
    within_days: float | None = None


class MeasureKind(StrEnum):
    """What a count test measures over its matching events (docs/semantics.md "Measures")."""

    COUNT = "count"
    DISTINCT_DAYS = "distinct_days"  # UTC calendar days with at least one event
    SUM = "sum"  # of a numeric property (missing: 0)
    DISTINCT = "distinct"  # distinct values of a property (numbers by value, text folded)


class Scope(StrEnum):
    """Whose events a count test reads: the lead's own, or every event of its account."""

    LEAD = "lead"
    ACCOUNT = "account"


# The property ``{distinct: lead_id}`` reads: the event's lead, not a property.
LEAD_ID = "lead_id"


@dataclass(frozen=True)
class Measure:
    """A measure: its kind and, for ``sum``/``distinct``, the property it reads."""

    kind: MeasureKind = MeasureKind.COUNT
    prop: str | None = None

    def __str__(self) -> str:
        return self.kind.value if self.prop is None else f"{self.kind.value} {self.prop}"


COUNT = Measure()


@dataclass(frozen=True)
class EventCount:
    """A count test on events: the measure over the matching events (of the lead, or of its
    account) within ``[min, max]`` (inclusive; ``count`` keeps ``min_count``/``max_count``).

    Holds when ``value + EPSILON >= min`` and ``value - EPSILON <= max`` (``holds``), so two
    executors whose sums differ in the last bits agree."""

    filter: EventFilter
    min: float = 1.0
    max: float | None = None
    measure: Measure = COUNT
    scope: Scope = Scope.LEAD

    def holds(self, value: float) -> bool:
        return value + EPSILON >= self.min and (self.max is None or value - EPSILON <= self.max)


@dataclass(frozen=True)
class ProfileRule:
    """``points`` when the lead's profile matches ``when``."""

    kind: ClassVar[str] = "profile"  # RuleResult.kind
    key: str  # stable column-safe id, e.g. "fit.r0"
    name: str
    dimension: str
    when: Cond
    points: float


@dataclass(frozen=True)
class EventRule:
    """Sum of decayed points over matching events, most recent ``max_count`` only, then capped.

    points(event) = ``points * 0.5 ** (age_days / half_life_days)`` (no decay without a half-life);
    the capped total is ``sign(points) * min(|sum|, max_points)``.
    """

    kind: ClassVar[str] = "event"  # RuleResult.kind
    key: str
    name: str
    dimension: str
    filter: EventFilter
    points: float
    half_life_days: float | None = None
    max_points: float | None = None
    max_count: int | None = None
    points_per: str | None = None  # points per unit of this numeric property (missing: 0)


@dataclass(frozen=True)
class CountRule:
    """Flat ``points`` when an event count (or another measure) holds (e.g. 3+ visits in 30
    days, active on 3 distinct days), no decay."""

    kind: ClassVar[str] = "count"  # RuleResult.kind
    key: str
    name: str
    dimension: str
    count: EventCount
    points: float


Rule = ProfileRule | EventRule | CountRule


class RuleVisitor(ABC, Generic[T]):
    """What an executor does with each kind of rule: one ``visit_<Node>`` method per kind.

    ``visit_rule`` dispatches; a new kind added to ``Rule`` fails type checking there
    (``assert_never``) until it is dispatched, and every visitor that lacks its method cannot be
    instantiated (an abstract method), so no executor can forget it (docs/engine.md).
    """

    @abstractmethod
    def visit_ProfileRule(self, rule: ProfileRule) -> T: ...

    @abstractmethod
    def visit_EventRule(self, rule: EventRule) -> T: ...

    @abstractmethod
    def visit_CountRule(self, rule: CountRule) -> T: ...


def visit_rule(rule: Rule, visitor: RuleVisitor[T]) -> T:
    """``visitor``'s method for ``rule``'s kind."""
    if isinstance(rule, ProfileRule):
        return visitor.visit_ProfileRule(rule)
    if isinstance(rule, EventRule):
        return visitor.visit_EventRule(rule)
    if isinstance(rule, CountRule):
        return visitor.visit_CountRule(rule)
    assert_never(rule)


class CondVisitor(ABC, Generic[T]):
    """What an executor does with each kind of condition node (as ``RuleVisitor``)."""

    @abstractmethod
    def visit_Test(self, cond: Test) -> T: ...

    @abstractmethod
    def visit_AllOf(self, cond: AllOf) -> T: ...

    @abstractmethod
    def visit_AnyOf(self, cond: AnyOf) -> T: ...

    @abstractmethod
    def visit_Not(self, cond: Not) -> T: ...


def visit_cond(cond: Cond, visitor: CondVisitor[T]) -> T:
    """``visitor``'s method for ``cond``'s kind."""
    if isinstance(cond, Test):
        return visitor.visit_Test(cond)
    if isinstance(cond, AllOf):
        return visitor.visit_AllOf(cond)
    if isinstance(cond, AnyOf):
        return visitor.visit_AnyOf(cond)
    if isinstance(cond, Not):
        return visitor.visit_Not(cond)
    assert_never(cond)


class _TestFields(CondVisitor[tuple[str, ...]]):
    """The fields a condition reads, in order of appearance."""

    def visit_Test(self, cond: Test) -> tuple[str, ...]:
        return (cond.field,)

    def visit_AllOf(self, cond: AllOf) -> tuple[str, ...]:
        return tuple(f for c in cond.items for f in visit_cond(c, self))

    def visit_AnyOf(self, cond: AnyOf) -> tuple[str, ...]:
        return tuple(f for c in cond.items for f in visit_cond(c, self))

    def visit_Not(self, cond: Not) -> tuple[str, ...]:
        return visit_cond(cond.item, self)


class _ProfileConds(RuleVisitor[tuple["Cond", ...]]):
    """The conditions a rule tests on the lead's profile."""

    def visit_ProfileRule(self, rule: ProfileRule) -> tuple[Cond, ...]:
        return (rule.when,)

    def visit_EventRule(self, rule: EventRule) -> tuple[Cond, ...]:
        return ()

    def visit_CountRule(self, rule: CountRule) -> tuple[Cond, ...]:
        return ()


@dataclass(frozen=True)
class Fields:
    """What a plan reads: profile fields (lead columns), event properties and event types,
    each in order of first appearance."""

    profile: tuple[str, ...]
    properties: tuple[str, ...]
    types: tuple[str, ...]


class _Filters(RuleVisitor[tuple["EventFilter", ...]]):
    """The event filters a rule counts with."""

    def visit_ProfileRule(self, rule: ProfileRule) -> tuple[EventFilter, ...]:
        return ()

    def visit_EventRule(self, rule: EventRule) -> tuple[EventFilter, ...]:
        return (rule.filter,)

    def visit_CountRule(self, rule: CountRule) -> tuple[EventFilter, ...]:
        return (rule.count.filter,)


@dataclass(frozen=True)
class Dimension:
    """A named group of rules; its score is the rules' sum clipped to [min, max] when set."""

    name: str
    rules: tuple[Rule, ...]
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True)
class Check:
    """A gate (must pass) or disqualifier (must not match): a profile test and/or an event count.

    When both are given, both must hold for the check to match.
    """

    key: str
    name: str
    when: Cond | None = None
    events: EventCount | None = None


@dataclass(frozen=True)
class Policy:
    """What qualification means in one segment: threshold, floors, gates, disqualifiers."""

    threshold: float
    floors: tuple[tuple[str, float], ...]
    gates: tuple[Check, ...]
    disqualifiers: tuple[Check, ...]
    sla_hours: float | None = None
    recycle_after_days: float | None = None


@dataclass(frozen=True)
class Signal:
    """A named PQL signal: an event-count test (any measure, any scope)."""

    key: str  # "s<i>"
    name: str
    events: EventCount


# A PQL gate's condition reads the lead's scores as these fields: ``score.<dimension>`` and
# ``score.total`` (docs/semantics.md "The PQL").
SCORE_PREFIX = "score."
SCORE_TOTAL = "score.total"


@dataclass(frozen=True)
class Pql:
    """What makes a Product Qualified Lead: every gate passes and ``min_signals`` signals hold."""

    signals: tuple[Signal, ...]
    min_signals: int
    gates: tuple[Check, ...]


@dataclass(frozen=True)
class Segment:
    """A segment: the first whose ``when`` matches wins; the last one (``when=None``) is default."""

    name: str
    when: Cond | None
    policy: Policy


@dataclass(frozen=True)
class Plan:
    """A whole model in intermediate form, with its identity."""

    name: str
    version: str
    hash: str
    dimensions: tuple[Dimension, ...]
    segments: tuple[Segment, ...]
    pql: Pql | None = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for d in self.dimensions for r in d.rules)

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every distinct gate and disqualifier across segments, by key."""
        seen: dict[str, Check] = {}
        for seg in self.segments:
            for c in (*seg.policy.gates, *seg.policy.disqualifiers):
                seen.setdefault(c.key, c)
        return tuple(seen.values())

    @property
    def pql_gates(self) -> tuple[Check, ...]:
        return self.pql.gates if self.pql is not None else ()

    @property
    def signals(self) -> tuple[Signal, ...]:
        return self.pql.signals if self.pql is not None else ()

    @property
    def event_counts(self) -> tuple[EventCount, ...]:
        """Every event-count test: count rules, checks, PQL gates and signals."""
        out = [r.count for r in self.rules if isinstance(r, CountRule)]
        out += [c.events for c in (*self.checks, *self.pql_gates) if c.events is not None]
        return tuple(out + [s.events for s in self.signals])

    @property
    def event_filters(self) -> tuple[EventFilter, ...]:
        """Every event filter the model counts with: event and count rules, checks, then the
        PQL's gates and signals."""
        out = [f for rule in self.rules for f in visit_rule(rule, _Filters())]
        out += [c.events.filter for c in self.checks if c.events is not None]
        out += [c.events.filter for c in self.pql_gates if c.events is not None]
        out += [s.events.filter for s in self.signals]
        return tuple(out)

    def fields(self) -> Fields:
        """The profile fields, event properties and event types the plan reads (the one list
        the runners, the store's batch export and ``leadgate sql`` use)."""
        reader = _TestFields()
        conds = [c for rule in self.rules for c in visit_rule(rule, _ProfileConds())]
        conds += [s.when for s in self.segments if s.when is not None]
        conds += [c.when for c in self.checks if c.when is not None]
        profile = [f for c in conds for f in visit_cond(c, reader)]
        profile += [
            f
            for c in self.pql_gates
            if c.when is not None
            for f in visit_cond(c.when, reader)
            if not f.startswith(SCORE_PREFIX)
        ]
        if any(c.scope is Scope.ACCOUNT for c in self.event_counts):
            profile.append("account_id")  # the account an account-scoped measure reads
        filters = self.event_filters
        props = [
            f for flt in filters if flt.where is not None for f in visit_cond(flt.where, reader)
        ]
        props += [p for c in self.event_counts for p in [c.measure.prop] if p and p != LEAD_ID]
        props += [r.points_per for r in self.rules if isinstance(r, EventRule) and r.points_per]
        types = [t for flt in filters for t in flt.types]
        return Fields(*(tuple(dict.fromkeys(x)) for x in (profile, props, types)))

    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}
