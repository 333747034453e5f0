"""Which file format a path holds, and the cell-level type inference shared by the readers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from leadgate.errors import IngestError

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip
_INT_RE = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")
_FLOAT_RE = re.compile(r"^-?[0-9]+\.[0-9]+$")


def format_of(path: str | Path, given: str | None = None) -> str:
    """The format of ``path``: ``given`` if set, else from the file's suffix."""
    if given:
        if given not in FORMATS:
            raise IngestError(
                f"unknown format '{given}' (use {', '.join(FORMATS)})", file=str(path)
            )
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise IngestError(
            f"cannot tell the format from '{suffix or 'no suffix'}' (use .csv, .jsonl or .parquet)",
            file=str(path),
        )
    return _SUFFIXES[suffix]


def infer_cell(text: str) -> Any:
    """A CSV cell as a value: '' is missing; integers and decimals that round-trip become numbers.

    Only text whose number prints back identically is converted ("007", "1e3" and "12.50" stay
    text), so the value's text is the same whichever executor reads the file.
    """
    if text == "":
        return None
    if _INT_RE.fullmatch(text):  # not .match: `$` would accept a final "\n"
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        value = float(text)
        if repr(value) == text:
            return value
    return text


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON objects become dotted keys: {"account": {"size": 5}} -> {"account.size": 5}."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
