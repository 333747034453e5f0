"""Comparing records in tests: equal, floats within 1e-9 (what "executors agree" means here)."""

from __future__ import annotations

import json
import math
from typing import Any


def assert_close(
    a: Any, b: Any, where: str = "", *, rel_tol: float = 0.0, ordered: bool = False
) -> None:
    """``a`` equals ``b``: floats within 1e-9 (absolute, or ``rel_tol`` of their size), dicts
    with the same keys (in the same order when ``ordered``: the API shows records), lists item by
    item, JSON text (a string starting with ``{``) as the value it holds; ``where`` names the
    first difference."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), where
        assert math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict), f"{where}: {a} != {b}"
        same = list(a) == list(b) if ordered else a.keys() == b.keys()
        assert same, f"{where}: keys {list(a)} != {b}"
        for key in a:
            assert_close(a[key], b[key], f"{where}.{key}", rel_tol=rel_tol, ordered=ordered)
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), f"{where}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{where}[{i}]", rel_tol=rel_tol, ordered=ordered)
    elif isinstance(a, str) and a[:1] == "{":
        assert_close(json.loads(a), json.loads(b), where, rel_tol=rel_tol, ordered=ordered)
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"
