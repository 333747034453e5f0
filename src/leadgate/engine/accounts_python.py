"""The per-account executor: one account, its account-level events and its scored leads.

The reference for account semantics (docs/semantics.md "Accounts"); the compiled query
(``engine/accounts_sql.py``) agrees with it to 1e-9, explanations included. The account's own
profile and event rules, gates and disqualifiers are ``AccountPlan.base`` scored by the lead
executor (``engine/python.score_lead``), so they mean exactly what they mean for leads.
Pure: ``as_of`` is a parameter, no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadgate.engine import ir
from leadgate.engine.accounts_ir import (
    ABM_SEGMENT,
    TOTAL,
    AccountPlan,
    AccountRuleVisitor,
    Rollup,
    RollupRule,
    visit_account_rule,
)
from leadgate.engine.accounts_qualify import completeness_of, qualify_account
from leadgate.engine.accounts_result import (
    AccountExplanation,
    AccountRuleResult,
    AccountScore,
    RoleResult,
)
from leadgate.engine.event import Event
from leadgate.engine.python import predicate, score_lead
from leadgate.engine.result import DimensionResult, RuleResult, Score
from leadgate.engine.values import fold, get_field, text_of

SCORE_PREFIX = "score."
MQL_FIELD = "mql"


@dataclass(frozen=True)
class ScoredLead:
    """A lead as account rules see it: its profile and its score under the same model."""

    lead_id: str
    profile: Mapping[str, Any]
    scores: Mapping[str, float]
    total: float
    mql: bool

    @classmethod
    def of(cls, profile: Mapping[str, Any], score: Score) -> ScoredLead:
        return cls(score.lead_id, profile, score.scores, score.total, score.mql)

    def view(self) -> dict[str, Any]:
        """What roll-up ``where``, roles and ``engaged_when`` read: the profile, then
        ``score.total``, ``score.<dim>`` and ``mql`` (the scores win over profile fields)."""
        out = dict(self.profile)
        out["lead_id"] = self.lead_id
        out[SCORE_PREFIX + TOTAL] = self.total
        out.update({SCORE_PREFIX + d: v for d, v in self.scores.items()})
        out[MQL_FIELD] = self.mql
        return out


def measure_of(view: Mapping[str, Any], measure: str) -> float:
    """A lead's ``total`` or dimension score (what sum, max and top_sum add up)."""
    value = view[SCORE_PREFIX + measure]
    return float(value)


def rollup_value(r: Rollup, views: Sequence[Mapping[str, Any]]) -> tuple[float, tuple[str, ...]]:
    """A roll-up's value over the views (sorted by lead id) and the leads behind it.

    The leads behind it: count and sum, the leads matched; count_distinct, those with a value;
    max and top_sum, the leads it took, largest first (ties by id).
    """
    where = predicate(r.where) if r.where is not None else None
    hit = [v for v in views if where is None or where(v)]
    ids = [str(v["lead_id"]) for v in hit]
    if r.kind == "count":
        return float(len(hit)), tuple(ids)
    if r.kind == "count_distinct":
        assert r.measure is not None
        texts = [text_of(get_field(v, r.measure)) for v in hit]
        present = [(fold(t), i) for t, i in zip(texts, ids, strict=True) if t is not None]
        return float(len({t for t, _ in present})), tuple(i for _, i in present)
    assert r.measure is not None
    pairs = [(measure_of(v, r.measure), i) for v, i in zip(hit, ids, strict=True)]
    if r.kind == "sum":
        return math.fsum(m for m, _ in pairs), tuple(ids)
    ranked = sorted(pairs, key=lambda p: (-p[0], p[1]))  # largest first, ties by id
    if r.kind == "max":
        ranked = ranked[:1]
    elif r.kind == "top_sum":
        assert r.n is not None
        ranked = ranked[: r.n]
    value = math.fsum(m for m, _ in ranked) if ranked else 0.0
    return value, tuple(i for _, i in ranked)


def _as_account(rr: RuleResult) -> AccountRuleResult:
    return AccountRuleResult(
        rr.key, rr.dimension, rr.name, rr.kind, rr.matched, rr.events_counted, rr.raw_points,
        rr.decayed_points, rr.points, rr.capped, rr.event_ids,
    )  # fmt: skip


def cap(value: float, max_points: float | None) -> tuple[float, bool]:
    """``sign(v) * min(|v|, max_points)`` and whether it capped (as an event rule's cap)."""
    if max_points is not None and abs(value) > max_points:
        return math.copysign(max_points, value), True
    return value, False


class _AccountRules(AccountRuleVisitor[AccountRuleResult]):
    """One account's result for each rule kind, from its lead views. Profile and event rules
    are the base plan's (scored by the lead executor, ``assemble`` takes their results)."""

    def __init__(self, views: Sequence[Mapping[str, Any]]) -> None:
        self.views = views

    def visit_ProfileRule(self, rule: ir.ProfileRule) -> AccountRuleResult:
        raise AssertionError("profile rules are scored in the base plan")

    def visit_EventRule(self, rule: ir.EventRule) -> AccountRuleResult:
        raise AssertionError("event rules are scored in the base plan")

    def visit_RollupRule(self, rule: RollupRule) -> AccountRuleResult:
        value, leads = rollup_value(rule.rollup, self.views)
        raw = value * rule.points
        points, capped = cap(raw, rule.max_points)
        return AccountRuleResult(
            rule.key, rule.dimension, rule.name, rule.kind, bool(leads), 0, raw, raw, points,
            capped, (), value, leads,
        )  # fmt: skip


def roles_of(plan: AccountPlan, views: Sequence[Mapping[str, Any]]) -> tuple[RoleResult, ...]:
    """Each role's engaged members: a lead takes the first role it matches, and fills it when
    ``engaged_when`` holds (views sorted by lead id, so members are too)."""
    group = plan.buying_group
    if group is None:
        return ()
    engaged = predicate(group.engaged_when) if group.engaged_when is not None else None
    tests = [predicate(r.when) for r in group.roles]
    members: list[list[str]] = [[] for _ in group.roles]
    for v in views:
        index = next((i for i, t in enumerate(tests) if t(v)), None)
        if index is not None and (engaged is None or engaged(v)):
            members[index].append(str(v["lead_id"]))
    return tuple(
        RoleResult(r.name, r.required, len(m), tuple(m))
        for r, m in zip(group.roles, members, strict=True)
    )


def clip(value: float, low: float | None, high: float | None) -> float:
    if high is not None:
        value = min(value, high)
    if low is not None:
        value = max(value, low)
    return value


@dataclass(frozen=True)
class Decided:
    """What a compiled query already computed for an account: dimension rule sums and scores,
    the total, and the bars met (floors by dimension, "total", "completeness")."""

    sums: Mapping[str, float]
    scores: Mapping[str, float]
    total: float
    met: Mapping[str, bool]


def assemble(
    plan: AccountPlan,
    base: Score,
    rollups: Mapping[str, AccountRuleResult],
    roles: tuple[RoleResult, ...],
    leads: tuple[str, ...],
    decided: Decided | None = None,
) -> AccountScore:
    """An account's score from its parts, whichever executor computed them: ``base`` (its own
    rules and checks, ``plan.base``), its roll-up results by rule key, its roles and its leads;
    the sums, total and verdict are computed here unless ``decided`` gives them."""
    by_key = {r.key: _as_account(r) for r in base.explanation.rules} | dict(rollups)
    results = tuple(by_key[rule.key] for rule in plan.rules)
    if decided is None:
        sums = {d.name: math.fsum(by_key[r.key].points for r in d.rules) for d in plan.dimensions}
        scores = {d.name: clip(sums[d.name], d.min, d.max) for d in plan.dimensions}
        total = math.fsum(scores.values())
        met = None
    else:
        sums, scores, total, met = (
            dict(decided.sums),
            dict(decided.scores),
            decided.total,
            decided.met,
        )
    checks = base.explanation.checks
    verdict = qualify_account(plan, checks, scores, total, roles, met)
    floors = dict(plan.floors)
    dims = [
        DimensionResult(
            d.name, sums[d.name], scores[d.name], scores[d.name] != sums[d.name],
            floors.get(d.name), verdict.floor_met.get(d.name, True),
        )
        for d in plan.dimensions
    ]  # fmt: skip
    explanation = AccountExplanation(
        rules=results,
        dimensions=tuple(dims),
        checks=checks,
        roles=roles,
        completeness=completeness_of(roles) if roles else None,
        lacks=verdict.lacks,
        threshold=plan.threshold,
        leads=leads,
    )
    return AccountScore(
        account_id=base.lead_id,
        as_of=base.as_of,
        scores=scores,
        total=total,
        mqa=verdict.mqa,
        abm=base.segment == ABM_SEGMENT,
        model=plan.identity(),
        explanation=explanation,
    )


def score_account(
    plan: AccountPlan,
    account: Mapping[str, Any],
    events: Iterable[Event],
    leads: Sequence[ScoredLead],
    as_of: datetime,
    account_id: str,
) -> AccountScore:
    """Score one account: its dimensions, total, buying group, MQA flag and explanation.

    ``events``: its account-level events; ``leads``: its leads, scored by ``plan.lead`` at the
    same ``as_of``. Events after ``as_of`` do not exist for this score.
    """
    base = score_lead(plan.base, account, events, as_of, account_id)
    views = [lead.view() for lead in sorted(leads, key=lambda lead: lead.lead_id)]
    visitor = _AccountRules(views)
    rollups = {r.key: visit_account_rule(r, visitor) for r in plan.rollups}
    ids = tuple(str(v["lead_id"]) for v in views)
    return assemble(plan, base, rollups, roles_of(plan, views), ids)
