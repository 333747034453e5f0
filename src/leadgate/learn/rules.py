"""A fitted scorecard written as ordinary leadgate rules: the learned model is just a model.

Each bin with non-zero points becomes one rule (the feature's reference bin is 0 points and needs
none, ``binning``):

- numeric column: ``{col: {gte: lo, lt: hi}}``; when the column holds numbers written as text
  ("1,234", "12%"), ``any`` of that and ``{col: {matches: <regex>}}`` from ``numregex``;
- categorical column: ``{col: {in: [...]}}``, plus ``exists: false`` and the placeholders seen
  when the bin holds the missing values;
- free-mail flag: ``{col: {free_email: true}}`` / ``{col: {not_free_email: true}}``;
- event count bin ``[a, b)``: a count rule ``events: {type, where, within_days, min_count: a,
  max_count: b - 1}``;
- recency (days since the last event, bins ``c_0 < c_1 < ...`` and "never" as reference): one count
  rule "ever" worth the oldest bin's points plus one rule "within c_i days" per cut worth the
  difference between the bins on either side of the cut, so the rules sum to exactly the bin's
  points (``age <= c`` vs ``age < c`` differ only at an exact tie).

An interaction (``interactions``) is one rule whose ``when`` is an ``all:`` of the two sides'
conditions, built the same way from each side's merged bin.

Only standard rules are used, so both executors (per-lead Python and compiled SQL) run the model.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from leadgate.engine.values import number_of
from leadgate.learn.binning import Bin, BinnedFeature
from leadgate.learn.cleaning import MISSING, OTHER
from leadgate.learn.features import Feature
from leadgate.learn.interactions import Interaction, Side
from leadgate.learn.numregex import number_range_regex
from leadgate.learn.scorecard import Scorecard


class Flow(dict[str, Any]):
    """A mapping written in YAML flow style (``{seniority: {in: [vp]}}``): conditions stay on one line."""


class ModelDumper(yaml.SafeDumper):  # type: ignore[misc]
    """YAML for learned models: block style, with conditions and count specs in flow style."""


ModelDumper.add_representer(
    Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def dump_yaml(data: Any) -> str:
    """YAML text of a learned model's data (keys in insertion order)."""
    text: str = yaml.dump(data, Dumper=ModelDumper, sort_keys=False, allow_unicode=True, width=1000)
    return text


def flow_rules(dims: dict[str, Any]) -> dict[str, Any]:
    """The same dimensions with every rule's ``when``/``events`` marked for flow style."""
    out: dict[str, Any] = {}
    for name, dim in dims.items():
        rules = [
            {
                k: Flow(v) if k in ("when", "events") and isinstance(v, dict) else v
                for k, v in r.items()
            }
            for r in dim.get("rules", [])
        ]
        out[name] = {**dim, "rules": rules}
    return out


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _interval_label(b: Bin) -> str:
    if b.lo is None and b.hi is None:
        return "any value"
    if b.lo is None:
        return f"< {_num(b.hi)}"  # type: ignore[arg-type]
    if b.hi is None:
        return f">= {_num(b.lo)}"
    return f"{_num(b.lo)} to < {_num(b.hi)}"


def _numeric_condition(f: Feature, b: Bin) -> dict[str, Any]:
    col = f.column or f.name
    test: dict[str, Any] = {}
    if b.lo is not None:
        test["gte"] = _num(b.lo)
    if b.hi is not None:
        test["lt"] = _num(b.hi)
    if not test:
        test = {"exists": True}
    cond: dict[str, Any] = {col: test}
    if f.text_numbers:
        lo = None if b.lo is None else math.ceil(b.lo)
        hi = None if b.hi is None else math.ceil(b.hi) - 1
        regex = number_range_regex(lo, hi)
        if regex is not None:
            cond = {"any": [cond, {col: {"matches": regex}}]}
    return cond


def _category_list(cats: list[str]) -> list[Any]:
    # all numeric-looking categories compare as numbers (the engine's numeric `in`)
    if cats and all(number_of(c) is not None for c in cats):
        return [_num(float(c)) for c in cats]
    return cats


def _categorical_condition(f: Feature, b: Bin) -> dict[str, Any]:
    col = f.column or f.name
    cats = [c for c in b.categories if c not in (MISSING, OTHER)]
    parts: list[dict[str, Any]] = []
    if cats:
        values = cats if f.operator == "domain_in" else _category_list(cats)
        parts.append({col: {f.operator: values}})
    if MISSING in b.categories:
        if f.operator == "domain_in":  # no address, or one without a domain
            parts.append({"not": {col: {"matches": "@[^@]+$"}}})
            return parts[0] if len(parts) == 1 else {"any": parts}
        parts.append({col: {"exists": False}})
        if f.placeholders:
            parts.append({col: {"in": list(f.placeholders)}})
    return parts[0] if len(parts) == 1 else {"any": parts}


def _category_label(b: Bin) -> str:
    names = ["(missing)" if c == MISSING else c for c in b.categories if c != OTHER]
    shown = ", ".join(names[:4]) + (f" +{len(names) - 4} more" if len(names) > 4 else "")
    return shown or "other"


def _count_spec(
    f: Feature, min_count: int, max_count: int | None, within: float | None
) -> dict[str, Any]:
    assert f.event is not None
    spec: dict[str, Any] = {"type": f.event.type}
    where = f.event.where()
    if where is not None:
        spec["where"] = where
    if within is not None:
        spec["within_days"] = _num(within)
    spec["min_count"] = min_count
    if max_count is not None:
        spec["max_count"] = max_count
    return spec


def feature_rules(bf: BinnedFeature, points: list[int]) -> list[dict[str, Any]]:
    """The rules of one feature (each with ``name``, ``points`` and its condition)."""
    f = bf.feature
    rules: list[dict[str, Any]] = []
    if f.kind == "recency":
        steps = [p for b, p in zip(bf.bins, points, strict=True) if not b.missing]
        cuts = list(bf.splits)
        if steps[-1]:
            rules.append({"name": f"{f.event.label} ever", "points": steps[-1],  # type: ignore[union-attr]
                          "events": _count_spec(f, 1, None, None)})  # fmt: skip
        for i, cut in enumerate(cuts, start=1):
            diff = steps[i - 1] - steps[i]
            if diff:
                rules.append({"name": f"{f.event.label} within {_num(cut)} days",  # type: ignore[union-attr]
                              "points": diff, "events": _count_spec(f, 1, None, cut)})  # fmt: skip
        return rules
    for i, (b, p) in enumerate(zip(bf.bins, points, strict=True)):
        if i == bf.reference or p == 0 or (b.missing and f.kind == "count"):  # counts: never NaN
            continue
        if f.kind == "count":
            lo = 0 if b.lo is None else math.ceil(b.lo)
            hi = None if b.hi is None else math.ceil(b.hi) - 1
            span = f"{lo}+" if hi is None else (f"{lo}" if hi == lo else f"{lo}-{hi}")
            rules.append({"name": f"{f.name}: {span}", "points": p,
                          "events": _count_spec(f, lo, hi, f.within_days)})  # fmt: skip
        elif f.kind == "flag":
            free = b.lo is not None
            col = f.column or f.name
            rules.append({"name": f"{col}: {'free-mail' if free else 'business'} address",
                          "points": p, "when": {col: {"free_email" if free else "not_free_email": True}}})  # fmt: skip
        elif f.kind == "numeric":
            label = "missing" if b.missing else _interval_label(b)
            rules.append({"name": f"{f.name}: {label}", "points": p,
                          "when": _numeric_condition(f, b)})  # fmt: skip
        else:
            rules.append({"name": f"{f.name}: {_category_label(b)}", "points": p,
                          "when": _categorical_condition(f, b)})  # fmt: skip
    return rules


def _side_rule(side: Side) -> tuple[str, dict[str, Any]]:
    """(label, condition) of one side of an interaction."""
    f, b = side.feature.feature, side.merged()
    if f.kind == "categorical":
        return f"{f.name}: {_category_label(b)}", _categorical_condition(f, b)
    if f.kind == "flag":
        col = f.column or f.name
        free = b.lo is not None
        kind = "free-mail" if free else "business"
        return f"{col}: {kind} address", {col: {"free_email" if free else "not_free_email": True}}
    return f"{f.name}: {_interval_label(b)}", _numeric_condition(f, b)


def interaction_rule(it: Interaction) -> dict[str, Any]:
    """One interaction as an ordinary rule: ``when: {all: [A, B]}`` with integer points."""
    (la, ca), (lb, cb) = _side_rule(it.a), _side_rule(it.b)
    return {"name": f"{la} & {lb}", "points": it.points, "when": {"all": [ca, cb]}}


def _append_unique(rules: list[dict[str, Any]], rule: dict[str, Any]) -> None:
    """Append ``rule``, numbering its name when the dimension already has one so named."""
    names = {r["name"] for r in rules}
    base, n = rule["name"], 2
    while rule["name"] in names:
        rule["name"] = f"{base} ({n})"
        n += 1
    rules.append(rule)


def scorecard_dimensions(card: Scorecard, layout: str = "split") -> dict[str, dict[str, Any]]:
    """Dimensions of rules: fit/engagement/intent (``layout="split"``) or one ``predictive``."""
    dims: dict[str, dict[str, Any]] = {}
    descriptions = {
        "fit": "Learned: who the lead is (profile attributes).",
        "engagement": "Learned: how the lead engaged (event counts and recency).",
        "intent": "Learned: buying signals (pricing, demo, contact).",
        "predictive": "Learned points scorecard (profile, engagement and intent).",
    }
    for bf, pts in zip(card.features, card.points, strict=True):
        dim = bf.feature.dimension if layout == "split" else "predictive"
        entry = dims.setdefault(dim, {"description": descriptions[dim], "rules": []})
        for rule in feature_rules(bf, pts):
            _append_unique(entry["rules"], rule)
    if card.interactions:  # pairs of profile attributes: who the lead is
        entry = dims.setdefault("fit" if layout == "split" else "predictive",
                                {"description": descriptions["fit" if layout == "split"
                                                             else "predictive"], "rules": []})  # fmt: skip
        for it in card.interactions:
            _append_unique(entry["rules"], interaction_rule(it))
    order = ["fit", "engagement", "intent", "predictive"]
    return {k: dims[k] for k in order if k in dims and dims[k]["rules"]}


def scorecard_table(card: Scorecard) -> list[dict[str, Any]]:
    """The audit table: every feature and bin with counts, event rate, WoE and points."""
    rows: list[dict[str, Any]] = []
    for bf, beta, pts in zip(card.features, card.coefs, card.points, strict=True):
        f = bf.feature
        for i, (b, p) in enumerate(zip(bf.bins, pts, strict=True)):
            if f.kind == "categorical":
                label = _category_label(b)
            else:
                label = "missing" if b.missing else _interval_label(b)
            rows.append({
                "feature": f.name, "kind": f.kind, "dimension": f.dimension,
                "column": f.column, "event": f.event.label if f.event else None,
                "within_days": f.within_days, "bin": label,
                "categories": list(b.categories) or None,
                "lo": b.lo, "hi": b.hi, "missing": b.missing, "reference": i == bf.reference,
                "count": b.count, "events": b.events,
                "event_rate": None if b.count == 0 else round(b.rate, 6),
                "woe": round(b.woe, 6), "coefficient": round(beta, 6),
                "iv": round(bf.iv, 6), "points": p,
            })  # fmt: skip
    return rows
