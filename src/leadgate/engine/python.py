"""The per-lead executor: visits the intermediate form for one lead, for real-time scoring.

Implements ARCHITECTURE.md "Scoring semantics" exactly; the SQL executor (``engine/sql.py``) must
agree with it to 1e-9 on every score. Pure: ``as_of`` is a parameter, no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from leadgate.engine import ir
from leadgate.engine.event import Event, as_utc
from leadgate.engine.qualify import bound_text, is_pql, qualify
from leadgate.engine.result import (
    CheckResult,
    DimensionResult,
    Explanation,
    PqlResult,
    RuleResult,
    Score,
    SignalResult,
)
from leadgate.engine.values import bool_of, domain_of, fold, get_field, number_of, text_of
from leadgate.model.regex_safety import compile_regex

Predicate = Callable[[Mapping[str, Any]], bool]


def _num_test(op: ir.Op, arg: Any) -> Callable[[float], bool]:
    if op is ir.Op.NUM_EQ:
        return lambda x: x == arg
    if op is ir.Op.NUM_NE:
        return lambda x: x != arg
    if op is ir.Op.NUM_GT:
        return lambda x: x > arg
    if op is ir.Op.NUM_GTE:
        return lambda x: x >= arg
    if op is ir.Op.NUM_LT:
        return lambda x: x < arg
    if op is ir.Op.NUM_LTE:
        return lambda x: x <= arg
    if op is ir.Op.NUM_BETWEEN:
        low, high = arg
        return lambda x: low <= x <= high
    if op is ir.Op.NUM_IN:
        values = frozenset(arg)
        return lambda x: x in values
    values = frozenset(arg)
    return lambda x: x not in values


_NUMERIC = {
    ir.Op.NUM_EQ, ir.Op.NUM_NE, ir.Op.NUM_GT, ir.Op.NUM_GTE, ir.Op.NUM_LT, ir.Op.NUM_LTE,
    ir.Op.NUM_BETWEEN, ir.Op.NUM_IN, ir.Op.NUM_NOT_IN,
}  # fmt: skip


def _text_test(op: ir.Op, arg: Any) -> Callable[[str], bool]:
    if op is ir.Op.TEXT_IN:
        values = frozenset(arg)
        return lambda t: fold(t) in values
    if op is ir.Op.TEXT_NOT_IN:
        values = frozenset(arg)
        return lambda t: fold(t) not in values
    if op is ir.Op.CONTAINS:
        return lambda t: arg in fold(t)
    if op is ir.Op.NOT_CONTAINS:
        return lambda t: arg not in fold(t)
    if op is ir.Op.STARTS_WITH:
        return lambda t: fold(t).startswith(arg)
    if op is ir.Op.ENDS_WITH:
        return lambda t: fold(t).endswith(arg)
    if op is ir.Op.MATCHES:
        rx = compile_regex(arg)
        return lambda t: rx.search(t) is not None
    raise AssertionError(op)


def _on_list(domains: frozenset[str]) -> Callable[[str], bool]:
    """``d`` is one of ``domains`` or a subdomain of one: ``d == x or d.endswith("." + x)`` for
    some ``x``, tested as a set lookup of each dot-suffix of ``d`` (a free-mail list has over a
    hundred domains; scanning it per lead was most of a profile's evaluation)."""

    def test(d: str) -> bool:
        if d in domains:
            return True
        at = d.find(".")
        while at >= 0:
            if d[at + 1 :] in domains:
                return True
            at = d.find(".", at + 1)
        return False

    return test


def _domain_test(op: ir.Op, arg: Any) -> Callable[[str], bool]:
    if op is ir.Op.DOMAIN_IN:
        return _on_list(frozenset(arg))
    if op is ir.Op.DOMAIN_MATCHES:
        rx = compile_regex(arg)
        return lambda d: rx.search(d) is not None
    want_free, free_list = arg
    on_free = _on_list(frozenset(free_list))
    return lambda d: on_free(d) == want_free


def _test(node: ir.Test) -> Predicate:
    field, op, arg = node.field, node.op, node.arg
    if op in _NUMERIC:
        check = _num_test(op, arg)

        def numeric(rec: Mapping[str, Any]) -> bool:
            x = number_of(get_field(rec, field))
            return x is not None and check(x)

        return numeric
    if op is ir.Op.EXISTS:
        want = bool(arg)
        return lambda rec: (text_of(get_field(rec, field)) is not None) == want
    if op is ir.Op.BOOL_EQ:
        return lambda rec: bool_of(get_field(rec, field)) is arg
    if op in (ir.Op.DOMAIN_IN, ir.Op.DOMAIN_MATCHES, ir.Op.FREE_EMAIL):
        dcheck = _domain_test(op, arg)

        def on_domain(rec: Mapping[str, Any]) -> bool:
            d = domain_of(get_field(rec, field))
            return d is not None and dcheck(d)

        return on_domain
    tcheck = _text_test(op, arg)

    def on_text(rec: Mapping[str, Any]) -> bool:
        t = text_of(get_field(rec, field))
        return t is not None and tcheck(t)

    return on_text


class _Predicates(ir.CondVisitor[Predicate]):
    """A condition node -> a function of a record (``predicate`` caches them per node)."""

    def visit_Test(self, cond: ir.Test) -> Predicate:
        return _test(cond)

    def visit_AllOf(self, cond: ir.AllOf) -> Predicate:
        parts = tuple(predicate(c) for c in cond.items)
        return lambda rec: all(p(rec) for p in parts)

    def visit_AnyOf(self, cond: ir.AnyOf) -> Predicate:
        parts = tuple(predicate(c) for c in cond.items)
        return lambda rec: any(p(rec) for p in parts)

    def visit_Not(self, cond: ir.Not) -> Predicate:
        inner = predicate(cond.item)
        return lambda rec: not inner(rec)


# By the node's id, not its value: hashing a frozen node (and its children) on every lookup cost
# more than the test it finds, once per rule and lead (issue 17). The node is kept with its
# function, so its id cannot be taken by another node while it is cached.
_PREDICATES: dict[int, tuple[ir.Cond, Predicate]] = {}


def predicate(cond: ir.Cond) -> Predicate:
    """Build (once per node) a function that evaluates ``cond`` on a record."""
    hit = _PREDICATES.get(id(cond))
    if hit is not None and hit[0] is cond:
        return hit[1]
    if len(_PREDICATES) >= 8192:
        _PREDICATES.clear()
    built = ir.visit_cond(cond, _Predicates())
    _PREDICATES[id(cond)] = (cond, built)
    return built


@dataclass(frozen=True)
class _Aged:
    event: Event
    age_days: float


def _matching(flt: ir.EventFilter, events: list[_Aged]) -> list[_Aged]:
    where = predicate(flt.where) if flt.where is not None else None
    types = flt.types
    within = flt.within_days
    return [
        a
        for a in events
        if a.event.type in types
        and (within is None or a.age_days <= within)
        and (where is None or where(a.event.properties))
    ]


def holds(count: ir.EventCount, n: int) -> bool:
    """Does a plain count test (``measure: count``) hold for ``n`` matching events?"""
    return count.holds(float(n))


def decay_term(points: float, age_days: float, half_life_days: float) -> float:
    """What one event ``age_days`` old is worth to a rule with this half-life."""
    factor: float = 0.5 ** (age_days / half_life_days)
    return points * factor


def profile_rule_result(rule: ir.ProfileRule, profile: Mapping[str, Any]) -> RuleResult:
    """A profile rule's result: its points when the profile matches."""
    return profile_hit_result(rule, predicate(rule.when)(profile))


def profile_hit_result(rule: ir.ProfileRule, hit: bool) -> RuleResult:
    """A profile rule's result once it is known whether the profile matches (``hit``)."""
    pts = rule.points if hit else 0.0
    return RuleResult(rule.key, rule.dimension, rule.name, rule.kind, hit, 0, pts, pts, pts, False)


def count_rule_result(rule: ir.CountRule, n: int, value: float | None = None) -> RuleResult:
    """A count rule's result for ``n`` matching events whose measure is ``value`` (the count
    itself when None): flat points when the measure is within its bounds."""
    measured = float(n) if value is None else value
    hit = rule.count.holds(measured)
    pts = rule.points if hit else 0.0
    return RuleResult(
        rule.key, rule.dimension, rule.name, rule.kind, hit, n, pts, pts, pts, False,
        measured=measured, bound=bound_text(rule.count),
    )  # fmt: skip


def event_rule_result(
    rule: ir.EventRule,
    n: int,
    decayed: float,
    event_ids: tuple[str, ...] = (),
    raw: float | None = None,
) -> RuleResult:
    """An event rule's result for ``n`` counted events worth ``raw`` points before decay
    (``points`` each when None) and ``decayed`` after: capped at ``max_points`` (keeping the
    sign)."""
    points = decayed
    capped = False
    if rule.max_points is not None and abs(decayed) > rule.max_points:
        points = math.copysign(rule.max_points, decayed)
        capped = True
    return RuleResult(
        key=rule.key,
        dimension=rule.dimension,
        name=rule.name,
        kind=rule.kind,
        matched=n > 0,
        events_counted=n,
        raw_points=rule.points * n if raw is None else raw,
        decayed_points=decayed,
        points=points,
        capped=capped,
        event_ids=event_ids,
    )


@dataclass(frozen=True)
class _Scoped:
    """A lead's events and its account's (both aged, most recent first)."""

    lead: list[_Aged]
    account: list[_Aged]

    def of(self, count: ir.EventCount) -> list[_Aged]:
        return self.account if count.scope is ir.Scope.ACCOUNT else self.lead


class _RuleScorer(ir.RuleVisitor[RuleResult]):
    """One lead's result for each rule: its profile and its events (aged, most recent first)."""

    def __init__(self, profile: Mapping[str, Any], events: _Scoped) -> None:
        self.profile, self.events = profile, events

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> RuleResult:
        return profile_rule_result(rule, self.profile)

    def visit_EventRule(self, rule: ir.EventRule) -> RuleResult:
        return _event_rule(rule, self.events.lead)

    def visit_CountRule(self, rule: ir.CountRule) -> RuleResult:
        _, n, value = _count_holds(rule.count, self.events)
        return count_rule_result(rule, n, value)


def _per_event(rule: ir.EventRule, a: _Aged) -> float:
    """An event's points before decay: ``points``, or ``points`` per unit of ``points_per``."""
    if rule.points_per is None:
        return rule.points
    return rule.points * (number_of(get_field(a.event.properties, rule.points_per)) or 0.0)


def _event_rule(rule: ir.EventRule, events: list[_Aged]) -> RuleResult:
    found = _matching(rule.filter, events)  # most recent first
    if rule.max_count is not None:
        found = found[: rule.max_count]
    if rule.points_per is not None:
        raw = math.fsum(_per_event(rule, a) for a in found)
    else:
        raw = rule.points * len(found)
    if rule.half_life_days is None:
        decayed = raw
    else:
        hl = rule.half_life_days
        decayed = math.fsum(decay_term(_per_event(rule, a), a.age_days, hl) for a in found)
    ids = tuple(a.event.event_id for a in found)
    return event_rule_result(rule, len(found), decayed, ids, raw)


def day_of(epoch: float) -> int:
    """The UTC calendar day of an epoch time (days since 1970-01-01): ``distinct_days``."""
    return math.floor(epoch / ir.SECONDS_PER_DAY)


def distinct_key(value: Any) -> tuple[str, object] | None:
    """How ``{distinct: PROPERTY}`` tells values apart: numbers by value, text folded (as
    ``eq`` compares them); None for a missing value."""
    n = number_of(value)
    if n is not None:
        return ("n", n + 0.0)  # -0.0 and 0.0 are one value
    t = text_of(value)
    return None if t is None else ("t", fold(t))


def measure_of(measure: ir.Measure, found: list[_Aged]) -> float:
    """The measure's value over the matching events (docs/semantics.md "Measures")."""
    kind, prop = measure.kind, measure.prop
    if kind is ir.MeasureKind.COUNT:
        return float(len(found))
    if kind is ir.MeasureKind.DISTINCT_DAYS:
        return float(len({day_of(a.event.epoch) for a in found}))
    assert prop is not None
    if kind is ir.MeasureKind.SUM:
        return math.fsum(number_of(get_field(a.event.properties, prop)) or 0.0 for a in found)
    if prop == ir.LEAD_ID:  # an account-level event has no lead: it adds no distinct lead
        return float(len({a.event.lead_id for a in found} - {NO_LEAD}))
    keys = {distinct_key(get_field(a.event.properties, prop)) for a in found}
    keys.discard(None)
    return float(len(keys))


def _count_holds(count: ir.EventCount, events: _Scoped) -> tuple[bool, int, float]:
    found = _matching(count.filter, events.of(count))
    value = measure_of(count.measure, found)
    return count.holds(value), len(found), value


# A lead's count tests: (holds, events counted, measured value) of an ``EventCount``; from its
# events here, from its incremental state in engine/incremental.py.
CountHolds = Callable[[ir.EventCount], tuple[bool, int, float]]


# Does the lead's profile meet a condition of the plan? ``assemble_score``'s callers may answer
# from what they kept (the incremental state keeps its profile's answers between events).
ProfileTest = Callable[[ir.Cond], bool]


def _check(
    chk: ir.Check,
    kind: str,
    profile: Mapping[str, Any],
    holds: CountHolds,
    test: ProfileTest | None = None,
) -> CheckResult:
    matched = True
    counted: int | None = None
    value: float | None = None
    bound: str | None = None
    if chk.when is not None:
        matched = test(chk.when) if test is not None else predicate(chk.when)(profile)
    if chk.events is not None:
        ok, counted, value = holds(chk.events)
        bound = bound_text(chk.events)
        matched = matched and ok
    return CheckResult(chk.key, chk.name, kind, matched, counted, value, bound)


def _pql(
    pql: ir.Pql, profile: Mapping[str, Any], holds: CountHolds, scores: Mapping[str, float],
    total: float,
) -> PqlResult:  # fmt: skip
    """The PQL verdict; its gates read the profile and the lead's scores (``score.<dim>``,
    ``score.total``)."""
    signals = []
    for sig in pql.signals:
        held, n, value = holds(sig.events)
        signals.append(SignalResult(sig.key, sig.name, held, value, n, bound_text(sig.events)))
    with_scores = {
        **profile,
        **{ir.SCORE_PREFIX + d: v for d, v in scores.items()},
        ir.SCORE_TOTAL: total,
    }
    gates = [_check(g, "gate", with_scores, holds) for g in pql.gates]
    return PqlResult(is_pql(pql, signals, gates), pql.min_signals, tuple(signals), tuple(gates))


def reads_accounts(plan: ir.Plan) -> bool:
    """Some measure of ``plan`` reads the events of the lead's whole account."""
    return any(c.scope is ir.Scope.ACCOUNT for c in plan.event_counts)


# The lead id of an account-level event among ``score_lead``'s ``account_events``.
NO_LEAD = ""


def account_level(event: Event) -> Event:
    """An account-level event (``io.account_events`` keeps its account id as ``lead_id``) as
    ``score_lead``'s ``account_events`` take it: with no lead (``NO_LEAD``), so that
    ``{distinct: lead_id}`` does not count it as a lead (docs/semantics.md "Measures")."""
    return replace(event, lead_id=NO_LEAD)


def account_key(profile: Mapping[str, Any], lead_id: str) -> str:
    """Which events ``scope: account`` reads: those of every lead with the same ``account_id``
    (text); a lead without one is an account of its own."""
    account = text_of(get_field(profile, "account_id"))
    return "l" + lead_id if account is None else "a" + account


def events_by_account(
    profiles: Iterable[Mapping[str, Any]],
    events: Mapping[str, Iterable[Event]],
    account_events: Mapping[str, Iterable[Event]],
) -> dict[str, list[Event]]:
    """What ``scope: account`` reads, by ``account_key``: the events of the account's leads
    (``events`` by lead id, ``profiles`` with their ``lead_id``) and its account-level events
    (``account_events`` by account id, as ``account_level``)."""
    keys = {str(p["lead_id"]): account_key(p, str(p["lead_id"])) for p in profiles}
    out: dict[str, list[Event]] = defaultdict(list)
    for lead_id, evs in events.items():
        out[keys.get(lead_id, "l" + lead_id)].extend(evs)
    for account, evs in account_events.items():
        out["a" + account].extend(account_level(e) for e in evs)
    return dict(out)


def segment_of(
    plan: ir.Plan, profile: Mapping[str, Any], test: ProfileTest | None = None
) -> ir.Segment:
    """The first segment whose condition matches; the default segment is last."""
    meets = test or (lambda cond: predicate(cond)(profile))
    for seg in plan.segments:
        if seg.when is None or meets(seg.when):
            return seg
    return plan.segments[-1]


def score_lead(
    plan: ir.Plan,
    profile: Mapping[str, Any],
    events: Iterable[Event],
    as_of: datetime,
    lead_id: str | None = None,
    account_events: Iterable[Event] | None = None,
) -> Score:
    """Score one lead: segment, per-dimension scores, total, MQL and PQL flags, explanation.

    ``account_events``: every event of the lead's account (its own included, its other leads'
    and the account-level events, ``account_level``), which ``scope: account`` measures read;
    None: the lead's own events (a lead without an account).
    Events after ``as_of`` do not exist for this score (ARCHITECTURE.md invariant 2).
    """
    as_of = as_utc(as_of)
    now = as_of.timestamp()

    def aged_list(items: Iterable[Event]) -> list[_Aged]:
        out = [_Aged(e, (now - e.epoch) / ir.SECONDS_PER_DAY) for e in items if e.epoch <= now]
        out.sort(key=lambda a: (a.age_days, a.event.event_id))
        return out

    own = aged_list(events)
    aged = _Scoped(own, own if account_events is None else aged_list(account_events))

    scorer = _RuleScorer(profile, aged)
    rule_results = [ir.visit_rule(rule, scorer) for rule in plan.rules]
    return assemble_score(
        plan, profile, rule_results, lambda count: _count_holds(count, aged), as_of, lead_id
    )


def assemble_score(
    plan: ir.Plan,
    profile: Mapping[str, Any],
    rule_results: Sequence[RuleResult],
    holds: CountHolds,
    as_of: datetime,
    lead_id: str | None = None,
    test: ProfileTest | None = None,
) -> Score:
    """The score from each rule's result (in ``plan.rules`` order) and the lead's count tests
    (``holds``): dimensions, segment, checks, qualification, the PQL and the explanation.

    Shared by ``score_lead`` and the incremental state (``engine/incremental.py``), so both
    assemble a score the same way. ``test``: whether the profile meets a segment's or a check's
    condition, when the caller knows (default: the condition's predicate on ``profile``).
    """
    dim_sums: dict[str, float] = {}
    results = iter(rule_results)
    for dim in plan.dimensions:
        dim_sums[dim.name] = math.fsum(next(results).points for _ in dim.rules)

    segment = segment_of(plan, profile, test)
    policy = segment.policy
    floors = dict(policy.floors)
    checks = [_check(c, "disqualifier", profile, holds, test) for c in policy.disqualifiers]
    checks += [_check(c, "gate", profile, holds, test) for c in policy.gates]
    scores: dict[str, float] = {}
    clipped: dict[str, bool] = {}
    for dim in plan.dimensions:
        raw = dim_sums[dim.name]
        value = raw
        if dim.max is not None:
            value = min(value, dim.max)
        if dim.min is not None:
            value = max(value, dim.min)
        scores[dim.name] = value
        clipped[dim.name] = value != raw
    total = math.fsum(scores.values())
    verdict = qualify(plan, policy, checks, scores, total)
    dims = [
        DimensionResult(
            d.name, dim_sums[d.name], scores[d.name], clipped[d.name], floors.get(d.name),
            verdict.floor_met.get(d.name, True),
        )
        for d in plan.dimensions
    ]  # fmt: skip
    lacks = verdict.lacks
    explanation = Explanation(
        rules=tuple(rule_results),
        dimensions=tuple(dims),
        checks=tuple(checks),
        lacks=tuple(lacks),
        threshold=policy.threshold,
        pql=None if plan.pql is None else _pql(plan.pql, profile, holds, scores, total),
    )
    return Score(
        lead_id=str(lead_id if lead_id is not None else get_field(profile, "lead_id") or ""),
        as_of=as_of,
        segment=segment.name,
        scores=scores,
        total=total,
        mql=verdict.mql,
        model=plan.identity(),
        explanation=explanation,
    )
