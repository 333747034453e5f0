"""The members of accounts as the live account re-score reads them (issue #15): in one statement.

An event re-scores its lead's account, which needs every other lead of the account scored at the
same ``as_of`` from its incremental state. ``read_members`` reads each primary, not erased lead of
the accounts (the rows ``service.accounts.score_store_accounts`` scores) with its stored state,
in one SELECT run on the driver (``driver_sql.run``), and only the columns the scores need: the
lead's id, account and attributes. Reading whole lead rows (the stored score's JSON, five
timestamps) through SQLAlchemy cost more than scoring the leads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from leadgate.store.driver_sql import run
from leadgate.store.live_write import StoredState
from leadgate.store.schema import leads

CHUNK = 2000


@dataclass
class Member:
    """A lead of an account, as much of its row as its score needs (``profile_of`` reads it)."""

    lead_id: str
    account_id: str
    attrs: dict[str, Any]


def _sql(conn: Connection, n: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    # SQLite's planner takes ``duplicate_of IS NULL`` for an equality and, with an IN list on
    # ``account_id``, searches the ``duplicate_of`` index: every primary lead of the store
    # (2,000 at 2,000 leads) instead of the account's few. A unary ``+`` keeps that index out.
    dup = "+l.duplicate_of" if conn.dialect.name == "sqlite" else "l.duplicate_of"
    return (
        "SELECT l.lead_id, l.account_id, l.attrs, s.version, s.model_hash, s.state "
        "FROM leads AS l LEFT OUTER JOIN lead_states AS s ON s.lead_id = l.lead_id "
        f"WHERE l.account_id IN ({', '.join([mark] * n)}) "
        f"AND {dup} IS NULL AND l.erased_at IS NULL"
    )


_ATTRS: dict[tuple[str, Any], Callable[[Any], Any] | None] = {}


def _attrs_processor(conn: Connection, code: Any) -> Callable[[Any], Any] | None:
    # The column's own result processor (JSON text on SQLite; decoded by the driver on
    # PostgreSQL), by the driver's type code, as store/live_write.py converts lead rows.
    key = (conn.dialect.name, code)
    if key not in _ATTRS:
        _ATTRS[key] = leads.c.attrs.type._cached_result_processor(conn.dialect, code)
    return _ATTRS[key]


def read_members(
    conn: Connection, account_ids: Sequence[str], without_state: Container[str] = ()
) -> tuple[list[Member], dict[str, StoredState]]:
    """The primary, not erased leads of ``account_ids`` and their stored states, by lead id
    (none for a lead without one, nor for the leads in ``without_state``: the caller has
    their scores)."""
    members: list[Member] = []
    states: dict[str, StoredState] = {}
    ids = list(account_ids)
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        result = run(conn, _sql(conn, len(part)), tuple(part))
        proc = _attrs_processor(conn, result.description[2][1])
        for lead_id, account_id, attrs, version, model_hash, text in result.rows:
            if proc is not None and attrs is not None:
                attrs = proc(attrs)
            members.append(Member(lead_id, account_id, attrs))
            if version is None or lead_id in without_state:
                continue
            try:
                state = json.loads(text)
            except ValueError:
                state = None  # unreadable: rebuilt like a missing one
            states[lead_id] = StoredState(version, model_hash, state)
    return members, states
