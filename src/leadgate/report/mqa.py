"""The MQA report (issue #15): MQA -> opportunity -> won by tier and segment, and the inbound
(MQL/PQL) and ABM (MQA) hand-offs side by side, each counted once.

It reads two frames: the **account frame** (``report/mqa_store.py``: one row per MQA cycle of an
account, plus one row per account never an MQA, with its ``tier``, ``segment`` and ``abm``) and
the lead **funnel frame** (``report/frame.py``) with an ``abm`` column: whether the lead's
account is an ABM account under the model's ``abm_when``.

Counted once: an ABM account's hand-off is its MQA cycle; an inbound hand-off is an MQL/PQL cycle
of a lead whose account is not ABM. The MQL cycles of ABM accounts' leads are not hand-offs of
their own (their account's MQA is): they are left out of the inbound rows and only counted in
``abm_lead_cycles_not_counted``; so are lead cycles opened by the account's MQA
(``qualified_by`` ``mqa``), which are the same hand-off as the account's cycle.

Cohorts as in the funnel: accounts created in the window (account -> MQA), MQA cycles whose MQA
time is in the window (MQA -> accepted, opportunity, won), lead cycles by MQL time. Every rate
carries its n and a Wilson interval (``report/stats.Rate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from leadgate.errors import OptionError
from leadgate.report.frame import select
from leadgate.report.funnel import cohort_groups
from leadgate.report.stats import Rate

ACCOUNT_GROUPS = ("tier", "segment", "abm")
MQA_QUALIFIED = "mqa"  # a lead cycle opened by its account's MQA (the abm_when hand-off)
# (rate, denominator count, numerator count)
STEPS = (
    ("account:mqa", "accounts", "mqa_accounts"),
    ("mqa:accepted", "mqas", "accepted"),
    ("mqa:opp", "mqas", "opps"),
    ("opp:won", "opps", "wins"),
    ("mqa:won", "mqas", "wins"),
)
HANDOFF_STEPS = (
    ("handoff:accepted", "handoffs", "accepted"),
    ("handoff:opp", "handoffs", "opps"),
    ("opp:won", "opps", "wins"),
    ("handoff:won", "handoffs", "wins"),
)
HANDOFF_LABELS = {"mql": "inbound (MQL)", "pql": "inbound (PQL)", "mql+pql": "inbound (MQL+PQL)"}
ABM_LABEL = "ABM (MQA)"


def account_groups(by: Iterable[str]) -> list[str]:
    """The account frame columns for ``--by`` names (tier, segment, abm)."""
    cols: list[str] = []
    for name in by:
        key = name.strip().lower()
        if not key:
            continue
        if key not in ACCOUNT_GROUPS:
            raise OptionError(
                "by", f"unknown dimension '{name}' (choose from {', '.join(ACCOUNT_GROUPS)})"
            )
        if key not in cols:
            cols.append(key)
    return cols


@dataclass
class CountsRow:
    """One row: its group (or hand-off kind), counts and the rates between them."""

    group: dict[str, str]
    counts: dict[str, int]
    rates: dict[str, Rate] = field(default_factory=dict)
    revenue: float | None = None

    def record(self) -> dict[str, Any]:
        """A flat record: group keys, counts, each rate with ``_n``, ``_lo``, ``_hi``."""
        out: dict[str, Any] = {**self.group, **self.counts}
        if self.revenue is not None:
            out["revenue"] = self.revenue
        for name, rate in self.rates.items():
            out.update(rate.fields(name))
        return out


@dataclass
class MqaReport:
    """The MQA funnel by group, its total, and the hand-offs side by side."""

    by: list[str]
    since: datetime | None
    until: datetime | None
    rows: list[CountsRow]
    total: CountsRow
    handoffs: list[CountsRow]
    not_counted: int  # MQL/PQL cycles of ABM accounts' leads (their account's MQA counts)

    def records(self) -> list[dict[str, Any]]:
        return [r.record() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "mqa",
            "by": self.by,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "rows": self.records(),
            "total": self.total.record(),
            "handoffs": [h.record() for h in self.handoffs],
            "abm_lead_cycles_not_counted": self.not_counted,
        }


def _mqa_row(group: dict[str, str], accounts: pd.DataFrame, mqas: pd.DataFrame) -> CountsRow:
    counts = {
        "accounts": int(accounts["account_id"].nunique()),
        "mqa_accounts": int(accounts.loc[accounts["is_mqa"], "account_id"].nunique()),
        "mqas": len(mqas),
        "accepted": int(mqas["accepted"].sum()),
        "opps": int(mqas["opp"].sum()),
        "wins": int(mqas["won"].sum()),
    }
    rates = {name: Rate(counts[num], counts[den]) for name, den, num in STEPS}
    return CountsRow(group, counts, rates)


def _handoff_row(label: str, qualified_by: str, cycles: pd.DataFrame, revenue: float | None
                 ) -> CountsRow:  # fmt: skip
    counts = {
        "handoffs": len(cycles),
        "accepted": int(cycles["accepted"].sum()),
        "opps": int(cycles["opp"].sum()),
        "wins": int(cycles["won"].sum()),
    }
    rates = {name: Rate(counts[num], counts[den]) for name, den, num in HANDOFF_STEPS}
    return CountsRow({"handoff": label, "qualified_by": qualified_by}, counts, rates, revenue)


def handoff_rows(accounts: pd.DataFrame, leads: pd.DataFrame) -> tuple[list[CountsRow], int]:
    """Inbound hand-offs (by what qualified them) and ABM hand-offs, each counted once; and the
    number of ABM accounts' lead cycles left out. Both frames already windowed on hand-off time."""
    cycles = leads[leads["is_mql"]]
    of_abm = cycles["abm"].astype(bool) | cycles["qualified_by"].eq(MQA_QUALIFIED)
    inbound = cycles[~of_abm].assign(accepted=lambda f: f["sal"])
    abm = accounts[accounts["is_mqa"] & accounts["abm"].astype(bool)]
    rows: list[CountsRow] = []
    kinds = inbound["qualified_by"].fillna("mql").astype(str)
    for kind in sorted(set(kinds) | {"mql"}, key=lambda k: (k != "mql", k)):
        part = inbound[kinds == kind]
        revenue = float(part.loc[part["won"], "amount"].fillna(0).sum())
        rows.append(
            _handoff_row(HANDOFF_LABELS.get(kind, f"inbound ({kind})"), kind, part, revenue)
        )
    rows.append(_handoff_row(ABM_LABEL, MQA_QUALIFIED, abm, None))
    both = pd.concat([inbound[["accepted", "opp", "won"]], abm[["accepted", "opp", "won"]]])
    rows.append(_handoff_row("all hand-offs", "all", both, None))
    return rows, int(of_abm.sum())


def mqa_report(
    accounts: pd.DataFrame,
    leads: pd.DataFrame,
    by: Iterable[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MqaReport:
    """The MQA report of an account frame and a funnel frame with ``abm`` (module docstring).

    Args:
        by: tier, segment, abm (any of them, in order).
        since, until: the window ``[since, until)``: on account creation for the account
            cohort, on MQA time for MQA cycles, on MQL time for lead cycles.
    """
    cols = account_groups(by)
    account_rows = select(accounts, since=since, until=until, column="created_at")
    mqa_rows = select(accounts[accounts["is_mqa"]], since=since, until=until, column="mqa_time")
    lead_rows = select(leads[leads["is_mql"]], since=since, until=until, column="mql_time")
    yes_no = {True: "yes", False: "no"}  # the abm group's values
    groups = cohort_groups(
        cols,
        account_rows.assign(abm=account_rows["abm"].map(yes_no)),
        mqa_rows.assign(abm=mqa_rows["abm"].map(yes_no)),
    )
    rows = [_mqa_row(group, accts, mqas) for group, accts, mqas in groups]
    total = _mqa_row({c: "all" for c in cols}, account_rows, mqa_rows)
    if not cols:
        rows = [total]
    handoffs, not_counted = handoff_rows(mqa_rows, lead_rows)
    return MqaReport(cols, since, until, rows, total, handoffs, not_counted)
