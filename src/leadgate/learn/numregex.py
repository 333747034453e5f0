"""Regexes that match numbers written as text ("1,234", "12%", "$5,000") inside an integer range.

The engine treats "1,234" as text, not a number (docs/semantics.md "Numbers"), so a learned rule
``{employees: {gte: 1000, lt: 5000}}`` would miss it. A learned bin on such a column therefore also
carries ``{employees: {matches: <regex>}}`` built here: it matches exactly the texts of
``cleaning.TEXT_NUMBER_RE`` whose integer part lies in ``[lo, hi]``. With integer cut points, the
integer part decides the bin (for non-negative x, ``lo <= x < hi`` iff ``lo <= floor(x) <= hi - 1``).

The pattern only uses bounded repeats inside the one unbounded group, so it passes
``model/regex_safety.py`` and runs in linear time on every engine.
"""

from __future__ import annotations

from leadgate.model.regex_safety import MAX_PATTERN_LENGTH

_PREFIX = r"^ *\+?[$€£]?("
_SUFFIX = r")(\.[0-9]*)? *%? *$"
_MAX_DIGITS = 15

Digits = list[tuple[int, int]]  # one (low, high) digit class per position


def _same_length(a: str, b: str) -> list[Digits]:
    """Digit-class sequences covering the integers from ``a`` to ``b`` (same length, a <= b)."""
    n = len(a)
    if n == 1:
        return [[(int(a), int(b))]]
    if a[0] == b[0]:
        d = int(a[0])
        return [[(d, d), *p] for p in _same_length(a[1:], b[1:])]
    out: list[Digits] = []
    first, last = int(a[0]), int(b[0])
    if a[1:] != "0" * (n - 1):
        out += [[(first, first), *p] for p in _same_length(a[1:], "9" * (n - 1))]
        first += 1
    tail_full = b[1:] == "9" * (n - 1)
    middle_last = last if tail_full else last - 1
    if first <= middle_last:
        out.append([(first, middle_last), *[(0, 9)] * (n - 1)])
    if not tail_full:
        out += [[(last, last), *p] for p in _same_length("0" * (n - 1), b[1:])]
    return out


def _digits(lo: int, hi: int) -> list[Digits]:
    out: list[Digits] = []
    while lo <= hi:
        top = min(hi, 10 ** len(str(lo)) - 1)
        out += _same_length(str(lo), str(top))
        lo = top + 1
    return out


def _klass(low: int, high: int) -> str:
    if low == high:
        return str(low)
    if low == 0 and high == 9:
        return "[0-9]"
    return f"[{low}-{high}]"


def _render(seq: Digits) -> str:
    # An optional thousands comma may sit before every position followed by a multiple of 3 digits.
    n = len(seq)
    parts = []
    for i, (low, high) in enumerate(seq):
        if i > 0 and (n - i) % 3 == 0:
            parts.append(",?")
        parts.append(_klass(low, high))
    return "".join(parts)


def _longer_than(n_digits: int) -> str:
    """Integers written with more than ``n_digits`` digits (no leading zero)."""
    alts = []
    groups = 0
    while True:
        # r leading digits (1..3) then `groups` groups of three: total r + 3*groups digits
        r_min = max(1, n_digits + 1 - 3 * groups)
        if r_min == 1:
            alts.append(f"[1-9][0-9]{{0,2}}(,?[0-9]{{3}}){{{groups},}}")
            break
        if r_min <= 3:
            alts.append(f"[1-9][0-9]{{{r_min - 1},2}}(,?[0-9]{{3}}){{{groups}}}")
        groups += 1
    return "|".join(alts)


def number_range_regex(lo: int | None, hi: int | None) -> str | None:
    """A regex for text numbers whose integer part is in ``[lo, hi]`` (None: unbounded).

    Returns None when the range holds no non-negative integer or the pattern would be longer than
    a model regex may be.
    """
    low = max(0, lo if lo is not None else 0)
    if hi is not None and hi < low:
        return None
    if hi is None:
        width = len(str(low))
        alts = [_render(s) for s in _digits(low, 10**width - 1)] + [_longer_than(width)]
    else:
        if len(str(hi)) > _MAX_DIGITS:
            return None
        alts = [_render(s) for s in _digits(low, hi)]
    pattern = _PREFIX + "|".join(alts) + _SUFFIX
    return pattern if len(pattern) <= MAX_PATTERN_LENGTH else None
