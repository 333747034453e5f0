"""Administration over HTTP: API keys, webhooks, an on-demand tick, and ``whoami``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.auth import GuardedRoute, auditor, current_key, needs
from leadgate.api.schemas import KeyIn, KeyOut, PathId, RotateIn, RowId, WebhookIn, WebhookOut
from leadgate.service import TickReport, tick
from leadgate.service.keys import (
    ApiKey,
    create_key,
    list_keys,
    parse_duration,
    revoke_key,
    rotate_key,
)
from leadgate.webhooks.registry import Webhook, add_webhook, list_webhooks, remove_webhook

router = APIRouter(route_class=GuardedRoute, tags=["administration"])


def _iso(value: object) -> str | None:
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]


def key_out(key: ApiKey, token: str | None = None) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=key.role.value,
        created_at=key.created_at.isoformat(),
        created_by=key.created_by,
        revoked_at=_iso(key.revoked_at),
        last_used_at=_iso(key.last_used_at),
        expires_at=_iso(key.expires_at),
        replaced_by=key.replaced_by,
        token=token,
    )


def webhook_out(hook: Webhook, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        topics=list(hook.topics),
        active=hook.active,
        created_at=hook.created_at.isoformat(),
        deliveries=hook.counts,
        secret=secret,
    )


@router.get("/v1/whoami", response_model=KeyOut, openapi_extra=needs("whoami"))
async def whoami(request: Request) -> KeyOut:
    """The key this request authenticated with (name, prefix, role)."""
    return key_out(current_key(request))


@router.get("/v1/keys", response_model=list[KeyOut], openapi_extra=needs("admin"))
async def keys(request: Request, revoked: Annotated[bool, Query()] = False) -> list[KeyOut]:
    """API keys (never their secrets); ``revoked=true`` lists revoked keys too."""
    store = config_of(request).store
    found = await run_in_threadpool(lambda: list_keys(store, include_revoked=revoked))
    return [key_out(k) for k in found]


@router.post("/v1/keys", response_model=KeyOut, status_code=201, openapi_extra=needs("admin"))
async def new_key(request: Request, body: KeyIn) -> KeyOut:
    """Create a key; the answer's ``token`` is the only time the key is shown.

    ``expires_in`` (``30d``, ``12h``, ``2w``): the key is refused (401) from then on.
    """
    config = config_of(request)
    by = auditor(request)
    lifetime = None if body.expires_in is None else parse_duration(body.expires_in, "expires_in")
    made = await config.write(
        lambda: create_key(
            config.store, body.role, name=body.name, created_by=by.name, now=config.now(),
            expires_in=lifetime, by_key=by.key_id,
        )
    )  # fmt: skip
    return key_out(made.key, made.token)


@router.delete("/v1/keys/{ident}", response_model=KeyOut, openapi_extra=needs("admin"))
async def revoke(request: Request, ident: PathId) -> KeyOut:
    """Revoke a key by id, prefix or name (it stops working at once)."""
    config = config_of(request)
    by = auditor(request)
    key = await config.write(
        lambda: revoke_key(config.store, ident, now=config.now(), actor=by.name, by_key=by.key_id)
    )
    return key_out(key)


@router.post(
    "/v1/keys/{ident}/rotate",
    response_model=KeyOut,
    status_code=201,
    openapi_extra=needs("admin"),
    responses={409: {"description": "the key was already rotated or has expired"}},
)
async def rotate(request: Request, ident: str, body: RotateIn | None = None) -> KeyOut:
    """Replace a key by a new one with the same name and role (``token``: shown this once);
    the old key keeps working for ``overlap`` (default ``24h``; ``0s``: stops at once)."""
    config = config_of(request)
    by = auditor(request)
    overlap = parse_duration(body.overlap if body else "24h", "overlap")
    made = await config.write(
        lambda: rotate_key(
            config.store, ident, overlap=overlap, now=config.now(), actor=by.name,
            by_key=by.key_id,
        )
    )  # fmt: skip
    return key_out(made.key, made.token)


@router.get("/v1/webhooks", response_model=list[WebhookOut], openapi_extra=needs("admin"))
async def webhooks(request: Request) -> list[WebhookOut]:
    """Active webhooks with their delivery counts by status."""
    found = await run_in_threadpool(list_webhooks, config_of(request).store)
    return [webhook_out(h) for h in found]


@router.post(
    "/v1/webhooks", response_model=WebhookOut, status_code=201, openapi_extra=needs("admin")
)
async def new_webhook(request: Request, body: WebhookIn) -> WebhookOut:
    """Add a webhook; the answer's ``secret`` (given or generated) is shown this once."""
    config = config_of(request)
    hook, secret = await config.write(
        lambda: add_webhook(
            config.store,
            body.url,
            secret=body.secret,
            topics=body.topics,
            now=config.now(),
            by=auditor(request),
        )
    )
    return webhook_out(hook, secret)


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, openapi_extra=needs("admin"))
async def drop_webhook(request: Request, webhook_id: RowId) -> None:
    """Deactivate a webhook; its pending deliveries are dropped."""
    config = config_of(request)
    await config.write(
        lambda: remove_webhook(config.store, webhook_id, now=config.now(), by=auditor(request))
    )


@router.post("/v1/tick", response_model=TickReport, openapi_extra=needs("admin"))
async def run_tick(request: Request) -> TickReport:
    """Re-score what time has changed (decay, windows) and apply MQL expiries now."""
    config = config_of(request)
    report = await config.write(lambda: tick(config.store, config.now(), pinned=False))
    config.wake_worker()
    return report
