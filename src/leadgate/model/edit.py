"""Editing a model file in place of a person: only the values that change, nothing else.

A calibrated model is signed off by reading its diff against the source, so the new file is a
round-trip edit of the source text (ruamel.yaml): comments, key order, flow style, quoting and
indentation stay; a number that does not change keeps its spelling (``60`` stays ``60``, not
``60.0``); a number that changes is written as a whole number when it is one.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from leadgate.errors import ModelError

PathKey = tuple[str | int, ...]


def _number(value: float) -> float | int:
    rounded = round(float(value), 2)
    return int(rounded) if rounded == int(rounded) else rounded


def _like(old: Any, new: Any) -> Any:
    """``new`` in the style of the value it replaces (its quotes, or a number for a number)."""
    if isinstance(new, int | float) and not isinstance(new, bool):
        return _number(new)
    text = str(new)
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if isinstance(old, int) and not isinstance(old, bool) and text.isdigit():
        return int(text)  # `version: 1` becomes `version: 2`, not `version: '2'`
    return text


def _same(old: Any, new: Any) -> bool:
    numbers = (int, float)
    if isinstance(old, numbers) and isinstance(new, numbers):
        return not isinstance(old, bool) and _number(old) == _number(new)
    return str(old) == str(new)


def _without_comment(line: str) -> str:
    return line.split(" #", 1)[0].rstrip()


def _indents(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation as ruamel.yaml counts it, read off the first
    nested mapping and the first block sequence of ``text`` (2, 2, 0 when it has none)."""
    mapping = sequence = offset = None
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for prev, cur in itertools.pairwise(lines):
        if not _without_comment(prev).endswith(":"):
            continue
        depth = len(cur) - len(cur.lstrip())
        step = depth - (len(prev) - len(prev.lstrip()))
        body = cur.lstrip()
        if body.startswith("- ") and sequence is None:
            offset = max(step, 0)
            sequence = offset + 1 + len(body[1:]) - len(body[1:].lstrip())
        elif not body.startswith("-") and step > 0 and mapping is None:
            mapping = step
    return mapping or 2, sequence or 2, offset or 0


def edit_model_text(text: str, changes: Mapping[PathKey, Any]) -> str:
    """``text`` with the value at each path set (``("segments", 0, "threshold")``); a value equal
    to the one there is left as written; a missing key is added at the end of its mapping.

    Raises:
        ModelError: a path does not lead to a mapping in ``text`` (the text and the changes
            do not describe the same model).
    """
    mapping, sequence, offset = _indents(text)
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap a long line
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    data = yaml.load(text)
    for path, value in changes.items():
        node = data
        for step in path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                raise ModelError(f"cannot edit the model at {path}: no {step!r}") from None
        key = path[-1]
        if not hasattr(node, "__setitem__") or isinstance(node, list):
            raise ModelError(f"cannot edit the model at {path}: not a mapping")
        old = node.get(key)
        if old is not None and _same(old, value):
            continue
        node[key] = _like(old, value)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
