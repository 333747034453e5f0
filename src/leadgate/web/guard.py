"""Who is asking and what they may do: the session check, the role table, CSRF on every POST.

Every page handler starts with ``viewer = await sign_in_check(request, "queue:read")``: no
session -> a redirect to the sign-in page (GET) or 403 (POST); a role without the permission ->
403. The role table is the API's (``leadgate.api.auth.PERMISSIONS``), plus the web-only
``models:draft`` (validate and preview a draft: marketing and admin). Pages hide what a role may
not do (``viewer.may``), and the handler of the action refuses it again.

``posted_form`` reads an ``application/x-www-form-urlencoded`` body and refuses it (403) unless
its ``csrf`` field matches the session's token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from leadgate.api.auth import PERMISSIONS
from leadgate.service.keys import ApiKey, Role, verify_key
from leadgate.web.report_jobs import ReportJobs
from leadgate.web.session import COOKIE, Session, Sessions, same_token

if TYPE_CHECKING:
    from leadgate.api.app import ApiConfig

A, M = Role.ADMIN, Role.MARKETING
WEB_PERMISSIONS: dict[str, frozenset[Role]] = {**PERMISSIONS, "models:draft": frozenset({A, M})}
MAX_FORM_BYTES = 2 * 1024 * 1024


class SignInNeeded(Exception):
    """No live session: GET pages redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass
class Viewer:
    """The signed-in user of a request: their key (name, role) and session."""

    key: ApiKey
    session: Session

    @property
    def role(self) -> str:
        return self.key.role.value

    @property
    def actor(self) -> str:
        """Who acts, for the history: the same ``key:<name>`` as through the API."""
        return f"key:{self.key.name}"

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def may(self, permission: str) -> bool:
        return self.key.role in WEB_PERMISSIONS[permission]


@dataclass
class WebState:
    """What the web app keeps: the API's config (store, clock, write queue), the sessions, and
    the report views computed in the background."""

    config: ApiConfig
    sessions: Sessions
    reports: ReportJobs = field(default_factory=ReportJobs)


def state_of(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def config_of(request: Request) -> ApiConfig:
    return state_of(request).config


async def current_viewer(request: Request) -> Viewer | None:
    """The request's signed-in viewer, or ``None`` (no cookie, expired, or key revoked)."""
    state = state_of(request)
    session = state.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return None
    key = await run_in_threadpool(
        lambda: verify_key(state.config.store, session.token, now=state.config.now())
    )
    if key is None:
        state.sessions.drop(session.sid)
        return None
    return Viewer(key, session)


async def sign_in_check(request: Request, permission: str) -> Viewer:
    """The viewer, if signed in with a role that has ``permission``.

    Raises:
        SignInNeeded: no session (GET; the page redirects to the sign-in form).
        HTTPException: 403 for a POST without a session, or a role without the permission.
    """
    viewer = await current_viewer(request)
    if viewer is None:
        if request.method != "GET":
            raise HTTPException(403, "not signed in (or the session expired): sign in again")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    allowed = WEB_PERMISSIONS[permission]
    if viewer.key.role not in allowed:
        raise HTTPException(
            403,
            f"role '{viewer.role}' may not {permission} "
            f"(allowed: {', '.join(sorted(r.value for r in allowed))})",
        )
    return viewer


async def read_form(request: Request) -> list[tuple[str, str]]:
    """The fields of a urlencoded form body, in order (a name may repeat)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, f"form of {length} bytes; the limit is {MAX_FORM_BYTES}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, f"form larger than {MAX_FORM_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8 text") from None
    return parse_qsl(text, keep_blank_values=True)


class Form:
    """A posted form's fields: ``get`` (one value), ``all`` (every value of a name)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == name), default)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


async def posted_form(request: Request, viewer: Viewer) -> Form:
    """The form of a POST, after checking its CSRF token against the session's (403 if not)."""
    form = Form(await read_form(request))
    if not same_token(form.get("csrf"), viewer.csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
    return form


def lead_url(lead_id: Any) -> str:
    """``/app/leads/<id>`` with every URL character of the id escaped (``/`` included)."""
    return "/app/leads/" + quote(str(lead_id), safe="")
