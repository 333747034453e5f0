"""Compiling a model's ``accounts:`` block into the account plan (``engine/accounts_ir.py``).

Conditions compile as the lead model's do (``engine/compile.py``); dimension defaults (decay,
window) are pushed into event rules the same way; rule keys are ``a<dim>r<rule>``.
"""

from __future__ import annotations

from leadgate.engine import ir
from leadgate.engine.accounts_ir import (
    ABM_SEGMENT,
    AccountDimension,
    AccountPlan,
    AccountRule,
    BuyingGroup,
    Role,
    Rollup,
    RollupRule,
)
from leadgate.engine.compile import _checks, _cond, _types, compile_model
from leadgate.errors import ModelError, Problem
from leadgate.model.accounts_spec import AccountDimensionSpec, AccountRuleSpec, RollupSpec
from leadgate.model.loader import Model


def _rollup(spec: RollupSpec) -> Rollup:
    where = _cond(spec.where)
    if spec.count is not None:
        return Rollup("count", None, None, where)
    if spec.count_distinct is not None:
        return Rollup("count_distinct", spec.count_distinct, None, where)
    if spec.top_sum is not None:
        return Rollup("top_sum", spec.top_sum, spec.n, where)
    if spec.sum is not None:
        return Rollup("sum", spec.sum, None, where)
    assert spec.max is not None  # the loader checked exactly one kind
    return Rollup("max", spec.max, None, where)


def _rule(key: str, dname: str, dim: AccountDimensionSpec, rule: AccountRuleSpec) -> AccountRule:
    if rule.rollup is not None:
        return RollupRule(key, rule.name, dname, _rollup(rule.rollup), rule.points, rule.max_points)
    if rule.event is None:
        when = _cond(rule.when)
        assert when is not None
        return ir.ProfileRule(key, rule.name, dname, when, rule.points)
    fields = rule.model_fields_set
    return ir.EventRule(
        key=key,
        name=rule.name,
        dimension=dname,
        filter=ir.EventFilter(
            _types(rule.event),
            _cond(rule.where),
            rule.within_days if "within_days" in fields else dim.within_days,
        ),
        points=rule.points,
        half_life_days=rule.half_life_days if "half_life_days" in fields else dim.half_life_days,
        max_points=rule.max_points,
        max_count=rule.max_count,
    )


def compile_accounts(model: Model) -> AccountPlan:
    """The account plan of a validated model.

    Raises:
        ModelError: the model has no ``accounts:`` block.
    """
    acc = model.spec.accounts
    if acc is None:
        raise ModelError([Problem("the model has no 'accounts:' block", file=model.source)])
    lead = compile_model(model)
    dims: list[AccountDimension] = []
    for d_index, (dname, dim) in enumerate(acc.dimensions.items()):
        rules = tuple(
            _rule(f"a{d_index}r{r_index}", dname, dim, rule)
            for r_index, rule in enumerate(dim.rules)
        )
        dims.append(AccountDimension(dname, rules, dim.max, dim.min))
    registry: dict[str, ir.Check] = {}
    gates = _checks(acc.require, "ag", registry)
    disqualifiers = _checks(acc.disqualify, "aq", registry)
    base_dims = tuple(
        ir.Dimension(
            d.name,
            tuple(r for r in d.rules if isinstance(r, ir.ProfileRule | ir.EventRule)),
        )
        for d in dims
    )
    policy = ir.Policy(0.0, (), gates, disqualifiers)
    abm_when = _cond(acc.abm_when)
    segments = [ir.Segment(ir.DEFAULT_SEGMENT, None, policy)]
    if abm_when is not None:
        segments.insert(0, ir.Segment(ABM_SEGMENT, abm_when, policy))
    base = ir.Plan(
        name=lead.name,
        version=lead.version,
        hash=lead.hash,
        dimensions=base_dims,
        segments=tuple(segments),
    )
    group = None
    if acc.buying_group is not None:
        bg = acc.buying_group
        roles = []
        for role in bg.roles:
            when = _cond(role.when)
            assert when is not None
            roles.append(Role(role.name, when, role.required))
        group = BuyingGroup(tuple(roles), _cond(bg.engaged_when), bg.min_completeness)
    return AccountPlan(
        lead=lead,
        base=base,
        dimensions=tuple(dims),
        threshold=acc.threshold,
        floors=tuple(acc.floors.items()),
        gates=gates,
        disqualifiers=disqualifiers,
        buying_group=group,
        abm_when=abm_when,
    )
