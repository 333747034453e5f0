"""The web app's factory: routes, error pages, security headers and static files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from leadgate.errors import ConflictError, LeadgateError, NotFoundError
from leadgate.web.guard import SignInNeeded, WebState, current_viewer
from leadgate.web.render import page
from leadgate.web.session import Sessions

if TYPE_CHECKING:
    from leadgate.api.app import ApiConfig

STATIC = Path(__file__).parent / "static"
# No inline script or style anywhere: the policy forbids both, so injected markup cannot run.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def _status_of(exc: LeadgateError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    return 422


def create_web_app(config: ApiConfig) -> FastAPI:
    """The ``/app`` pages over ``config``'s store (mount it at ``/app``)."""
    from leadgate.web import (
        pages_accounts,
        pages_auth,
        pages_leads,
        pages_model,
        pages_queue,
        pages_reports,
        pages_settings,
    )

    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.web = WebState(config=config, sessions=Sessions())
    web.add_middleware(_SecurityHeaders)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    pages = (pages_auth, pages_queue, pages_accounts, pages_leads, pages_model, pages_reports)
    for module in pages:
        web.include_router(module.router)
    web.include_router(pages_settings.router)

    @web.exception_handler(SignInNeeded)
    async def sign_in(request: Request, exc: SignInNeeded) -> Response:
        return RedirectResponse(f"/app/login?next={quote(exc.next_url, safe='')}", 303)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        viewer = await current_viewer(request)
        return page(
            request, viewer, "error.html", title=f"Error {exc.status_code}",
            status=exc.status_code, message=str(exc.detail),
        )  # fmt: skip

    @web.exception_handler(LeadgateError)
    async def leadgate_error(request: Request, exc: LeadgateError) -> Response:
        viewer = await current_viewer(request)
        status = _status_of(exc)
        return page(
            request, viewer, "error.html", title=f"Error {status}", status=status,
            message=str(exc),
        )  # fmt: skip

    return web
