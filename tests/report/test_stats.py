"""Wilson intervals against published values, and properties that hold for every k and n."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.report.stats import Rate, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Reference values (Wilson 1927; as tabulated by Newcombe 1998, method 3, and R's
        # prop.test(correct=FALSE)/binom::binom.wilson).
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_reference_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=6e-5)


def test_empty_cohort_knows_nothing() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    assert Rate(0, 0).value is None
    assert Rate(0, 0).text() == "–"


def test_two_leads_at_100_percent_are_not_certain() -> None:
    lo, hi = Rate(2, 2).interval
    assert hi == 1.0
    assert lo < 0.35  # a 2-lead channel does not look like a sure thing


def test_k_outside_range_is_a_bug() -> None:
    with pytest.raises(ValueError, match=r"k must be within 0\.\.n"):
        wilson(3, 2)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_contains_estimate_and_stays_in_unit_range(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n + 1e-12
    assert k / n - 1e-12 <= hi <= 1.0


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_narrows_with_more_data(kn: tuple[int, int]) -> None:
    k, n = kn
    lo1, hi1 = wilson(k, n)
    lo4, hi4 = wilson(4 * k, 4 * n)
    assert hi4 - lo4 < hi1 - lo1


def test_rate_record_and_text() -> None:
    r = Rate(21, 50)
    d = r.to_dict()
    assert d["k"] == 21 and d["n"] == 50 and d["rate"] == pytest.approx(0.42)
    assert r.text().startswith("42.0% (21/50, ")
