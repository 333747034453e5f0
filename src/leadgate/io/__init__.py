"""Files in and out: leads, accounts and events from CSV, JSONL or Parquet; score records out.

Rows are validated as they are read; a bad row raises ``IngestError`` naming file, line and field.
The ``read_*`` functions validate a whole file before returning any of it; ``iter_events`` yields
events as it reads (bulk loads write them in chunks inside one transaction, rolled back on a bad row).
"""

from __future__ import annotations

from leadgate.io.readers import (
    Position,
    iter_events,
    read_accounts,
    read_events,
    read_leads,
    read_table,
)
from leadgate.io.writers import write_records

__all__ = [
    "Position",
    "iter_events",
    "read_accounts",
    "read_events",
    "read_leads",
    "read_table",
    "write_records",
]
