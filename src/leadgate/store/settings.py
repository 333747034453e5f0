"""Store-wide settings (key -> JSON value), e.g. the reject reason codes sales may use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from leadgate.store.schema import settings


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default``."""
    row = conn.execute(select(settings.c.value).where(settings.c.key == key)).first()
    return default if row is None else row.value


def set_setting(conn: Connection, key: str, value: Any, at: datetime) -> None:
    """Store ``value`` under ``key`` (insert or replace)."""
    done = conn.execute(
        update(settings).where(settings.c.key == key).values(value=value, updated_at=at)
    )
    if not done.rowcount:
        conn.execute(settings.insert().values(key=key, value=value, updated_at=at))
