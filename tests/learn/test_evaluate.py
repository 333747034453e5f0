"""The gradient-boosted ceiling: fitted on the scorecard's features, whatever their gaps."""

from __future__ import annotations

import numpy as np

from leadgate.learn.evaluate import gbm_ceiling
from leadgate.learn.features import Feature


def test_ceiling_survives_a_feature_with_no_value_in_the_training_rows() -> None:
    # e.g. the recency of a page first seen in the held-out (latest) period
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    late = np.where(np.arange(n) >= 300, rng.random(n) * 10, np.nan)
    features = [
        Feature("score", "numeric", "fit", x, column="score"),
        Feature("new page recency", "recency", "engagement", late),
        Feature("segment", "categorical", "fit", np.where(x > 0, "a", "b").astype(object)),
    ]
    train, test = np.arange(300), np.arange(300, n)
    out = gbm_ceiling(features, y, train, test)
    assert out["auc"] > 0.7
    assert out["rows"] == 100


def test_ceiling_leaves_out_a_column_with_a_single_known_value() -> None:
    """HistGradientBoosting cannot bin a column with one known value; the ceiling skips it."""
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    lonely = np.full(n, np.nan)
    lonely[3] = 1.0
    features = [Feature("x", "numeric", "fit", x), Feature("lonely", "recency", "intent", lonely)]
    train, test = np.arange(0, 225), np.arange(225, n)
    assert gbm_ceiling(features, y, train, test)["auc"] > 0.6
