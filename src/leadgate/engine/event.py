"""The event as the engine sees it: who, what type, when (UTC), an id, and its properties."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def as_utc(moment: datetime) -> datetime:
    """Make a timestamp timezone-aware in UTC; a naive timestamp means UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Event:
    """One activity of a lead. ``timestamp`` is timezone-aware (UTC)."""

    lead_id: str
    type: str
    timestamp: datetime
    event_id: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def epoch(self) -> float:
        return self.timestamp.timestamp()
