"""Threshold choice: best F1, or a target MQL rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.errors import LeadgateError
from leadgate.learn.threshold import choose_threshold


def _f1(totals: np.ndarray, y: np.ndarray, t: float) -> float:
    chosen = totals >= t
    tp = (chosen & (y == 1)).sum()
    return 0.0 if tp == 0 else 2 * tp / (chosen.sum() + y.sum())


def test_f1_picks_the_separating_threshold() -> None:
    totals = np.array([10, 20, 30, 40, 50, 60])
    y = np.array([0, 0, 0, 1, 1, 1])
    assert choose_threshold(totals, y) == 40


@given(st.lists(st.tuples(st.integers(-5, 5), st.booleans()), min_size=1, max_size=40))
def test_f1_choice_is_optimal_over_every_candidate(rows: list[tuple[int, bool]]) -> None:
    totals = np.array([t for t, _ in rows], dtype=float)
    y = np.array([int(b) for _, b in rows])
    best = choose_threshold(totals, y)
    assert all(_f1(totals, y, best) >= _f1(totals, y, t) - 1e-12 for t in np.unique(totals))


def test_rate_keeps_the_mql_share_at_or_below_the_target() -> None:
    totals = np.arange(100, dtype=float)
    t = choose_threshold(totals, np.zeros(100, dtype=int), "rate", 0.2)
    assert t == 80 and (totals >= t).mean() == 0.2


def test_bad_rate_is_a_user_error() -> None:
    with pytest.raises(LeadgateError, match="mql_rate: expected a share between 0 and 1"):
        choose_threshold(np.arange(5.0), np.zeros(5, dtype=int), "rate", 1.5)
