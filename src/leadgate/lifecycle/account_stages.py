"""An account's stages and what moves it between them (issue #15): pure decisions, no I/O.

Stages: ``target`` (known, nothing engaged yet), ``engaged`` (some lead of its buying group
engaged), ``mqa`` (qualified: in the account queue, with an SLA), ``opportunity``, ``customer``.
A fresh score moves a ``target`` or ``engaged`` account up (to ``engaged`` when a role has an
engaged member, to ``mqa`` when it is an MQA: a new MQA cycle); an MQA stays one until sales
act, as an MQL does. Sales dispositions: ``accept`` (first touch; stays ``mqa``), ``reject``
with a reason (recycled to ``engaged``: it may re-enter on a later MQA score), ``opportunity``,
``won`` (``customer``) and ``lost`` (recycled to ``engaged``).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadgate.errors import ConflictError
from leadgate.lifecycle.dispositions import DispositionError

TARGET, ENGAGED, MQA, OPPORTUNITY, CUSTOMER = "target", "engaged", "mqa", "opportunity", "customer"
ACCOUNT_STAGES = (TARGET, ENGAGED, MQA, OPPORTUNITY, CUSTOMER)
ACCOUNT_ACTIONS = ("accept", "reject", "opportunity", "won", "lost")
# action -> (stages it is allowed from, stage it moves to; None: stays)
_MOVES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "accept": ((MQA,), None),
    "reject": ((MQA,), ENGAGED),
    "opportunity": ((MQA,), OPPORTUNITY),
    "won": ((OPPORTUNITY,), CUSTOMER),
    "lost": ((OPPORTUNITY,), ENGAGED),
}


def stage_after_score(stage: str, mqa: bool, engaged: bool) -> str | None:
    """The stage a fresh score moves an account to, or None when it stays.

    Only ``target`` and ``engaged`` accounts move on a score: later stages belong to sales.
    """
    if stage not in (TARGET, ENGAGED):
        return None
    if mqa:
        return MQA
    if engaged and stage == TARGET:
        return ENGAGED
    return None


@dataclass(frozen=True)
class AccountMove:
    """What a disposition does: the stage it moves to (None: stays) and whether it is the
    cycle's first sales touch."""

    target: str | None
    touches: bool


def plan_account_disposition(stage: str, action: str, reason: str | None) -> AccountMove:
    """What ``action`` does to an account at ``stage``.

    Raises:
        DispositionError: unknown action, or ``reject`` without a reason (HTTP 422).
        ConflictError: the action is not allowed from ``stage``.
    """
    if action not in _MOVES:
        raise DispositionError(
            f"expected one of {', '.join(ACCOUNT_ACTIONS)}, got {action!r}", field="action"
        )
    if action == "reject" and not reason:
        raise DispositionError("a reject needs a reason code", field="reason")
    allowed, target = _MOVES[action]
    if stage not in allowed:
        raise ConflictError(
            f"cannot {action} an account at stage '{stage}' (allowed from {', '.join(allowed)})"
        )
    return AccountMove(target, touches=stage == MQA)
