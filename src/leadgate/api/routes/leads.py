"""Reading leads and the sales side: a lead with its history, the MQL queue, dispositions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, actor_of, auditor, needs
from leadgate.api.limits import check_value
from leadgate.api.schemas import DispositionIn, LeadId, query_time
from leadgate.service import (
    LeadState,
    LeadView,
    QueueItem,
    SlaBreach,
    dispose,
    get_lead,
    mql_queue,
    reject_reasons,
    set_reject_reasons,
)
from leadgate.service import sla_breaches as list_breaches

router = APIRouter(route_class=GuardedRoute, tags=["leads and sales"])


@router.get("/v1/leads/{lead_id:path}", response_model=LeadView, openapi_extra=needs("leads:read"))
async def read_lead(
    request: Request,
    lead_id: LeadId,
    as_of: Annotated[
        str | None,
        Query(
            description="explain the score at this time, ISO 8601 "
            "(default: when it was last scored)"
        ),
    ] = None,
) -> LeadView:
    """A lead: stage, score, explanation, stage transitions, MQL cycles, score history."""
    config = config_of(request)
    at = query_time(as_of, "as_of")
    return await run_in_threadpool(get_lead, config.store, lead_id, at)


@router.get("/v1/mqls", response_model=list[QueueItem], openapi_extra=needs("queue:read"))
async def queue(
    request: Request,
    segment: str | None = None,
    owner: str | None = None,
    sla: Annotated[
        Literal["pending", "breached", "met"] | None, Query(description="SLA state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="most items in the answer")] = 100,
    offset: Annotated[
        int,
        Query(
            ge=0, le=10_000_000, description="skip this many (paging: next offset = offset + limit)"
        ),
    ] = 0,
) -> list[QueueItem]:
    """The sales queue: leads at ``mql``, highest score first, then oldest first.

    Filtered, sorted and paged in the database: ``offset`` and ``limit`` page through it."""
    config = config_of(request)
    return await run_in_threadpool(
        lambda: mql_queue(
            config.store, as_of=config.now(), segment=segment, owner=owner, sla_state=sla,
            limit=limit, offset=offset,
        )
    )  # fmt: skip


@router.get("/v1/sla-breaches", response_model=list[SlaBreach], openapi_extra=needs("queue:read"))
async def sla_breaches(
    request: Request, segment: str | None = None, owner: str | None = None
) -> list[SlaBreach]:
    """MQL cycles whose first sales touch came late or is overdue now; most overdue first."""
    config = config_of(request)
    return await run_in_threadpool(
        lambda: list_breaches(config.store, as_of=config.now(), segment=segment, owner=owner)
    )


@router.post(
    "/v1/leads/{lead_id:path}/disposition",
    response_model=LeadState,
    openapi_extra=needs("dispositions:write"),
    responses={409: {"description": "the action is not allowed from the lead's stage"}},
)
async def disposition(request: Request, lead_id: LeadId, body: DispositionIn) -> LeadState:
    """Record what sales did (accept, reject with a reason code, sql, opportunity, won, lost)."""
    config = config_of(request)
    state = await config.write(
        lambda: dispose(
            config.store, lead_id, body.action, reason=body.reason, note=body.note,
            amount=body.amount, actor=actor_of(request), at=config.now(),
            by=auditor(request),
        )
    )  # fmt: skip
    config.wake_worker()
    return state


@router.get("/v1/reject-reasons", response_model=dict[str, str], openapi_extra=needs("queue:read"))
async def read_reject_reasons(request: Request) -> dict[str, str]:
    """The reject reason codes sales choose from: code -> ``nurture`` or ``disqualified``."""
    return await run_in_threadpool(reject_reasons, config_of(request).store)


@router.put("/v1/reject-reasons", response_model=dict[str, str], openapi_extra=needs("admin"))
async def replace_reject_reasons(
    request: Request,
    body: Annotated[
        dict[str, str],
        Body(examples=[{"no_budget": "nurture", "competitor": "disqualified"}]),
    ],
) -> dict[str, str]:
    """Replace the reject reason codes; each maps to ``nurture`` or ``disqualified`` (422 if not).

    Dispositions already recorded keep their codes.
    """
    config = config_of(request)
    check_value(body, "")
    return await config.write(
        lambda: set_reject_reasons(config.store, body, at=config.now(), by=auditor(request))
    )
