"""Points-to-double-the-odds scaling of the fitted scorecard."""

from __future__ import annotations

import math

import numpy as np

from leadgate.learn.binning import bin_feature
from leadgate.learn.features import Feature
from leadgate.learn.scorecard import Scaling, fit_scorecard


def test_default_scaling_600_at_50_to_1_with_20_points_to_double() -> None:
    s = Scaling()
    assert math.isclose(s.factor, 20 / math.log(2))
    assert math.isclose(s.offset + s.factor * math.log(50), 600)


def test_points_follow_the_odds_and_the_reference_bin_is_zero() -> None:
    rng = np.random.default_rng(7)
    level = rng.choice(["vp", "manager", "intern"], 3000).astype(object)
    noise = rng.normal(size=3000)
    logit = np.vectorize({"vp": 1.0, "manager": 0.0, "intern": -1.0}.get)(level) - 1.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    binned = [
        bin_feature(Feature("level", "categorical", "fit", level, column="level"), y),
        bin_feature(Feature("noise", "numeric", "fit", noise, column="noise"), y),
    ]
    card = fit_scorecard(binned, y, Scaling(600, 50, 20))
    assert [bf.feature.name for bf in card.features] == ["level"]
    assert any(name == "noise" for name, _ in card.dropped)
    pts = card.points[0]
    assert pts[card.features[0].reference] == 0
    points = {
        b.categories[0]: p for b, p in zip(card.features[0].bins, pts, strict=True) if b.categories
    }
    # one unit of log odds is 20 / ln 2 = 28.9 points: vp vs intern is about 2 units apart
    assert 40 < points["vp"] - points["intern"] < 75
    # the implied probability is monotonic in the total and near the observed rates
    totals = card.totals({"level": level})
    prob = card.probability(totals)
    for cat in ("vp", "intern"):
        assert abs(prob[level == cat].mean() - y[level == cat].mean()) < 0.05
