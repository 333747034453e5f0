"""A store loaded with synthetic ABM data (synth + synth/abm.py), its account outcomes loaded
from the synthetic ``account_outcomes.csv``: for the MQA report's tests and the web account pages'
tests.

``load_abm_store(folder, store)``: the example b2b-abm model published, accounts (with tiers),
leads, events, outcomes (imported MQL cycles) and account-level visits loaded, accounts scored
(the MQAs); then ``leadgate load account-outcomes`` on ``account_outcomes.csv`` (opportunities,
won, lost: rows of accounts that are not MQAs are skipped) and every MQA the file leaves in the
queue is rejected. ``AbmTruth`` holds what the tests compare against, read from the files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from leadgate.io.readers import event_from_row
from leadgate.service import load_file, publish_model
from leadgate.service.accounts import add_account_events, dispose_account, rescore_accounts
from leadgate.store import Store
from leadgate.store.schema import mqa_cycles
from leadgate.synth import generate
from leadgate.synth.abm import add_abm
from leadgate.synth.generate import DEFAULT_AS_OF

EXAMPLE = Path(__file__).parents[1] / "src" / "leadgate" / "examples" / "b2b-abm.yaml"
AS_OF = DEFAULT_AS_OF
ABM_TIERS = ("1", "2")  # the example's abm_when


@dataclass
class AbmTruth:
    """The synthetic files' facts, by account and lead, and the MQAs the store made."""

    tier: dict[str, str]  # account -> tier
    in_market: dict[str, bool]
    would_win: dict[str, int]  # account -> leads that would be won
    lead_account: dict[str, str]
    outcomes: list[dict[str, str]]  # outcomes.csv rows (imported MQL cycles)
    mqas: list[str]  # accounts the store made MQAs
    won: set[str]
    opportunities: set[str]


def make_abm_folder(folder: Path, n_leads: int = 400, seed: int = 5) -> Path:
    generate(n_leads, seed=seed, out_dir=folder, events_format="csv")
    add_abm(folder, seed=seed)
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_abm_store(folder: Path, store: Store, *, keep_in_queue: int = 0) -> AbmTruth:
    """Load the folder into ``store`` and dispose its MQAs by the truth (module docstring);
    the first ``keep_in_queue`` MQAs are left in the MQA queue."""
    before = AS_OF - timedelta(days=1)
    publish_model(store, EXAMPLE, actor="t", as_of=before)
    load_file(store, "accounts", folder / "abm_accounts.csv", as_of=before)
    load_file(store, "leads", folder / "leads.csv", as_of=before)
    load_file(store, "events", folder / "events.csv", as_of=before)
    load_file(store, "outcomes", folder / "outcomes.csv", as_of=before)
    visits = [
        event_from_row({**{k: v for k, v in e.items() if k != "account_id"},
                        "lead_id": e["account_id"]})
        for e in _rows(folder / "account_events.csv")
    ]  # fmt: skip
    add_account_events(store, visits, at=before)
    rescore_accounts(store, AS_OF)
    # Accounts become MQAs as their leads and visits are loaded (the live account path), or in
    # the re-score: every MQA cycle, oldest first.
    with store.read() as conn:
        c = mqa_cycles.c
        mqas = list(
            dict.fromkeys(
                conn.execute(select(c.account_id).order_by(c.mqa_at, c.account_id)).scalars()
            )
        )
    truth = {r["account_id"]: r for r in _rows(folder / "account_truth.csv")}
    kept = set(mqas[:keep_in_queue])
    rows = _rows(folder / "account_outcomes.csv")
    loaded = folder / "account_outcomes.loaded.csv"  # the file minus the accounts kept in queue
    with loaded.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["account_id"] not in kept)
    load_file(store, "account-outcomes", loaded, as_of=AS_OF, actor="crm")
    handed = set(mqas) - kept
    opps = {r["account_id"] for r in rows if r["stage"] == "opportunity"} & handed
    won = {r["account_id"] for r in rows if r["stage"] == "won"} & handed
    for k, aid in enumerate(a for a in mqas[keep_in_queue:] if a not in opps):
        at = AS_OF + timedelta(hours=1 + k / 100)
        dispose_account(store, aid, "reject", reason="no_intent", actor="sdr", at=at)
    return AbmTruth(
        tier={a: t["tier"] for a, t in truth.items()},
        in_market={a: t["in_market"] == "1" for a, t in truth.items()},
        would_win={a: int(t["n_would_win"]) for a, t in truth.items()},
        lead_account={r["lead_id"]: r["account_id"] for r in _rows(folder / "leads.csv")},
        outcomes=_rows(folder / "outcomes.csv"),
        mqas=mqas,
        won=won,
        opportunities=opps,
    )


KEEP = 6  # MQAs ``build_abm_db`` leaves in the queue (for the web pages)


def build_abm_db(folder: Path) -> tuple[str, AbmTruth]:
    """A SQLite store in ``folder`` with the ABM data, ``KEEP`` MQAs left in the queue."""
    from leadgate.store import open_store

    make_abm_folder(folder)
    url = str(folder / "abm.db")
    with open_store(url) as store:
        truth = load_abm_store(folder, store, keep_in_queue=KEEP)
    return url, truth
