"""Importing historical outcomes: each row replays one MQL cycle as transitions (cause ``import``).

A row of ``outcomes.csv`` (``leadgate synth``) says when a lead became an MQL, when sales first
touched it, whether they accepted or rejected it (with a reason), and when it became an SQL, an
opportunity (amount) and won or lost. Times must run forward; a row already imported (same lead
and ``mql_time``) is ignored, so a replayed file adds nothing. Any bad row raises
``IngestError`` with line and field, and the caller's transaction leaves the store unchanged.

A row for a lead that is already an MQL applies to its live cycle. When that cycle opened later
than the row's times (leadgate qualified the lead after the CRM did), a first touch before the
cycle opened is not the cycle's first touch (it would make speed-to-lead negative), and a sales
step before it is recorded at the cycle's start with a note giving the imported time, so the
history stays in time order. Such rows are counted as ``adjusted``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from leadgate.errors import ConflictError, IngestError
from leadgate.io.readers import parse_timestamp, read_table
from leadgate.lifecycle.dispositions import DEFAULT_REJECT_REASONS
from leadgate.lifecycle.stages import Cause, Stage, opens_cycle
from leadgate.store.history import Changes, LeadRow, fetch_leads
from leadgate.store.ingest import CHUNK, text_id
from leadgate.store.schema import transitions

OUTCOME_STEPS = (  # column with the time, stage reached, whether it is a sales action
    ("sql_time", Stage.SQL),
    ("opportunity_time", Stage.OPPORTUNITY),
)


@dataclass(frozen=True)
class _Origin:
    """Who imports, and the row's import key (recorded on each transition it makes)."""

    actor: str
    key: str


@dataclass
class OutcomeImport:
    """What ``import_outcomes`` did."""

    rows: int = 0
    imported: int = 0
    ignored: int = 0  # already imported (same lead and mql_time)
    adjusted: int = 0  # times before the lead's live MQL cycle (see the module docstring)
    lead_ids: list[str] = field(default_factory=list)


def _time(
    row: Mapping[str, Any], name: str, file: str, line: int, required: bool = False
) -> datetime | None:
    value = row.get(name)
    if value is None:
        if required:
            raise IngestError("is required", file=file, line=line, field=name)
        return None
    return parse_timestamp(value, file, line, name)


def import_outcomes(
    conn: Connection,
    path: str | Path,
    *,
    actor: str,
    terms: Mapping[str, Any],
    reasons: Mapping[str, str] | None = None,
) -> OutcomeImport:
    """Replay historical outcomes (``outcomes.csv``) as transitions with cause ``import``.

    ``terms`` gives the SLA and recycling terms of the imported MQL cycles (``sla_hours``,
    ``recycle_after_days``). A row applies to a lead at ``lead`` or ``nurture`` (a new cycle at
    ``mql_time``) or at ``mql`` (its open cycle). Any bad row raises ``IngestError`` naming the
    line and field; the caller's transaction then leaves the store unchanged.
    """
    reasons = DEFAULT_REJECT_REASONS if reasons is None else reasons
    file = str(path)
    parsed = list(read_table(path))
    out = OutcomeImport(rows=len(parsed))
    keyed: list[tuple[int, dict[str, Any], str, datetime]] = []
    for line, row in parsed:
        lead_id = text_id(row.get("lead_id"))
        if not lead_id:
            raise IngestError("is required", file=file, line=line, field="lead_id")
        mql_at = _time(row, "mql_time", file, line, required=True)
        assert mql_at is not None
        key = "o" + hashlib.sha1(f"{lead_id}|{mql_at.isoformat()}".encode()).hexdigest()[:24]
        keyed.append((line, row, key, mql_at))
    done: set[str] = set()
    keys = [k for _, _, k, _ in keyed]
    for start in range(0, len(keys), CHUNK):
        q = select(transitions.c.import_key).where(
            transitions.c.import_key.in_(keys[start : start + CHUNK])
        )
        done.update(conn.execute(q).scalars())
    lead_rows = fetch_leads(
        conn, (text_id(r.get("lead_id")) or "" for _, r, _, _ in keyed), lock=True
    )
    changes = Changes()
    for line, row, key, mql_at in keyed:
        if key in done:
            out.ignored += 1
            continue
        done.add(key)
        lead_id = text_id(row["lead_id"]) or ""
        lead = lead_rows.get(lead_id)
        if lead is None:
            raise IngestError(
                f"unknown lead '{lead_id}' (load its lead first)",
                file=file,
                line=line,
                field="lead_id",
            )
        try:
            adjusted = _replay(changes, lead, row, key, mql_at, file, line, actor, terms, reasons)
        except ConflictError as exc:
            raise IngestError(str(exc), file=file, line=line, field="lead_id") from None
        out.imported += 1
        out.adjusted += adjusted
        out.lead_ids.append(lead_id)
        if len(changes.transitions) >= 5 * CHUNK:
            changes.flush(conn)
    changes.flush(conn)
    return out


def _replay(
    changes: Changes,
    lead: LeadRow,
    row: Mapping[str, Any],
    key: str,
    mql_at: datetime,
    file: str,
    line: int,
    actor: str,
    terms: Mapping[str, Any],
    reasons: Mapping[str, str],
) -> bool:
    """Apply one outcome row to one lead, step by step, checking times run forward.

    Returns whether a time had to be adjusted to the lead's live MQL cycle.
    """
    last = mql_at

    def step(name: str) -> datetime | None:
        nonlocal last
        moment = _time(row, name, file, line)
        if moment is not None:
            if moment < last:
                raise IngestError(
                    f"is earlier than the step before it ({last.isoformat()})",
                    file=file,
                    line=line,
                    field=name,
                )
            last = moment
        return moment

    touch = _time(row, "first_touch_time", file, line)
    if touch is not None and touch < mql_at:
        raise IngestError(
            "is earlier than mql_time", file=file, line=line, field="first_touch_time"
        )
    # A live cycle's history starts when it opened: earlier imported times are placed at its
    # start and never count as its first touch.
    place = _Placement(floor=None)
    if opens_cycle(lead.stage):
        changes.move(
            lead, Stage.MQL, at=mql_at, cause=Cause.IMPORT.value, actor=actor, import_key=key,
            cycle={**terms, "first_touch_at": touch},
        )  # fmt: skip
    elif lead.stage == Stage.MQL:
        place = _Placement(floor=lead.stage_since)
        if touch is not None and place.fits(touch):
            changes.touch(lead, touch)
        elif touch is not None:
            place.adjusted = True
    else:
        raise IngestError(
            f"lead '{lead.lead_id}' is at stage '{lead.stage}'; outcomes can be imported for leads "
            "at lead, nurture or mql",
            file=file, line=line, field="lead_id",
        )  # fmt: skip
    common = _Origin(actor, key)
    status = row.get("sal_status")
    amount = row.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float)):
        raise IngestError(f"must be a number, got {amount!r}", file=file, line=line, field="amount")
    if status is None:
        return place.adjusted
    if status not in ("accepted", "rejected"):
        raise IngestError(
            f"must be accepted or rejected, got {status!r}",
            file=file,
            line=line,
            field="sal_status",
        )
    sal_at = step("sal_time") or touch or mql_at
    if status == "rejected":
        reason = row.get("reject_reason")
        if reason not in reasons:
            raise IngestError(
                f"unknown reason code {reason!r} (use {', '.join(reasons)})",
                file=file,
                line=line,
                field="reject_reason",
            )
        _sales(
            changes, lead, Stage(reasons[str(reason)]), place, sal_at, "reject", common,
            reason=str(reason),
        )  # fmt: skip
        return place.adjusted
    _sales(changes, lead, Stage.SAL, place, sal_at, "accept", common)
    for name, stage in OUTCOME_STEPS:
        moment = step(name)
        if moment is not None:
            value = float(amount) if stage is Stage.OPPORTUNITY and amount is not None else None
            _sales(changes, lead, stage, place, moment, stage.value, common, amount=value)
    outcome = row.get("outcome")
    if outcome in (None, "open"):
        return place.adjusted
    if outcome not in ("won", "lost"):
        raise IngestError(
            f"must be won, lost or open, got {outcome!r}", file=file, line=line, field="outcome"
        )
    closed = step("closed_time")
    if closed is None:
        raise IngestError(
            f"is required when outcome is {outcome}", file=file, line=line, field="closed_time"
        )
    value = float(amount) if amount is not None else None
    _sales(changes, lead, Stage(outcome), place, closed, str(outcome), common, amount=value)
    return place.adjusted


@dataclass
class _Placement:
    """Where a row's steps go in time: at or after ``floor``, the live cycle's start (if any)."""

    floor: datetime | None
    adjusted: bool = False

    def fits(self, at: datetime) -> bool:
        return self.floor is None or at >= self.floor


def _sales(
    changes: Changes,
    lead: LeadRow,
    to: Stage,
    place: _Placement,
    at: datetime,
    action: str,
    origin: _Origin,
    *,
    reason: str | None = None,
    amount: float | None = None,
) -> None:
    cycle_before = lead.cycle
    note = None
    if not place.fits(at):
        assert place.floor is not None
        note = (
            f"imported time {at.isoformat()} precedes this MQL cycle "
            f"(open since {place.floor.isoformat()}); recorded at the cycle's start"
        )
        at, place.adjusted = place.floor, True
    changes.move(
        lead, to, at=at, cause=Cause.IMPORT.value, actor=origin.actor, import_key=origin.key,
        reason=reason, note=note, sales_action=note is None, amount=amount,
    )  # fmt: skip
    changes.dispositions.append(
        {"lead_id": lead.lead_id, "cycle": cycle_before, "action": action, "reason": reason,
         "note": note, "amount": amount, "actor": origin.actor, "at": at}
    )  # fmt: skip
