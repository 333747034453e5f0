"""``/app/settings`` (admin): API keys, webhooks with their delivery logs, reject reason codes.

A new key's token (and a new webhook's secret) is shown once, on the page that answers the
creating POST, and is never stored in the session or shown again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from leadgate.errors import LeadgateError
from leadgate.service import (
    change_reject_reasons,
    reject_reason_usage,
    reject_reasons,
    reset_reject_reasons,
)
from leadgate.service.keys import ROLES, create_key, list_keys, revoke_key
from leadgate.web.guard import Viewer, config_of, posted_form, sign_in_check
from leadgate.web.render import page
from leadgate.webhooks.log import delivery_log, send_test
from leadgate.webhooks.registry import TOPICS, add_webhook, list_webhooks, remove_webhook

router = APIRouter()


async def _settings_page(
    request: Request, viewer: Viewer, status: int = 200, **shown: Any
) -> Response:
    store = config_of(request).store
    keys = await run_in_threadpool(lambda: list_keys(store, include_revoked=True))
    hooks = await run_in_threadpool(list_webhooks, store)
    log_id = request.query_params.get("log")
    log = None
    if log_id and log_id.isdigit():
        log = (int(log_id), await run_in_threadpool(delivery_log, store, int(log_id)))
    reasons = await run_in_threadpool(reject_reasons, store)
    usage = await run_in_threadpool(reject_reason_usage, store)
    return page(
        request, viewer, "settings.html", title="Settings", status=status, keys=keys,
        hooks=hooks, log=log, reasons=reasons, usage=usage, roles=ROLES, topics=TOPICS, **shown,
    )  # fmt: skip


@router.get("/settings")
async def settings(request: Request) -> Response:
    """Keys, webhooks (``?log=ID`` shows one's deliveries) and reject reasons."""
    viewer = await sign_in_check(request, "admin")
    return await _settings_page(request, viewer)


@router.post("/settings/keys")
async def keys(request: Request) -> Response:
    """Create a key (its token shown on this answer only) or revoke one."""
    viewer = await sign_in_check(request, "admin")
    form = await posted_form(request, viewer)
    config = config_of(request)
    if form.get("do") == "revoke":
        key = await config.write(
            lambda: revoke_key(config.store, form.get("key"), now=config.now())
        )
        viewer.session.flash("ok", f"revoked key {key.id} '{key.name}'")
        return RedirectResponse("/app/settings", 303)
    try:
        made = await config.write(
            lambda: create_key(
                config.store, form.get("role"), name=form.get("name"), created_by=viewer.actor,
                now=config.now(),
            )
        )  # fmt: skip
    except LeadgateError as exc:
        return await _settings_page(request, viewer, 422, error=str(exc))
    return await _settings_page(request, viewer, new_key=made)


@router.post("/settings/webhooks")
async def hooks(request: Request) -> Response:
    """Add, remove or test a webhook."""
    viewer = await sign_in_check(request, "admin")
    form = await posted_form(request, viewer)
    config = config_of(request)
    action = form.get("do")
    if action in ("remove", "test"):
        ident = form.get("webhook")
        if not ident.isdigit():
            raise HTTPException(422, "webhook: expected a webhook id")
        if action == "remove":
            await config.write(remove_webhook, config.store, int(ident))
            viewer.session.flash("ok", f"webhook {ident} removed")
        else:
            error = await run_in_threadpool(send_test, config.store, int(ident), now=config.now())
            if error is None:
                viewer.session.flash("ok", f"test message delivered to webhook {ident}")
            else:
                viewer.session.flash("error", f"test to webhook {ident} failed: {error}")
        return RedirectResponse("/app/settings#webhooks", 303)
    topics = form.all("topic") or None
    try:
        hook, secret = await config.write(
            lambda: add_webhook(
                config.store, form.get("url"), secret=form.get("secret") or None, topics=topics,
                now=config.now(),
            )
        )  # fmt: skip
    except LeadgateError as exc:
        return await _settings_page(request, viewer, 422, error=str(exc))
    config.wake_worker()
    return await _settings_page(request, viewer, new_hook=(hook, secret))


@router.post("/settings/reasons")
async def reasons(request: Request) -> Response:
    """Add (or re-map) a reject reason code, remove one, or go back to the built-in codes."""
    viewer = await sign_in_check(request, "admin")
    form = await posted_form(request, viewer)
    config = config_of(request)
    action = form.get("do")
    try:
        if action == "reset":
            await config.write(reset_reject_reasons, config.store, config.now())
            viewer.session.flash("ok", "reject reasons reset to the built-in codes")
        elif action == "remove":
            code = form.get("code")
            await config.write(
                lambda: change_reject_reasons(config.store, at=config.now(), remove=[code])
            )
            viewer.session.flash("ok", f"reason {code} removed")
        else:
            code, target = form.get("code").strip(), form.get("target")
            await config.write(
                lambda: change_reject_reasons(config.store, at=config.now(), add={code: target})
            )
            viewer.session.flash("ok", f"reason {code} → {target} saved")
    except LeadgateError as exc:
        return await _settings_page(request, viewer, 422, error=str(exc))
    return RedirectResponse("/app/settings#reasons", 303)
