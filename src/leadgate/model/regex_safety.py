"""Regexes from a model: compiled with RE2 (linear time, the engine DuckDB uses) and checked for
constructs that would make a backtracking engine (Spark's Java regex) hang.

A hostile model must not hang the engine (ARCHITECTURE.md invariant 6): RE2 rejects
backreferences and lookarounds and never backtracks; nested unbounded quantifiers such as
``(a+)+`` are refused too, because the same pattern also runs on engines that do backtrack.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
import warnings
from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 500


def _options() -> Any:
    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False
    return opts


@lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> Any:
    """Compile a model regex: case-insensitive RE2, searched anywhere in the text."""
    return re2.compile(pattern, _options())


def _nested_unbounded(items: Any, inside_repeat: bool) -> bool:
    for op, av in items:
        if op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            sre_constants.POSSESSIVE_REPEAT,
        ):
            _low, high, sub = av
            unbounded = high == sre_constants.MAXREPEAT or high > 100
            if unbounded and inside_repeat:
                return True
            if _nested_unbounded(sub, inside_repeat or unbounded):
                return True
        elif op == sre_constants.SUBPATTERN:
            if _nested_unbounded(av[-1], inside_repeat):
                return True
        elif op == sre_constants.BRANCH and any(
            _nested_unbounded(branch, inside_repeat) for branch in av[1]
        ):
            return True
    return False


def regex_problem(pattern: str) -> str | None:
    """Return why ``pattern`` is refused, or None when it is safe to run on every engine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"regex is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        compile_regex(pattern)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"invalid regex {pattern!r}: {detail}"
    try:
        # Python's parser only looks for nested repeats here; its warnings about RE2 syntax it
        # reads differently (e.g. POSIX classes "[[:alpha:]]") are not the user's concern.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):  # RE2 accepted it; Python's parser is a second opinion
        return None
    if _nested_unbounded(parsed, False):
        return f"unsafe regex {pattern!r}: a repeated group contains another unbounded repeat"
    return None
