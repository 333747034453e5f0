"""What the API accepts at the edge: body size however framed, JSON nesting, text and numbers.

``BodyLimitMiddleware`` reads every request body before any route sees it, so one limit holds for
``Content-Length`` and chunked bodies alike (413 naming the limit), and refuses JSON nested deeper
than ``MAX_JSON_DEPTH`` (422) before a recursive parser meets it. It also refuses control
characters in query parameters (422 naming the parameter): PostgreSQL cannot store a NUL, and an
id with a line break is unreachable.

``check_value`` walks a parsed JSON value (lead and account attributes, event properties) and
refuses what the store or the engines cannot keep: NUL and other control characters, very long
keys or texts, non-finite numbers and integers outside 64 bits. Every refusal names the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadgate.api.keys import FieldError

MAX_ID = 255  # the store's id columns (VARCHAR(255)); PostgreSQL refuses longer values
MAX_KEY = 255  # an attribute or property name
MAX_TEXT = 65_536  # one string value inside a JSON body (attributes, properties)
MAX_QUERY = 1_000  # one query parameter value
MAX_JSON_DEPTH = 32  # objects and arrays inside each other
MAX_INT = 2**63 - 1  # what the stores' integer columns and the engines hold exactly

# Control characters: never in ids, names or codes; in free text only tab and line breaks.
ID_PATTERN = r"^[^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# The checks in Python also refuse lone surrogates (JSON "\\udbe2"): no store can encode them.
_ID_BAD = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_TEXT_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_MESSAGE = "must not contain control characters (NUL, line breaks, ...)"
SURROGATE_MESSAGE = "not valid Unicode (a lone surrogate)"

_YAML_TYPES = ("yaml", "text/plain")
# Brackets outside JSON strings. Escaped backslashes and quotes go first, then all but quotes and
# brackets, then the (now escape-free) strings: each step is one C-speed pass over the bytes.
_STRING = re.compile(rb'"[^"]*"')
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')


def json_depth(raw: bytes) -> int:
    """How deeply objects and arrays nest in JSON text (0 for a scalar); a cheap byte scan."""
    opened = raw.count(b"[") + raw.count(b"{")
    if opened <= MAX_JSON_DEPTH:
        return opened  # an upper bound, enough to pass most bodies without the scan
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = _STRING.sub(b"", plain).replace(b'"', b"")
    if not brackets:
        return 0
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)))


def control_character(text: str, *, free_text: bool = False) -> str | None:
    """The first control character ``text`` must not hold, as ``U+XXXX``, or ``None``."""
    found = (_TEXT_BAD if free_text else _ID_BAD).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def refusal(text: str, *, free_text: bool = False) -> str | None:
    """Why ``text`` cannot be stored (a control character or a lone surrogate), or ``None``."""
    bad = control_character(text, free_text=free_text)
    if bad is None:
        return None
    if 0xD800 <= int(bad[2:], 16) <= 0xDFFF:
        return f"{SURROGATE_MESSAGE}; found {bad}"
    return f"{CONTROL_MESSAGE}; found {bad}"


def text_validator(*, free_text: bool) -> Callable[[str], str]:
    """A pydantic ``AfterValidator`` doing what ``refusal`` says (``ValueError`` naming why)."""

    def check(value: str) -> str:
        why = refusal(value, free_text=free_text)
        if why is not None:
            raise ValueError(why)
        return value

    return check


def check_id(value: str, field: str, *, limit: int = MAX_ID) -> str:
    """An id or code: at most ``limit`` characters, no control characters."""
    if len(value) > limit:
        raise FieldError(f"longer than {limit} characters", field)
    why = refusal(value)
    if why is not None:
        raise FieldError(why, field)
    return value


def check_value(value: Any, field: str) -> Any:
    """Refuse what a JSON value must not hold (see the module docstring); returns ``value``."""
    stack: list[tuple[Any, str]] = [(value, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                raise FieldError(f"longer than {MAX_TEXT} characters", where)
            why = refusal(item, free_text=True)
            if why is not None:
                raise FieldError(why, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_INT - 1 <= item <= MAX_INT:
                raise FieldError(f"integer out of range (at most {MAX_INT} in size)", where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise FieldError(f"{item} is not a finite number (at most 1.8e308 in size)", where)
        elif isinstance(item, dict):
            for key, child in item.items():
                if len(str(key)) > MAX_KEY:  # named by its parent: a huge name is no field name
                    raise FieldError(f"a key is longer than {MAX_KEY} characters", where or "body")
                name = f"{where}.{key}" if where else str(key)
                check_id(str(key), name)
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return value


def _error(scope: Scope, status: int, message: str, field: str) -> bytes:
    kind = {413: "too_large", 422: "invalid_input"}[status]
    request_id = scope.get("state", {}).get("request_id", "")
    body = {"error": kind, "message": message, "field": field, "request_id": request_id}
    return json.dumps(body).encode()


class BodyLimitMiddleware:
    """Read the whole body up to ``max_body_bytes`` (413 above it, however it is framed), check
    JSON nesting and query parameters, then hand the route the buffered body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = self._bad_query(scope)
        if query is not None:
            await self._refuse(scope, send, 422, *query)
            return
        limit = self.max_body_bytes
        headers = dict(scope.get("headers", ()))
        if scope.get("path", "").startswith("/v1/") and b"authorization" not in headers:
            # Every /v1 route answers 401 without reading the body: don't buffer it for nothing.
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length", b"").decode("latin-1")
        too_large = f"request body too large; the limit is {limit} bytes (send less per request)"
        if length.isascii() and length.isdigit() and int(length) > limit:
            await self._refuse(scope, send, 413, too_large, "body")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, 413, too_large, "body")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        is_yaml = any(t in content_type for t in _YAML_TYPES)
        if body and not is_yaml and json_depth(body) > MAX_JSON_DEPTH:
            deep = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
            await self._refuse(scope, send, 422, deep, "body")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # the route is done reading: wait for a disconnect
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    def _bad_query(scope: Scope) -> tuple[str, str] | None:
        raw = scope.get("query_string", b"").decode("latin-1")
        if not raw:
            return None
        try:
            pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return "the query string is not valid UTF-8", "query"
        for name, value in pairs:
            if len(value) > MAX_QUERY:
                return f"longer than {MAX_QUERY} characters", name[:MAX_ID]
            why = refusal(value) or refusal(name)
            if why is not None:
                return why, name[:MAX_ID] or "query"
        return None

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, message: str, field: str) -> None:
        body = _error(scope, status, message, field)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if status == 413:
            headers.append((b"connection", b"close"))  # the unread rest of the body is dropped
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
