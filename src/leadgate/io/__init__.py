"""Files in and out: leads, accounts and events from CSV, JSONL or Parquet; score records out.

Rows are validated as they are read; a bad row raises ``IngestError`` naming file, line and field,
before anything is written anywhere.
"""

from __future__ import annotations

from leadgate.io.readers import read_accounts, read_events, read_leads, read_table
from leadgate.io.writers import write_records

__all__ = ["read_accounts", "read_events", "read_leads", "read_table", "write_records"]
