"""Model comparison: two model versions over the same leads and window.

Both models score every lead at its own time (``report/history.py``). The report gives each
model's MQL count, the overlap (both, only A, only B), and for each model's MQLs -- and for the
leads only one of them picks -- the SAL acceptance, MQL->SQL and MQL->won measured on the leads
whose outcome is known (those handed to sales in the history). A lead never handed over has no
known outcome; it counts in the MQL totals, never in the rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from leadgate.engine import Plan
from leadgate.report.frame import select
from leadgate.report.history import History, Progress, replay
from leadgate.report.stats import Rate


@dataclass
class SetStats:
    """A set of leads (one model's MQLs, or the ones only it picks) and their known outcomes."""

    name: str
    leads: int
    known: int
    sal_acceptance: Rate
    mql_sql: Rate
    mql_won: Rate
    revenue: float

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"set": self.name, "leads": self.leads, "known_outcome": self.known}
        for name in ("sal_acceptance", "mql_sql", "mql_won"):
            d = getattr(self, name).to_dict()
            out[name], out[f"{name}_n"], out[f"{name}_lo"], out[f"{name}_hi"] = (
                d["rate"], d["n"], d["lo"], d["hi"],
            )  # fmt: skip
        out["revenue"] = self.revenue
        return out


@dataclass
class CompareReport:
    model_a: dict[str, str]
    model_b: dict[str, str]
    leads: int
    both: int
    only_a: int
    only_b: int
    neither: int
    sets: list[SetStats]

    def records(self) -> list[dict[str, Any]]:
        return [s.record() for s in self.sets]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "compare",
            "model_a": self.model_a,
            "model_b": self.model_b,
            "leads": self.leads,
            "overlap": {
                "both": self.both, "only_a": self.only_a, "only_b": self.only_b,
                "neither": self.neither,
            },
            "sets": self.records(),
        }  # fmt: skip


def outcome_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per handed-over lead, the outcome of its first MQL cycle (indexed by lead_id)."""
    mqls = frame[frame["is_mql"]].sort_values("mql_time").drop_duplicates("lead_id")
    return mqls.set_index(mqls["lead_id"].astype(str))


def set_stats(name: str, ids: set[str], outcomes: pd.DataFrame) -> SetStats:
    """Known-outcome rates of a set of leads."""
    known = outcomes.loc[outcomes.index.intersection(sorted(ids))]
    decided = known["sal_status"].isin(["accepted", "rejected"]) | known["sal"]
    return SetStats(
        name,
        len(ids),
        len(known),
        Rate(int(known["sal"].sum()), int(decided.sum())),
        Rate(int(known["sql"].sum()), len(known)),
        Rate(int(known["won"].sum()), len(known)),
        float(known.loc[known["won"], "amount"].fillna(0).sum()),
    )


def compare_models(
    history: History,
    plan_a: Plan,
    plan_b: Plan,
    *,
    as_of: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> CompareReport:
    """Score the same leads (created in ``[since, until)``) under two models and compare.

    Raises:
        LeadgateError: through the readers, on bad input.
    """
    leads = select(
        history.frame.drop_duplicates("lead_id"), since=since, until=until, column="created_at"
    )
    ids = [str(i) for i in leads["lead_id"]]
    a = replay(plan_a, history, as_of=as_of, lead_ids=ids, progress=progress)
    b = replay(plan_b, history, as_of=as_of, lead_ids=ids, progress=progress)
    mql_a = {i for i, s in a.items() if s.mql}
    mql_b = {i for i, s in b.items() if s.mql}
    outcomes = outcome_table(history.frame)
    sets = [
        set_stats("A: all MQLs", mql_a, outcomes),
        set_stats("B: all MQLs", mql_b, outcomes),
        set_stats("both", mql_a & mql_b, outcomes),
        set_stats("only A", mql_a - mql_b, outcomes),
        set_stats("only B", mql_b - mql_a, outcomes),
    ]
    return CompareReport(
        model_a=_identity(plan_a, a),
        model_b=_identity(plan_b, b),
        leads=len(ids),
        both=len(mql_a & mql_b),
        only_a=len(mql_a - mql_b),
        only_b=len(mql_b - mql_a),
        neither=len(set(ids) - mql_a - mql_b),
        sets=sets,
    )


def _identity(plan: Plan, scores: dict[str, Any]) -> dict[str, str]:
    first = next(iter(scores.values()), None)
    if first is not None:
        return dict(first.model)
    return {"name": getattr(plan, "name", "?"), "version": str(getattr(plan, "version", "?"))}
