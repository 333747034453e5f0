"""Reading an events file that holds both lead events and account-level events (issue #15).

A row with a ``lead_id`` is a lead's event (as ``io.readers`` reads it); a row with an
``account_id`` and no ``lead_id`` is an account-level event (a de-anonymised visit, say), kept
as an ``Event`` whose owner (``Event.lead_id``) is the account id. A row with neither is
refused, naming its line.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from leadgate.engine.event import Event
from leadgate.errors import IngestError
from leadgate.io.readers import event_from_row, read_table

ACCOUNT_ID = "account_id"


@dataclass
class SplitEvents:
    """Events by owner: ``leads`` by lead id, ``accounts`` by account id."""

    leads: dict[str, list[Event]] = field(default_factory=dict)
    accounts: dict[str, list[Event]] = field(default_factory=dict)


def read_split_events(path: str | Path) -> SplitEvents:
    """Every event of the file, validated first, split into lead and account-level events."""
    file = str(path)
    leads: dict[str, list[Event]] = defaultdict(list)
    accounts: dict[str, list[Event]] = defaultdict(list)
    for line, row in read_table(path, required=("type", "timestamp")):
        if row.get("lead_id") is not None:
            ev = event_from_row(row, file, line)
            leads[ev.lead_id].append(ev)
            continue
        account = row.pop(ACCOUNT_ID, None)
        if account is None:
            raise IngestError(
                "needs a lead_id (a lead's event) or an account_id (an account's event)",
                file=file,
                line=line,
                field="lead_id",
            )
        row["lead_id"] = account
        ev = event_from_row(row, file, line)
        accounts[ev.lead_id].append(ev)
    return SplitEvents(dict(leads), dict(accounts))
