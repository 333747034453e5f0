"""Lead quality by channel: MQL volume beside MQL->SQL and SAL acceptance, with flags.

Volume alone says nothing: a channel that doubles its MQLs while its MQL->SQL halves is
"volume-driven drift". This report puts the two side by side and flags a channel whose MQL->SQL is
below 10% (the criteria are too loose for it) or whose SAL acceptance falls outside 60-75% (sales
rejects too many, or accepts nearly everything so the bar could be lower). A channel with fewer
than ``min_n`` MQLs is marked ``low n`` instead of flagged: its rates are noise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from leadgate.report.frame import group_columns, select
from leadgate.report.funnel import choose_versions
from leadgate.report.stats import Rate

MIN_MQL_SQL = 0.10
SAL_BAND = (0.60, 0.75)
MIN_N = 20


@dataclass
class QualityRow:
    """One channel (or group): volume, its share, MQL->SQL, SAL acceptance and flags."""

    group: dict[str, str]
    mqls: int
    share: float
    mql_sql: Rate
    sal_acceptance: Rate
    mql_won: Rate
    flags: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.group, "mqls": self.mqls, "share": self.share}
        for name in ("mql_sql", "sal_acceptance", "mql_won"):
            d = getattr(self, name).to_dict()
            out[name] = d["rate"]
            out[f"{name}_lo"] = d["lo"]
            out[f"{name}_hi"] = d["hi"]
        out["flags"] = "; ".join(self.flags)
        return out


@dataclass
class QualityReport:
    by: list[str]
    versions: list[str]
    rows: list[QualityRow]

    def records(self) -> list[dict[str, Any]]:
        return [r.record() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "quality",
            "by": self.by,
            "model_versions": self.versions,
            "rows": self.records(),
        }


def flags_for(
    mqls: int,
    mql_sql: Rate,
    sal: Rate,
    *,
    min_mql_sql: float = MIN_MQL_SQL,
    sal_band: tuple[float, float] = SAL_BAND,
    min_n: int = MIN_N,
) -> list[str]:
    """The flags of one channel (empty when it looks healthy)."""
    if mqls < min_n:
        return [f"low n ({mqls} MQLs)"]
    out: list[str] = []
    if mql_sql.value is not None and mql_sql.value < min_mql_sql:
        out.append(
            f"MQL->SQL {100 * mql_sql.value:.1f}% < {100 * min_mql_sql:.0f}%: criteria too loose"
        )
    if sal.value is not None and sal.n >= min_n:
        lo, hi = sal_band
        if sal.value < lo:
            out.append(
                f"SAL acceptance {100 * sal.value:.1f}% < {100 * lo:.0f}%: sales rejects too many"
            )
        elif sal.value > hi:
            out.append(
                f"SAL acceptance {100 * sal.value:.1f}% > {100 * hi:.0f}%: bar may be too high"
            )
    return out


def quality_report(
    frame: pd.DataFrame,
    by: Iterable[str] = ("channel",),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | Sequence[str] | None = None,
    mix_versions: bool = False,
    min_mql_sql: float = MIN_MQL_SQL,
    sal_band: tuple[float, float] = SAL_BAND,
    min_n: int = MIN_N,
) -> QualityReport:
    """MQL volume, MQL->SQL and SAL acceptance per channel (or ``by`` groups), most MQLs first.

    SAL acceptance is measured on the MQLs sales decided on (accepted or rejected), so MQLs still
    waiting for a decision do not count as rejections.
    """
    cols = group_columns(by) or ["channel"]
    frame, cols, versions = choose_versions(frame, cols, model_version, mix_versions)
    mqls = select(frame[frame["is_mql"]], since=since, until=until)
    total = len(mqls)
    rows: list[QualityRow] = []
    if total:
        keyed = mqls.assign(**{c: mqls[c].astype(str) for c in cols})
        for key, g in keyed.groupby(cols, sort=True):
            k = key if isinstance(key, tuple) else (key,)
            decided = g["sal_status"].isin(["accepted", "rejected"]) | g["sal"]
            mql_sql = Rate(int(g["sql"].sum()), len(g))
            sal = Rate(int(g["sal"].sum()), int(decided.sum()))
            rows.append(
                QualityRow(
                    dict(zip(cols, map(str, k), strict=True)),
                    len(g),
                    len(g) / total,
                    mql_sql,
                    sal,
                    Rate(int(g["won"].sum()), len(g)),
                    flags_for(
                        len(g),
                        mql_sql,
                        sal,
                        min_mql_sql=min_mql_sql,
                        sal_band=sal_band,
                        min_n=min_n,
                    ),
                )
            )
    rows.sort(key=lambda r: -r.mqls)
    return QualityReport(cols, versions, rows)
