"""Request bodies of the HTTP API. Answers reuse ``leadgate.service.shapes`` (one shape per idea).

Events are parsed by hand (``parse_events``) rather than by a pydantic union: the body is either
one event or ``{"events": [...]}``, a batch over the limit must be refused (413) before any event
is validated, and every error must name its field as ``events[3].timestamp``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from leadgate.api.keys import FieldError
from leadgate.api.limits import (
    ID_PATTERN,
    MAX_ID,
    TEXT_PATTERN,
    check_id,
    check_value,
    text_validator,
)
from leadgate.engine import Event
from leadgate.errors import IngestError, LeadgateError
from leadgate.io.account_events import OwnedEvent, split_row
from leadgate.io.formats import flatten
from leadgate.io.readers import bad_time, parse_timestamp

_ID_CHECK = AfterValidator(text_validator(free_text=False))
_TEXT_CHECK = AfterValidator(text_validator(free_text=True))
# A lead or account id in a path: at most MAX_ID characters, no control characters.
LeadId = Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN), _ID_CHECK]
# An id, code or name in a body or a query: the same rule.
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN), _ID_CHECK]
# A key, webhook or model named in a path.
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID, pattern=ID_PATTERN), _ID_CHECK]
# A row id in a path: the store's id columns are INTEGER (32-bit on PostgreSQL).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Free text (notes, model YAML): line breaks and tabs allowed.
Text = Annotated[str, Field(pattern=TEXT_PATTERN), _TEXT_CHECK]
MAX_NOTE = 10_000
MAX_URL = 2_048
MAX_SECRET = 512
MAX_TOPICS = 50
# Lead attributes the store keeps in sized columns: name -> longest value.
SIZED_ATTRIBUTES = {"email": 320, "owner": 255, "account_id": MAX_ID}

Action = Literal["accept", "reject", "sql", "opportunity", "won", "lost", "recycle", "touch"]


class EventIn(BaseModel):
    """One event: who, what, when; any other key is a property of the event (``url``, ...).

    Who: a ``lead_id`` (a lead's event; an ``account_id`` beside it is a property), or an
    ``account_id`` alone (an account-level event, scored by the accounts' ``intent:`` rules)."""

    model_config = ConfigDict(extra="allow")

    lead_id: str | int | None = Field(None, description="the lead's event (or give account_id)")
    account_id: str | int | None = Field(
        None, description="with no lead_id: an account-level event (a de-anonymised visit)"
    )
    type: str
    timestamp: str = Field(description="ISO 8601; without a zone it means UTC")
    event_id: str | int | None = Field(None, description="given, or derived from the content")


class EventBatch(BaseModel):
    """Several events in one request (at most the server's ``max_batch``)."""

    events: list[EventIn]


class ActedByKey(BaseModel):
    """A body recording what someone did: who acted is the request's key, never the body."""

    model_config = ConfigDict(extra="forbid")

    # Not in the schema: who acted is the request's key. Refused (not ignored) so that a client
    # that believes it sets the actor learns otherwise.
    actor: SkipJsonSchema[Any] = None

    @field_validator("actor", mode="before")
    @classmethod
    def _no_actor(cls, value: object) -> None:
        if value is not None:
            raise ValueError("who acted is always the request's API key; put other names in 'note'")
        return None


class DispositionIn(ActedByKey):
    """What sales did with a lead (``reason`` is a reject reason code; ``amount`` for deals)."""

    action: Action
    reason: Id | None = None
    note: Annotated[Text, Field(max_length=MAX_NOTE)] | None = Field(
        None, description="free text; who acted is always the request's API key"
    )
    amount: Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)] | None = None


class ModelIn(BaseModel):
    """A model to publish, as YAML text (``dry_run``: report what would change, write nothing)."""

    model_config = ConfigDict(extra="forbid")

    yaml: Text
    dry_run: bool = False


class KeyIn(BaseModel):
    """A new API key's role and (optional) name."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "marketing", "sales", "read-only"]
    name: Annotated[str, _ID_CHECK] = Field("", max_length=200, pattern=ID_PATTERN)
    expires_in: str | None = Field(
        None, max_length=20, description="refuse the key after this long: 30d, 12h, 2w"
    )


class RotateIn(BaseModel):
    """How long the rotated key keeps working next to its replacement."""

    model_config = ConfigDict(extra="forbid")

    overlap: str = Field("24h", max_length=20, description="e.g. 24h, 7d, 0s (stop at once)")


class KeyOut(BaseModel):
    """An API key as listed; ``token`` only in the answer that created it."""

    id: int
    name: str
    prefix: str
    role: str
    created_at: str
    created_by: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None
    expires_at: str | None = None
    replaced_by: int | None = None  # set by a rotation: the key that replaces this one
    token: str | None = None


class WebhookIn(BaseModel):
    """A webhook URL, its HMAC secret (generated if omitted) and topics (empty: all)."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL, pattern=ID_PATTERN), _ID_CHECK]
    secret: (
        Annotated[str, Field(min_length=1, max_length=MAX_SECRET, pattern=ID_PATTERN), _ID_CHECK]
        | None
    ) = None
    topics: list[Id] = Field(default_factory=list, max_length=MAX_TOPICS)


class WebhookOut(BaseModel):
    """A webhook as listed; ``secret`` only in the answer that created it."""

    id: int
    url: str
    topics: list[str]
    active: bool
    created_at: str
    deliveries: dict[str, int] = Field(default_factory=dict)
    secret: str | None = None


class ErrorOut(BaseModel):
    """Every error answer: a kind, a message, the field at fault (when one is) and the request id."""

    error: str = Field(description="invalid_input, not_found, conflict, too_large, ...")
    message: str
    field: str | None = Field(None, description="the body field or parameter at fault")
    request_id: str
    errors: list[dict[str, Any]] | None = Field(None, description="every invalid field (422)")
    problems: list[dict[str, Any]] | None = Field(None, description="model problems (422)")


_WHERE = re.compile(r"^<input>(?::\d+)?: ")


def _located(exc: IngestError, prefix: str) -> FieldError:
    """Re-raise a row error from ``event_from_row`` with the field located in the request body."""
    message = _WHERE.sub("", str(exc), count=1)
    if exc.field and message.startswith(f"{exc.field}: "):
        message = message[len(exc.field) + 2 :]
    field = f"{prefix}.{exc.field}" if exc.field else prefix
    return FieldError(message, field)


def parse_events(body: Any, max_batch: int) -> tuple[list[Event], bool]:
    """``parse_event_body``'s events (an account-level event's owner is its account id)."""
    owned, batch = parse_event_body(body, max_batch)
    return [o.event for o in owned], batch


def event_prefixes(batch: bool, count: int) -> list[str]:
    """Where each event of a body is: ``events[3]`` in a batch, ``event`` alone."""
    return [f"events[{i}]" for i in range(count)] if batch else ["event"]


def parse_event_body(body: Any, max_batch: int) -> tuple[list[OwnedEvent], bool]:
    """Validate an events body; returns the events (each a lead's or an account's,
    ``io/account_events.split_row``) and whether it was a batch.

    Raises:
        IngestError: a malformed body or event, ``field`` naming where (``events[2].type``).
        BatchTooLargeError: more than ``max_batch`` events.
    """
    if isinstance(body, dict) and "events" in body and not {"lead_id", "account_id"} & set(body):
        items = body["events"]
        if not isinstance(items, list):
            raise FieldError("expected a list of events", "events")
        if len(items) > max_batch:
            raise BatchTooLargeError(len(items), max_batch)
        if not items:
            raise FieldError("expected at least one event", "events")
        extra = sorted(set(body) - {"events"})
        if extra:
            raise FieldError("unknown key next to 'events'", extra[0])
        batch, prefixes = True, event_prefixes(True, len(items))
    elif isinstance(body, dict):
        items, batch, prefixes = [body], False, event_prefixes(False, 1)
    else:
        raise FieldError('expected an event object or {"events": [...]}', "body")
    out: list[OwnedEvent] = []
    for item, prefix in zip(items, prefixes, strict=True):
        if not isinstance(item, dict):
            raise FieldError("expected an event object", prefix)
        for name in ("lead_id", "account_id", "event_id", "type", "timestamp"):
            value = item.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
                raise FieldError(f"must be text, got {value!r}", f"{prefix}.{name}")
            check_id(str(value if value is not None else ""), f"{prefix}.{name}")
        check_value(item, prefix)
        row = flatten(item)
        try:
            out.append(split_row(row))
        except IngestError as exc:
            raise _located(exc, prefix) from None
    return out, batch


class BatchTooLargeError(FieldError):
    """Raised when a batch has more events than the server accepts (HTTP 413)."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"{count} events in one request; the limit is {limit} (split the batch)", "events"
        )
        self.count = count
        self.limit = limit


def query_time(value: str | None, param: str) -> datetime | None:
    """A time query parameter (declared ``str`` so the schema says ISO 8601 text, not a number
    pydantic would also read as seconds) as an aware UTC time; ``None`` when not given.

    Raises:
        FieldError: not an ISO 8601 time (HTTP 422 naming ``param``).
    """
    if value is None:
        return None
    try:
        return parse_timestamp(value, field=param)
    except LeadgateError:
        raise FieldError(bad_time(value), param) from None
