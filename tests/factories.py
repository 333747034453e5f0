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
