"""Held-out evaluation of a learned scorecard, against a gradient-boosted ceiling.

- Split (``split_rows``): time-based when rows have a time (the latest ``test_share`` of rows by
  their prediction moment are held out, as the model will meet the future), else stratified random
  with a fixed seed.
- Metrics (``metrics``): ROC AUC, precision/recall/MQL rate at the chosen threshold, lift by
  decile (decile 1 = highest scores; lift = the decile's outcome rate / the overall rate) and a
  calibration table (rows grouped by predicted probability decile: mean predicted vs observed).
- Ceiling (``gbm_ceiling``): scikit-learn's ``HistGradientBoostingClassifier`` on the same
  features, unbinned, with native categorical support; its threshold maximises F1 on the training
  split like the scorecard's. The gap between the two AUCs is what readability costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leadgate.learn.features import Feature
from leadgate.learn.threshold import choose_threshold


def split_rows(
    y: np.ndarray, times: np.ndarray | None, test_share: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """(train indices, test indices, how) — time-based when ``times`` is mostly known."""
    n = len(y)
    if times is not None and np.isfinite(times).mean() > 0.9:
        t = np.where(np.isfinite(times), times, np.nanmedian(times))
        order = np.argsort(t, kind="stable")
        cut = round(n * (1 - test_share))
        train, test = order[:cut], order[cut:]
        if 0 < y[test].sum() < len(test) and 0 < y[train].sum() < len(train):
            return np.sort(train), np.sort(test), "time-based (latest rows held out)"
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    train, test = train_test_split(idx, test_size=test_share, stratify=y, random_state=seed)
    return np.sort(train), np.sort(test), "stratified random"


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else float("nan")


def lift_by_decile(y: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    """Rows ranked by score (ties kept together as far as the ranking allows) in ten groups."""
    order = np.argsort(-scores, kind="stable")
    overall = y.mean() if len(y) else 0.0
    out = []
    for d, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk) == 0:
            continue
        rate = float(y[chunk].mean())
        out.append({"decile": d, "rows": len(chunk), "positives": int(y[chunk].sum()),
                    "rate": round(rate, 4), "lift": round(rate / overall, 3) if overall else None})  # fmt: skip
    return out


def calibration_table(y: np.ndarray, prob: np.ndarray, groups: int = 10) -> list[dict[str, Any]]:
    """Predicted probability vs observed rate, by predicted-probability decile."""
    order = np.argsort(prob, kind="stable")
    out = []
    for chunk in np.array_split(order, groups):
        if len(chunk) == 0:
            continue
        out.append({
            "rows": len(chunk),
            "predicted_low": round(float(prob[chunk].min()), 4),
            "predicted_high": round(float(prob[chunk].max()), 4),
            "predicted": round(float(prob[chunk].mean()), 4),
            "observed": round(float(y[chunk].mean()), 4),
        })  # fmt: skip
    return out


def metrics(
    y: np.ndarray, scores: np.ndarray, threshold: float, prob: np.ndarray | None = None
) -> dict[str, Any]:
    """AUC, precision/recall at ``scores >= threshold``, lift by decile, calibration."""
    chosen = scores >= threshold - 1e-9
    tp = int((chosen & (y == 1)).sum())
    out: dict[str, Any] = {
        "rows": len(y),
        "positives": int(y.sum()),
        "auc": round(_auc(y, scores), 4),
        "threshold": threshold,
        "mqls": int(chosen.sum()),
        "mql_rate": round(float(chosen.mean()), 4) if len(y) else None,
        "precision": round(tp / chosen.sum(), 4) if chosen.sum() else None,
        "recall": round(tp / y.sum(), 4) if y.sum() else None,
        "lift_by_decile": lift_by_decile(y, scores),
    }
    if prob is not None:
        out["calibration"] = calibration_table(y, prob)
    return out


def _gbm_matrix(features: list[Feature], rows: np.ndarray) -> tuple[np.ndarray, list[bool]]:
    cols, categorical = [], []
    for f in features:
        if f.kind == "categorical":
            values = np.asarray(f.values, dtype=str)
            # HistGradientBoosting takes at most 255 categories: the rest share one code
            cats, counts = np.unique(values, return_counts=True)
            top = cats[np.argsort(-counts, kind="stable")][:250]
            codes = {c: i for i, c in enumerate(top)}
            cols.append(np.asarray([codes.get(v, 250) for v in values[rows]], dtype=float))
            categorical.append(True)
        else:
            cols.append(np.asarray(f.values, dtype=float)[rows])
            categorical.append(False)
    return np.column_stack(cols), categorical


MIN_VALUES = 20  # known values a numeric column needs in the training rows to join the ceiling


def gbm_ceiling(
    features: list[Feature], y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> dict[str, Any]:
    """Metrics of a gradient-boosted model on the same features (the accuracy ceiling)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    # HistGradientBoosting (scikit-learn 1.9) fails on a column with no value, or only one, in
    # the rows it bins ("window shape cannot be larger than input array shape"), such as the
    # recency of a page first seen in the held-out period; its early-stopping split takes a
    # fifth of the training rows away, so a column needs a few values to be safe. Such a
    # column tells the ceiling nothing, so it is left out.
    features = [f for f in features if f.kind == "categorical"
                or np.isfinite(np.asarray(f.values, dtype=float)[train]).sum() >= MIN_VALUES]  # fmt: skip
    x_train, cat = _gbm_matrix(features, train)
    x_test, _ = _gbm_matrix(features, test)
    model = HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=200, max_leaf_nodes=15, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=True, validation_fraction=0.2,
        n_iter_no_change=20, categorical_features=np.asarray(cat), random_state=0,
    )  # fmt: skip
    model.fit(x_train, y[train])
    p_train = model.predict_proba(x_train)[:, 1]
    p_test = model.predict_proba(x_test)[:, 1]
    threshold = choose_threshold(p_train, y[train])
    out = metrics(y[test], p_test, threshold, p_test)
    out["threshold"] = round(threshold, 4)
    out["model"] = "HistGradientBoostingClassifier"
    out["iterations"] = int(model.n_iter_)
    return out
