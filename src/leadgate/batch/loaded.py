"""SQLite and PostgreSQL: files read by ``leadgate.io`` (rows validated), loaded, then scored.

Each value is stored as its text (docs/semantics.md "Text": ``12``, ``12.5``, ``true``), so text
tests see exactly what the Python executor sees and numbers are re-read from that text by the
query. Columns get generated names (``f0``, ``f1``...) because field names may be anything,
including longer than PostgreSQL's 63-byte identifiers; the compiler maps fields to them.
Event times are epoch seconds in SQLite (no timestamp type) and ``timestamptz`` in PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql import InputShape, matches_query, query_sql
from leadgate.engine.sql_conditions import TEXT
from leadgate.engine.targets import target
from leadgate.engine.values import text_of
from leadgate.errors import UnsupportedTargetError
from leadgate.executors import PostgresOptions, SQLiteOptions
from leadgate.io import read_leads
from leadgate.io.account_events import iter_lead_file_events
from leadgate.model.regex_safety import compile_regex
from leadgate.redact import mask_password

PG_URL_ENV = "LEADGATE_TEST_PG_URL"
ACCOUNT_COLUMN = "account"  # properties are f<i>: no clash


def _regexp(pattern: str, value: Any) -> bool:
    """SQLite's ``x REGEXP p``: RE2, case-insensitive, found anywhere (as the Python executor)."""
    return value is not None and compile_regex(pattern).search(str(value)) is not None


def _create(table: str, columns: list[tuple[str, str]], dialect: str) -> str:
    schema = exp.Schema(
        this=exp.to_table(table),
        expressions=[
            exp.ColumnDef(
                this=exp.to_identifier(n, quoted=True), kind=exp.DataType.build(t, dialect=dialect)
            )
            for n, t in columns
        ],
    )
    return exp.Create(
        this=schema, kind="TABLE", properties=exp.Properties(expressions=[exp.TemporaryProperty()])
    ).sql(dialect)


def _insert(table: str, n: int, dialect: str, marker: str) -> str:
    values = ", ".join([marker] * n)
    return f"INSERT INTO {exp.to_table(table).sql(dialect)} VALUES ({values})"


def loaded_rows(
    plan: ir.Plan,
    leads: str | Path,
    events: str | Path | None,
    as_of: datetime,
    options: SQLiteOptions | PostgresOptions,
    accounts: str | Path | None = None,
    lead: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Load the files into SQLite or PostgreSQL (by ``options``' type) and yield the query's
    rows (``lead``: that lead's only, with its ``event_matches``).

    PostgreSQL is reached before the files are read: a missing URL or a server that refuses is
    said at once, not after reading every row.
    """
    engine = "sqlite" if isinstance(options, SQLiteOptions) else "postgres"
    con = _pg_connect(options.pg_url) if isinstance(options, PostgresOptions) else None
    try:
        yield from _loaded_rows(plan, leads, events, as_of, engine, accounts, con, lead)
    finally:
        if con is not None:
            con.close()


def _loaded_rows(
    plan: ir.Plan, leads: str | Path, events: str | Path | None, as_of: datetime, engine: str,
    accounts: str | Path | None, con: Any, lead: str | None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    profiles = read_leads(leads, accounts, need_rows=True)
    # account-level events (no lead) carry their account in ACCOUNT_COLUMN (``scope: account``)
    owned = list(iter_lead_file_events(events)) if events is not None else []
    evs = [o.event for o in owned]
    with_accounts = any(o.account for o in owned)
    lead_fields = list(dict.fromkeys(k for p in profiles for k in p if k != "lead_id"))
    prop_fields = list(dict.fromkeys(k for e in evs for k in e.properties))
    lead_names = {f: f"f{i}" for i, f in enumerate(lead_fields)} | {"lead_id": "lead_id"}
    prop_names = {f: f"f{i}" for i, f in enumerate(prop_fields)}
    shape = InputShape(
        leads_table="lg_leads", events_table="lg_events",
        lead_columns=dict.fromkeys(lead_names, TEXT), event_columns=dict.fromkeys(prop_names, TEXT),
        order_column="ord", has_events=events is not None,
        lead_renames=lead_names, event_renames=prop_names, lead=lead,
        event_account=ACCOUNT_COLUMN if with_accounts else None,
    )  # fmt: skip
    lead_rows = [
        (i, p["lead_id"], *(text_of(p.get(f)) for f in lead_fields)) for i, p in enumerate(profiles)
    ]
    time_type = "double" if engine == "sqlite" else "timestamptz"
    event_rows = [
        (e.event_id, None if o.account else e.lead_id, e.type,
         e.epoch if engine == "sqlite" else e.timestamp,
         *(text_of(e.properties.get(f)) for f in prop_fields),
         *([e.lead_id if o.account else None] if with_accounts else []))
        for o in owned for e in [o.event]
    ]  # fmt: skip
    lead_cols = [("ord", "bigint"), ("lead_id", "text")] + [
        (lead_names[f], "text") for f in lead_fields
    ]
    event_cols = [
        ("event_id", "text"),
        ("lead_id", "text"),
        ("type", "text"),
        ("timestamp", time_type),
    ]
    event_cols += [(prop_names[f], "text") for f in prop_fields]
    event_cols += [(ACCOUNT_COLUMN, "text")] if with_accounts else []
    queries = [query_sql(plan, as_of, engine, shape)]
    found = matches_query(plan, as_of, engine, shape) if lead is not None else None
    if found is not None:
        queries.append(found.sql(target(engine).dialect))
    if engine == "sqlite":
        results = _sqlite(queries, lead_cols, lead_rows, event_cols, event_rows)
    else:
        results = _postgres(queries, lead_cols, lead_rows, event_cols, event_rows, con)
    rows, *extra = results
    if lead is None:
        yield from rows
        return
    for row in rows:
        yield {**row, "event_matches": extra[0] if extra else []}


Rows = list[dict[str, Any]]


def _sqlite(queries: list[str], lead_cols: list[tuple[str, str]], lead_rows: list[tuple[Any, ...]],
            event_cols: list[tuple[str, str]], event_rows: list[tuple[Any, ...]]) -> list[Rows]:  # fmt: skip
    """Every query's rows, on one in-memory database loaded once."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    try:
        con.create_function("regexp", 2, _regexp, deterministic=True)
        con.execute(_create("lg_leads", lead_cols, "sqlite"))
        con.execute(_create("lg_events", event_cols, "sqlite"))
        con.executemany(_insert("lg_leads", len(lead_cols), "sqlite", "?"), lead_rows)
        con.executemany(_insert("lg_events", len(event_cols), "sqlite", "?"), event_rows)
        out: list[Rows] = []
        for query in queries:
            cur = con.execute(query)
            names = [d[0] for d in cur.description]
            out.append([dict(zip(names, row, strict=True)) for row in cur])
        return out
    finally:
        con.close()


def _pg_connect(pg_url: str | None) -> Any:
    """A psycopg connection to ``pg_url`` (else ``LEADGATE_PG_URL``).

    Raises:
        UnsupportedTargetError: psycopg is not installed, no URL is given, or the server cannot
            be reached (the message masks the URL's password).
    """
    try:
        import psycopg
    except ImportError:
        raise UnsupportedTargetError(
            "the postgres engine needs psycopg: pip install 'leadgate[server]'"
        ) from None
    url = pg_url or os.environ.get("LEADGATE_PG_URL") or os.environ.get(PG_URL_ENV)
    if not url:
        raise UnsupportedTargetError(
            "the postgres engine needs a server: set LEADGATE_PG_URL=postgresql://user@host/db"
        )
    try:
        return psycopg.connect(url)
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnsupportedTargetError(
            f"the postgres engine cannot reach {mask_password(url)}: {mask_password(reason)}"
        ) from None


def _postgres(queries: list[str], lead_cols: list[tuple[str, str]], lead_rows: list[tuple[Any, ...]],
              event_cols: list[tuple[str, str]], event_rows: list[tuple[Any, ...]],
              con: Any) -> list[Rows]:  # fmt: skip
    with con.cursor() as cur:
        cur.execute(_create("lg_leads", lead_cols, "postgres"))
        cur.execute(_create("lg_events", event_cols, "postgres"))
        for table, _cols, rows in (
            ("lg_leads", lead_cols, lead_rows),
            ("lg_events", event_cols, event_rows),
        ):
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
        out: list[Rows] = []
        for query in queries:
            cur.execute(query)
            names = [d.name for d in cur.description or ()]
            out.append([dict(zip(names, row, strict=True)) for row in cur])
        con.rollback()  # temporary tables, nothing to keep
        return out
