"""Privacy and governance over HTTP (admin only): erasure, the audit log, settings, retention."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, auditor, needs
from leadgate.api.schemas import LeadId, query_time
from leadgate.service.erasure import ErasureReport, erase_lead
from leadgate.service.retention import RetentionReport, apply_retention
from leadgate.service.settings import SettingView, change_setting, list_settings, unset_setting
from leadgate.store.audit import MAX_LIMIT, AuditEntry, list_audit

router = APIRouter(route_class=GuardedRoute, tags=["privacy and governance"])


class SettingIn(BaseModel):
    """A setting's new value; ``force`` accepts a retention that changes scores."""

    value: Any = Field(examples=[730, ["loopback"]])
    force: bool = False


@router.delete(
    "/v1/leads/{lead_id:path}",
    response_model=ErasureReport,
    openapi_extra=needs("admin"),
    responses={
        404: {"description": "no such lead"},
        409: {"description": "the id is already an erased tombstone"},
    },
)
async def erase(request: Request, lead_id: LeadId) -> ErasureReport:
    """Erase a person (GDPR art. 17): their personal data is blanked in every table, their
    records stay as anonymous tombstones (ids in the answer), a ``lead.erased`` webhook tells
    downstream systems. Cannot be undone."""
    config = config_of(request)
    report = await config.write(
        lambda: erase_lead(config.store, lead_id, at=config.now(), by=auditor(request))
    )
    config.wake_worker()
    return report


@router.get("/v1/audit", response_model=list[AuditEntry], openapi_extra=needs("admin"))
async def audit(
    request: Request,
    actor: Annotated[str | None, Query(max_length=255, description="e.g. key:ci")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="an action (key.create) or family (key)")
    ] = None,
    since: Annotated[str | None, Query(description="at or after (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[AuditEntry]:
    """Who changed models, keys, webhooks, reasons, settings; dispositions and erasures.
    Newest first."""
    store = config_of(request).store
    start, end = query_time(since, "since"), query_time(until, "until")
    return await run_in_threadpool(
        lambda: list_audit(store, actor=actor, action=action, since=start, until=end, limit=limit)
    )


@router.get("/v1/settings", response_model=list[SettingView], openapi_extra=needs("admin"))
async def settings(request: Request) -> list[SettingView]:
    """Every setting with its value (``null``: not set) and what it does."""
    return await run_in_threadpool(list_settings, config_of(request).store)


@router.put(
    "/v1/settings/{key}",
    response_model=SettingView,
    openapi_extra=needs("admin"),
    responses={409: {"description": "the retention would change scores (send force)"}},
)
async def put_setting(request: Request, key: str, body: SettingIn) -> SettingView:
    """Change a setting (audited)."""
    config = config_of(request)
    return await config.write(
        lambda: change_setting(
            config.store, key, body.value, at=config.now(), by=auditor(request), force=body.force
        )
    )


@router.delete("/v1/settings/{key}", status_code=204, openapi_extra=needs("admin"))
async def delete_setting(request: Request, key: str) -> None:
    """Remove a setting, back to its default (audited)."""
    config = config_of(request)
    await config.write(
        lambda: unset_setting(config.store, key, at=config.now(), by=auditor(request))
    )


@router.post(
    "/v1/retention/apply",
    response_model=RetentionReport,
    openapi_extra=needs("admin"),
    responses={409: {"description": "the events retention would change scores (force)"}},
)
async def retention(
    request: Request, dry_run: bool = False, force: bool = False
) -> RetentionReport:
    """Delete events, outbox messages and delivery records older than the retention settings."""
    config = config_of(request)
    return await config.write(
        lambda: apply_retention(
            config.store, config.now(), by=auditor(request), dry_run=dry_run, force=force
        )
    )
