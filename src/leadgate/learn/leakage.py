"""Leakage guard for columns: features that predict the outcome too well to be real.

A column written after the outcome (a "stage" of "Closed Won", a close date, a deal amount) makes
a model look perfect in training and useless in production, where the value does not exist yet.
Such columns are detected by their single-feature ROC AUC on the training split, computed on their
binned weights of evidence: above ``LEAK_AUC`` (0.97) a feature is called post-outcome. Columns
named with ``--exclude`` never become features. Detected ones are reported and dropped, unless the
user forces them in (``--force``) after checking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.learn.binning import BinnedFeature

LEAK_AUC = 0.97


@dataclass(frozen=True)
class Leak:
    """A feature suspected of carrying the outcome."""

    feature: str
    column: str | None
    auc: float
    reason: str


def single_feature_auc(bf: BinnedFeature, y: np.ndarray) -> float:
    """ROC AUC of one feature alone, ranked by the outcome rate of its fine bins.

    Fine bins, not the scorecard's: each category (rare ones are already pooled), or twenty
    quantile bins of a number plus one for missing, so that a leak is seen even when the
    scorecard's binning merged it away.
    """
    from sklearn.metrics import roc_auc_score

    if y.min() == y.max():
        return 0.5
    values = bf.feature.values
    if bf.feature.kind == "categorical":
        _, groups = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    else:
        x = np.asarray(values, dtype=float)
        present = x[~np.isnan(x)]
        edges: np.ndarray = (
            np.unique(np.quantile(present, np.linspace(0.05, 0.95, 19)))
            if len(present)
            else np.zeros(0)
        )
        groups = np.where(np.isnan(x), len(edges) + 1, np.searchsorted(edges, x, side="right"))
    counts = np.bincount(groups)
    rate = np.bincount(groups, weights=y) / np.maximum(counts, 1)
    auc = float(roc_auc_score(y, rate[groups]))
    return max(auc, 1 - auc)


def detect_leaks(binned: list[BinnedFeature], y: np.ndarray, limit: float = LEAK_AUC) -> list[Leak]:
    """Features whose AUC alone exceeds ``limit``: probably recorded after the outcome."""
    leaks = []
    for bf in binned:
        auc = single_feature_auc(bf, y)
        if auc > limit:
            leaks.append(
                Leak(bf.feature.name, bf.feature.column, auc,
                     f"predicts the outcome alone with AUC {auc:.3f} > {limit}: "
                     "probably recorded after the outcome")
            )  # fmt: skip
    return leaks
