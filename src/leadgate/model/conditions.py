"""The condition language of ``when`` (profile) and ``where`` (event properties).

A condition is a mapping. Each key is a field name whose value is an operator mapping
(``{title: {matches: 'vp'}}``), a scalar (shorthand for ``eq``) or a list (shorthand for ``in``);
several keys must all hold. The reserved keys ``all``, ``any`` (lists of conditions) and ``not``
(one condition) combine conditions. Field names may be dotted (``account.industry``).

This module parses a mapping into small spec nodes and reports every problem with its path;
``engine/compile.py`` turns the nodes into the executors' intermediate form.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from leadgate.model.regex_safety import regex_problem

Scalar = str | int | float | bool
# The largest number a condition may compare with (finite numbers only).
MAX_NUMBER = 1e15

TEXT_OPS = ("contains", "not_contains", "starts_with", "ends_with")
NUMBER_OPS = ("gt", "gte", "lt", "lte")
REGEX_OPS = ("matches", "domain_matches")
BOOL_OPS = ("exists", "not_free_email", "free_email")
OPERATORS = (
    "eq", "ne", "in", "not_in", *NUMBER_OPS, "between", *TEXT_OPS, *REGEX_OPS, "domain_in",
    *BOOL_OPS,
)  # fmt: skip
COMBINATORS = ("all", "any", "not")
MAX_FIELD_LENGTH = 200


@dataclass(frozen=True)
class FieldCondition:
    """One operator on one field, with the value exactly as written in the model."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllCondition:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyCondition:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class NotCondition:
    item: Condition


Condition = FieldCondition | AllCondition | AnyCondition | NotCondition


@dataclass(frozen=True)
class ConditionProblem:
    """A problem inside a condition: ``path`` is relative to the condition (a tuple of keys)."""

    path: tuple[str | int, ...]
    message: str
    hint: str = ""


def _is_number(v: object) -> bool:
    # Finite and within what the engines compare exactly: .nan matches nothing and .inf or
    # huge integers are not numbers the SQL executors can bind.
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return math.isfinite(v) and abs(v) <= MAX_NUMBER


def _is_scalar(v: object) -> bool:
    return isinstance(v, str | bool) or _is_number(v)


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'?" if close else "operators: " + ", ".join(choices)


def _check_op(op: str, value: Any) -> tuple[str, str] | None:
    """Return (message, hint) when ``value`` does not fit operator ``op``."""
    if op in ("eq", "ne"):
        if not _is_scalar(value):
            return f"'{op}' takes one text, number or true/false", "use 'in' for a list"
    elif op in ("in", "not_in"):
        if not isinstance(value, list) or not value or not all(_is_scalar(v) for v in value):
            return f"'{op}' takes a non-empty list of values", "e.g. in: [software, fintech]"
    elif op in NUMBER_OPS:
        if not _is_number(value):
            return f"'{op}' takes a number, got {value!r}", "write 200, not '200'"
    elif op == "between":
        ok = isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
        if not ok:
            return "'between' takes two numbers [low, high]", "e.g. between: [200, 5000]"
        if value[0] > value[1]:
            return f"'between' low {value[0]} is above high {value[1]}", "swap them"
    elif op in TEXT_OPS:
        if not isinstance(value, str) or not value:
            return f"'{op}' takes a non-empty text", ""
    elif op in REGEX_OPS:
        if not isinstance(value, str) or not value:
            return f"'{op}' takes a regular expression as text", ""
        problem = regex_problem(value)
        if problem:
            return problem, "RE2 syntax, no backreferences, lookarounds or nested repeats"
    elif op == "domain_in":
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            return "'domain_in' takes a list of domains", "e.g. domain_in: [rival.io]"
    elif op in BOOL_OPS and not isinstance(value, bool):
        return f"'{op}' takes true or false, got {value!r}", ""
    return None


def parse_condition(
    raw: Any, path: tuple[str | int, ...] = ()
) -> tuple[Condition | None, list[ConditionProblem]]:
    """Parse a condition mapping; return the node (None on error) and every problem found."""
    problems: list[ConditionProblem] = []
    node = _parse(raw, path, problems)
    return (node if not problems else None), problems


def _parse(raw: Any, path: tuple[str | int, ...], problems: list[ConditionProblem]) -> Condition:
    if not isinstance(raw, dict) or not raw:
        problems.append(
            ConditionProblem(
                path, "a condition must be a non-empty mapping", "e.g. {title: {matches: 'vp'}}"
            )
        )
        return AllCondition(())
    items: list[Condition] = []
    for key, value in raw.items():
        key_path = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                problems.append(
                    ConditionProblem(key_path, f"'{key}' takes a non-empty list of conditions")
                )
                continue
            subs = tuple(_parse(v, (*key_path, i), problems) for i, v in enumerate(value))
            items.append(AllCondition(subs) if key == "all" else AnyCondition(subs))
        elif key == "not":
            items.append(NotCondition(_parse(value, key_path, problems)))
        elif not isinstance(key, str) or not key or len(key) > MAX_FIELD_LENGTH:
            problems.append(
                ConditionProblem(
                    key_path, f"field names are 1 to {MAX_FIELD_LENGTH} characters of text"
                )
            )
        else:
            items.extend(_parse_field(key, value, key_path, problems))
    return items[0] if len(items) == 1 else AllCondition(tuple(items))


def _parse_field(
    field: str, value: Any, path: tuple[str | int, ...], problems: list[ConditionProblem]
) -> list[Condition]:
    if _is_scalar(value):
        value = {"eq": value}
    elif isinstance(value, list):
        value = {"in": value}
    if not isinstance(value, dict) or not value:
        problems.append(
            ConditionProblem(path, f"field '{field}' needs an operator mapping", "e.g. {eq: US}")
        )
        return []
    out: list[Condition] = []
    for op, arg in value.items():
        op_path = (*path, op)
        if op not in OPERATORS:
            problems.append(
                ConditionProblem(op_path, f"unknown operator '{op}'", _suggest(str(op), OPERATORS))
            )
            continue
        bad = _check_op(op, arg)
        if bad:
            problems.append(ConditionProblem(op_path, bad[0], bad[1]))
            continue
        out.append(FieldCondition(field, op, arg))
    return out


def condition_fields(cond: Condition) -> set[str]:
    """Every field name a condition reads."""
    if isinstance(cond, FieldCondition):
        return {cond.field}
    if isinstance(cond, NotCondition):
        return condition_fields(cond.item)
    out: set[str] = set()
    for item in cond.items:
        out |= condition_fields(item)
    return out


_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_OPERATOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "eq": {**_SCALAR_SCHEMA, "description": "Equal (text: ASCII case-insensitive)."},
        "ne": {**_SCALAR_SCHEMA, "description": "Present and not equal."},
        "in": {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1},
        "not_in": {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1},
        "gt": {"type": "number"},
        "gte": {"type": "number"},
        "lt": {"type": "number"},
        "lte": {"type": "number"},
        "between": {
            "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
            "description": "Inclusive [low, high].",
        },
        "contains": {"type": "string", "description": "Substring, case-insensitive."},
        "not_contains": {"type": "string"},
        "starts_with": {"type": "string"},
        "ends_with": {"type": "string"},
        "matches": {"type": "string", "description": "RE2 regex, case-insensitive, anywhere."},
        "exists": {"type": "boolean"},
        "domain_in": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "domain_matches": {"type": "string", "description": "RE2 regex on the email's domain."},
        "not_free_email": {"type": "boolean", "description": "Business (non-free) email domain."},
        "free_email": {"type": "boolean"},
    },
}  # fmt: skip
CONDITION_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Field conditions (all must hold), or all/any/not combinators.",
    "minProperties": 1,
    "properties": {
        "all": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "any": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "not": {"type": "object"},
    },
    "additionalProperties": {
        "anyOf": [_OPERATOR_SCHEMA, _SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA}]
    },
}
