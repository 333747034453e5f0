"""Choosing a learned model's MQL threshold from scores and known outcomes.

Two rules, both on the training split (the held-out split only measures the result):

- ``f1`` (default): the threshold maximising F1 = 2PR / (P + R) of "total >= threshold" as a
  predictor of the outcome; on ties the higher threshold (fewer MQLs for the same F1).
- ``rate``: the lowest threshold that makes at most ``mql_rate`` of the leads MQLs, for a team
  whose sales capacity fixes the volume.

``report/calibrate.py`` calibrates an existing model against replayed history (SAL acceptance
targets); a freshly learned scorecard has no history yet, so it uses this small rule instead.
"""

from __future__ import annotations

import math

import numpy as np

from leadgate.errors import LeadgateError, OptionError


def choose_threshold(
    totals: np.ndarray, y: np.ndarray, method: str = "f1", mql_rate: float | None = None
) -> float:
    """The threshold on ``totals`` chosen by ``method`` ("f1" or "rate" with ``mql_rate``)."""
    totals = np.asarray(totals, dtype=float)
    y = np.asarray(y, dtype=int)
    candidates = np.unique(totals)  # ascending
    if len(candidates) == 0:
        raise LeadgateError("cannot choose a threshold: no scored rows")
    if method == "rate":
        if mql_rate is None or not 0 < mql_rate < 1:
            raise OptionError("mql_rate", f"expected a share between 0 and 1, got {mql_rate}")
        # share of rows at or above each candidate
        at_or_above = 1 - np.searchsorted(np.sort(totals), candidates, side="left") / len(totals)
        ok = candidates[at_or_above <= mql_rate + 1e-12]
        return float(ok[0]) if len(ok) else float(candidates[-1] + 1)
    if method != "f1":
        raise LeadgateError(f"threshold method: expected f1 or rate, got '{method}'")
    order = np.argsort(-totals, kind="stable")
    sorted_totals, sorted_y = totals[order], y[order]
    tp = np.cumsum(sorted_y)
    n = np.arange(1, len(totals) + 1)
    positives = max(int(y.sum()), 1)
    # evaluate only at the last row of each run of equal totals ("total >= t" takes all of them)
    last = np.r_[sorted_totals[1:] != sorted_totals[:-1], True]
    precision = tp[last] / n[last]
    recall = tp[last] / positives
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    thresholds = sorted_totals[last]
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)
    return float(thresholds[best].max())


def round_threshold(value: float) -> float:
    """Thresholds on integer points are whole numbers (the smallest total that qualifies)."""
    return float(math.ceil(value - 1e-9))
