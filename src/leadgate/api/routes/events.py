"""Writes that re-score a lead in the same request: events, lead profiles, accounts.

Each answer carries the affected lead's ``{"lead_id", "stage", "score"}`` (``score`` is the
``Score.to_record()`` of ``leadgate score --format jsonl``), computed at the server's current time.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, actor_of, needs
from leadgate.api.batching import Answer
from leadgate.api.keys import FieldError
from leadgate.api.limits import check_value
from leadgate.api.schemas import (
    SIZED_ATTRIBUTES,
    EventBatch,
    EventIn,
    LeadId,
    event_prefixes,
    parse_event_body,
)
from leadgate.io.account_events import OwnedEvent
from leadgate.service import LeadState, upsert_account, upsert_lead
from leadgate.service.accounts_live import UnknownAccountError
from leadgate.service.shapes import AccountState, EventLeadState

router = APIRouter(route_class=GuardedRoute, tags=["events and profiles"])

_EVENT_SCHEMA = EventIn.model_json_schema()
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _EVENT_SCHEMA,
                        {
                            "type": "object",
                            "title": EventBatch.__name__,
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": _EVENT_SCHEMA}},
                        },
                    ]
                },
                "example": {
                    "lead_id": "L1",
                    "type": "page_view",
                    "timestamp": "2026-11-20T09:30:00Z",
                    "url": "/pricing",
                },
            }
        },
    }
}


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: PostgreSQL's jsonb refuses them, and so do we.
    raise FieldError(f"{name} is not a JSON value (use null or a number)", "body")


async def json_body(request: Request) -> Any:
    """The request body as JSON; a malformed body is a 422 naming ``body``.

    ``limits.BodyLimitMiddleware`` has already refused a body over the size limit (413, however
    it was framed) or nested too deeply.
    """
    raw = await request.body()
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # also: an integer of more than 4,300 digits
        raise FieldError(f"not valid JSON ({exc})", "body") from None


@router.post(
    "/v1/events",
    response_model=EventLeadState | AccountState | list[EventLeadState | AccountState],
    openapi_extra={**needs("events:write"), **_EVENTS_BODY},
    responses={413: {"description": "more events than the server's batch limit"}},
)
async def post_events(request: Request, response: Response) -> Any:
    """Ingest one event or ``{"events": [...]}``; return the state of each affected lead.

    One event answers one ``{"lead_id", "stage", "score", "account"}`` (``account``: the lead's
    account's ``{"account_id", "stage", "cycle", "score"}`` as this write left it, when the
    published model scores accounts; else null) (an account-level event, with an
    ``account_id`` and no ``lead_id``: its account's ``{"account_id", "stage", "cycle",
    "score"}``); a batch answers a list of them, one per affected lead, then one per account of
    its account-level events. An event id seen before is ignored (replays add nothing);
    ``X-Leadgate-Inserted`` / ``X-Leadgate-Ignored`` count them.
    """
    config = config_of(request)
    owned, batch = parse_event_body(await json_body(request), config.max_batch)
    actor = actor_of(request)
    assert config.batcher is not None
    if any(o.account for o in owned):
        answer = await _with_account_events(request, owned, batch, actor)
    else:
        answer = await config.batcher.submit([o.event for o in owned], actor)
    response.headers["X-Leadgate-Inserted"] = str(answer.inserted)
    response.headers["X-Leadgate-Ignored"] = str(answer.ignored)
    if answer.inserted:
        config.wake_worker()
    return answer.leads if batch else answer.leads[0]


async def _with_account_events(
    request: Request, owned: list[OwnedEvent], batch: bool, actor: str
) -> Answer:
    """A body with account-level events: written with the other requests waiting, as lead
    events are (the group commit); an unknown account is a 422 naming that event's
    ``account_id`` (a merged write that fails is written request by request, so another
    request's unknown account is not this one's)."""
    config = config_of(request)
    assert config.batcher is not None
    try:
        return await config.batcher.submit(
            [o.event for o in owned if not o.account], actor,
            [o.event for o in owned if o.account],
        )  # fmt: skip
    except UnknownAccountError as exc:
        where = event_prefixes(batch, len(owned))
        at = next(i for i, o in enumerate(owned) if o.account and o.event.lead_id == exc.account_id)
        raise FieldError(exc.reason, f"{where[at]}.account_id") from None


def _finite(attrs: dict[str, Any]) -> dict[str, Any]:
    """Refuse what the store cannot keep (``limits.check_value``: control characters, NaN,
    Infinity, integers beyond 64 bits) and values too long for its sized columns."""
    check_value(attrs, "")
    for key, value in attrs.items():
        limit = SIZED_ATTRIBUTES.get(key)
        if limit is not None and len(str(value)) > limit:
            raise FieldError(f"longer than {limit} characters", key)
    return attrs


@router.put(
    "/v1/leads/{lead_id:path}", response_model=LeadState, openapi_extra=needs("events:write")
)
async def put_lead(
    request: Request,
    lead_id: LeadId,
    attrs: Annotated[
        dict[str, Any], Body(examples=[{"email": "ana@acme.com", "title": "VP Sales"}])
    ],
) -> LeadState:
    """Create or replace a lead's profile (a flat JSON object) and return its new score."""
    config = config_of(request)
    state = await config.write(
        upsert_lead, config.store, lead_id, _finite(attrs), config.now(), actor=actor_of(request)
    )
    config.wake_worker()
    return state


@router.put(
    "/v1/accounts/{account_id:path}",
    response_model=list[LeadState],
    openapi_extra=needs("events:write"),
)
async def put_account(
    request: Request,
    account_id: LeadId,
    attrs: Annotated[
        dict[str, Any], Body(examples=[{"industry": "software", "company_size": 800}])
    ],
) -> list[LeadState]:
    """Create or replace an account; return the new state of each of its leads."""
    config = config_of(request)
    states = await config.write(
        upsert_account,
        config.store,
        account_id,
        _finite(attrs),
        config.now(),
        actor=actor_of(request),
    )
    config.wake_worker()
    return states
