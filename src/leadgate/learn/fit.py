"""``leadgate fit``: learn a points scorecard from outcomes and write it as an ordinary model.

The steps, in order: split (``evaluate.split_rows``) -> bin every feature on the training split
(``binning``) -> report and drop post-outcome columns (``leakage``) -> fit and scale the scorecard
(``scorecard``) -> let each bin find its points (``shapes``) -> add pairwise interaction rules up
to ``max_rules`` (``interactions``) -> write it as rules (``rules``) -> choose the threshold on the training split
(``threshold``) -> validate the YAML with the model loader -> score the held-out split *through the
engine* (``engine.score_lead``: the measured model is the written one) -> fit the gradient-boosted
ceiling -> write MODEL.yaml, MODEL.scorecard.json, MODEL.report.json and MODEL.report.md.

Nothing is written until every step has succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from leadgate.engine import compile_model, score_lead
from leadgate.errors import LeadgateError, OptionError
from leadgate.io.writers import check_output_path, write_text_output
from leadgate.learn.binning import BinnedFeature, bin_feature
from leadgate.learn.evaluate import gbm_ceiling, metrics, split_rows
from leadgate.learn.features import FeatureTable
from leadgate.learn.hybrid import check_hybrid_base, merge_hybrid
from leadgate.learn.interactions import find_interactions
from leadgate.learn.leakage import LEAK_AUC, detect_leaks
from leadgate.learn.report import render_markdown
from leadgate.learn.rules import (
    dump_yaml,
    flow_rules,
    interaction_rule,
    scorecard_dimensions,
    scorecard_table,
)
from leadgate.learn.scorecard import Scaling, Scorecard, fit_scorecard
from leadgate.learn.shapes import refine_shapes
from leadgate.learn.tables import check_learnable, table_from_files, table_from_flat
from leadgate.learn.threshold import choose_threshold, round_threshold
from leadgate.model import Model, parse_model

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class FitOptions:
    """How to learn: threshold rule, scaling, layout, leakage handling, hybrid base model."""

    name: str | None = None
    scaling: Scaling = field(default_factory=Scaling)
    layout: str = "split"  # "split": fit/engagement/intent; "predictive": one dimension
    threshold_method: str = "f1"
    mql_rate: float | None = None
    force: bool = False
    leak_auc: float = LEAK_AUC
    binning: str = "optimal"
    test_share: float = 0.25
    hybrid_with: Path | None = None
    max_rules: int = 60  # rules in the written model, interactions included
    shapes: bool = True  # per-bin points backfitted on top of beta * WoE (``shapes``)
    interactions: bool = True  # pairwise conjunction rules (``interactions``)


@dataclass
class Learned:
    """Everything ``fit`` produced, before it is written."""

    model: Model
    text: str
    card: Scorecard
    table: list[dict[str, Any]]
    report: dict[str, Any]


@dataclass(frozen=True)
class FitResult:
    """Where the outputs went, and the report."""

    model_path: Path
    scorecard_path: Path
    report_json: Path
    report_md: Path
    report: dict[str, Any]


def _engine_totals(
    model: Model, table: FeatureTable, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Totals and MQL flags of ``rows`` as the ordinary engine computes them."""
    plan = compile_model(model)
    totals, mql = np.zeros(len(rows)), np.zeros(len(rows), dtype=bool)
    for k, i in enumerate(rows):
        lead = table.ids[i]
        s = score_lead(plan, table.profiles[i], table.events.get(lead, ()), table.as_of[i], lead)
        totals[k], mql[k] = s.total, s.mql
    return totals, mql


def _model_text(
    card: Scorecard, dims: dict[str, Any], threshold: float, name: str, source: str
) -> str:
    sc = card.scaling
    description = (
        f"Points scorecard learned by `leadgate fit` from {source}. Scorecard score = "
        f"{card.base:.1f} + total: {sc.base_score:g} means odds of {sc.base_odds:g}:1 for the "
        f"outcome and every {sc.pdo:g} points double the odds. A lead in none of a feature's "
        "listed bins (missing, rare or unseen value) gets 0 points for it."
    )
    data = {"name": name, "version": "1", "description": description,
            "threshold": int(threshold) if float(threshold).is_integer() else threshold,
            "dimensions": flow_rules(dims)}  # fmt: skip

    header = (
        "# Learned by `leadgate fit`: an ordinary leadgate model. Read, edit, validate and publish\n"
        "# it like any other; the bins, counts and weights behind every rule are in the\n"
        "# .scorecard.json beside it, the held-out evaluation in the .report.md.\n"
    )
    return header + dump_yaml(data)


def learn(
    table: FeatureTable, source: str, options: FitOptions, progress: Progress | None = None
) -> Learned:
    """Learn, validate and evaluate a scorecard model from a learning table (no files written)."""
    import sklearn.ensemble
    import sklearn.linear_model  # noqa: F401  (loaded first: limits reach loaded libraries only)
    from threadpoolctl import threadpool_limits

    # The problems are small (thousands of rows): thread pools in BLAS and OpenMP only add
    # spin-waiting, which costs many times the work itself on a busy machine.
    with threadpool_limits(1):
        return _learn(table, source, options, progress)


def _learn(
    table: FeatureTable, source: str, options: FitOptions, progress: Progress | None
) -> Learned:
    check_learnable(table, source)
    y = table.y
    train, test, how = split_rows(y, table.times, options.test_share)
    binned: list[BinnedFeature] = []
    for k, f in enumerate(table.features, start=1):
        sub = type(f)(**{**f.__dict__, "values": f.values[train]})
        binned.append(bin_feature(sub, y[train], options.binning))
        if progress:
            progress("binning features", k, len(table.features))
    leaks = detect_leaks(binned, y[train], options.leak_auc)
    leaked = {lk.feature for lk in leaks}
    usable = binned if options.force else [b for b in binned if b.feature.name not in leaked]
    if progress:
        progress("fitting the scorecard", 0, 1)
    card = _fit_within_budget(usable, y[train], options)
    if not card.features:
        raise LeadgateError(f"{source}: no feature predicts the outcome (all too weak or leaking)")
    if options.shapes:
        before = [list(p) for p in card.points]
        refine_shapes(card, y[train])
        if _rule_count(card, options.layout) > options.max_rules:  # a 0-point bin moved
            card.points = before
    _add_interactions(card, usable, y[train], options)
    dims = scorecard_dimensions(card, options.layout)
    columns_train = {bf.feature.name: bf.feature.values for bf in card.used_features()}
    by_name = {f.name: f for f in table.features}
    columns_all = {name: by_name[name].values for name in columns_train}
    totals_train = card.totals(columns_train)
    threshold = round_threshold(
        choose_threshold(totals_train, y[train], options.threshold_method, options.mql_rate)
    )
    name = options.name or "learned-scorecard"
    text = _model_text(card, dims, threshold, name, source)
    hybrid_report: dict[str, Any] | None = None
    if options.hybrid_with is not None:
        text, hybrid_report = merge_hybrid(options.hybrid_with, card, table, train, options)
    model = parse_model(text, f"{name}.yaml")
    if progress:
        progress("scoring the held-out split", 0, 1)
    engine_totals, engine_mql = _engine_totals(model, table, test)
    expected = card.totals(columns_all)[test]
    prob = card.probability(expected)
    if options.hybrid_with is None:
        mismatched = int((np.abs(engine_totals - expected) > 1e-6).sum())
        if mismatched:  # a bug, not a user error: the written rules must reproduce the table
            first = table.ids[test[int(np.argmax(np.abs(engine_totals - expected)))]]
            raise AssertionError(
                f"{mismatched} held-out leads score differently in the engine (e.g. {first})"
            )
        scorecard_metrics = metrics(y[test], engine_totals, threshold, prob)
    else:
        scorecard_metrics = metrics(y[test], expected, threshold, prob)
        assert hybrid_report is not None
        hybrid_report["held_out"] = metrics(y[test], engine_totals, model.spec.threshold)
        hybrid_report["held_out"]["mql_rate_engine"] = round(float(engine_mql.mean()), 4)
    if progress:
        progress("fitting the gradient-boosted ceiling", 0, 1)
    ceiling = gbm_ceiling([by_name[b.feature.name] for b in usable], y, train, test)
    rows = scorecard_table(card)
    report = {
        "model": {"name": model.name, "version": model.version, "hash": model.hash},
        "source": source,
        "data": {
            "rows": len(y), "positives": int(y.sum()), "train_rows": len(train),
            "test_rows": len(test), "split": how, "notes": table.notes,
        },
        "dropped_columns": [{"column": c, "reason": r} for c, r in table.dropped],
        "leaks": [{"feature": lk.feature, "column": lk.column, "auc": round(lk.auc, 4),
                   "reason": lk.reason, "dropped": not options.force} for lk in leaks],
        "features": _feature_summary(binned, card, leaked, options.force),
        "scaling": {"base_score": card.scaling.base_score, "base_odds": card.scaling.base_odds,
                    "pdo": card.scaling.pdo, "factor": round(card.scaling.factor, 4),
                    "offset": round(card.scaling.offset, 4), "base": round(card.base, 4),
                    "threshold_score": round(card.base + threshold, 2)},
        "regularisation_C": card.C,
        "threshold": {"points": threshold, "method": options.threshold_method,
                      "mql_rate_target": options.mql_rate, "chosen_on": "training split"},
        "scorecard": scorecard_metrics,
        "scorecard_train_auc": metrics(y[train], totals_train, threshold)["auc"],
        "ceiling": ceiling,
        "auc_gap": round(ceiling["auc"] - scorecard_metrics["auc"], 4),
        "hybrid": hybrid_report,
        "max_rules": options.max_rules,
        "rules": sum(len(d["rules"]) for d in dims.values()),
        "interactions": _interaction_summary(card, len(train)),
    }  # fmt: skip
    return Learned(model, text, card, rows, report)


def _rule_count(card: Scorecard, layout: str) -> int:
    return sum(len(d["rules"]) for d in scorecard_dimensions(card, layout).values())


def _fit_within_budget(
    usable: list[BinnedFeature], y: np.ndarray, options: FitOptions
) -> Scorecard:
    """The scorecard, refitted without its least telling features while it has too many rules.

    A feature's weight is the spread (standard deviation over the training rows) of the points
    it gives; features kept with a reversed sign go first (what they add given the others is
    the least sure), then the one with the least spread, until the rules fit in ``max_rules``.
    """
    card = fit_scorecard(usable, y, options.scaling)
    out: list[tuple[str, str]] = []
    while card.features and _rule_count(card, options.layout) > options.max_rules:
        spread = [(bf.feature.name not in card.reversed,
                   float(np.std(np.asarray(pts, dtype=float)[bf.index(bf.feature.values)])))
                  for bf, pts in zip(card.features, card.points, strict=True)]  # fmt: skip
        weakest = card.features[min(range(len(spread)), key=spread.__getitem__)].feature.name
        out.append((weakest, f"left out to keep the model within --max-rules {options.max_rules}"))
        usable = [bf for bf in usable if bf.feature.name != weakest]
        card = fit_scorecard(usable, y, options.scaling)
    card.dropped.extend(out)
    return card


def _add_interactions(
    card: Scorecard, usable: list[BinnedFeature], y: np.ndarray, options: FitOptions
) -> None:
    """Fill the rule budget left by the main effects with pairwise rules (``interactions``)."""
    budget = options.max_rules - _rule_count(card, options.layout)
    if not options.interactions or budget <= 0 or not card.features:
        return
    columns = {bf.feature.name: bf.feature.values for bf in card.features}
    logit = card.logit(card.totals(columns))
    card.interactions = find_interactions(usable, logit, y, card.scaling.factor, budget)


def _interaction_summary(card: Scorecard, train_rows: int) -> list[dict[str, Any]]:
    out = []
    for it in card.interactions:
        rule = interaction_rule(it)
        out.append({"rule": rule["name"], "features": [it.a.feature.feature.name,
                    it.b.feature.feature.name], "points": it.points, "support": it.rows,
                    "support_share": round(it.rows / train_rows, 4), "positives": it.events,
                    "rate": round(it.events / it.rows, 4),
                    "predicted_rate": round(it.predicted, 4), "lift": round(it.lift, 3),
                    "score": it.gain})  # fmt: skip
    return out


def _feature_summary(
    binned: list[BinnedFeature], card: Scorecard, leaked: set[str], force: bool
) -> list[dict[str, Any]]:
    chosen = {bf.feature.name: beta for bf, beta in zip(card.features, card.coefs, strict=True)}
    why = dict(card.dropped)
    for name in card.reversed:
        why[name] = "kept with its shape: its pattern reverses given the other features"
    out = []
    for bf in sorted(binned, key=lambda b: -b.iv):
        f = bf.feature
        reason = why.get(f.name, "")
        if f.name in leaked and not force:
            reason = "post-outcome leak"
        out.append({"feature": f.name, "kind": f.kind, "dimension": f.dimension,
                    "iv": round(bf.iv, 4), "bins": len(bf.bins), "binning": bf.method,
                    "selected": f.name in chosen,
                    "coefficient": round(chosen[f.name], 4) if f.name in chosen else None,
                    "reason": reason})  # fmt: skip
    return out


def _paths(out: Path) -> tuple[Path, Path, Path, Path]:
    stem = out.with_suffix("")
    return (out, Path(f"{stem}.scorecard.json"), Path(f"{stem}.report.json"),
            Path(f"{stem}.report.md"))  # fmt: skip


def write_learned(learned: Learned, out: str | Path) -> FitResult:
    """Write the model, scorecard table and report; each file appears whole or not at all."""
    out = Path(out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise OptionError("out", f"expected a .yaml file name, got '{out}'")
    check_output_path(out)
    model_path, card_path, json_path, md_path = _paths(out)
    report = {**learned.report, "files": {"model": str(model_path), "scorecard": str(card_path),
                                           "report_md": str(md_path)}}  # fmt: skip
    card = {"scaling": report["scaling"], "intercept": learned.card.intercept,
            "threshold": report["threshold"], "rows": learned.table,
            "interactions": report.get("interactions", [])}  # fmt: skip
    contents = {
        model_path: learned.text,
        card_path: json.dumps(card, indent=2) + "\n",
        json_path: json.dumps(report, indent=2, default=str) + "\n",
        md_path: render_markdown(report, learned.table),
    }
    for path, text in contents.items():
        write_text_output(path, text)
    return FitResult(model_path, card_path, json_path, md_path, report)


def fit_files(
    leads: str | Path, events: str | Path | None, outcomes: str | Path, out: str | Path,
    target: str = "won", as_of_field: str = "mql_time", exclude: tuple[str, ...] = (),
    options: FitOptions | None = None, progress: Progress | None = None,
) -> FitResult:  # fmt: skip
    """Learn from leads, events and outcomes files; write MODEL.yaml and its report."""
    options = options or FitOptions()
    if options.hybrid_with is not None:
        check_hybrid_base(options.hybrid_with)
    if progress:
        progress("reading files", 0, 1)
    table = table_from_files(leads, events, outcomes, target, as_of_field, exclude)
    source = (
        f"{Path(leads).name} + {Path(events).name if events else 'no events'} (target {target})"
    )
    return write_learned(learn(table, source, options, progress), out)


def fit_table(
    data: str | Path, target: str, id_column: str, out: str | Path,
    exclude: tuple[str, ...] = (), positive: str | None = None,
    options: FitOptions | None = None, progress: Progress | None = None,
) -> FitResult:  # fmt: skip
    """Learn from one flat export with an outcome column; write MODEL.yaml and its report."""
    options = options or FitOptions()
    if options.hybrid_with is not None:
        check_hybrid_base(options.hybrid_with)
    if progress:
        progress("reading files", 0, 1)
    table = table_from_flat(data, target, id_column, exclude, positive)
    return write_learned(
        learn(table, f"{Path(data).name} (target {target})", options, progress), out
    )
