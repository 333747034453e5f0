"""Sales dispositions: what sales did with a lead, checked against the stage machine.

Actions: ``accept`` (mql -> sal), ``reject`` with a reason code (mql/sal -> nurture or
disqualified, by reason), ``sql``, ``opportunity`` (with an amount), ``won``, ``lost``,
``recycle`` (back to nurture from sal, sql or lost) and ``touch`` (a first contact, no stage
change: it starts the speed-to-lead clock's stop and counts as a sales action against expiry).

Reason codes are configurable (the ``reject_reasons`` setting in the store); each code says
whether a rejected lead is recycled to nurture (it may come back) or disqualified (it may not).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from leadgate.errors import ConflictError, IngestError
from leadgate.lifecycle.stages import Stage, check_move

# code -> stage a rejected lead goes to. "other" needs a note saying why.
DEFAULT_REJECT_REASONS: dict[str, str] = {
    "wrong_title": "nurture",
    "wrong_company_size": "nurture",
    "wrong_industry": "nurture",
    "no_intent": "nurture",
    "bad_contact_data": "disqualified",
    "duplicate": "disqualified",
    "competitor": "disqualified",
    "student": "disqualified",
    "already_in_pipeline": "nurture",
    "other": "nurture",
}

# action -> the stage it moves the lead to (reject: decided by the reason; touch: none).
ACTION_TARGETS: dict[str, Stage | None] = {
    "accept": Stage.SAL,
    "reject": None,
    "sql": Stage.SQL,
    "opportunity": Stage.OPPORTUNITY,
    "won": Stage.WON,
    "lost": Stage.LOST,
    "recycle": Stage.NURTURE,
    "touch": None,
}
ACTIONS = tuple(ACTION_TARGETS)
# action -> the stages sales may take it from. The stage machine has more edges (imports may
# move a lead straight to nurture); sales act only on leads handed to them.
ACTION_FROM: dict[str, tuple[Stage, ...]] = {
    "accept": (Stage.MQL,),
    "reject": (Stage.MQL, Stage.SAL),
    "sql": (Stage.SAL,),
    "opportunity": (Stage.SQL,),
    "won": (Stage.OPPORTUNITY,),
    "lost": (Stage.SAL, Stage.SQL, Stage.OPPORTUNITY),
    "recycle": (Stage.SAL, Stage.SQL, Stage.LOST),
    "touch": (Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY),
}


class DispositionError(IngestError):
    """Raised when a disposition is malformed (unknown action or reason, missing amount).

    A subclass of ``IngestError`` so adapters answer it like any bad input (HTTP 422), with
    ``field`` naming the offending field.
    """

    def __init__(self, message: str, field: str) -> None:
        self.file = ""
        self.line = None
        self.field = field
        Exception.__init__(self, f"{field}: {message}")


@dataclass(frozen=True)
class Disposition:
    """A validated disposition and the stage it leads to (``None``: the stage stays)."""

    action: str
    target: Stage | None
    reason: str | None
    note: str | None
    amount: float | None


def plan_disposition(
    lead_id: str,
    stage: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    amount: float | None = None,
    reasons: Mapping[str, str] | None = None,
) -> Disposition:
    """Validate a disposition against the lead's stage; return what it does.

    Raises:
        DispositionError: unknown action or reason code, "other" without a note, bad amount.
        ConflictError: the action is not allowed from the lead's current stage.
    """
    reasons = DEFAULT_REJECT_REASONS if reasons is None else reasons
    if action not in ACTION_TARGETS:
        raise DispositionError(f"unknown action '{action}' (use {', '.join(ACTIONS)})", "action")
    note = note.strip() if note and note.strip() else None
    if amount is not None:
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
        ):
            raise DispositionError(f"must be a finite number, got {amount!r}", "amount")
        if amount < 0:
            raise DispositionError(f"must not be negative, got {amount!r}", "amount")
        amount = float(amount)
    target = ACTION_TARGETS[action]
    if action == "reject":
        if not reason:
            raise DispositionError(f"a reject needs a reason code ({', '.join(reasons)})", "reason")
        if reason not in reasons:
            raise DispositionError(
                f"unknown reason code '{reason}' (use {', '.join(reasons)})", "reason"
            )
        if reason == "other" and not note:
            raise DispositionError("reason 'other' needs a note saying why", "note")
        target = Stage(reasons[reason])
    elif reason is not None and reason not in reasons:
        raise DispositionError(
            f"unknown reason code '{reason}' (use {', '.join(reasons)})", "reason"
        )
    if Stage(stage) not in ACTION_FROM[action]:
        raise ConflictError(
            f"lead '{lead_id}' is at stage '{stage}': '{action}' applies to leads at "
            f"{', '.join(ACTION_FROM[action])}"
        )
    if target is not None:
        check_move(lead_id, stage, target)
    return Disposition(action, target, reason, note, amount)
