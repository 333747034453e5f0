"""What scoring returns: a ``Score`` per lead with its ``Explanation``.

Explanations come from the scorer itself (STYLE.md "Explanations come from the scorer"), never
from a second calculation. ``Score.to_record()`` is the record of ``leadgate score --format
jsonl``, the HTTP API's ``score`` field and the store's snapshot: one shape everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from leadgate.engine.record_spec import record_of


@dataclass(frozen=True)
class RuleResult:
    """How one rule contributed: matched or not, events counted, raw, decayed and capped points."""

    key: str
    dimension: str
    name: str
    kind: str  # "profile" | "event" | "count"
    matched: bool
    events_counted: int
    raw_points: float  # before decay: points x events (or points, for a profile rule)
    decayed_points: float  # after decay, before the cap
    points: float  # what counts: after decay and cap
    capped: bool
    event_ids: tuple[str, ...] = ()
    measured: float | None = None  # count rules: the measure's value (``bound`` says what held)
    bound: str | None = None  # count rules: the measure and its bounds, e.g. "distinct_days >= 3"


@dataclass(frozen=True)
class DimensionResult:
    """A dimension's rule sum, its score after clipping, and its floor."""

    name: str
    rule_sum: float
    score: float
    clipped: bool
    floor: float | None
    floor_met: bool


@dataclass(frozen=True)
class CheckResult:
    """A gate or disqualifier: did it match, and for gates, did it pass."""

    key: str
    name: str
    kind: str  # "gate" | "disqualifier"
    matched: bool
    events_counted: int | None = None
    measured: float | None = None  # with an event test: its measure's value
    bound: str | None = None

    @property
    def ok(self) -> bool:
        return self.matched if self.kind == "gate" else not self.matched


@dataclass(frozen=True)
class SignalResult:
    """A PQL signal: did it hold, the measure's value over how many events, and its bound."""

    key: str
    name: str
    held: bool
    measured: float
    events_counted: int
    bound: str


@dataclass(frozen=True)
class PqlResult:
    """The PQL verdict: every signal and gate, and whether the lead is a PQL."""

    pql: bool
    min_signals: int
    signals: tuple[SignalResult, ...]
    gates: tuple[CheckResult, ...]

    @property
    def held(self) -> list[str]:
        """The names of the signals that hold (the record's ``pql_signals``)."""
        return [s.name for s in self.signals if s.held]


@dataclass(frozen=True)
class Lack:
    """Why a lead is not an MQL, one reason each: disqualified, gate, floor, threshold."""

    kind: str  # "disqualified" | "gate" | "floor" | "threshold"
    name: str
    short_by: float = 0.0
    have: float | None = None
    need: float | None = None

    def __str__(self) -> str:
        if self.kind == "disqualified":
            return f"disqualified: {self.name}"
        if self.kind == "gate":
            return f"gate failed: {self.name}"
        before, after = shortfall_text(self.kind, self.name, self.need)
        return before + number_text(self.short_by) + after


def shortfall_text(kind: str, name: str, need: float | None) -> tuple[str, str]:
    """The fixed text before and after the points a floor (``kind`` "floor") or the threshold
    is short by; the batch paths build lack texts from it, so every executor says the same."""
    if kind == "floor":
        return f"{name} floor {number_text(need)}: short by ", ""
    return f"threshold {number_text(need)}: short by ", " points"


def number_text(v: float | None) -> str:
    """A number in a lack's text: whole numbers without decimals, others with at most two."""
    if v is None:
        return "-"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


@dataclass(frozen=True)
class Explanation:
    """Every rule, dimension, gate and disqualifier behind a score, and what an MQL lacks."""

    rules: tuple[RuleResult, ...]
    dimensions: tuple[DimensionResult, ...]
    checks: tuple[CheckResult, ...]
    lacks: tuple[Lack, ...]
    threshold: float
    pql: PqlResult | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["lacks"] = [{**asdict(lack), "text": str(lack)} for lack in self.lacks]
        for c, d in zip(self.checks, out["checks"], strict=True):
            d["ok"] = c.ok
        if self.pql is not None:
            for c, d in zip(self.pql.gates, out["pql"]["gates"], strict=True):
                d["ok"] = c.ok
        return out


@dataclass(frozen=True)
class Score:
    """One lead's score under one model at one ``as_of``."""

    lead_id: str
    as_of: datetime
    segment: str
    scores: dict[str, float]
    total: float
    mql: bool
    model: dict[str, str]
    explanation: Explanation = field(repr=False)

    @property
    def pql(self) -> bool:
        return self.explanation.pql is not None and self.explanation.pql.pql

    @property
    def pql_signals(self) -> list[str]:
        return self.explanation.pql.held if self.explanation.pql is not None else []

    @property
    def missing(self) -> list[str]:
        return [str(lack) for lack in self.explanation.lacks]

    def to_record(self) -> dict[str, Any]:
        """The JSON record of ``leadgate score --format jsonl`` (fields: ``record_spec.RECORD``)."""
        return record_of(
            {
                "lead_id": self.lead_id,
                "segment": self.segment,
                "scores": dict(self.scores),
                "total": self.total,
                "mql": self.mql,
                "pql": self.pql,
                "pql_signals": self.pql_signals,
                "missing": self.missing,
                "threshold": self.explanation.threshold,
                "as_of": self.as_of.isoformat(),
                "model": dict(self.model),
            }
        )
