"""model/regex_safety.py: which model regexes are refused, and how they match."""

from __future__ import annotations

import pytest

from leadgate.model.regex_safety import MAX_PATTERN_LENGTH, compile_regex, regex_problem


@pytest.mark.parametrize("pattern", [r"\bvp\b", "^a.c$", "[[:alpha:]]{3}", "(?:x|y)z", "a{1,50}"])
def test_safe_patterns_pass(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_invalid_patterns_say_why() -> None:
    problem = regex_problem("(unclosed")
    assert problem is not None and problem.startswith("invalid regex '(unclosed'")


def test_backreferences_are_refused_as_re2_cannot_run_them() -> None:
    assert regex_problem(r"(a)\1") is not None


def test_nested_unbounded_repeats_are_refused() -> None:
    assert regex_problem("(a+)+$") is not None
    assert regex_problem("(a*b)*c") is not None
    assert regex_problem("(ab){2,5}") is None


def test_overlong_patterns_are_refused() -> None:
    problem = regex_problem("a" * (MAX_PATTERN_LENGTH + 1))
    assert problem == f"regex is longer than {MAX_PATTERN_LENGTH} characters"


def test_matching_is_case_insensitive_and_unanchored() -> None:
    rx = compile_regex(r"\bvp\b")
    assert rx.search("Senior VP, Sales") is not None
    assert rx.search("mvp") is None
