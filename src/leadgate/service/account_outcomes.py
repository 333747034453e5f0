"""Importing account outcomes (issue #15): a CRM's opportunities on accounts, replayed as account
stage moves (``leadgate load account-outcomes FILE``).

A row (``account_outcomes.csv`` from ``synth/abm.py``) is one stage move: ``account_id``,
``stage`` (``opportunity``, ``won`` or ``lost``), ``at``, ``amount`` (optional, the deal's).
Each is applied with ``service/accounts.record_disposition``, the function the account
disposition API records with (so ``lifecycle/account_stages`` decides what is allowed), with
cause ``import``; rows apply in time order, whatever the file's order.

- A row already imported (same account, stage and time) is ignored: a replayed file adds nothing.
- A row for an account leadgate has not handed off (never scored, or at ``target`` or
  ``engaged``: not an MQA) is skipped and counted: a CRM export holds opportunities on every
  account, and the MQA funnel is about hand-offs.
- A bad row (no account id, unknown account, unknown stage, bad time or amount, a move the
  account's stage does not allow, a time before the account reached its stage) raises
  ``IngestError`` naming the line and field; the caller's transaction leaves the store unchanged.

``account_transitions`` has no amount column, so the amount is kept in the move's note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from leadgate.errors import ConflictError, IngestError
from leadgate.io.readers import parse_timestamp, read_table
from leadgate.lifecycle.account_stages import ENGAGED, TARGET
from leadgate.service.accounts import record_disposition
from leadgate.store.ingest import CHUNK, text_id
from leadgate.store.schema import account_states, account_transitions, accounts

STAGES = ("opportunity", "won", "lost")
REQUIRED = ("account_id", "stage", "at")  # columns a CSV header must name
IMPORT = "import"  # the cause of the moves an import records


@dataclass
class AccountOutcomeImport:
    """What ``import_account_outcomes`` did."""

    rows: int = 0
    imported: int = 0
    ignored: int = 0  # already imported
    skipped: int = 0  # accounts not handed off (not MQAs)


@dataclass(frozen=True)
class _Row:
    line: int
    account_id: str
    stage: str
    at: datetime
    amount: float | None


def _parse(file: str, line: int, row: dict[str, Any]) -> _Row:
    account_id = text_id(row.get("account_id"))
    if not account_id:
        raise IngestError("is required", file=file, line=line, field="account_id")
    stage = row.get("stage")
    if stage not in STAGES:
        raise IngestError(
            f"must be opportunity, won or lost, got {stage!r}", file=file, line=line, field="stage"
        )
    if row.get("at") is None:
        raise IngestError("is required", file=file, line=line, field="at")
    amount = row.get("amount")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0
    ):
        raise IngestError(
            f"must be a number, 0 or more, got {amount!r}", file=file, line=line, field="amount"
        )
    at = parse_timestamp(row["at"], file, line, "at")
    return _Row(line, account_id, str(stage), at, None if amount is None else float(amount))


def _select_in(conn: Connection, column: Any, ids: list[str], *columns: Any) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        q = select(*columns).where(column.in_(ids[start : start + CHUNK]))
        out.extend(conn.execute(q).all())
    return out


def import_account_outcomes(
    conn: Connection, path: str | Path, *, actor: str
) -> AccountOutcomeImport:
    """Replay an account outcomes file as account stage moves (module docstring).

    Raises:
        IngestError: a bad row (file, line, field); the caller rolls back.
    """
    file = str(path)
    rows = [_parse(file, line, row) for line, row in read_table(path, required=REQUIRED)]
    out = AccountOutcomeImport(rows=len(rows))
    ids = sorted({r.account_id for r in rows})
    known = {
        r.account_id for r in _select_in(conn, accounts.c.account_id, ids, accounts.c.account_id)
    }
    states = {
        s.account_id: s for s in _select_in(conn, account_states.c.account_id, ids, account_states)
    }
    t = account_transitions.c
    done = {
        (m.account_id, m.action, m.at)
        for m in _select_in(conn, t.account_id, ids, t.account_id, t.action, t.at, t.cause)
        if m.cause == IMPORT
    }
    for r in sorted(rows, key=lambda r: r.at):  # stable: equal times keep the file's order
        if r.account_id not in known and r.account_id not in states:
            raise IngestError(
                f"unknown account '{r.account_id}' (load its account first)",
                file=file, line=r.line, field="account_id",
            )  # fmt: skip
        if (r.account_id, r.stage, r.at) in done:
            out.ignored += 1
            continue
        state = states.get(r.account_id)
        if state is None or state.stage in (TARGET, ENGAGED):
            out.skipped += 1
            continue
        if state.stage_since is not None and r.at < state.stage_since:
            raise IngestError(
                f"is earlier than the account reached stage '{state.stage}' "
                f"({state.stage_since.isoformat()})",
                file=file, line=r.line, field="at",
            )  # fmt: skip
        note = None if r.amount is None else f"amount {r.amount:,.2f}"
        try:
            record_disposition(conn, state, r.stage, note=note, actor=actor, at=r.at, cause=IMPORT)
        except ConflictError as exc:
            raise IngestError(str(exc), file=file, line=r.line, field="stage") from None
        done.add((r.account_id, r.stage, r.at))
        states[r.account_id] = conn.execute(
            select(account_states).where(account_states.c.account_id == r.account_id)
        ).one()
        out.imported += 1
    return out
