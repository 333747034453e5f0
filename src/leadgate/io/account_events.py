"""Reading an events file that holds both lead events and account-level events (issue #15).

A row with a ``lead_id`` is a lead's event (as ``io.readers`` reads it); a row with an
``account_id`` and no ``lead_id`` is an account-level event (a de-anonymised visit, say), kept
as an ``Event`` whose owner (``Event.lead_id``) is the account id. A row with neither is
refused, naming its line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadgate.engine.event import Event
from leadgate.errors import IngestError
from leadgate.io.owners import Owners
from leadgate.io.readers import Position, event_from_row, read_table

ACCOUNT_ID = "account_id"


@dataclass
class SplitEvents:
    """Events by owner: ``leads`` by lead id, ``accounts`` by account id."""

    leads: dict[str, list[Event]] = field(default_factory=dict)
    accounts: dict[str, list[Event]] = field(default_factory=dict)


@dataclass(frozen=True)
class OwnedEvent:
    """One row of a mixed events file: its line, the event, and whether the owner
    (``event.lead_id``) is an account (an account-level event) rather than a lead."""

    line: int
    event: Event
    account: bool


def split_row(row: dict[str, Any], file: str = "", line: int | None = None) -> OwnedEvent:
    """Validate one event row: a lead's event (``lead_id``) or an account's (``account_id`` and
    no ``lead_id``); neither is refused, naming ``lead_id``."""
    if row.get("lead_id") is not None:
        return OwnedEvent(line or 0, event_from_row(row, file, line), False)
    account = row.pop(ACCOUNT_ID, None)
    if account is None:
        raise IngestError(
            "needs a lead_id (a lead's event) or an account_id (an account's event)",
            file=file,
            line=line,
            field="lead_id",
        )
    row["lead_id"] = account
    return OwnedEvent(line or 0, event_from_row(row, file, line), True)


def iter_split_events(
    path: str | Path, position: Position | None = None, owners: Owners | None = None
) -> Iterator[OwnedEvent]:
    """The file's events one at a time as it is read (``io.readers.iter_events``, account-level
    events included); a bad row raises when it is reached. ``owners``: only theirs."""
    file = str(path)
    rows = read_table(path, position=position, required=("type", "timestamp"), owners=owners)
    for line, row in rows:
        yield split_row(row, file, line)


def iter_lead_file_events(path: str | Path, owners: Owners | None = None) -> Iterator[OwnedEvent]:
    """A lead events file (``leadgate score``'s) that may hold account-level events too (read
    by ``scope: account`` measures, issue #16): needs a ``lead_id`` column; a row without a
    lead id is an account's event when it has an ``account_id``, else refused as
    ``io.readers`` refuses it (``lead_id: is required``). ``owners``: only theirs."""
    file = str(path)
    for line, row in read_table(path, required=("lead_id", "type", "timestamp"), owners=owners):
        if row.get("lead_id") is None and row.get(ACCOUNT_ID) is not None:
            yield split_row(row, file, line)
        else:
            yield OwnedEvent(line, event_from_row(row, file, line), False)


def read_split_events(path: str | Path, owners: Owners | None = None) -> SplitEvents:
    """Every event of the file (``owners``: theirs only), validated first, split into lead and
    account-level events."""
    leads: dict[str, list[Event]] = defaultdict(list)
    accounts: dict[str, list[Event]] = defaultdict(list)
    for item in iter_split_events(path, owners=owners):
        (accounts if item.account else leads)[item.event.lead_id].append(item.event)
    return SplitEvents(dict(leads), dict(accounts))
