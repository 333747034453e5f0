"""Value semantics shared by the executors: missing values, text, numbers, booleans, domains.

docs/semantics.md "Values" is the contract; the SQL compiler builds the same definitions as
expressions. Kept in one place so that the Python executor and any helper reading values agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from leadgate.engine.ir import FALSE_WORDS, NUMBER_PATTERN, TRUE_WORDS

_NUMBER_RE = re.compile(NUMBER_PATTERN)
# ASCII-only folding: SQL engines fold non-ASCII letters differently (SQLite not at all), so
# leadgate defines case-insensitivity over A-Z only and every executor does exactly that.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """ASCII-lowercase ``text`` (A-Z only)."""
    return text.translate(_ASCII_LOWER)


def get_field(record: Mapping[str, Any], field: str) -> Any:
    """A field's value: the key itself, else a dotted path through nested mappings."""
    if field in record:
        return record[field]
    if "." in field:
        node: Any = record
        for part in field.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node
    return None


def text_of(value: Any) -> str | None:
    """The value as text, or None when missing (None, '', or not a scalar)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    return None


def number_of(value: Any) -> float | None:
    """The value as a number, or None: numbers as they are, text only when it looks numeric."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value):  # `$` alone allows a final "\n"
        return float(value)
    return None


def bool_of(value: Any) -> bool | None:
    """The value as a truth value: true/1/yes/y/t or false/0/no/n/f (ASCII case-insensitive)."""
    text = text_of(value)
    if text is None:
        return None
    folded = fold(text)
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    return None


def domain_of(value: Any) -> str | None:
    """The folded text after the last '@', or None when there is no '@' or nothing after it."""
    text = text_of(value)
    if text is None or "@" not in text:
        return None
    domain = fold(text.rsplit("@", 1)[1])
    return domain or None
