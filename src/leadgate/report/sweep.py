"""Threshold and floor sweeps over replayed scores: what each setting would have done.

Scores are computed once (``report/history.py``); a sweep then only re-applies the qualification
rule of docs/semantics.md with other numbers: a lead is an MQL when no disqualifier matches and
every gate passes (unchanged by a sweep), every dimension score meets its floor times
``floor_scale`` (``score + 1e-9 >= floor``), and ``total + 1e-9 >= threshold`` of its segment.

Metrics at each setting:
- ``mqls``: leads that would be MQLs; ``known``: those with a known outcome (handed to sales in
  the history), ``coverage`` = known / mqls; SAL acceptance, MQL->SQL and MQL->won are measured
  on the known ones only, so they say little about a setting whose MQLs are mostly unknown.
- ``precision``, ``recall``, ``lift`` against won deals over all leads in scope (a lead never
  handed to sales counts as not won): precision = won MQLs / MQLs, recall = won MQLs / all won,
  lift = precision / (all won / all leads).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadgate.engine import Plan, Score
from leadgate.engine.qualify import meets
from leadgate.report.stats import Rate


@dataclass
class ScoredLeads:
    """Replayed scores and known outcomes as aligned arrays (one entry per lead)."""

    lead_ids: list[str]
    segment_names: list[str]  # the plan's segments, in order ("default" last)
    seg: np.ndarray  # index into segment_names
    total: np.ndarray
    dims: np.ndarray  # leads x dimensions
    dim_names: list[str]
    base_ok: np.ndarray  # no disqualifier matched and every gate passed
    base_threshold: np.ndarray  # per segment
    base_floors: np.ndarray  # segments x dimensions (-inf: no floor)
    known: np.ndarray
    decided: np.ndarray  # sales accepted or rejected it
    sal: np.ndarray
    sql: np.ndarray
    won: np.ndarray
    amount: np.ndarray

    def __len__(self) -> int:
        return len(self.lead_ids)


def scored_leads(plan: Plan, scores: Mapping[str, Score], frame: pd.DataFrame) -> ScoredLeads:
    """Align replayed scores with each lead's first handed-over cycle's outcome."""
    ids = sorted(scores)
    seg_names = [s.name for s in plan.segments]
    dim_names = [d.name for d in plan.dimensions]
    seg_index = {n: i for i, n in enumerate(seg_names)}
    outcomes = frame[frame["is_mql"]].sort_values("mql_time").drop_duplicates("lead_id")
    outcomes = outcomes.set_index(outcomes["lead_id"].astype(str))
    known = np.array([i in outcomes.index for i in ids], dtype=bool)

    def col(name: str, dtype: Any = bool) -> np.ndarray:
        values = outcomes[name].reindex(ids)
        if dtype is bool:
            return np.asarray(values.fillna(False).to_numpy(dtype=bool))
        return np.asarray(values.fillna(0.0).to_numpy(dtype=float))

    sal_status = outcomes["sal_status"].reindex(ids)
    floors = np.full((len(seg_names), len(dim_names)), -np.inf)
    for i, s in enumerate(plan.segments):
        for dim, value in s.policy.floors:
            floors[i, dim_names.index(dim)] = value
    return ScoredLeads(
        lead_ids=ids,
        segment_names=seg_names,
        seg=np.array([seg_index[scores[i].segment] for i in ids], dtype=int),
        total=np.array([scores[i].total for i in ids], dtype=float),
        dims=np.array(
            [[scores[i].scores.get(d, 0.0) for d in dim_names] for i in ids], dtype=float
        ).reshape(len(ids), len(dim_names)),
        dim_names=dim_names,
        base_ok=np.array([_checks_ok(scores[i]) for i in ids], dtype=bool),
        base_threshold=np.array([s.policy.threshold for s in plan.segments], dtype=float),
        base_floors=floors,
        known=known,
        decided=sal_status.isin(["accepted", "rejected"]).to_numpy(dtype=bool) | col("sal"),
        sal=col("sal"),
        sql=col("sql"),
        won=col("won"),
        amount=col("amount", float),
    )


def _checks_ok(score: Score) -> bool:
    """No disqualifier matched and every gate passed (a sweep leaves these as they are)."""
    return all(c.ok for c in score.explanation.checks)


def qualifies(data: ScoredLeads, thresholds: np.ndarray, floor_scale: float = 1.0) -> np.ndarray:
    """The MQL mask under per-segment ``thresholds`` and floors scaled by ``floor_scale``."""
    floors = data.base_floors[data.seg] * floor_scale  # -inf stays -inf
    # engine/qualify.meets on arrays: the one definition of meeting a floor or threshold.
    floors_ok = np.all(meets(data.dims, floors), axis=1) if data.dims.size else True
    return np.asarray(data.base_ok & floors_ok & meets(data.total, thresholds[data.seg]))


def metrics(data: ScoredLeads, mask: np.ndarray, scope: np.ndarray | None = None) -> dict[str, Any]:
    """The metrics of one setting (``mask``: MQLs) over the leads in ``scope`` (default all)."""
    scope = np.ones(len(data), dtype=bool) if scope is None else scope
    m = mask & scope
    k = m & data.known
    n_scope = int(scope.sum())
    won_all = int((data.won & scope).sum())
    won_mql = int((data.won & m).sum())
    mqls = int(m.sum())
    precision = won_mql / mqls if mqls else None
    base = won_all / n_scope if n_scope else None
    return {
        "mqls": mqls,
        "known": int(k.sum()),
        "coverage": int(k.sum()) / mqls if mqls else None,
        "sal_acceptance": Rate(int((data.sal & k).sum()), int((data.decided & k).sum())),
        "mql_sql": Rate(int((data.sql & k).sum()), int(k.sum())),
        "mql_won": Rate(int((data.won & k).sum()), int(k.sum())),
        "precision": precision,
        "recall": won_mql / won_all if won_all else None,
        "lift": precision / base if precision is not None and base else None,
        "revenue": float(data.amount[data.won & m].sum()),
    }


def threshold_grid(data: ScoredLeads, step: float, scope: np.ndarray | None = None) -> np.ndarray:
    """Candidate thresholds from the lowest to the highest total in scope, ``step`` apart."""
    totals = data.total if scope is None else data.total[scope]
    if totals.size == 0:
        return np.array([], dtype=float)
    lo = np.floor(totals.min() / step) * step
    hi = np.ceil(totals.max() / step) * step + step
    return np.round(np.arange(lo, hi + step / 2, step), 6)


def curve(
    data: ScoredLeads,
    *,
    step: float = 1.0,
    floor_scales: Sequence[float] = (1.0,),
    segment: str | None = None,
) -> list[dict[str, Any]]:
    """The trade-off curve: metrics at every threshold (and floor scale).

    Without ``segment``: the default segment's threshold moves and every other segment's moves by
    the same amount (``delta``), over all leads. With ``segment``: only that segment's threshold
    moves, over its leads.
    """
    points: list[dict[str, Any]] = []
    default = len(data.segment_names) - 1
    if segment is None:
        scope = None
        grid = threshold_grid(data, step)
        index = default
    else:
        index = data.segment_names.index(segment)
        scope = data.seg == index
        grid = threshold_grid(data, step, scope)
    base = data.base_threshold
    for scale in floor_scales:
        for t in grid:
            delta = float(t - base[index])
            thresholds = (
                base + delta
                if segment is None
                else np.where(np.arange(len(base)) == index, t, base)
            )
            m = metrics(data, qualifies(data, thresholds, scale), scope)
            points.append({"threshold": float(t), "delta": delta, "floor_scale": float(scale), **m})
    return points


def point_record(point: Mapping[str, Any]) -> dict[str, Any]:
    """A curve point flattened for csv/json (rates as value plus interval)."""
    out: dict[str, Any] = {}
    for key, value in point.items():
        if isinstance(value, Rate):
            d = value.to_dict()
            out[key], out[f"{key}_n"], out[f"{key}_lo"], out[f"{key}_hi"] = (
                d["rate"], d["n"], d["lo"], d["hi"],
            )  # fmt: skip
        else:
            out[key] = value
    return out
