"""Cell and column cleaning for learning from messy exports.

Real CRM exports hold form placeholders ("Select", "--", "N/A"), numbers stored as text
("1,234", "12%", "$5,000"), rare one-off categories and identifier or free-text columns. This
module decides, per column, what kind of feature it can be, and turns cells into values the binning
understands — *in a way the engine can reproduce*: categories are the engine's folded text
(ASCII-lowercase, not trimmed, docs/semantics.md "Values"), and a text number is only accepted when
``learn/numregex.py`` can write a regex that matches exactly the same texts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadgate.engine.values import fold, number_of, text_of
from leadgate.model.free_email import FREE_EMAIL_DOMAINS

# Folded, stripped of surrounding punctuation: what web forms and CRMs write for "no answer".
PLACEHOLDERS = frozenset(
    {
        "", "select", "select one", "please select", "choose", "choose one", "none selected",
        "n/a", "na", "n.a", "none", "null", "nil", "nan", "unknown", "not provided",
        "not specified", "not available", "undefined", "tbd", "-", "?",
    }
)  # fmt: skip
_STRIP = " \t-_.*?[]()<>'\""

# A number written as text: optional currency sign, digits with well-formed thousands commas,
# optional decimals, optional percent sign. The same grammar as numregex.number_range_regex.
TEXT_NUMBER_RE = re.compile(
    r"^ *\+?[$€£]?(?P<int>[0-9]{1,3}(,[0-9]{3})+|[0-9]+)(?P<dec>\.[0-9]*)? *%? *$"
)
_ISO_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)

OTHER = "__other__"  # rare and unseen categories
MISSING = "__missing__"  # absent, blank or a placeholder


def is_placeholder(value: Any) -> bool:
    """True when a cell is missing, blank or a form placeholder such as "-- Select --"."""
    text = text_of(value)
    if text is None:
        return True
    return fold(text).strip(_STRIP) in PLACEHOLDERS


def parse_number(value: Any) -> tuple[float | None, bool]:
    """A cell as a number: (number or None, whether it was a *text* number like "1,234").

    Engine numbers (docs/semantics.md "Numbers") come back as they are; text numbers only when
    non-negative and in ``TEXT_NUMBER_RE``'s grammar, because only those can be matched by a rule.
    """
    engine = number_of(value)
    if engine is not None:
        return (engine if math.isfinite(engine) else None), False
    if not isinstance(value, str):
        return None, False
    m = TEXT_NUMBER_RE.match(value)
    if m is None:
        return None, False
    return float(m.group("int").replace(",", "") + (m.group("dec") or "").rstrip(".")), True


def _is_date(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    return isinstance(value, str) and bool(_ISO_DATE_RE.match(value.strip()))


@dataclass(frozen=True)
class ColumnKind:
    """What a column can be used as, and why.

    ``kind``: "numeric", "categorical", "email" (a free-mail flag is derived), "date" (used to
    order a time-based split, not as a feature), "identifier" or "empty" (dropped).
    """

    name: str
    kind: str
    reason: str = ""
    text_numbers: bool = False  # numeric column with numbers written as text
    integer_valued: bool = False


def classify_column(name: str, values: Sequence[Any]) -> ColumnKind:
    """Decide a column's kind from its cells (placeholders ignored)."""
    present = [v for v in values if not is_placeholder(v)]
    if len(present) < max(10, 0.02 * len(values)):
        return ColumnKind(name, "empty", "almost always blank or a placeholder")
    texts = [text_of(v) or "" for v in present]
    if sum("@" in t for t in texts) >= 0.8 * len(texts):
        return ColumnKind(name, "email", "e-mail addresses (free-mail flag derived)")
    if sum(_is_date(v) for v in present) >= 0.8 * len(present):
        return ColumnKind(name, "date", "dates (used to order the time-based split)")
    parsed = [parse_number(v) for v in present]
    numbers = [n for n, _ in parsed if n is not None]
    if len(numbers) >= 0.9 * len(present):
        textual = sum(t for n, t in parsed if n is not None)
        distinct = len(set(numbers))
        if distinct > 12:
            return ColumnKind(
                name,
                "numeric",
                text_numbers=textual > 0,
                integer_valued=all(float(n).is_integer() for n in numbers),
            )
        # few distinct values (codes, ratings): categories bin more faithfully
    folded = [fold(t) for t in texts]
    distinct = len(set(folded))
    if distinct >= 0.9 * len(folded):
        return ColumnKind(name, "identifier", f"{distinct} distinct values: an identifier")
    return ColumnKind(name, "categorical")


def category_values(
    values: Sequence[Any], min_count: int
) -> tuple[list[str], dict[str, int], list[str]]:
    """Cells as categories: folded text, placeholders -> MISSING, rare (< min_count) -> OTHER.

    Returns (per-row category, counts of the kept categories, the placeholder texts seen, folded).
    """
    raw: list[str] = []
    placeholders: set[str] = set()
    for v in values:
        if is_placeholder(v):
            raw.append(MISSING)
            text = text_of(v)
            if text is not None:
                placeholders.add(fold(text))
        else:
            raw.append(fold(text_of(v) or ""))
    counts = Counter(c for c in raw if c != MISSING)
    kept = {c: n for c, n in counts.items() if n >= min_count}
    out = [c if c == MISSING or c in kept else OTHER for c in raw]
    return out, kept, sorted(placeholders)


def numeric_values(values: Sequence[Any]) -> tuple[list[float], list[str]]:
    """Cells as floats (NaN when missing, a placeholder or unparseable) and the placeholders seen."""
    out: list[float] = []
    placeholders: set[str] = set()
    for v in values:
        number, _ = parse_number(v)
        if number is None:
            text = text_of(v)
            if text is not None and is_placeholder(v):
                placeholders.add(fold(text))
            out.append(math.nan)
        else:
            out.append(number)
    return out, sorted(placeholders)


def is_free_email(value: Any) -> float:
    """1.0 for a free-mail address, 0.0 for a business one, NaN when there is no domain.

    Mirrors the engine's ``free_email`` test: the domain or any parent domain is in the list.
    """
    text = text_of(value)
    if text is None or "@" not in text:
        return math.nan
    domain = fold(text.rsplit("@", 1)[1])
    if not domain:
        return math.nan
    parts = domain.split(".")
    free = any(".".join(parts[i:]) in _FREE for i in range(len(parts)))
    return 1.0 if free else 0.0


_FREE = frozenset(FREE_EMAIL_DOMAINS)
