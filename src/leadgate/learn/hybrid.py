"""Hybrid models: an existing rule model plus a ``predictive`` dimension from a fitted scorecard.

``leadgate fit ... --hybrid-with EXISTING.yaml`` keeps every dimension, gate, floor, disqualifier
and segment of EXISTING and adds the learned scorecard as one more dimension, ``predictive``, made
of ordinary rules (so both executors run it; no pickled model is shipped). Adding points moves
totals, so the threshold is chosen again on the training split from the merged model's totals as
the engine computes them, and every segment's threshold moves by the same amount (segments keep
their offsets from the default threshold).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from leadgate.engine import compile_model, score_lead
from leadgate.errors import LeadgateError
from leadgate.learn.features import FeatureTable
from leadgate.learn.rules import dump_yaml, flow_rules, scorecard_dimensions
from leadgate.learn.scorecard import Scorecard
from leadgate.learn.threshold import choose_threshold, round_threshold
from leadgate.model import load_model, parse_model

if TYPE_CHECKING:
    from leadgate.learn.fit import FitOptions


def _totals(text: str, table: FeatureTable, rows: np.ndarray) -> np.ndarray:
    plan = compile_model(parse_model(text))
    return np.asarray([
        score_lead(plan, table.profiles[i], table.events.get(table.ids[i], ()), table.as_of[i],
                   table.ids[i]).total
        for i in rows
    ])  # fmt: skip


def check_hybrid_base(existing: str | Path) -> None:
    """Fail early (before any learning) when EXISTING cannot take a ``predictive`` dimension."""
    base = load_model(existing)
    if "predictive" in base.spec.dimensions:
        raise LeadgateError(
            f"{existing}: already has a 'predictive' dimension; remove it before merging a new one"
        )


def merge_hybrid(
    existing: str | Path, card: Scorecard, table: FeatureTable, train: np.ndarray,
    options: FitOptions,
) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The merged model's YAML text and a report of what changed."""
    check_hybrid_base(existing)
    base = load_model(existing)
    data = base.spec.model_dump(mode="json", exclude_none=True)
    data["dimensions"]["predictive"] = flow_rules(scorecard_dimensions(card, "predictive"))[
        "predictive"
    ]
    data["description"] = (
        (data.get("description") or "").rstrip()
        + f"\nHybrid: the rules of {Path(existing).name} plus a learned `predictive` scorecard "
        f"dimension (scorecard score = {card.base:.1f} + predictive points)."
    ).strip()
    if options.name:
        data["name"] = options.name
    data["version"] = f"{base.version}-hybrid"
    draft = dump_yaml(data)
    totals = _totals(draft, table, train)
    old = float(base.spec.threshold)
    new = round_threshold(
        choose_threshold(totals, table.y[train], options.threshold_method, options.mql_rate)
    )
    data["threshold"] = int(new) if new.is_integer() else new
    for seg in data.get("segments", []):
        if seg.get("threshold") is not None:
            seg["threshold"] = seg["threshold"] + (new - old)
    header = (
        f"# Hybrid model by `leadgate fit --hybrid-with {Path(existing).name}`: its rules plus a\n"
        "# learned `predictive` dimension (ordinary rules; bins and weights in the .scorecard.json).\n"
    )
    text = header + dump_yaml(data)
    rules_only = _totals(
        yaml.safe_dump(base.spec.model_dump(mode="json", exclude_none=True)), table, train
    )
    report = {
        "base_model": str(existing), "base_hash": base.hash,
        "old_threshold": old, "threshold": new, "threshold_shift": new - old,
        "predictive_rules": len(data["dimensions"]["predictive"]["rules"]),
        "train_auc_rules_only": _auc(table.y[train], rules_only),
        "train_auc_hybrid": _auc(table.y[train], totals),
    }  # fmt: skip
    return text, report


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4) if 0 < y.sum() < len(y) else float("nan")
