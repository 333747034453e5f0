"""Synthetic ABM data on top of a generated data set (issue #15): tiers, account-level visits,
account opportunities, account ground truth.

``add_abm(folder, seed)`` reads the accounts, leads and truth of a ``leadgate synth`` folder and
writes four files beside them (the data set's own files stay as they are):

- ``abm_accounts.csv``: the accounts plus ``tier`` (1, 2 or 3): tier 1 the largest ~5% of
  businesses in the target industries, tier 2 the next ~15%, the rest tier 3;
- ``account_events.csv``: anonymous, de-anonymised visits per account (``account_id``, no
  ``lead_id``): ``page_view`` rows with a ``url``; an account in market visits about six times
  as often, and more of its visits are pricing and comparison pages;
- ``account_truth.csv``: ``account_id``, ``tier``, ``in_market`` (1 when some lead of the
  account would be won if handed to sales), ``n_leads``, ``n_would_win``, ``n_visits``,
  ``committee`` (distinct seniority levels among its leads: the breadth of its buying committee);
- ``account_outcomes.csv``: what sales made of the accounts, one row per stage move as a CRM
  exports them: ``account_id``, ``stage`` (``opportunity``, ``won`` or ``lost``), ``at``,
  ``amount`` (the deal's). Every in-market account gets an opportunity 1-21 days after
  ``as_of`` (after all its activity), closed 14-90 days later: won when two or more of its leads
  would be won, else won with probability 0.3, else lost. About 8% of the other accounts get an
  opportunity too, always lost, so opportunities alone do not give the truth away
  (``leadgate load account-outcomes`` records them, ``service/account_outcomes.py``).

So an account model (examples/b2b-abm.yaml) can be checked against the truth: in-market accounts
should score higher and be MQAs more often. Deterministic for a seed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from leadgate.engine.event import as_utc
from leadgate.errors import LeadgateError
from leadgate.synth.generate import DEFAULT_AS_OF

TARGET_INDUSTRIES = ("software", "fintech", "healthcare", "insurance")
_URLS = ("/", "/product", "/customers", "/blog/abm", "/pricing", "/compare/rival", "/security")
_BASE_WEIGHTS = np.array([0.3, 0.25, 0.15, 0.2, 0.05, 0.02, 0.03])
_IN_MARKET_WEIGHTS = np.array([0.15, 0.2, 0.1, 0.1, 0.3, 0.1, 0.05])
_VISITS_OUT, _VISITS_IN = 1.0, 6.0  # mean visits in the 90 days before as_of
_WINDOW_DAYS = 90
_WIN_DRAW = 0.3  # chance an in-market account with one would-be-won lead is won
_OUT_OPPORTUNITY = 0.08  # chance an account out of market still gets a (lost) opportunity
OUTCOME_COLUMNS = ["account_id", "stage", "at", "amount"]


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise LeadgateError(f"{path}: not found (run leadgate synth --format csv first)")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, object]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def add_abm(folder: str | Path, seed: int = 0, as_of: datetime | None = None) -> dict[str, int]:
    """Write the ABM files beside a synthetic data set; return counts (accounts, visits,
    in_market). ``as_of``: the data set's "now" (``leadgate synth --as-of``; default its
    default)."""
    d = Path(folder)
    accounts = _read(d / "accounts.csv")
    leads = _read(d / "leads.csv")
    truth = {r["lead_id"]: r for r in _read(d / "truth.csv")}
    as_of = as_utc(as_of or DEFAULT_AS_OF)
    rng = np.random.default_rng([seed, 15])
    by_account: dict[str, list[dict[str, str]]] = defaultdict(list)
    for lead in leads:
        by_account[lead["account_id"]].append(lead)
    targets = sorted(
        (a for a in accounts if a["industry"] in TARGET_INDUSTRIES),
        key=lambda a: (-int(a["company_size"] or 0), a["account_id"]),
    )
    tier = {a["account_id"]: 3 for a in accounts}
    for rank, a in enumerate(targets):
        share = rank / max(1, len(targets))
        tier[a["account_id"]] = 1 if share < 0.05 else 2 if share < 0.2 else 3
    events: list[dict[str, object]] = []
    truths: list[dict[str, object]] = []
    for a in accounts:
        aid = a["account_id"]
        mine = by_account.get(aid, [])
        wins = sum(int(truth[lead["lead_id"]]["would_win"]) for lead in mine)
        in_market = int(wins > 0)
        n = int(rng.poisson(_VISITS_IN if in_market else _VISITS_OUT))
        weights = _IN_MARKET_WEIGHTS if in_market else _BASE_WEIGHTS
        urls = rng.choice(len(_URLS), n, p=weights / weights.sum())
        ages = np.sort(rng.random(n) * _WINDOW_DAYS)
        for k, (u, age) in enumerate(zip(urls, ages, strict=True)):
            when = as_of - timedelta(days=float(age))
            events.append(
                {"event_id": f"{aid}-v{k}", "account_id": aid, "type": "page_view",
                 "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": _URLS[u]}
            )  # fmt: skip
        truths.append(
            {"account_id": aid, "tier": tier[aid], "in_market": in_market, "n_leads": len(mine),
             "n_would_win": wins, "n_visits": n,
             "committee": len({lead["seniority"] for lead in mine if lead.get("seniority")})}
        )  # fmt: skip
    rows: list[dict[str, object]] = [{**a, "tier": tier[a["account_id"]]} for a in accounts]
    _write(d / "abm_accounts.csv", rows, [*accounts[0], "tier"] if accounts else ["account_id"])
    _write(d / "account_events.csv", events, ["event_id", "account_id", "type", "timestamp", "url"])
    _write(d / "account_truth.csv", truths, list(truths[0]) if truths else ["account_id"])
    outcomes = _outcomes(accounts, truths, as_of, seed)
    _write(d / "account_outcomes.csv", outcomes, OUTCOME_COLUMNS)
    return {
        "accounts": len(accounts),
        "visits": len(events),
        "in_market": sum(int(str(t["in_market"])) for t in truths),
        "opportunities": sum(o["stage"] == "opportunity" for o in outcomes),
        "won": sum(o["stage"] == "won" for o in outcomes),
    }


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _outcomes(
    accounts: list[dict[str, str]], truths: list[dict[str, object]], as_of: datetime, seed: int
) -> list[dict[str, object]]:
    """``account_outcomes.csv`` rows (module docstring), from the truth; a stream of its own so
    the other files are the same as before it existed."""
    rng = np.random.default_rng([seed, 15, 2])
    size = {a["account_id"]: int(a["company_size"] or 0) for a in accounts}
    rows: list[dict[str, object]] = []
    for t in truths:
        aid = str(t["account_id"])
        in_market = t["in_market"] == 1
        # every account takes the same draws, so one account's truth never shifts another's
        draw, opened, days = rng.random(), rng.uniform(1, 21), rng.uniform(14, 90)
        spread = rng.lognormal(0.0, 0.35)
        if not in_market and draw >= _OUT_OPPORTUNITY:
            continue
        won = in_market and (int(str(t["n_would_win"])) >= 2 or draw < _WIN_DRAW)
        amount = int(max(1000.0, round(7500 * max(size[aid], 1) ** 0.45 * spread, -2)))
        at = as_of + timedelta(days=float(opened))
        closed = at + timedelta(days=float(days))
        rows.append({"account_id": aid, "stage": "opportunity", "at": _stamp(at), "amount": amount})
        rows.append(
            {"account_id": aid, "stage": "won" if won else "lost", "at": _stamp(closed),
             "amount": amount}
        )  # fmt: skip
    return rows
