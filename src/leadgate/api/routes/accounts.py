"""Accounts (issue #15): an account with its score and buying group, the MQA queue, account
dispositions. Roles as for leads: reading an account is ``leads:read``, the queue
``queue:read``, a disposition ``dispositions:write``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, actor_of, needs
from leadgate.api.schemas import MAX_NOTE, ActedByKey, Id, LeadId, Text
from leadgate.service.accounts import (
    AccountState,
    AccountView,
    MqaItem,
    dispose_account,
    get_account,
    mqa_queue,
)

router = APIRouter(route_class=GuardedRoute, tags=["accounts"])


class AccountDispositionIn(ActedByKey):
    """What sales did with an MQA (``reason``: a reject's reason code)."""

    action: Literal["accept", "reject", "opportunity", "won", "lost"]
    reason: Id | None = None
    note: Annotated[Text, Field(max_length=MAX_NOTE)] | None = None


@router.get(
    "/v1/accounts/{account_id:path}",
    response_model=AccountView,
    openapi_extra=needs("leads:read"),
)
async def read_account(request: Request, account_id: LeadId) -> AccountView:
    """An account: stage, score, explanation, buying group, its leads, stage moves."""
    return await run_in_threadpool(get_account, config_of(request).store, account_id)


@router.get("/v1/mqas", response_model=list[MqaItem], openapi_extra=needs("queue:read"))
async def mqas(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=10_000, description="most items in the answer")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="skip this many")] = 0,
) -> list[MqaItem]:
    """The account queue: accounts at ``mqa`` (one item each, with its buying group), highest
    total first, then oldest MQA first."""
    config = config_of(request)
    return await run_in_threadpool(
        lambda: mqa_queue(config.store, as_of=config.now(), limit=limit, offset=offset)
    )


@router.post(
    "/v1/accounts/{account_id:path}/disposition",
    response_model=AccountState,
    openapi_extra=needs("dispositions:write"),
    responses={409: {"description": "the action is not allowed from the account's stage"}},
)
async def account_disposition(
    request: Request, account_id: LeadId, body: AccountDispositionIn
) -> AccountState:
    """Record what sales did with an MQA (accept, reject with a reason, opportunity, won, lost)."""
    config = config_of(request)
    return await config.write(
        lambda: dispose_account(
            config.store, account_id, body.action, reason=body.reason, note=body.note,
            actor=actor_of(request), at=config.now(),
        )
    )  # fmt: skip
