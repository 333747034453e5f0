"""The demo's accounts (issue #15): ABM tiers and account-level visits beside the demo data
(``synth.abm``), scored with the ABM model, and the MQA queue with what sales made of the
accounts afterwards.

The ABM model's lead part is the reference model's, so the account roll-ups reuse the lead
scores the demo already has (no second pass over the events); a model whose lead part differs
is scored from the files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadgate.engine.accounts_result import AccountScore
from leadgate.io import read_table

ACCOUNT_MODEL = Path(__file__).parent / "examples" / "b2b-abm.yaml"
_OWN_KEYS = {"name", "version", "accounts"}  # what the ABM model adds to the reference one


@dataclass
class AccountLine:
    """MQAs or the other accounts, and the opportunities sales opened on them afterwards."""

    group: str
    accounts: int = 0
    opportunities: int = 0
    won: int = 0
    revenue: float = 0.0


@dataclass
class DemoAccounts:
    """The account files, every account's record and the MQA queue (best total first)."""

    accounts_file: Path
    events_file: Path
    scores: list[AccountScore]
    queue: list[AccountScore]
    funnel: list[AccountLine] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # the accounts file's rows


def _same_leads(reference: Path, model: Path) -> bool:
    from leadgate.model import load_model

    a, b = load_model(reference).spec, load_model(model).spec
    return a.model_dump(exclude=_OWN_KEYS) == b.model_dump(exclude=_OWN_KEYS)


@dataclass
class AccountInputs:
    """The ABM files written beside the demo data, read: what the account step needs besides
    the lead scores (so it can be prepared while the leads are scored)."""

    accounts_file: Path
    events_file: Path
    profiles: dict[str, dict[str, Any]]  # the accounts, by id
    leads: list[dict[str, Any]]  # the leads with their accounts' fields (``account.*``)
    visits: dict[str, list[Any]]  # account-level events by account

    @property
    def leads_file(self) -> Path:
        return self.accounts_file.parent / "leads.csv"


def prepare_demo_accounts(data: Path, seed: int, as_of: datetime) -> AccountInputs:
    """Write the ABM files beside the demo data (``synth.abm``) and read them."""
    from leadgate.io.account_events import read_split_events
    from leadgate.io.readers import read_accounts, read_leads
    from leadgate.synth.abm import add_abm

    add_abm(data, seed, as_of)
    accounts, visits = data / "abm_accounts.csv", data / "account_events.csv"
    return AccountInputs(
        accounts, visits, read_accounts(accounts), read_leads(data / "leads.csv", accounts),
        dict(read_split_events(visits).accounts),
    )  # fmt: skip


def score_demo_accounts(
    inputs: AccountInputs,
    reference: Path,
    lead_records: list[dict[str, Any]],
    events: Path,
    as_of: datetime,
    engine: str,
) -> DemoAccounts:
    """Score every account with ACCOUNT_MODEL; ``lead_records``: the reference model's lead
    scores at ``as_of`` (reused when the two models' lead parts are the same)."""
    from leadgate.account_scoring import score_account_files
    from leadgate.engine.accounts_compile import compile_accounts
    from leadgate.engine.accounts_python import ScoredLead, score_account
    from leadgate.model import load_model

    accounts, visits, profiles = inputs.accounts_file, inputs.events_file, inputs.profiles
    if not _same_leads(reference, ACCOUNT_MODEL):
        scores = score_account_files(
            ACCOUNT_MODEL, inputs.leads_file, [events, visits], accounts, as_of, engine=engine
        )
    else:
        plan = compile_accounts(load_model(ACCOUNT_MODEL))
        by_lead = {str(r["lead_id"]): r for r in lead_records}
        members: dict[str, list[ScoredLead]] = defaultdict(list)
        for profile in inputs.leads:
            r = by_lead[str(profile["lead_id"])]
            members[str(profile.get("account_id"))].append(
                ScoredLead(str(r["lead_id"]), profile, r["scores"], r["total"], r["mql"])
            )
        scores = [
            score_account(plan, row, inputs.visits.get(aid, ()), members[aid], as_of, aid)
            for aid, row in ((aid, {**row, "account_id": aid}) for aid, row in profiles.items())
        ]  # fmt: skip
    queue = sorted((s for s in scores if s.mqa), key=lambda s: (-s.total, s.account_id))
    outcomes = accounts.parent / "account_outcomes.csv"
    return DemoAccounts(accounts, visits, scores, queue, _funnel(scores, outcomes), profiles)


def _funnel(scores: list[AccountScore], outcomes: Path) -> list[AccountLine]:
    """MQAs and the rest beside the opportunities sales opened on them (synth.abm's outcomes:
    one row per stage move)."""
    moves: dict[str, dict[str, float]] = defaultdict(dict)
    for _, row in read_table(outcomes):
        moves[str(row["account_id"])][str(row["stage"])] = float(row.get("amount") or 0)
    lines = {"MQA": AccountLine("MQA"), "not MQA": AccountLine("not MQA")}
    for s in scores:
        line = lines["MQA" if s.mqa else "not MQA"]
        line.accounts += 1
        stages = moves.get(s.account_id, {})
        line.opportunities += "opportunity" in stages
        if "won" in stages:
            line.won += 1
            line.revenue += stages["won"]
    return list(lines.values())
