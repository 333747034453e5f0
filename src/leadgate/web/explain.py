"""A lead's explanation arranged for its page: waterfall steps, annotations, lacks in words.

Only arranging: every number comes from the scorer's explanation (``Explanation.to_dict()``), so
the steps sum to the total the API returns (rule points per dimension, then the dimension's clip
to its range when the rules' sum falls outside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadgate.engine.result import number_text
from leadgate.web.charts import Step


@dataclass(frozen=True)
class Explained:
    """The waterfall steps, the total they sum to, and the words under them."""

    steps: list[Step]
    total: float
    threshold: float | None
    dimensions: list[dict[str, Any]]
    lacks: list[str]
    unmatched: list[str]
    checks: list[dict[str, Any]]


def _note(rule: dict[str, Any]) -> str:
    notes = []
    if rule["kind"] != "profile" and rule["events_counted"]:
        notes.append(f"{rule['events_counted']} event{'s' if rule['events_counted'] != 1 else ''}")
    if abs(rule["raw_points"] - rule["decayed_points"]) > 1e-9:
        notes.append(
            f"decayed from {number_text(rule['raw_points'])} to "
            f"{number_text(rule['decayed_points'])}"
        )
    if rule["capped"]:
        notes.append(f"capped from {number_text(rule['decayed_points'])}")
    return "; ".join(notes)


def explain(explanation: dict[str, Any] | None, total: float | None) -> Explained | None:
    """The page's view of an explanation; ``None`` when the lead has none (no model, duplicate)."""
    if not explanation:
        return None
    steps: list[Step] = []
    unmatched: list[str] = []
    for dim in explanation["dimensions"]:
        for rule in explanation["rules"]:
            if rule["dimension"] != dim["name"]:
                continue
            if rule["points"] == 0:
                if not rule["matched"]:
                    unmatched.append(f"{rule['name']} ({dim['name']})")
                continue
            steps.append(Step(rule["name"], dim["name"], rule["points"], "rule", _note(rule)))
        clip = dim["score"] - dim["rule_sum"]
        if abs(clip) > 1e-12:
            steps.append(
                Step(
                    f"{dim['name']} kept to its range", dim["name"], clip, "clip",
                    f"rules sum to {number_text(dim['rule_sum'])}; "
                    f"the dimension counts {number_text(dim['score'])}",
                )
            )  # fmt: skip
    shown = sum(d["score"] for d in explanation["dimensions"]) if total is None else total
    lacks = [lack["text"] for lack in explanation["lacks"]]
    return Explained(
        steps=steps,
        total=shown,
        threshold=explanation.get("threshold"),
        dimensions=list(explanation["dimensions"]),
        lacks=lacks,
        unmatched=unmatched,
        checks=list(explanation["checks"]),
    )
