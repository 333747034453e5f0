"""Free shapes: each bin of a scorecard feature earns its own points, not only ``beta * WoE``.

The regression gives a feature's bins points proportional to their weights of evidence *alone*;
once the other features are known, a bin may deserve more or less (a company size that looks
good alone because big companies buy in winning industries; a peak a monotone binning smoothed
out). ``refine_shapes`` backfits the points per bin on the training rows, as a generalised
additive model does: with the scorecard's probabilities ``p``, a bin's rows have gradient sum
``G`` and curvature sum ``H``; when the bin's score statistic ``G^2 / H`` exceeds ``MIN_SCORE``
its points move by ``round(factor * G / (H + LAMBDA))``. Passes over all features repeat until
nothing moves (at most ``PASSES``). The reference bin stays at 0 points (its rows define the
base); a count feature's missing bin is never used (counts are never missing) and stays as is.
"""

from __future__ import annotations

import numpy as np

from leadgate.learn.scorecard import Scorecard

MIN_SCORE = 6.6  # chi-square(1) at p = 0.01: a bin moves only on clear evidence
LAMBDA = 10.0
PASSES = 3


def refine_shapes(card: Scorecard, y: np.ndarray) -> int:
    """Adjust ``card.points`` in place on training rows ``y``; returns how many bins moved."""
    if not card.features:
        return 0
    factor = card.scaling.factor
    index = [bf.index(bf.feature.values) for bf in card.features]
    columns = {bf.feature.name: bf.feature.values for bf in card.features}
    logit = card.logit(card.totals(columns))
    moved = 0
    for _ in range(PASSES):
        changed = 0
        for j, bf in enumerate(card.features):
            p = 1 / (1 + np.exp(-logit))
            n_bins = len(bf.bins)
            G = np.bincount(index[j], weights=y - p, minlength=n_bins)
            H = np.bincount(index[j], weights=p * (1 - p), minlength=n_bins)
            for k in range(n_bins):
                if k == bf.reference or (bf.bins[k].missing and bf.feature.kind == "count"):
                    continue
                if H[k] <= 0 or G[k] ** 2 / H[k] < MIN_SCORE:
                    continue
                step = round(factor * G[k] / (H[k] + LAMBDA))
                if step:
                    card.points[j][k] += step
                    logit[index[j] == k] += step / factor
                    changed += 1
        moved += changed
        if not changed:
            break
    return moved
