"""Scoring accounts from files (issue #15): the library function behind ``leadgate accounts``.

Reads the model, the accounts, the leads (joined with their accounts, as ``leadgate score``
does) and one events file holding lead events and account-level events
(``io/account_events``); scores the leads, then each account of the accounts file, in its
order, on the chosen engine: ``python`` (``engine/accounts_python``) or a SQL engine
(``batch/accounts_runner``: DuckDB, SQLite, PostgreSQL, Spark), which agree to 1e-9.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_python import ScoredLead, score_account
from leadgate.engine.accounts_result import AccountScore
from leadgate.engine.python import reads_accounts
from leadgate.errors import NotFoundError
from leadgate.executors import (
    DuckDBOptions,
    EngineOptions,
    PythonOptions,
    options_for,
)
from leadgate.io.account_events import SplitEvents, read_split_events
from leadgate.io.owners import Owners
from leadgate.io.readers import read_accounts, read_leads
from leadgate.model import load_model
from leadgate.scoring import Inputs


@dataclass
class AccountInputs:
    """Accounts (in file order), leads (with ``account.*``) and events, read and validated."""

    accounts: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    events: SplitEvents


EventFiles = str | Path | Sequence[str | Path] | None


def read_account_inputs(
    leads: str | Path, events: EventFiles, accounts: str | Path, account: str | None = None
) -> AccountInputs:
    """Read and validate every input row before anything is scored. ``events``: one file or
    several (lead events and account events may be apart). ``account``: only the events of
    that account and its leads are read and checked (``io.owners``); the accounts and leads
    files are read whole."""
    by_id = read_accounts(accounts)
    rows = [{**row, "account_id": key} for key, row in by_id.items()]
    profiles = read_leads(leads, accounts)
    owners = None
    if account is not None:
        team = (str(p["lead_id"]) for p in profiles if str(p.get("account_id")) == account)
        owners = Owners(frozenset(team), frozenset({account}))
    files = [events] if isinstance(events, str | Path) else list(events or ())
    split = SplitEvents()
    for f in files:
        part = read_split_events(f, owners)
        for mine, theirs in ((split.leads, part.leads), (split.accounts, part.accounts)):
            for owner, evs in theirs.items():
                mine.setdefault(owner, []).extend(evs)
    return AccountInputs(rows, profiles, split)


def _engine(engine: str | EngineOptions) -> EngineOptions:
    return options_for(engine) if isinstance(engine, str) else engine


def score_accounts(
    plan: AccountPlan,
    inputs: AccountInputs,
    as_of: datetime,
    engine: str | EngineOptions = "python",
    account: str | None = None,
) -> list[AccountScore]:
    """Every account's score (``account``: that one only, with its event ids), in file order.

    Raises:
        OptionError: an unknown engine.
    """
    options = _engine(engine)
    accounts = [a for a in inputs.accounts if account is None or a["account_id"] == account]
    if isinstance(options, PythonOptions):
        return list(_python_scores(plan, inputs, accounts, as_of))
    from leadgate.batch.accounts_runner import account_rows, scores_from_rows

    wanted = {a["account_id"] for a in accounts}
    leads = [p for p in inputs.leads if account is None or str(p.get("account_id")) in wanted]
    lead_events = [e for p in leads for e in inputs.events.leads.get(p["lead_id"], ())]
    account_events = [e for a in accounts for e in inputs.events.accounts.get(a["account_id"], ())]
    rows, members, matches = account_rows(
        plan, accounts, leads, lead_events, account_events, as_of, options, account
    )
    return list(
        scores_from_rows(plan, rows, members, matches if account is not None else None, as_of)
    )


def _python_scores(
    plan: AccountPlan, inputs: AccountInputs, accounts: list[dict[str, Any]], as_of: datetime
) -> list[AccountScore]:
    wanted = {a["account_id"] for a in accounts}
    by_account: dict[str, list[ScoredLead]] = defaultdict(list)
    # scope: account measures read the account's leads' and account-level events (issue #16)
    lead_inputs = Inputs(inputs.leads, inputs.events.leads, inputs.events.accounts)
    events_of = lead_inputs.account_events() if reads_accounts(plan.lead) else None
    for profile in inputs.leads:
        acct = profile.get("account_id")
        if acct is None or str(acct) not in wanted:
            continue
        s = lead_inputs.score(plan.lead, profile, as_of, events_of)
        by_account[str(acct)].append(ScoredLead.of(profile, s))
    return [
        score_account(
            plan, a, inputs.events.accounts.get(a["account_id"], ()), by_account[a["account_id"]],
            as_of, a["account_id"],
        )
        for a in accounts
    ]  # fmt: skip


def score_account_files(
    model: str | Path,
    leads: str | Path,
    events: EventFiles,
    accounts: str | Path,
    as_of: datetime,
    *,
    engine: str | EngineOptions = "python",
) -> list[AccountScore]:
    """Score every account of the files.

    Raises:
        ModelError: the model is invalid or has no ``accounts:`` block.
        IngestError: a bad input row (file, line, field).
        OptionError: an unknown engine.
    """
    plan = compile_accounts(load_model(model))
    options = _engine(engine)
    files = [events] if isinstance(events, str | Path) else list(events or ())
    if isinstance(options, DuckDBOptions) and len(files) <= 1:
        # DuckDB reads the files itself: no Python pass over every row.
        from leadgate.batch.accounts_duckdb import duckdb_account_rows
        from leadgate.batch.accounts_runner import scores_from_rows

        rows, members = duckdb_account_rows(
            plan, leads, files[0] if files else None, accounts, as_of, options
        )
        return list(scores_from_rows(plan, rows, members, None, as_of))
    return score_accounts(plan, read_account_inputs(leads, events, accounts), as_of, options)


def write_account_files(
    model: str | Path,
    leads: str | Path,
    events: EventFiles,
    accounts: str | Path,
    as_of: datetime,
    fmt: str,
    out: str | Path | None,
    *,
    options: DuckDBOptions | None = None,
    stream: IO[str] | None = None,
) -> tuple[int, int]:
    """Every account's record written by DuckDB to ``out`` (jsonl, csv or parquet), or to
    ``stream`` (jsonl, csv) when ``out`` is None: the bytes ``io.writers`` writes for
    ``score_account_files``' ``to_record()``s, with no Python object per account. One events
    file at most (several: the Python readers' rows, ``score_account_files``). Returns
    (records, MQAs).

    Raises:
        ModelError: the model is invalid or has no ``accounts:`` block.
        IngestError: a bad input row (file, line, field); nothing is written to ``out``.
    """
    from leadgate.batch.accounts_duckdb import write_account_records

    plan = compile_accounts(load_model(model))
    files = [events] if isinstance(events, str | Path) else list(events or ())
    if len(files) > 1:
        raise ValueError("DuckDB writes the account records of one events file at most")
    return write_account_records(
        plan, leads, files[0] if files else None, accounts, as_of, options or DuckDBOptions(),
        fmt, out, stream,
    )  # fmt: skip


def explain_account(
    model: str | Path,
    leads: str | Path,
    events: EventFiles,
    accounts: str | Path,
    account_id: str,
    as_of: datetime,
    *,
    engine: str | EngineOptions = "python",
) -> AccountScore:
    """One account's score with its whole explanation (event ids included).

    Raises:
        NotFoundError: the accounts file has no such account.
    """
    plan = compile_accounts(load_model(model))
    options = _engine(engine)
    inputs = read_account_inputs(leads, events, accounts, account_id)
    found = score_accounts(plan, inputs, as_of, options, account=account_id)
    if not found:
        raise NotFoundError(f"{accounts}: no account with account_id '{account_id}'")
    return found[0]
