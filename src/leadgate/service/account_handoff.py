"""Which leads are handed to sales with their account (issue #15, ``abm_when``).

Leads of an account that matches the model's ``accounts: abm_when`` are scored and explained as
usual, but they are not handed off at their own MQL or PQL: their account's MQA is the hand-off
(one queue item per account, ``GET /v1/mqas``; a cycle in ``mqa_cycles`` with
``qualified_by: mqa``). ``rescore.apply_scores`` asks ``abm_leads`` which of the leads it
decides are held so. Whether an account is ABM is the account executor's own decision: the
account plan's base segment (``accounts_ir.ABM_SEGMENT``) on the account's fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from leadgate.engine.accounts_compile import compile_accounts
from leadgate.engine.accounts_ir import ABM_SEGMENT, AccountPlan
from leadgate.engine.python import segment_of
from leadgate.store.history import LeadRow
from leadgate.store.schema import accounts

if TYPE_CHECKING:
    from leadgate.service.rescore import ActiveModel

CHUNK = 2000
# Compiled account plans by model hash (None: the model has no ``accounts:`` block): a version
# never changes, and a few models are ever live in one process.
_PLANS: dict[str, AccountPlan | None] = {}


def account_plan(model: ActiveModel) -> AccountPlan | None:
    """The model's compiled ``accounts:`` block (once a process), or None when it has none."""
    if model.hash not in _PLANS:
        parsed = model.parsed()
        if len(_PLANS) > 64:
            _PLANS.clear()
        _PLANS[model.hash] = compile_accounts(parsed) if parsed.spec.accounts is not None else None
    return _PLANS[model.hash]


def abm_plan(model: ActiveModel) -> AccountPlan | None:
    """The model's account plan when it has an ``abm_when``; None otherwise."""
    plan = account_plan(model)
    return plan if plan is not None and plan.abm_when is not None else None


def _is_abm(plan: AccountPlan, account_id: str, attrs: Mapping[str, Any] | None) -> bool:
    profile = {**dict(attrs or {}), "account_id": account_id}
    return segment_of(plan.base, profile).name == ABM_SEGMENT


def abm_accounts(conn: Connection, plan: AccountPlan, account_ids: Sequence[str]) -> set[str]:
    """The accounts among ``account_ids`` that match ``plan``'s ``abm_when``."""
    ids = sorted(set(account_ids))
    out: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        q = select(accounts.c.account_id, accounts.c.attrs).where(
            accounts.c.account_id.in_(ids[start : start + CHUNK])
        )
        out.update(a for a, attrs in conn.execute(q) if _is_abm(plan, a, attrs))
    return out


def abm_leads(
    conn: Connection,
    model: ActiveModel,
    rows: Sequence[LeadRow],
    attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> frozenset[str]:
    """The ids of ``rows`` whose account is ABM under ``model``: not handed off on their own.
    ``attrs``: the stored attributes of the rows' accounts, by id, when the caller read them
    with the rows (not read again)."""
    plan = abm_plan(model)
    if plan is None:
        return frozenset()
    ids = [r.account_id for r in rows if r.account_id is not None]
    if attrs is not None and all(i in attrs for i in ids):
        abm = {i for i in set(ids) if _is_abm(plan, i, attrs[i])}
    else:
        abm = abm_accounts(conn, plan, ids) if ids else set()
    return frozenset(r.lead_id for r in rows if r.account_id in abm)
