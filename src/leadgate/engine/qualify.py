"""Qualification, defined once: what makes a lead an MQL, and what it lacks when it is not one.

docs/semantics.md "Qualification": a lead is an MQL when no disqualifier of its segment matches,
every gate passes, every dimension score meets its floor and the total meets the threshold, a
score meeting a bar when ``score + EPSILON >= bar`` (``meets``). What it lacks is one ``Lack``
per requirement it misses, in ``requirements``' order: disqualifiers, gates, floors in dimension
order, threshold.

Every executor and report reads qualification from here:
- ``qualify`` (Python objects): the per-lead executor (``engine/python.py``) and the batch layer
  mapping a query row back to a ``Score`` (``batch/records.py``);
- ``meets`` is also the vectorised form: on numpy arrays it gives the masks a sweep needs
  (``report/sweep.py``);
- ``meets_sql`` / ``qualification_sql``: the same tests as sqlglot expressions, used by the
  compiled query (``engine/sql.py``) and by the DuckDB-written records (``batch/records.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    # The SQL forms below build sqlglot trees; sqlglot is imported when one is built, so the
    # per-lead path (and every CLI start) does not pay for loading it.
    from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.result import CheckResult, Lack, SignalResult, number_text

LackKind = Literal["disqualified", "gate", "floor", "threshold"]


@dataclass(frozen=True)
class Requirement:
    """One thing a lead of a segment must satisfy to be an MQL.

    ``key``: the check key (disqualified, gate), the dimension name (floor) or "total";
    ``need``: the floor or threshold (None for checks).
    """

    kind: LackKind
    name: str
    key: str
    need: float | None = None

    def lack(self, value: float | None = None) -> Lack:
        """The ``Lack`` a lead missing this requirement has (``value``: its score or total)."""
        if self.need is None or value is None:
            return Lack(self.kind, self.name)
        return Lack(self.kind, self.name, self.need - value, value, self.need)


# By the ids of the plan and policy (kept alongside, so the ids stay theirs): ``qualify`` runs
# once per lead scored, and building the list each time was a tenth of a live event's scoring.
_REQUIREMENTS: dict[tuple[int, int], tuple[ir.Plan, ir.Policy, tuple[Requirement, ...]]] = {}


def requirements(plan: ir.Plan, policy: ir.Policy) -> tuple[Requirement, ...]:
    """Every requirement of ``policy``, in the order lacks are listed."""
    hit = _REQUIREMENTS.get((id(plan), id(policy)))
    if hit is not None and hit[0] is plan and hit[1] is policy:
        return hit[2]
    if len(_REQUIREMENTS) >= 256:
        _REQUIREMENTS.clear()
    built = _requirements(plan, policy)
    _REQUIREMENTS[(id(plan), id(policy))] = (plan, policy, built)
    return built


def _requirements(plan: ir.Plan, policy: ir.Policy) -> tuple[Requirement, ...]:
    out = [Requirement("disqualified", c.name, c.key) for c in policy.disqualifiers]
    out += [Requirement("gate", c.name, c.key) for c in policy.gates]
    floors = dict(policy.floors)
    out += [
        Requirement("floor", d.name, d.name, floors[d.name])
        for d in plan.dimensions
        if d.name in floors
    ]
    out.append(Requirement("threshold", "total", "total", policy.threshold))
    return tuple(out)


def meets(value: Any, need: Any) -> Any:
    """``value`` meets the bar ``need`` (a floor or threshold): ``value + EPSILON >= need``.

    The tolerance lets two executors whose sums differ in the last bits agree. Works on floats
    (a bool) and on numpy arrays (a mask), which is the sweeps' vectorised form.
    """
    return value + ir.EPSILON >= need


def meets_sql(value: exp.Expression, need: exp.Expression, eps: exp.Expression) -> exp.Expression:
    """``meets`` as a SQL condition (``eps``: the ``EPSILON`` literal)."""
    from sqlglot import exp

    return exp.GTE(this=exp.Add(this=value, expression=eps), expression=need)


@dataclass(frozen=True)
class Qualification:
    """A lead's verdict: floors met per dimension, threshold met, lacks, MQL."""

    floor_met: Mapping[str, bool]
    threshold_met: bool
    lacks: tuple[Lack, ...]

    @property
    def mql(self) -> bool:
        return not self.lacks


def qualify(
    plan: ir.Plan,
    policy: ir.Policy,
    checks: Sequence[CheckResult],
    scores: Mapping[str, float],
    total: float,
    met: Mapping[str, bool] | None = None,
) -> Qualification:
    """The verdict of a lead of ``policy``'s segment.

    Args:
        checks: its gates and disqualifiers (matched or not).
        scores / total: its dimension scores (after clipping) and total.
        met: the floors and threshold already decided (``floor_met`` by dimension, "total" for
            the threshold), as a query's columns give them; decided here with ``meets`` when
            absent.
    """

    matched = {c.key: c.matched for c in checks}
    floor_met: dict[str, bool] = {}
    threshold_met = True
    lacks: list[Lack] = []
    for req in requirements(plan, policy):
        value: float | None = None
        if req.kind == "disqualified":
            ok = not matched[req.key]
        elif req.kind == "gate":
            ok = matched[req.key]
        else:
            value = total if req.kind == "threshold" else scores[req.key]
            assert req.need is not None
            ok = met[req.key] if met is not None else bool(meets(value, req.need))
            if req.kind == "threshold":
                threshold_met = ok
            else:
                floor_met[req.key] = ok
        if not ok:
            lacks.append(req.lack(value))
    return Qualification(floor_met, threshold_met, tuple(lacks))


@dataclass(frozen=True)
class Columns:
    """How a SQL form reads a lead's values, each a builder of a fresh expression: a check's
    ``matched``, a dimension's score, the total, and a number literal (as a double)."""

    check: Callable[[str], exp.Expression]
    score: Callable[[str], exp.Expression]
    total: Callable[[], exp.Expression]
    number: Callable[[float], exp.Expression]


def met_sql(req: Requirement, cols: Columns) -> exp.Expression:
    """The SQL condition under which a lead satisfies ``req``."""
    from sqlglot import exp

    if req.kind == "disqualified":
        return exp.Not(this=cols.check(req.key))
    if req.kind == "gate":
        return cols.check(req.key)
    value = cols.total() if req.kind == "threshold" else cols.score(req.key)
    assert req.need is not None
    return meets_sql(value, cols.number(req.need), cols.number(ir.EPSILON))


def unmet_sql(req: Requirement, cols: Columns) -> exp.Expression:
    """The SQL condition under which a lead misses ``req`` (what it then lacks)."""
    from sqlglot import exp

    if req.kind == "disqualified":
        return cols.check(req.key)
    return exp.Not(this=exp.paren(met_sql(req, cols), copy=False))


def qualifies_sql(plan: ir.Plan, policy: ir.Policy, cols: Columns) -> exp.Expression:
    """The SQL MQL flag of a lead of ``policy``'s segment: every requirement met."""
    from sqlglot import exp

    parts = [met_sql(r, cols) for r in requirements(plan, policy)]
    return cast(exp.Expression, exp.and_(*parts, copy=False))


def bound_text(count: ir.EventCount) -> str:
    """What an event test needs, as the explanation shows it: "distinct_days >= 3",
    "count 1 to 2", "sum seats <= 10" (the scope is named when it is the account)."""
    what = str(count.measure) + (" (account)" if count.scope is ir.Scope.ACCOUNT else "")
    if count.max is None:
        return f"{what} >= {number_text(count.min)}"
    return f"{what} {number_text(count.min)} to {number_text(count.max)}"


def is_pql(pql: ir.Pql, signals: Sequence[SignalResult], gates: Sequence[CheckResult]) -> bool:
    """docs/semantics.md "The PQL": every gate passes and at least ``min_signals`` signals hold."""
    return all(g.ok for g in gates) and sum(s.held for s in signals) >= pql.min_signals


def pql_sql(pql: ir.Pql, signal: Callable[[str], exp.Expression], cols: Columns) -> exp.Expression:
    """``is_pql`` as a SQL condition (``signal``: a signal's held flag by key)."""
    from sqlglot import exp

    held: exp.Expression = exp.Literal.number(0)
    for s in pql.signals:
        one = exp.Case(
            ifs=[exp.If(this=signal(s.key), true=exp.Literal.number(1))],
            default=exp.Literal.number(0),
        )
        held = exp.Add(this=held, expression=one)
    parts = [cols.check(g.key) for g in pql.gates]
    parts.append(
        exp.GTE(this=exp.paren(held, copy=False), expression=exp.Literal.number(pql.min_signals))
    )
    return cast(exp.Expression, exp.and_(*parts, copy=False))
