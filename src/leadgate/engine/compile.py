"""Compiling a validated model into the intermediate form (``engine/ir.py``) both executors read.

Here the YAML operators are normalised once: ``eq`` on a number becomes a numeric test, on text a
folded text test; segment settings are resolved against the top level ("unset keys inherit",
floors merged key by key); dimension defaults (half-life, window) are pushed into each rule.
"""

from __future__ import annotations

from typing import Any

from leadgate.engine import ir
from leadgate.engine.values import fold, text_of
from leadgate.model.conditions import (
    AllCondition,
    Condition,
    FieldCondition,
    NotCondition,
    parse_condition,
)
from leadgate.model.free_email import FREE_EMAIL_DOMAINS
from leadgate.model.loader import Model
from leadgate.model.spec import CheckSpec, EventCountSpec, ModelSpec, PqlSpec, measure_parts

_NUM_OPS = {"gt": ir.Op.NUM_GT, "gte": ir.Op.NUM_GTE, "lt": ir.Op.NUM_LT, "lte": ir.Op.NUM_LTE}
_TEXT_OPS = {
    "contains": ir.Op.CONTAINS,
    "not_contains": ir.Op.NOT_CONTAINS,
    "starts_with": ir.Op.STARTS_WITH,
    "ends_with": ir.Op.ENDS_WITH,
}


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _text_values(values: list[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        t = text_of(v)
        if t is not None and fold(t) not in out:
            out.append(fold(t))
    return tuple(out)


def _field_expr(c: FieldCondition) -> ir.Cond:
    op, v, f = c.op, c.value, c.field
    if op in ("eq", "ne"):
        if _is_number(v):
            return ir.Test(f, ir.Op.NUM_EQ if op == "eq" else ir.Op.NUM_NE, float(v))
        if isinstance(v, bool):
            return ir.Test(f, ir.Op.BOOL_EQ, v if op == "eq" else not v)
        return ir.Test(f, ir.Op.TEXT_IN if op == "eq" else ir.Op.TEXT_NOT_IN, _text_values([v]))
    if op in ("in", "not_in"):
        if all(_is_number(x) for x in v):
            nums = tuple(dict.fromkeys(float(x) for x in v))
            return ir.Test(f, ir.Op.NUM_IN if op == "in" else ir.Op.NUM_NOT_IN, nums)
        return ir.Test(f, ir.Op.TEXT_IN if op == "in" else ir.Op.TEXT_NOT_IN, _text_values(v))
    if op in _NUM_OPS:
        return ir.Test(f, _NUM_OPS[op], float(v))
    if op == "between":
        return ir.Test(f, ir.Op.NUM_BETWEEN, (float(v[0]), float(v[1])))
    if op in _TEXT_OPS:
        return ir.Test(f, _TEXT_OPS[op], fold(v))
    if op == "matches":
        return ir.Test(f, ir.Op.MATCHES, v)
    if op == "domain_matches":
        return ir.Test(f, ir.Op.DOMAIN_MATCHES, v)
    if op == "exists":
        return ir.Test(f, ir.Op.EXISTS, bool(v))
    if op == "domain_in":
        values = [v] if isinstance(v, str) else v
        domains = tuple(dict.fromkeys(fold(d.strip().lstrip("@").strip(".")) for d in values))
        return ir.Test(f, ir.Op.DOMAIN_IN, domains)
    if op in ("free_email", "not_free_email"):
        want_free = bool(v) if op == "free_email" else not bool(v)
        return ir.Test(f, ir.Op.FREE_EMAIL, (want_free, FREE_EMAIL_DOMAINS))
    raise AssertionError(f"operator {op!r} passed validation but has no compilation")


def compile_condition(cond: Condition) -> ir.Cond:
    """Spec condition -> intermediate form."""
    if isinstance(cond, FieldCondition):
        return _field_expr(cond)
    if isinstance(cond, NotCondition):
        return ir.Not(compile_condition(cond.item))
    items = tuple(compile_condition(c) for c in cond.items)
    return ir.AllOf(items) if isinstance(cond, AllCondition) else ir.AnyOf(items)


def _cond(raw: dict[str, Any] | None) -> ir.Cond | None:
    if raw is None:
        return None
    node, problems = parse_condition(raw)
    # Models reach here only through the loader, which already reported these problems.
    assert node is not None and not problems, problems
    return compile_condition(node)


def _types(event: str | list[str]) -> tuple[str, ...]:
    return (event,) if isinstance(event, str) else tuple(dict.fromkeys(event))


def _event_count(spec: EventCountSpec) -> ir.EventCount:
    kind, prop = measure_parts(spec.measure)
    counting = kind == "count"
    low = spec.min if spec.min is not None else (spec.min_count if counting else 1.0)
    high = spec.max if spec.max is not None else (spec.max_count if counting else None)
    return ir.EventCount(
        filter=ir.EventFilter(_types(spec.type), _cond(spec.where), spec.within_days),
        min=float(low),
        max=None if high is None else float(high),
        measure=ir.Measure(ir.MeasureKind(kind), prop),
        scope=ir.Scope(spec.scope),
    )


def _checks(
    items: list[CheckSpec], prefix: str, registry: dict[str, ir.Check]
) -> tuple[ir.Check, ...]:
    out: list[ir.Check] = []
    for chk in items:
        node = ir.Check(
            key="",
            name=chk.name,
            when=_cond(chk.when),
            events=_event_count(chk.events) if chk.events else None,
        )
        # The same check shared by several segments gets one key, so SQL computes it once.
        found = next(
            (
                c
                for c in registry.values()
                if (c.name, c.when, c.events) == (node.name, node.when, node.events)
            ),
            None,
        )
        if found is None:
            key = f"{prefix}{len([k for k in registry if k.startswith(prefix)])}"
            found = ir.Check(key=key, name=node.name, when=node.when, events=node.events)
            registry[key] = found
        out.append(found)
    return tuple(out)


def _dimensions(spec: ModelSpec) -> tuple[ir.Dimension, ...]:
    dims: list[ir.Dimension] = []
    for d_index, (dname, dim) in enumerate(spec.dimensions.items()):
        rules: list[ir.Rule] = []
        for r_index, rule in enumerate(dim.rules):
            key = f"d{d_index}r{r_index}"
            if rule.events is not None:
                count = _event_count(rule.events)
                rules.append(ir.CountRule(key, rule.name, dname, count, rule.points))
                continue
            if rule.event is None:
                when = _cond(rule.when)
                assert when is not None
                rules.append(ir.ProfileRule(key, rule.name, dname, when, rule.points))
                continue
            half_life = (
                rule.half_life_days
                if "half_life_days" in rule.model_fields_set
                else dim.half_life_days
            )
            within = rule.within_days if "within_days" in rule.model_fields_set else dim.within_days
            rules.append(
                ir.EventRule(
                    key=key,
                    name=rule.name,
                    dimension=dname,
                    filter=ir.EventFilter(_types(rule.event), _cond(rule.where), within),
                    points=rule.points,
                    half_life_days=half_life,
                    max_points=rule.max_points,
                    max_count=rule.max_count,
                    points_per=rule.points_per,
                )
            )
        dims.append(ir.Dimension(dname, tuple(rules), dim.max, dim.min))
    return tuple(dims)


def compile_model(model: Model) -> ir.Plan:
    """Compile a validated model into the plan both executors run."""
    spec = model.spec
    registry: dict[str, ir.Check] = {}
    top_gates = _checks(spec.require, "g", registry)
    top_dq = _checks(spec.disqualify, "q", registry)
    segments: list[ir.Segment] = []
    for seg in spec.segments:
        floors = {**spec.floors, **(seg.floors or {})}
        policy = ir.Policy(
            threshold=spec.threshold if seg.threshold is None else seg.threshold,
            floors=tuple(floors.items()),
            gates=top_gates if seg.require is None else _checks(seg.require, "g", registry),
            disqualifiers=top_dq
            if seg.disqualify is None
            else _checks(seg.disqualify, "q", registry),
            sla_hours=seg.sla_hours if seg.sla_hours is not None else spec.sla_hours,
            recycle_after_days=(
                seg.recycle_after_days
                if seg.recycle_after_days is not None
                else spec.recycle_after_days
            ),
        )
        segments.append(ir.Segment(seg.name, _cond(seg.when), policy))
    default = ir.Policy(
        threshold=spec.threshold,
        floors=tuple(spec.floors.items()),
        gates=top_gates,
        disqualifiers=top_dq,
        sla_hours=spec.sla_hours,
        recycle_after_days=spec.recycle_after_days,
    )
    segments.append(ir.Segment(ir.DEFAULT_SEGMENT, None, default))
    return ir.Plan(
        name=spec.name,
        version=spec.version,
        hash=model.hash,
        dimensions=_dimensions(spec),
        segments=tuple(segments),
        pql=_pql(spec.pql, registry),
    )


def _pql(spec: PqlSpec | None, registry: dict[str, ir.Check]) -> ir.Pql | None:
    """The PQL block: signals keyed ``s<i>``, gates keyed ``p<i>`` (apart from the MQL's
    checks: their conditions may read scores)."""
    if spec is None:
        return None
    signals = tuple(
        ir.Signal(f"s{i}", sig.name, _event_count(sig.events)) for i, sig in enumerate(spec.signals)
    )
    gates = _checks(spec.require, "p", registry)
    return ir.Pql(signals, spec.min_signals, gates)
