"""The funnel report: lead -> MQL -> SAL -> SQL -> opportunity -> won, with revenue, by cohort.

Conversion is measured on cohorts, never as ratios of unrelated counts: of the leads created in
the window, how many became MQLs (and, whenever that happened, reached SQL or a won deal); of the
MQLs of the window (by MQL time), how many were accepted,
reached SQL, an opportunity, a won deal -- whenever that happened. Each rate carries its cohort
size and a Wilson interval (``report/stats.py``).

A hand-off qualified by a PQL (``mql_cycles.qualified_by``) is reported beside the MQLs: once
any cycle was opened by a PQL, every funnel is split by ``qualified_by`` (mql, pql, mql+pql;
leads never handed off: none).

Model versions are never mixed unless asked: with several versions in the window and no
``model_version`` chosen, the report groups by version. ``FunnelReport.versions`` says which
versions a report covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from leadgate.errors import NotFoundError
from leadgate.lifecycle.stages import MQL
from leadgate.report.frame import group_columns, select
from leadgate.report.stats import Rate

# Step rates (each stage of the one before) and the cumulative ones people ask for.
STEPS = (
    ("lead:mql", "leads", "mqls_of_leads"),
    ("mql:sal", "mqls", "sals"),
    ("sal:sql", "sals", "sqls"),
    ("sql:opp", "sqls", "opps"),
    ("opp:won", "opps", "wins"),
    ("mql:sql", "mqls", "sqls"),
    ("mql:won", "mqls", "wins"),
    ("lead:sql", "leads", "sqls_of_leads"),
    ("lead:won", "leads", "wins_of_leads"),
)
COUNTS = ("leads", "mqls_of_leads", "sqls_of_leads", "wins_of_leads", "mqls", "sals", "sqls",
          "opps", "wins")  # fmt: skip


@dataclass
class FunnelRow:
    """One group's funnel: counts per stage, revenue, and the rates between stages."""

    group: dict[str, str]
    counts: dict[str, int]
    revenue: float
    rates: dict[str, Rate] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """A flat record (for csv/json): group keys, counts, revenue, each rate with n and CI."""
        out: dict[str, Any] = dict(self.group)
        out.update(self.counts)
        out["revenue"] = self.revenue
        for name, rate in self.rates.items():
            out.update(rate.fields(name))
        return out


@dataclass
class FunnelReport:
    """A funnel table: ``rows`` per group (and ``total``), with the versions it covers."""

    by: list[str]
    versions: list[str]
    mixed: bool
    since: datetime | None
    until: datetime | None
    rows: list[FunnelRow]
    total: FunnelRow

    def records(self) -> list[dict[str, Any]]:
        return [r.record() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "funnel",
            "by": self.by,
            "model_versions": self.versions,
            "mixed_versions": self.mixed,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "rows": self.records(),
            "total": self.total.record(),
        }


def choose_versions(
    frame: pd.DataFrame, by: list[str], model_version: str | Sequence[str] | None, mix: bool
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Restrict the frame to the chosen model versions; group by version when several remain.

    Returns the frame, the group columns (``model_version`` added when needed), the versions.
    """
    if model_version:
        asked = [model_version] if isinstance(model_version, str) else list(model_version)
        present = set(frame["model_version"])
        wanted: set[str] = set()
        for v in asked:
            # A version label, or a content hash prefix (at least 6 characters).
            by_hash = frame.loc[frame["model_hash"].fillna("").str.startswith(v), "model_version"]
            found = {v} & present or (set(by_hash) if len(v) >= 6 else set())
            if not found:
                have = ", ".join(sorted(present)) or "none"
                raise NotFoundError(f"model version '{v}' has no leads here (versions: {have})")
            wanted |= found
        frame = frame[frame["model_version"].isin(wanted)]
    versions = sorted(
        set(frame.loc[frame["is_mql"], "model_version"]) or set(frame["model_version"])
    )
    if len(versions) > 1 and not mix and "model_version" not in by:
        by = [*by, "model_version"]
    return frame, by, versions


def funnel_counts(leads: pd.DataFrame, mqls: pd.DataFrame) -> tuple[dict[str, int], float]:
    """Stage counts of a lead cohort and an MQL cohort, and the MQL cohort's won revenue."""
    # The lead cohort: each lead once, counted as reaching a stage in any of its cycles.
    if len(leads):
        per_lead = leads.groupby("lead_id")[["is_mql", "sql", "won"]].any()
    else:
        per_lead = pd.DataFrame({"is_mql": [], "sql": [], "won": []}, dtype=bool)
    counts = {
        "leads": len(per_lead),
        "mqls_of_leads": int(per_lead["is_mql"].sum()),
        "sqls_of_leads": int(per_lead["sql"].sum()),
        "wins_of_leads": int(per_lead["won"].sum()),
        "mqls": len(mqls),
        "sals": int(mqls["sal"].sum()),
        "sqls": int(mqls["sql"].sum()),
        "opps": int(mqls["opp"].sum()),
        "wins": int(mqls["won"].sum()),
    }
    revenue = float(mqls.loc[mqls["won"], "amount"].fillna(0).sum())
    return counts, revenue


def _row(group: dict[str, str], leads: pd.DataFrame, mqls: pd.DataFrame) -> FunnelRow:
    counts, revenue = funnel_counts(leads, mqls)
    rates = {name: Rate(counts[num], counts[den]) for name, den, num in STEPS}
    return FunnelRow(group, counts, revenue, rates)


def funnel_report(
    frame: pd.DataFrame,
    by: Iterable[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | Sequence[str] | None = None,
    mix_versions: bool = False,
) -> FunnelReport:
    """Cohort conversion from lead to won, grouped by any of the frame's dimensions.

    Args:
        frame: a funnel frame (``report/frame.py``).
        by: group names (channel, segment, persona, region, industry, cohort, model_version).
        since, until: the window ``[since, until)``: on creation time for the lead cohort, on
            MQL time for the MQL cohort.
        model_version: only these versions; with several versions and ``mix_versions`` False
            the report groups by version.
    """
    cols = group_columns(by)
    frame, cols, versions = choose_versions(frame, cols, model_version, mix_versions)
    # PQLs beside MQLs: every funnel is split by what qualified the hand-off once PQLs exist
    # (PQL -> won beside MQL -> won, each with its interval).
    handed = frame.loc[frame["is_mql"], "qualified_by"]
    if "qualified_by" not in cols and bool((handed != MQL).any()):
        cols = [*cols, "qualified_by"]
    # The lead cohort is grouped by creation month, the MQL cohort by MQL month.
    lead_rows = select(frame, since=since, until=until, column="created_at")
    lead_rows = lead_rows.assign(cohort=lead_rows["lead_cohort"])
    mql_rows = select(frame[frame["is_mql"]], since=since, until=until, column="mql_time")
    rows = [
        _row(group, leads, mqls) for group, leads, mqls in cohort_groups(cols, lead_rows, mql_rows)
    ]
    total = _row({c: "all" for c in cols}, lead_rows, mql_rows)
    if not cols:
        rows = [total]
    return FunnelReport(
        cols, versions, mix_versions and len(versions) > 1, since, until, rows, total
    )


def cohort_groups(
    cols: list[str], cohort: pd.DataFrame, handed: pd.DataFrame
) -> Iterator[tuple[dict[str, str], pd.DataFrame, pd.DataFrame]]:
    """Each group of ``cols`` found in either frame, in order: its key values and its rows of
    the cohort (e.g. leads created) and of the hand-offs (e.g. MQLs), empty where it has none.
    Nothing when ``cols`` is empty."""
    if not cols:
        return
    keys = pd.concat([cohort[cols], handed[cols]]).drop_duplicates()
    keys = keys.fillna("unknown").astype(str).sort_values(cols)
    by_cohort, by_handed = _groups(cohort, cols), _groups(handed, cols)
    empty_cohort, empty_handed = cohort.iloc[0:0], handed.iloc[0:0]
    for key in keys.itertuples(index=False):
        k = tuple(key)
        group = dict(zip(cols, k, strict=True))
        yield group, by_cohort.get(k, empty_cohort), by_handed.get(k, empty_handed)


def _groups(frame: pd.DataFrame, cols: list[str]) -> dict[tuple[str, ...], pd.DataFrame]:
    if frame.empty:
        return {}
    keyed = frame.assign(**{c: frame[c].fillna("unknown").astype(str) for c in cols})
    return {
        (k if isinstance(k, tuple) else (k,)): g
        for k, g in keyed.groupby(cols, sort=True, dropna=False)
    }
