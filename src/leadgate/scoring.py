"""Scoring files: read a model, leads and events, score every lead, return records in lead order.

The library function behind ``leadgate score``/``explain``/``demo``; the engine itself stays pure,
reading and grouping happen here. ``engine="python"`` runs the per-lead executor; the SQL
engines (DuckDB, SQLite, PostgreSQL, Spark) come from ``leadgate.batch``; the registry of
engines and their typed options is ``leadgate.executors``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadgate.engine import Event, Plan, Score, compile_model, score_lead
from leadgate.engine.python import account_key, events_by_account, reads_accounts
from leadgate.errors import NotFoundError
from leadgate.executors import EngineOptions, PythonOptions, options_for
from leadgate.io import read_leads
from leadgate.io.account_events import iter_lead_file_events
from leadgate.io.numeric_checks import check_numeric
from leadgate.io.owners import Owners
from leadgate.model import load_model

Progress = Callable[[int, int], None]


@dataclass
class Inputs:
    """Leads and their events, read and validated; ``accounts``: account-level events (no lead)
    by account id, which only ``scope: account`` measures read."""

    leads: list[dict[str, Any]]
    events: dict[str, list[Event]]
    accounts: dict[str, list[Event]] = field(default_factory=dict)

    def account_events(self) -> dict[str, list[Event]]:
        """Events by account (``engine.python.account_key``), for ``scope: account``: its
        leads' and its account-level events (``engine.python.account_level``)."""
        return events_by_account(self.leads, self.events, self.accounts)

    def score(
        self, plan: Plan, profile: dict[str, Any], as_of: datetime,
        by_account: dict[str, list[Event]] | None,
    ) -> Score:  # fmt: skip
        """One lead's score; ``by_account``: ``account_events()`` when the plan reads them."""
        lead_id = profile["lead_id"]
        account = None
        if by_account is not None:
            account = by_account.get(account_key(profile, lead_id), ())
        return score_lead(plan, profile, self.events.get(lead_id, ()), as_of, lead_id, account)


def read_inputs(
    leads: str | Path, events: str | Path | None, accounts: str | Path | None = None
) -> Inputs:
    """Read leads (joined with accounts) and events grouped by lead (account-level events by
    account); validate every row first."""
    return _with_events(read_leads(leads, accounts, need_rows=True), events)


def _with_events(
    profiles: list[dict[str, Any]], events: str | Path | None, owners: Owners | None = None
) -> Inputs:
    by_lead: dict[str, list[Event]] = defaultdict(list)
    by_account: dict[str, list[Event]] = defaultdict(list)
    if events is not None:
        for item in iter_lead_file_events(events, owners):
            (by_account if item.account else by_lead)[item.event.lead_id].append(item.event)
    return Inputs(profiles, dict(by_lead), dict(by_account))


def owners_of(plan: Plan, profile: dict[str, Any], profiles: list[dict[str, Any]]) -> Owners:
    """The events one lead's score reads: its own and, when ``plan`` has ``scope: account``
    measures, those of its account's leads and the account's own (``account_key``)."""
    lead_id = str(profile["lead_id"])
    key = account_key(profile, lead_id)
    if not reads_accounts(plan) or not key.startswith("a"):
        return Owners(frozenset({lead_id}))
    team = (str(p["lead_id"]) for p in profiles if account_key(p, str(p["lead_id"])) == key)
    return Owners(frozenset(team), frozenset({key[1:]}))


def iter_scores(
    plan: Plan, inputs: Inputs, as_of: datetime, progress: Progress | None = None
) -> Iterator[Score]:
    """Score every lead with the per-lead executor, in the leads file's order."""
    total = len(inputs.leads)
    by_account = inputs.account_events() if reads_accounts(plan) else None
    for i, profile in enumerate(inputs.leads, start=1):
        yield inputs.score(plan, profile, as_of, by_account)
        if progress is not None and (i % 500 == 0 or i == total):
            progress(i, total)


def score_files(
    model: str | Path,
    leads: str | Path,
    events: str | Path | None,
    as_of: datetime,
    *,
    accounts: str | Path | None = None,
    engine: str | EngineOptions = "python",
    progress: Progress | None = None,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """Score every lead of the files; return one record per lead (``Score.to_record()`` shape),
    with ``explain`` plus its ``explanation`` (``Explanation.to_dict()``).

    ``engine``: an engine's name (default options) or its typed options (``executors``).

    Raises:
        OptionError: unknown engine.
    """
    plan = compile_model(load_model(model))
    options = options_for(engine) if isinstance(engine, str) else engine
    if isinstance(options, PythonOptions):
        inputs = read_inputs(leads, events, accounts)
        check_numeric(plan, events)
        return [explained(s, explain) for s in iter_scores(plan, inputs, as_of, progress)]
    from leadgate import batch  # the SQL executors

    if explain:
        scores = batch.iter_batch_scores(
            plan, leads, events, as_of, engine=options, accounts=accounts
        )
        return [explained(s, True) for s in scores]
    return batch.score_file_records(
        plan, leads, events, as_of, engine=options, accounts=accounts, progress=progress
    )


def explained(score: Score, explain: bool) -> dict[str, Any]:
    """``score``'s record, with its ``explanation`` object when ``explain``."""
    record = score.to_record()
    if explain:
        record["explanation"] = score.explanation.to_dict()
    return record


def explain_lead(
    model: str | Path,
    leads: str | Path,
    events: str | Path | None,
    lead_id: str,
    as_of: datetime,
    *,
    accounts: str | Path | None = None,
    engine: str | EngineOptions = "python",
) -> Score:
    """Score one lead from files, with its full explanation, on ``engine`` (every engine gives
    the same explanation).

    Raises:
        NotFoundError: the leads file has no such lead.
        OptionError: unknown engine.
    """
    plan = compile_model(load_model(model))
    options = options_for(engine) if isinstance(engine, str) else engine
    if not isinstance(options, PythonOptions):
        from leadgate.batch import explain_batch_lead

        found = explain_batch_lead(
            plan, leads, events, lead_id, as_of, engine=options, accounts=accounts
        )
        if found is None:
            raise NotFoundError(f"{leads}: no lead with lead_id '{lead_id}'")
        return found
    # Only the events this lead's score reads are read and checked (io.owners): the rest of a
    # large file would be most of the time of one explanation.
    profiles = read_leads(leads, accounts, need_rows=True)
    profile = next((p for p in profiles if p["lead_id"] == lead_id), None)
    if profile is None:
        raise NotFoundError(f"{leads}: no lead with lead_id '{lead_id}'")
    owners = owners_of(plan, profile, profiles)
    inputs = _with_events(profiles, events, owners)
    check_numeric(plan, events, owners)
    by_account = inputs.account_events() if reads_accounts(plan) else None
    return inputs.score(plan, profile, as_of, by_account)
