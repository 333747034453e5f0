"""Numeric event properties a model adds up: a value that is there but is not a number is refused.

A ``{sum: PROPERTY}`` measure and a ``points_per: PROPERTY`` rule read a property of the events
of their types as a number (docs/semantics.md "Measures"). An event of such a type whose
property is absent counts 0 (absent by design: a post without a count, a seat change without
seats); one whose property holds something that is not a number ("12 users", true) is an error
naming the event's file, line and property, on every engine, before anything is scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from leadgate.engine import ir
from leadgate.engine.values import get_field, number_of, text_of
from leadgate.errors import IngestError
from leadgate.io.owners import Owners
from leadgate.io.readers import read_table


def numeric_needs(plan: ir.Plan) -> dict[str, tuple[str, ...]]:
    """Property -> the event types whose events must hold a number in it (or nothing)."""
    needs: dict[str, dict[str, None]] = {}
    for count in plan.event_counts:
        if count.measure.kind is ir.MeasureKind.SUM and count.measure.prop is not None:
            needs.setdefault(count.measure.prop, {}).update(dict.fromkeys(count.filter.types))
    for rule in plan.rules:
        if isinstance(rule, ir.EventRule) and rule.points_per is not None:
            needs.setdefault(rule.points_per, {}).update(dict.fromkeys(rule.filter.types))
    return {prop: tuple(types) for prop, types in needs.items()}


def not_numeric(value: object) -> bool:
    """A value that is there (not missing) but is not a number."""
    return text_of(value) is not None and number_of(value) is None


def not_a_number(value: object) -> str:
    return f"expected a number, got {value!r}"


def first_non_numeric(
    needs: Mapping[str, tuple[str, ...]], path: str | Path, owners: Owners | None = None
) -> IngestError | None:
    """The first event of ``path`` (by line; ``owners``: of theirs) whose property ``needs`` a
    number and holds something else; None when there is none."""
    if not needs:
        return None
    for line, row in read_table(path, owners=owners):
        type_ = row.get("type")
        kind = type_.strip() if isinstance(type_, str) else type_
        for prop, types in needs.items():
            value = get_field(row, prop)
            if kind in types and not_numeric(value):
                return IngestError(not_a_number(value), file=str(path), line=line, field=prop)
    return None


def check_numeric(plan: ir.Plan, events: str | Path | None, owners: Owners | None = None) -> None:
    """Raise the first non-numeric value ``plan`` would add up (``first_non_numeric``)."""
    if events is None:
        return
    found = first_non_numeric(numeric_needs(plan), events, owners)
    if found is not None:
        raise found
