"""Signing in with an API key, signing out, and ``/app`` itself (the viewer's first page)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from leadgate.service.keys import verify_key
from leadgate.web.guard import (
    Form,
    current_viewer,
    posted_form,
    read_form,
    sign_in_check,
    state_of,
)
from leadgate.web.render import NAV, page
from leadgate.web.session import COOKIE, IDLE_SECONDS, PRE_COOKIE, same_token

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path of this app: never another site (an open redirect)."""
    if target.startswith("/app") and not target.startswith("//") and "\\" not in target:
        return target
    return "/app"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_page(request: Request, message: str = "", status: int = 200) -> Response:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = page(
        request, None, "login.html", title="Sign in", status=status, pre_csrf=token,
        next_url=_safe_next(request.query_params.get("next", "/app")), message=message,
    )  # fmt: skip
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/app"
    )
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The sign-in form (an API key)."""
    if await current_viewer(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next", "/app")), 303)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key; on success start a session and go where the user was headed."""
    form = Form(await read_form(request))
    if not same_token(form.get("csrf"), request.cookies.get(PRE_COOKIE)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the sign-in page")
    state = state_of(request)
    config = state.config
    # The API's failed-authentication throttle, per client address: a guess at the sign-in form
    # counts as one at the API, and the other way round.
    address = request.client.host if request.client else ""
    wait = config.auth_throttle.retry_after(address)
    if wait is not None:
        refused = _login_page(
            request, f"Too many failed sign-ins from {address}: try again in {wait} s.", 429
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    token = form.get("key").strip()
    key = (
        await run_in_threadpool(lambda: verify_key(config.store, token, now=config.now()))
        if token
        else None
    )
    if key is None:
        config.auth_throttle.failed(address)
        return _login_page(request, "That API key is not valid (unknown, expired or revoked).", 401)
    session = state.sessions.create(token)
    response = RedirectResponse(_safe_next(form.get("next", "/app")), 303)
    response.set_cookie(
        COOKIE, session.sid, max_age=IDLE_SECONDS, httponly=True, samesite="strict",
        secure=_secure(request), path="/app",
    )  # fmt: skip
    response.delete_cookie(PRE_COOKIE, path="/app")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (the form carries the CSRF token like every other)."""
    viewer = await sign_in_check(request, "whoami")
    await posted_form(request, viewer)
    state_of(request).sessions.drop(viewer.session.sid)
    response = RedirectResponse("/app/login", 303)
    response.delete_cookie(COOKIE, path="/app")
    return response


@router.get("/")
async def home(request: Request) -> Response:
    """The first page the viewer's role may open (sales: the queue)."""
    viewer = await sign_in_check(request, "whoami")
    first = next((path for path, _, permission in NAV if viewer.may(permission)), "/app/leads")
    return RedirectResponse(first, 303)
