"""Text-number range regexes: exactly the texts whose integer part is in range, and safe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgate.learn.cleaning import parse_number
from leadgate.learn.numregex import number_range_regex
from leadgate.model.regex_safety import compile_regex, regex_problem

bounds = st.one_of(st.none(), st.integers(0, 10**7))


def _forms(n: int) -> list[str]:
    return [str(n), f"{n:,}", f"{n}%", f"${n:,}", f"{n}.75", f"{n:,}.5", f" {n:,} %"]


@given(lo=bounds, hi=bounds, n=st.integers(0, 10**9))
def test_matches_exactly_the_integer_parts_in_range(lo: int | None, hi: int | None, n: int) -> None:
    pattern = number_range_regex(lo, hi)
    if pattern is None:
        return
    assert regex_problem(pattern) is None
    inside = (lo is None or n >= lo) and (hi is None or n <= hi)
    for text in _forms(n):
        assert parse_number(text)[0] is not None
        assert (compile_regex(pattern).search(text) is not None) == inside, (pattern, text)


@pytest.mark.parametrize("text", ["1,2345", "12,34", "-5", "1e3 staff", "abc", "1,234,56"])
def test_malformed_or_negative_texts_never_match(text: str) -> None:
    pattern = number_range_regex(None, None)
    assert pattern is not None
    assert compile_regex(pattern).search(text) is None


def test_empty_range_has_no_regex() -> None:
    assert number_range_regex(10, 9) is None
    assert number_range_regex(200, 999) == r"^ *\+?[$€£]?([2-9][0-9][0-9])(\.[0-9]*)? *%? *$"
