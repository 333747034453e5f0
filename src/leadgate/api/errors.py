"""Library errors -> HTTP answers, in one place, plus a request id on every answer.

``ModelError``/``IngestError`` -> 422 naming the field, ``NotFoundError`` -> 404,
``ConflictError`` -> 409, any other ``LeadgateError`` -> 400, request validation -> 422 naming
the field, ``BatchTooLargeError`` -> 413, and anything else (a bug) -> 500 with the request id
and no details: the traceback goes to the server log under that id, never over HTTP (STYLE.md
"Errors: typed in the library, translated at the edge").

Every error body has the same shape::

    {"error": "invalid_input", "message": "...", "field": "events[2].timestamp", "request_id": "..."}
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadgate.api.limits import CONTROL_MESSAGE, ID_PATTERN, TEXT_PATTERN
from leadgate.api.schemas import BatchTooLargeError
from leadgate.errors import ConflictError, IngestError, LeadgateError, ModelError, NotFoundError

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_KINDS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_input",
          429: "too_many_requests"}  # fmt: skip


class RequestIdMiddleware:
    """Give each request an id (the caller's ``X-Request-Id`` if sane) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or secrets.token_hex(8))


def _answer(
    request: Request,
    status: int,
    message: str,
    *,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    rid = request_id(request)
    body: dict[str, Any] = {"error": _KINDS.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    body.update(extra or {})
    body["request_id"] = rid
    return JSONResponse(
        body, status_code=status, headers={**(headers or {}), REQUEST_ID_HEADER: rid}
    )


def _bare(exc: IngestError) -> str:
    """The message of an ``IngestError`` without the ``<input>:`` location of file readers."""
    text = str(exc)
    return text[len("<input>: ") :] if text.startswith("<input>: ") else text


def field_of(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a field path: ("body", "events", 2, "type") -> events[2].type."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _say(error: Mapping[str, Any]) -> str:
    """A pydantic error's message; the control-character patterns said in words."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error.get("type") == "string_pattern_mismatch" and pattern in (ID_PATTERN, TEXT_PATTERN):
        return CONTROL_MESSAGE
    return str(error.get("msg", "invalid"))


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": field_of(e.get("loc", ())), "message": _say(e)} for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return _answer(
        request, 422, f"{first['field']}: {first['message']}", field=first["field"],
        extra={"errors": errors},
    )  # fmt: skip


async def _model_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelError)
    problems = [
        {"message": p.message, "path": p.path, "line": p.line, "column": p.column, "hint": p.hint}
        for p in exc.problems
    ]
    field = next((p.path for p in exc.problems if p.path), "yaml")
    return _answer(request, 422, str(exc), field=field, extra={"problems": problems})


async def _ingest_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IngestError)
    status = 413 if isinstance(exc, BatchTooLargeError) else 422
    return _answer(request, status, _bare(exc), field=exc.field or None)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _answer(request, 404, str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _answer(request, 409, str(exc))


async def _user_error(request: Request, exc: Exception) -> JSONResponse:
    return _answer(request, 400, str(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body it could not decode (not UTF-8, or numbers Python refuses)
        return _answer(request, 422, "not valid JSON (or not UTF-8)", field="body")
    return _answer(request, exc.status_code, str(exc.detail), headers=exc.headers)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    rid = request_id(request)
    log.error("request %s failed: %s %s", rid, request.method, request.url.path, exc_info=exc)
    return _answer(request, 500, f"internal error (request id {rid}); see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers by class; Starlette picks the most specific one through the MRO."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ModelError, _model_error)
    app.add_exception_handler(IngestError, _ingest_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(LeadgateError, _user_error)
    app.add_exception_handler(Exception, _bug)
    app.add_middleware(RequestIdMiddleware)
