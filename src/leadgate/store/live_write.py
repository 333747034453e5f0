"""The reads and writes of a live event write (``service/ingest_live.py``), issue 17: few
statements, run on the driver.

A live write reads each lead it touches once, with its incremental state and its account's
attributes, in one SELECT (locked, in ``lead_id`` order, on PostgreSQL), and inserts its events in
one statement that returns the ids it actually inserted (a replayed id is skipped by the database
itself). The SQL text is written out here and run on the driver's cursor (``driver_sql.run``):
SQLAlchemy Core's statement building, cache keys and compilation, and even ``exec_driver_sql``'s
result set-up, cost more than the statements themselves at one event per transaction. Values are converted by each column's own result processor, so rows come
back exactly as ``fetch_leads`` reads them (tests/service/test_ingest_live.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from leadgate.engine import Event, as_utc
from leadgate.store.driver_sql import run
from leadgate.store.history import LEAD_COLUMNS, LeadRow
from leadgate.store.ingest import ROW_LOCKS, _json, _sqlite_time
from leadgate.store.schema import accounts, leads

CHUNK = 2000
EVENT_ROWS = 1000  # events per INSERT statement (6 parameters each: under SQLite's limit)


@dataclass
class StoredState:
    """A lead's stored incremental state (``lead_states``), as read for a write."""

    version: int
    model_hash: str
    state: Any


@dataclass
class ReadForWrite:
    """Lead rows, their stored states and their accounts' attributes, by id."""

    rows: dict[str, LeadRow]
    states: dict[str, StoredState]
    accounts: dict[str, dict[str, Any]]


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


_PROCESSORS: dict[tuple[Any, ...], list[Callable[[Any], Any] | None]] = {}


def _processors(conn: Connection, description: Any) -> list[Callable[[Any], Any] | None]:
    # By the driver's type code of each column (PostgreSQL's numeric processors depend on it).
    codes = [d[1] for d in description]
    key = (conn.dialect.name, *codes)
    if key not in _PROCESSORS:
        _PROCESSORS[key] = _build_processors(conn, codes)
    return _PROCESSORS[key]


def _build_processors(conn: Connection, codes: list[Any]) -> list[Callable[[Any], Any] | None]:
    dialect = conn.dialect
    types = [*(leads.c[n].type for n in LEAD_COLUMNS), accounts.c.attrs.type]
    last = [len(LEAD_COLUMNS) + 3]  # the account's attrs, after the state's three columns
    return [
        t._cached_result_processor(dialect, codes[i])
        for t, i in zip(types, [*range(len(LEAD_COLUMNS)), *last], strict=True)
    ]


def _read_sql(conn: Connection, n: int, lock: bool) -> str:
    cols = ", ".join(f"l.{conn.dialect.identifier_preparer.quote(c)}" for c in LEAD_COLUMNS)
    marks = ", ".join([_placeholder(conn)] * n)
    return (
        f"SELECT {cols}, s.version, s.model_hash, s.state, a.attrs FROM leads AS l "
        "LEFT OUTER JOIN lead_states AS s ON s.lead_id = l.lead_id "
        "LEFT OUTER JOIN accounts AS a ON a.account_id = l.account_id "
        f"WHERE l.lead_id IN ({marks}) ORDER BY l.lead_id" + (" FOR UPDATE OF l" if lock else "")
    )


def read_for_write(
    conn: Connection, lead_ids: Sequence[str], into: ReadForWrite, *, lock: bool = True
) -> None:
    """Read the stored leads among ``lead_ids`` with their states and accounts into ``into``;
    with ``lock``, on PostgreSQL their rows are locked, in ``lead_id`` order (as
    ``fetch_leads(lock=True)``)."""
    ids = sorted(set(lead_ids))
    lock = lock and ROW_LOCKS[conn.dialect.name]
    n_lead = len(LEAD_COLUMNS)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        result = run(conn, _read_sql(conn, len(part), lock), tuple(part))
        procs = _processors(conn, result.description)
        for raw in result.rows:
            values = [
                v if p is None or v is None else p(v)
                for v, p in zip((*raw[:n_lead], raw[-1]), procs, strict=True)
            ]
            row = LeadRow(*values[:n_lead])
            into.rows[row.lead_id] = row
            version, model_hash, text = raw[n_lead : n_lead + 3]
            if version is not None:
                try:
                    state = json.loads(text)
                except ValueError:
                    state = None  # unreadable: rebuilt like a missing one
                into.states[row.lead_id] = StoredState(version, model_hash, state)
            if row.account_id is not None and values[-1] is not None:
                into.accounts[row.account_id] = values[-1]


# Per dialect: the events INSERT of ``n`` rows that skips stored ids and returns the new ones.
_EVENT_COLS = "(event_id, lead_id, type, timestamp, properties, ingested_at)"
_EVENT_SQL: dict[str, tuple[str, str, Callable[[datetime], Any]]] = {
    "sqlite": ("INSERT OR IGNORE INTO events", "(?, ?, ?, ?, ?, ?)", _sqlite_time),
    "postgresql": ("INSERT INTO events", "(%s, %s, %s, %s, %s::json, %s)", as_utc),
}
_EVENT_TAIL: dict[str, str] = {
    "sqlite": " RETURNING event_id",
    "postgresql": " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
}


def insert_new_events(conn: Connection, items: Sequence[Event], at: datetime) -> set[str]:
    """Insert ``items`` (each with its ``event_id``, no id twice); the ids actually inserted
    (the others were stored before: replays)."""
    head, row_marks, stamp = _EVENT_SQL[conn.dialect.name]
    tail = _EVENT_TAIL[conn.dialect.name]
    ingested = stamp(at)
    done: set[str] = set()
    for start in range(0, len(items), EVENT_ROWS):
        part = items[start : start + EVENT_ROWS]
        params: list[Any] = []
        for ev in part:
            params += (
                ev.event_id, ev.lead_id, ev.type, stamp(ev.timestamp), _json(ev.properties),
                ingested,
            )  # fmt: skip
        sql = f"{head} {_EVENT_COLS} VALUES {', '.join([row_marks] * len(part))}{tail}"
        done.update(r[0] for r in run(conn, sql, tuple(params)).rows)
    return done


def update_states_sqlite(conn: Connection, rows: list[tuple[str, str, datetime, str]]) -> None:
    """(state text, model hash, time, lead id): one writer at a time on SQLite (``BEGIN
    IMMEDIATE``), so the row read in this transaction is still current."""
    run(
        conn,
        "UPDATE lead_states SET state = ?, version = version + 1, model_hash = ?, "
        "updated_at = ? WHERE lead_id = ?",
        [(text, h, _sqlite_time(at), lead_id) for text, h, at, lead_id in rows],
        many=True,
    )
