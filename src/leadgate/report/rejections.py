"""Sales rejections: the reasons sales gave, by channel, segment, and the rule that made the MQL.

The rule that contributed most is the one with the most points in the lead's explanation under
the model at the time it was handed over (each rejected cycle is scored again at its MQL time): when "student" leads
mostly got in through "engagement: downloaded content", that rule is what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from leadgate.engine import Plan, Score
from leadgate.report.frame import group_columns, select
from leadgate.report.funnel import choose_versions
from leadgate.report.history import History, top_rule

NO_REASON = "(no reason)"


@dataclass
class RejectionReport:
    """Rejected MQLs counted by reason, overall and per dimension (long format)."""

    versions: list[str]
    mqls: int
    rejected: int
    reasons: list[dict[str, Any]]  # reason, count, share (of rejections)
    by: dict[str, list[dict[str, Any]]]  # dimension -> rows: group, reason, count, share

    def records(self) -> list[dict[str, Any]]:
        rows = [{"dimension": "all", "group": "all", **r} for r in self.reasons]
        for dim, items in self.by.items():
            rows.extend({"dimension": dim, **r} for r in items)
        return rows

    def top_reasons(self, dimension: str, group: str, n: int = 3) -> list[str]:
        """The ``n`` most frequent reasons within one group of one dimension."""
        items = [r for r in self.by.get(dimension, []) if r["group"] == group]
        return [r["reason"] for r in sorted(items, key=lambda r: -r["count"])[:n]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "rejections",
            "model_versions": self.versions,
            "mqls": self.mqls,
            "rejected": self.rejected,
            "reasons": self.reasons,
            "by": self.by,
        }


def _counts(rejected: pd.DataFrame, col: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for group, g in rejected.groupby(col, sort=True):
        counts = g["reject_reason"].value_counts()
        for reason, count in counts.items():
            rows.append(
                {
                    "group": str(group),
                    "reason": str(reason),
                    "count": int(count),
                    "share": count / len(g),
                }
            )
    return rows


def rejection_report(
    frame: pd.DataFrame,
    by: Iterable[str] = ("channel", "segment"),
    *,
    history: History | None = None,
    plan: Plan | None = None,
    plans: Mapping[str, Plan] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | Sequence[str] | None = None,
    mix_versions: bool = False,
) -> RejectionReport:
    """Reasons for rejection overall, per ``by`` dimension and (with ``history`` and ``plan``) per
    top contributing rule.

    Each rejected cycle is explained under the model that made it an MQL when ``plans`` (by model
    hash: the store's published versions) knows it, else under ``plan``.
    """
    frame, _, versions = choose_versions(frame, [], model_version, mix_versions)
    mqls = select(frame[frame["is_mql"]], since=since, until=until)
    rejected = mqls[mqls["sal_status"].eq("rejected")].copy()
    rejected["reject_reason"] = rejected["reject_reason"].fillna(NO_REASON)
    counts = rejected["reject_reason"].value_counts()
    reasons = [
        {"reason": str(r), "count": int(c), "share": c / len(rejected)} for r, c in counts.items()
    ]
    out: dict[str, list[dict[str, Any]]] = {}
    for col in group_columns(by):
        out[col] = _counts(rejected, col)
    if history is not None and (plan is not None or plans) and len(rejected):
        rejected["top_rule"] = _top_rules(rejected, history, plan, plans or {})
        out["top_rule"] = _counts(rejected, "top_rule")
    return RejectionReport(versions, len(mqls), len(rejected), reasons, out)


def _top_rules(
    rejected: pd.DataFrame, history: History, plan: Plan | None, plans: Mapping[str, Plan]
) -> list[str]:
    """Each rejected cycle's top rule, scored at that cycle's own MQL time."""
    labels: list[str] = []
    scorers: dict[int, Callable[[str, datetime], Score]] = {}
    for lead_id, model_hash, mql_time in zip(
        rejected["lead_id"].astype(str), rejected["model_hash"], rejected["mql_time"], strict=True
    ):
        p = (plans.get(model_hash) if isinstance(model_hash, str) else None) or plan
        profile = history.profiles.get(lead_id)
        if p is None:
            labels.append("(model unknown)")
        elif profile is None:
            labels.append("(unknown lead)")
        else:
            score = scorers.get(id(p))
            if score is None:
                score = scorers[id(p)] = history.scorer(p)
            labels.append(top_rule(score(lead_id, mql_time.to_pydatetime())))
    return labels
