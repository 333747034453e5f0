"""What account scoring returns: an ``AccountScore`` per account with its explanation.

``AccountScore.to_record()`` is the record of ``leadgate accounts score`` (issue #15): one shape
for every executor and output format (``ACCOUNT_RECORD`` lists its fields in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from leadgate.engine.result import CheckResult, DimensionResult, Lack

ACCOUNT_RECORD = (
    "account_id",
    "scores",
    "total",
    "mqa",
    "abm",
    "missing",
    "buying_group",
    "threshold",
    "as_of",
    "model",
)
COMPLETENESS_DIGITS = 4  # display only: qualification compares the exact mean


@dataclass(frozen=True)
class AccountRuleResult:
    """One account rule's contribution. Profile and event rules as for leads; a roll-up has its
    ``value`` and the ``leads`` behind it (``raw_points`` = value x points, before the cap)."""

    key: str
    dimension: str
    name: str
    kind: str  # "profile" | "event" | "rollup"
    matched: bool
    events_counted: int
    raw_points: float
    decayed_points: float
    points: float
    capped: bool
    event_ids: tuple[str, ...] = ()
    value: float | None = None
    leads: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleResult:
    """A buying-group role: engaged leads filling it (``members``) against ``required``."""

    name: str
    required: int
    filled: int
    members: tuple[str, ...]

    @property
    def completeness(self) -> float:
        return min(self.filled / self.required, 1.0)


@dataclass(frozen=True)
class AccountExplanation:
    """Every rule, dimension, check and role behind an account score, and what it lacks."""

    rules: tuple[AccountRuleResult, ...]
    dimensions: tuple[DimensionResult, ...]
    checks: tuple[CheckResult, ...]
    roles: tuple[RoleResult, ...]
    completeness: float | None
    lacks: tuple[Lack, ...]
    threshold: float
    leads: tuple[str, ...]  # the account's leads, by id

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict`` of the explanation, with each lack's text and each check's
        ``ok``. Built field by field: every part is a flat dataclass of plain values, and the
        generic ``asdict`` (a deep copy of every leaf) was a large share of the live account
        path's cost (it runs on every account re-score)."""
        return {
            "rules": tuple(_flat(r) for r in self.rules),
            "dimensions": tuple(_flat(d) for d in self.dimensions),
            "checks": tuple({**_flat(c), "ok": c.ok} for c in self.checks),
            "roles": tuple(_flat(r) for r in self.roles),
            "completeness": self.completeness,
            "lacks": [{**_flat(lack), "text": lack_text(lack)} for lack in self.lacks],
            "threshold": self.threshold,
            "leads": tuple(self.leads),
        }


_NAMES: dict[type, tuple[str, ...]] = {}


def _flat(part: Any) -> dict[str, Any]:
    """A flat dataclass (plain values, tuples of text) as ``asdict`` gives it."""
    names = _NAMES.get(type(part))
    if names is None:
        names = _NAMES[type(part)] = tuple(f.name for f in fields(part))
    return {name: getattr(part, name) for name in names}


def lack_text(lack: Lack) -> str:
    """A lack's text: a role's is "role champion: 0 of 1 engaged", the others as for leads."""
    if lack.kind == "role":
        return f"role {lack.name}: {int(lack.have or 0)} of {int(lack.need or 0)} engaged"
    return str(lack)


def group_record(roles: tuple[RoleResult, ...], completeness: float | None) -> dict[str, Any]:
    """The record's ``buying_group``: completeness (4 decimals) and each role."""
    if completeness is None:
        return {"completeness": None, "roles": {}}
    return {
        "completeness": round(completeness, COMPLETENESS_DIGITS),
        "roles": {
            r.name: {"filled": r.filled, "required": r.required, "members": list(r.members)}
            for r in roles
        },
    }


@dataclass(frozen=True)
class AccountScore:
    """One account's score under one model at one ``as_of``."""

    account_id: str
    as_of: datetime
    scores: dict[str, float]
    total: float
    mqa: bool
    abm: bool
    model: dict[str, str]
    explanation: AccountExplanation = field(repr=False)

    @property
    def missing(self) -> list[str]:
        return [lack_text(lack) for lack in self.explanation.lacks]

    def to_record(self) -> dict[str, Any]:
        e = self.explanation
        values = {
            "account_id": self.account_id,
            "scores": dict(self.scores),
            "total": self.total,
            "mqa": self.mqa,
            "abm": self.abm,
            "missing": self.missing,
            "buying_group": group_record(e.roles, e.completeness),
            "threshold": e.threshold,
            "as_of": self.as_of.isoformat(),
            "model": dict(self.model),
        }
        return {name: values[name] for name in ACCOUNT_RECORD}
