"""Small builders shared by tests: models from dicts, events by age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from leadgate.engine import Event, Plan, compile_model
from leadgate.model import parse_model

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
REFERENCE_MODEL = Path(__file__).resolve().parents[1] / "src/leadgate/examples/b2b-inbound.yaml"


def model_text(data: dict[str, Any]) -> str:
    base: dict[str, Any] = {"name": "t", "version": 1, "threshold": 10}
    base.update(data)
    return yaml.safe_dump(base, sort_keys=False)


def plan_of(data: dict[str, Any]) -> Plan:
    """Compile a model given as a dict (name/version/threshold defaulted)."""
    return compile_model(parse_model(model_text(data), "test.yaml"))


def one_rule(when: dict[str, Any], points: float = 10) -> Plan:
    return plan_of(
        {"dimensions": {"fit": {"rules": [{"name": "r", "when": when, "points": points}]}}}
    )


def ev(type_: str, days_ago: float, event_id: str = "", **props: Any) -> Event:
    """An event ``days_ago`` days before AS_OF."""
    ts = AS_OF - timedelta(days=days_ago)
    return Event("L1", type_, ts, event_id or f"{type_}-{days_ago}-{len(props)}", props)


def explanation_differences(a: Any, b: Any, path: str = "", ids: bool = True) -> list[str]:
    """Every field where two explanations (``Explanation.to_dict()``, or any part of one)
    differ: numbers within 1e-9, the rest exactly; ``ids=False`` skips ``event_ids`` (the batch
    paths list them for one explained lead only)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        out: list[str] = []
        for key in a:
            if key == "event_ids" and not ids:
                continue
            out += explanation_differences(a[key], b[key], f"{path}.{key}", ids)
        return out
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in explanation_differences(x, y, f"{path}[{i}]", ids)
        ]  # fmt: skip
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if isinstance(b, bool) or abs(float(a) - float(b)) > 1e-9:
            return [f"{path}: {a!r} != {b!r}"]
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
