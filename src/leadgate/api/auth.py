"""Bearer-key authentication and the role table: which role may call which route.

Every route under ``/v1`` declares one permission (``needs("events:write")``); ``GuardedRoute``
checks the ``Authorization: Bearer KEY`` header and the key's role *before* FastAPI reads or
validates the body, so a request without a valid key gets 401 and a key with the wrong role 403
whatever it sends. A route without a declared permission fails at start-up, unless it is listed
in ``PUBLIC`` -- forgetting the guard is not possible.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from leadgate.api.app import config_of
from leadgate.api.keys import ApiKey, Role, verify_key
from leadgate.api.schemas import ErrorOut
from leadgate.store.audit import Actor

PERMISSION_KEY = "x-leadgate-permission"

A, M, S, R = Role.ADMIN, Role.MARKETING, Role.SALES, Role.READ_ONLY
# permission -> roles allowed. Admin may do everything; read-only reads what it may see.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "events:write": frozenset({A, M}),  # events, lead and account profiles
    "leads:read": frozenset({A, M, S, R}),
    "queue:read": frozenset({A, M, S, R}),
    "dispositions:write": frozenset({A, S}),
    "models:read": frozenset({A, M, R}),
    "models:write": frozenset({A}),
    "reports:read": frozenset(
        {A, M, S, R}
    ),  # funnel, quality, ... (marketing and sales share them)
    "admin": frozenset({A}),  # keys, webhooks, tick
    "whoami": frozenset({A, M, S, R}),
}

PUBLIC = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


def needs(permission: str) -> dict[str, Any]:
    """``openapi_extra`` for a route: its permission, also shown in the OpenAPI schema."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    roles = sorted(r.value for r in PERMISSIONS[permission])
    return {PERMISSION_KEY: permission, "x-leadgate-roles": roles, "security": [{"bearer": []}]}


# The error answers every guarded route may give, for the OpenAPI document.
_ERRORS = {
    400: "the store's state refuses the request (e.g. no model published yet)",
    401: "missing, malformed, unknown or revoked API key",
    403: "the key's role may not call this route",
    413: "the request body is over the size limit, however it is framed",
    422: "a body field or parameter is invalid; `field` names it",
    429: "too many failed authentications from this address; see Retry-After",
}
# Routes that name a thing that may not exist (path parameters, or a version to compare).
_NOT_FOUND_PATHS = ("{", "/v1/models/diff")
_CONFLICT_PATHS = ("/disposition",)


def error_responses(path: str) -> dict[int | str, Any]:
    """``responses`` for a guarded route: the statuses above, 404 and 409 where they apply."""
    statuses = dict(_ERRORS)
    if any(p in path for p in _NOT_FOUND_PATHS):
        statuses[404] = "no such lead, key, webhook or model version"
    if any(p in path for p in _CONFLICT_PATHS):
        statuses[409] = "the action is not allowed from the lead's stage"
    out: dict[int | str, Any] = {
        status: {"model": ErrorOut, "description": text}
        for status, text in sorted(statuses.items())
    }
    out[401]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    out[429]["headers"] = {
        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
    }
    return out


def permission_of(route: APIRoute) -> str | None:
    return (route.openapi_extra or {}).get(PERMISSION_KEY)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer KEY``; 401 when the header is missing or malformed."""
    header = request.headers.get("authorization")
    if not header:
        raise _unauthorized("missing API key (send Authorization: Bearer KEY)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("malformed Authorization header (expected: Bearer KEY)")
    return token.strip()


def current_key(request: Request) -> ApiKey:
    """The authenticated key of this request (set by ``GuardedRoute``)."""
    key: ApiKey = request.state.api_key
    return key


def actor_of(request: Request) -> str:
    """Who acts, for the history: ``key:<name>`` of the request's key."""
    return f"key:{current_key(request).name}"


def auditor(request: Request) -> Actor:
    """Who acts, for the audit log: the request's key (name and id), never the body's say-so."""
    return Actor(actor_of(request), current_key(request).id)


class GuardedRoute(APIRoute):
    """An ``APIRoute`` that authenticates and authorises before the body is parsed (the body's
    size and nesting are checked earlier still, by ``limits.BodyLimitMiddleware``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        extra = kwargs.get("openapi_extra") or {}
        if PERMISSION_KEY in extra:
            given = kwargs.get("responses") or {}
            merged = error_responses(path)
            for status, answer in given.items():
                merged[status] = {**merged.get(status, {}), **answer}
            kwargs["responses"] = merged
        super().__init__(path, endpoint, **kwargs)
        if permission_of(self) is None and path not in PUBLIC:
            raise RuntimeError(f"route {path} declares no permission (use needs(...))")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        permission = permission_of(self)
        if permission is None:
            return handler
        allowed = PERMISSIONS[permission]

        async def guarded(request: Request) -> Response:
            config = config_of(request)
            address = request.client.host if request.client else ""
            wait = config.auth_throttle.retry_after(address)
            if wait is not None:
                raise HTTPException(
                    429,
                    f"too many failed authentications from {address}; retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
            token = bearer_token(request)
            # The app's clock decides expiry, as it decides every other "now" of the request.
            key = await run_in_threadpool(verify_key, config.store, token, now=config.now())
            if key is None:
                config.auth_throttle.failed(address)
                raise _unauthorized("invalid, expired or revoked API key")
            if key.role not in allowed:
                raise HTTPException(
                    403,
                    f"role '{key.role.value}' may not {permission} "
                    f"(allowed: {', '.join(sorted(r.value for r in allowed))})",
                )
            request.state.api_key = key
            return await handler(request)

        return guarded
