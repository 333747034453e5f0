"""Synthetic ABM data on top of a generated data set (issue #15): tiers, account-level visits,
account ground truth.

``add_abm(folder, seed)`` reads the accounts, leads and truth of a ``leadgate synth`` folder and
writes three files beside them (the data set's own files stay as they are):

- ``abm_accounts.csv``: the accounts plus ``tier`` (1, 2 or 3): tier 1 the largest ~5% of
  businesses in the target industries, tier 2 the next ~15%, the rest tier 3;
- ``account_events.csv``: anonymous, de-anonymised visits per account (``account_id``, no
  ``lead_id``): ``page_view`` rows with a ``url``; an account in market visits about six times
  as often, and more of its visits are pricing and comparison pages;
- ``account_truth.csv``: ``account_id``, ``tier``, ``in_market`` (1 when some lead of the
  account would be won if handed to sales), ``n_leads``, ``n_would_win``, ``n_visits``,
  ``committee`` (distinct seniority levels among its leads: the breadth of its buying committee).

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
    return {
        "accounts": len(accounts),
        "visits": len(events),
        "in_market": sum(int(str(t["in_market"])) for t in truths),
    }
