"""The points scorecard: regularised logistic regression on weights of evidence, turned into points.

Fitting (``fit_scorecard``):

1. Candidates are the binned features with information value >= ``MIN_IV`` (0.02, "weak" in
   credit-scoring usage) whose *out-of-fold* WoE (``binning.out_of_fold_woe``) still ranks the
   outcome (single-feature AUC >= ``MIN_OOF_AUC``): a binning that only fits noise fails here.
   Of two whose WoE columns correlate above ``MAX_CORR`` the weaker goes.
2. An L2-regularised logistic regression ``logit p = b0 + sum_j beta_j woe_j(x)`` is fitted on
   the out-of-fold WoE (so each weight reflects what a feature's bins carry to unseen rows), its
   strength ``C`` chosen by 5-fold cross-validated log loss. WoE is oriented so that a positive
   value means "more likely than average"; a negative ``beta_j`` means the feature's binned
   pattern reverses once the others are known (collinearity): the feature is kept (what it adds
   given the others still ranks) and listed in ``Scorecard.reversed``.

Scaling (points to double the odds, PDO): the scorecard score is ``offset + factor * logit`` with
``factor = pdo / ln 2`` and ``offset = base_score - factor * ln(base_odds)``; by default a score of
600 means odds of 50:1 for the outcome and every 20 points double the odds. The score splits into

    score = base + sum_j points_j(bin of x_j)
    points_jk = round(factor * beta_j * (woe_jk - woe_j,ref))
    base = offset + factor * (b0 + sum_j beta_j * woe_j,ref)

where ``ref`` is each feature's reference bin (``binning``): its points are 0, so a lead falling
in no listed bin of a feature gets nothing for it. The leadgate model's *total* is the sum of the
points (no base): thresholds and dimension scores then read as ordinary leadgate points, and
``score = base + total`` recovers the PDO scale (both written in the model's description).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadgate.learn.binning import BinnedFeature, out_of_fold_woe
from leadgate.learn.interactions import Interaction

MIN_IV = 0.02
MIN_OOF_AUC = 0.53
MAX_CORR = 0.8
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass(frozen=True)
class Scaling:
    """Points-to-double-the-odds scaling: ``base_score`` at odds ``base_odds``:1, ``pdo`` points."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)


@dataclass
class Scorecard:
    """The fitted scorecard: selected features, coefficients and integer points per bin."""

    features: list[BinnedFeature]
    coefs: list[float]
    intercept: float
    C: float
    scaling: Scaling
    points: list[list[int]]  # per feature, per bin (reference bin: 0)
    base: float
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (feature, reason)
    reversed: list[str] = field(default_factory=list)  # kept with a negative coefficient
    interactions: list[Interaction] = field(default_factory=list)  # pairwise rules (on top)

    def used_features(self) -> list[BinnedFeature]:
        """The features the points depend on: the scorecard's and the interactions' (once)."""
        out = {bf.feature.name: bf for bf in self.features}
        for it in self.interactions:
            out.setdefault(it.a.feature.feature.name, it.a.feature)
            out.setdefault(it.b.feature.feature.name, it.b.feature)
        return list(out.values())

    def totals(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Total points of rows given each used feature's raw values (by feature name)."""
        out = np.zeros(len(next(iter(columns.values()))) if columns else 0)
        for bf, pts in zip(self.features, self.points, strict=True):
            out += np.asarray(pts, dtype=float)[bf.index(columns[bf.feature.name])]
        for it in self.interactions:
            out += it.points * it.mask(columns)
        return out

    def logit(self, totals: np.ndarray) -> np.ndarray:
        """The log-odds implied by a total (through the PDO scale)."""
        out: np.ndarray = (
            np.asarray(totals, dtype=float) + self.base - self.scaling.offset
        ) / self.scaling.factor
        return out

    def probability(self, totals: np.ndarray) -> np.ndarray:
        """The probability of the outcome implied by a total (through the PDO scale)."""
        out: np.ndarray = 1.0 / (1.0 + np.exp(-self.logit(totals)))
        return out

    def score_of(self, total: float) -> float:
        """The PDO-scale scorecard score of a leadgate total."""
        return self.base + total


def _select(
    binned: list[BinnedFeature], woe: np.ndarray, y: np.ndarray
) -> tuple[list[int], list[tuple[str, str]]]:
    from sklearn.metrics import roc_auc_score

    dropped: list[tuple[str, str]] = []
    auc = [float(roc_auc_score(y, woe[:, j])) for j in range(len(binned))]
    order = sorted(range(len(binned)), key=lambda j: -auc[j])
    kept: list[int] = []
    for j in order:
        bf = binned[j]
        if bf.iv < MIN_IV:
            dropped.append((bf.feature.name, f"weak (information value {bf.iv:.3f} < {MIN_IV})"))
            continue
        if auc[j] < MIN_OOF_AUC:
            dropped.append((bf.feature.name, f"does not generalise (out-of-fold AUC {auc[j]:.3f})"))
            continue
        if np.std(woe[:, j]) == 0:
            dropped.append((bf.feature.name, "constant after binning"))
            continue
        twin = next(
            (k for k in kept if abs(np.corrcoef(woe[:, j], woe[:, k])[0, 1]) > MAX_CORR), None
        )
        if twin is not None:
            dropped.append(
                (bf.feature.name, f"duplicates {binned[twin].feature.name} (|r| > {MAX_CORR})")
            )
            continue
        kept.append(j)
    return kept, dropped


def _choose_c(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegressionCV

    folds = max(2, min(5, int(y.sum()), int(len(y) - y.sum())))
    # scikit-learn >= 1.8 wants the plain-L2 choice spelled out; older versions lack the flags
    modern = "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters
    extra: dict[str, Any] = {"l1_ratios": (0.0,), "use_legacy_attributes": False} if modern else {}
    cv = LogisticRegressionCV(
        Cs=list(C_GRID), cv=folds, scoring="neg_log_loss", max_iter=1000, **extra
    )  # fmt: skip
    cv.fit(x, y)
    return float(np.ravel(cv.C_)[0])


def fit_scorecard(
    binned: list[BinnedFeature], y: np.ndarray, scaling: Scaling | None = None
) -> Scorecard:
    """Select features, fit the regularised regression and scale it to integer points."""
    from sklearn.linear_model import LogisticRegression

    scaling = scaling or Scaling()
    woe = np.column_stack([out_of_fold_woe(bf, y) for bf in binned])
    kept, dropped = _select(binned, woe, y)
    if not kept:
        return Scorecard([], [], 0.0, 1.0, scaling, [], 0.0, dropped)
    c = _choose_c(woe[:, kept], y)
    lr = LogisticRegression(C=c, max_iter=1000)
    lr.fit(woe[:, kept], y)
    coefs = lr.coef_[0]
    # A negative coefficient means the feature's pattern reverses once the others are known
    # (collinearity): what it adds *given* them still ranks, so it stays with that shape
    # (``shapes.refine_shapes`` then lets each bin find its own points).
    reversed_ = [binned[k].feature.name for k, b in zip(kept, coefs, strict=True) if b < 0]
    features = [binned[k] for k in kept]
    intercept = float(lr.intercept_[0])
    base = scaling.offset + scaling.factor * intercept
    points: list[list[int]] = []
    for bf, beta in zip(features, coefs, strict=True):
        ref = bf.bins[bf.reference].woe
        base += scaling.factor * beta * ref
        points.append([round(float(scaling.factor * beta * (b.woe - ref))) for b in bf.bins])
    return Scorecard(
        features, [float(b) for b in coefs], intercept, c, scaling, points, base, dropped,
        reversed_,
    )  # fmt: skip
