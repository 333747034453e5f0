"""The score record, declared once: its fields, their order, and how each is written flat.

A score record is what ``leadgate score --format jsonl`` prints, the HTTP API's ``score`` field
and the store's snapshot. Every producer derives from ``RECORD``:

- ``Score.to_record`` (``engine/result.py``) and ``record_maker`` (``batch/records.py``) build
  the dict in this order from a field -> value table;
- the DuckDB-written lines (``batch/record_text.py``: JSONL, CSV, Parquet columns) and the JSON
  object of ``record_sql`` (``batch/records.py``) walk the same fields, writing each as its kind;
- ``io.writers.flat_record`` flattens by kind: an object's keys become columns named
  ``<flat_prefix><key>``, a list becomes its items joined by ``LIST_SEPARATOR``.

Adding a field is one line here plus its value in each table (the tests compare every producer
byte for byte, so a missing value fails them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """How a field's value is written."""

    TEXT = "text"
    NUMBER = "number"  # a float (JSON number; ``repr`` in CSV)
    BOOL = "bool"
    NUMBERS = "numbers"  # an object of numbers (``scores``), flat: one column per key
    TEXTS = "texts"  # a list of texts (``missing``), flat: joined by LIST_SEPARATOR
    LABELS = "labels"  # an object of texts (``model``), flat: one column per key


@dataclass(frozen=True)
class Field:
    """One field of the record; ``flat_prefix``: for an object, its flat columns' prefix."""

    name: str
    kind: Kind
    flat_prefix: str = ""


RECORD: tuple[Field, ...] = (
    Field("lead_id", Kind.TEXT),
    Field("segment", Kind.TEXT),
    Field("scores", Kind.NUMBERS, "score_"),
    Field("total", Kind.NUMBER),
    Field("mql", Kind.BOOL),
    Field("pql", Kind.BOOL),
    Field("pql_signals", Kind.TEXTS),
    Field("missing", Kind.TEXTS),
    Field("threshold", Kind.NUMBER),
    Field("as_of", Kind.TEXT),
    Field("model", Kind.LABELS, "model_"),
)
FIELDS = {f.name: f for f in RECORD}
NAMES = tuple(FIELDS)
LIST_SEPARATOR = "; "


def record_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The record with ``values`` (field name -> value) in ``RECORD``'s order."""
    return {name: values[name] for name in NAMES}


def flat_names(field: Field, keys: Iterable[str]) -> list[str]:
    """The flat column names of ``field`` (an object's: one per key)."""
    if field.kind in (Kind.NUMBERS, Kind.LABELS):
        return [field.flat_prefix + k for k in keys]
    return [field.name]


def flat_columns(dimensions: Iterable[str], model_keys: Iterable[str]) -> list[str]:
    """Every flat column of a record with these dimensions and model identity keys, in order."""
    keys = {"scores": list(dimensions), "model": list(model_keys)}
    return [name for f in RECORD for name in flat_names(f, keys.get(f.name, ()))]
