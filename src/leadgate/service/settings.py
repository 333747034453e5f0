"""Store-wide settings a user may change: ``leadgate settings`` and ``/v1/settings``.

Each known setting has a parser (text from the command line or a JSON value from the API) and
a description; unknown keys are refused, so a typo cannot silently set nothing. Every change is
audited with the previous and the new value. The reject reason codes are a setting too, but they
have their own commands (``leadgate reasons``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, delete

from leadgate.engine import as_utc
from leadgate.errors import FieldError, NotFoundError
from leadgate.service.retention import DELIVERIES_KEY, EVENTS_KEY, OUTBOX_KEY, check_events_days
from leadgate.store.audit import Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.schema import settings
from leadgate.store.settings import get_setting, set_setting
from leadgate.webhooks.targets import ALLOW_KEY, parse_allow

MAX_DAYS = 36_500


class SettingError(FieldError):
    """Raised for an unknown setting or a value it does not accept (names the setting)."""


def _days(key: str, value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise SettingError(f"expected a whole number of days, got {value!r}", key)
    days = int(text) if len(text) < 7 else MAX_DAYS + 1
    if not 1 <= days <= MAX_DAYS:
        raise SettingError(f"must be between 1 and {MAX_DAYS} days, got {text}", key)
    return days


def _targets(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise SettingError("expected a list of ranges or CIDR blocks", key)
    return parse_allow(value, key)


@dataclass(frozen=True)
class Known:
    """A setting users may change: how to read a value and what it does."""

    parse: Callable[[str, Any], Any]
    help: str
    # Refuses a value that would do harm (inside the write transaction), unless forced.
    check: Callable[[Connection, Any], None] | None = None


KNOWN: dict[str, Known] = {
    EVENTS_KEY: Known(
        _days, "delete events older than this many days (leadgate retention apply)",
        check_events_days,
    ),
    OUTBOX_KEY: Known(
        _days, "delete outbox messages older than this, once no delivery is pending"
    ),
    DELIVERIES_KEY: Known(
        _days, "delete ended webhook delivery records of messages older than this"
    ),
    ALLOW_KEY: Known(
        _targets, "webhook targets allowed despite the SSRF guard: loopback, private, "
        "link-local or CIDR blocks",
    ),
}  # fmt: skip


class SettingView(BaseModel):
    """A known setting: its value (``None``: not set) and what it does."""

    key: str
    value: Any = None
    help: str


def _known(key: str) -> Known:
    if key not in KNOWN:
        raise SettingError(f"unknown setting (known: {', '.join(KNOWN)})", key)
    return KNOWN[key]


def list_settings(store: Store) -> list[SettingView]:
    """Every known setting with its current value."""
    with store.read() as conn:
        return [
            SettingView(key=k, value=get_setting(conn, k), help=v.help) for k, v in KNOWN.items()
        ]


def parse_setting(key: str, value: Any) -> Any:
    """The stored form of ``value`` for ``key`` (text or JSON in), or ``SettingError``."""
    return _known(key).parse(key, value)


def change_setting(
    store: Store,
    key: str,
    value: Any,
    *,
    at: datetime,
    by: Actor,
    force: bool = False,
) -> SettingView:
    """Set ``key`` to ``value`` (parsed for that key), audited with the previous value.

    Raises:
        SettingError: unknown key or a value the key does not accept.
        ConflictError: the value would change scores (``retention.events_days`` shorter than
            the active model's horizon) and ``force`` is not set.
    """
    parsed = parse_setting(key, value)
    at = as_utc(at)
    known = KNOWN[key]
    with store.write() as conn:
        if known.check is not None and not force:
            known.check(conn, parsed)
        previous = get_setting(conn, key)
        set_setting(conn, key, parsed, at)
        details = {"value": parsed, "previous": previous, "forced": force}
        record_audit(conn, by, "setting.set", at=at, target=key, details=details)
    return SettingView(key=key, value=parsed, help=KNOWN[key].help)


def unset_setting(store: Store, key: str, *, at: datetime, by: Actor) -> None:
    """Remove ``key`` (back to its default), audited.

    Raises:
        SettingError: unknown key.  NotFoundError: the setting is not set.
    """
    _known(key)
    at = as_utc(at)
    with store.write() as conn:
        previous = get_setting(conn, key)
        if previous is None:
            raise NotFoundError(f"setting {key} is not set")
        conn.execute(delete(settings).where(settings.c.key == key))
        record_audit(conn, by, "setting.unset", at=at, target=key, details={"previous": previous})
