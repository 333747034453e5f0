"""Scoring every lead in the store with the SQL executor on DuckDB (the batch path).

A full re-score (publishing a model, ``tick``) reads each lead's profile and events once, in bulk,
straight from the database cursor into Arrow tables, and runs the compiled scoring query
(``engine/sql.py``) on DuckDB (``batch_scores``). ``service/rescore_batch.py`` compares its rows
with the stored snapshot and builds records there; ``score_objects`` turns them into the same
``Score`` objects the per-lead engine builds (``leadgate.batch.records.score_from_row``).
Both paths store the same results (invariant 1, checked in tests/service/test_batch.py and
tests/service/test_rescore_batch.py).

Only what the model reads leaves the database: the profile fields and event properties its
conditions name, and events of the types its rules and checks count. Attribute values are passed
as text (``json_extract_string``), which the value semantics read exactly as the Python engine
reads the stored values (numbers from their text, booleans from true/false).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Text,
    case,
    cast,
    func,
    null,
    select,
    type_coerce,
)
from sqlglot import exp

from leadgate.engine import Score, ir
from leadgate.engine.python import reads_accounts
from leadgate.io.account_join import ACCOUNT_PREFIX, account_value, join_account
from leadgate.store.schema import account_events, accounts, events, leads

FETCH = 50_000


ACCOUNT_COLUMN = "lg_account"  # an account-level event's account (properties may be any name)


def model_fields(plan: ir.Plan) -> tuple[set[str], set[str], set[str]]:
    """(profile fields, event property fields, event types) the model reads (``Plan.fields``)."""
    fields = plan.fields()
    return set(fields.profile), set(fields.properties), set(fields.types)


def property_types(plan: ir.Plan) -> set[str]:
    """Event types whose properties the model reads: the types of filters with a ``where``,
    of measures reading a property (``sum``, ``distinct``) and of ``points_per`` rules.

    A filter's ``where`` is only evaluated for its own types (docs/semantics.md; the compiled
    query tests it inside the branch for those types), so other events need no properties.
    """
    types = {t for f in plan.event_filters if f.where is not None for t in f.types}
    types |= {
        t
        for c in plan.event_counts
        if c.measure.prop not in (None, ir.LEAD_ID)
        for t in c.filter.types
    }
    types |= {
        t
        for r in plan.rules
        if isinstance(r, ir.EventRule) and r.points_per is not None
        for t in r.filter.types
    }
    return types


def _properties(types: set[str]) -> Any:
    # Properties text only for the types that need it (the rest: NULL): less to move and parse.
    c = events.c
    return case((c.type.in_(sorted(types)), type_coerce(c.properties, Text)), else_=null())


def _account_events(conn: Connection, types: list[str], prop_types: set[str], ts: Any) -> Any:
    """The account-level events of ``types`` as Arrow (``lg_account``, type, timestamp and the
    properties as ``_properties``), which ``scope: account`` measures read (issue #16)."""
    import pyarrow as pa

    c = account_events.c
    stamp = type_coerce(c.timestamp, String) if conn.dialect.name == "sqlite" else c.timestamp
    cols: list[Any] = [c.account_id, c.type, stamp]
    names, kinds = [ACCOUNT_COLUMN, "type", "timestamp"], [pa.string(), pa.string(), ts]
    if prop_types:
        props = type_coerce(c.properties, Text)
        cols.append(case((c.type.in_(sorted(prop_types)), props), else_=null()))
        names.append("properties")
        kinds.append(pa.string())
    return _arrow(conn, select(*cols).where(c.type.in_(types)), names, kinds)


# Lead events and account-level events (no lead) as one events table (issue #16).
_WITH_ACCOUNTS = """
CREATE TEMP VIEW lg_all_events AS
SELECT lead_id, CAST(NULL AS VARCHAR) AS {acc}, type, "timestamp"{props} FROM lg_raw_events
UNION ALL
SELECT CAST(NULL AS VARCHAR), {acc}, type, "timestamp"{props} FROM lg_raw_account_events
"""


def _cursor_rows(conn: Connection, query: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Raw rows of ``query`` in batches, from the DBAPI cursor of ``conn``'s transaction.

    PostgreSQL gets a named (server-side) cursor so the result is streamed, not buffered.
    """
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    dbapi: Any = conn.connection.driver_connection
    named = conn.dialect.name == "postgresql"
    cur = dbapi.cursor(name="leadgate_export") if named else dbapi.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(FETCH):
            yield rows
    finally:
        cur.close()


def _arrow(conn: Connection, query: Any, names: list[str], types: list[Any]) -> Any:
    import pyarrow as pa

    batches = []
    for rows in _cursor_rows(conn, query):
        cols: list[Any] = list(zip(*rows, strict=True))
        batches.append(
            pa.record_batch(
                [pa.array(c, type=t) for c, t in zip(cols, types, strict=True)], names=names
            )
        )
    schema = pa.schema(list(zip(names, types, strict=True)))
    return pa.Table.from_batches(batches, schema=schema)


# One row per lead on SQLite: its events as a JSON array of [type, timestamp(, properties)],
# built by SQLite's own json_group_array. Moving 100k lead rows through Python instead of
# millions of event rows was the largest single cost of a full re-score; DuckDB unnests them.
# A duplicate lead's events are re-owned here by the lead it duplicates.
_UNGROUP = """
CREATE TEMP VIEW lg_raw_events AS
SELECT coalesce(d.duplicate_of, g.lead_id) AS lead_id, e[1] AS type, e[2] AS "timestamp"{props}
FROM (SELECT lead_id, unnest(from_json(evs, '[["VARCHAR"]]')) AS e FROM lg_grouped_events) AS g
LEFT JOIN lg_duplicates AS d ON d.lead_id = g.lead_id
"""


def _grouped_events(conn: Connection, types: list[str], prop_types: set[str]) -> tuple[Any, Any]:
    """(events grouped per lead as JSON text, lead -> duplicate_of) as Arrow tables (SQLite)."""
    import pyarrow as pa

    c = events.c
    items = [c.type, type_coerce(c.timestamp, String)]
    if prop_types:
        items.append(_properties(prop_types))
    q = (
        select(c.lead_id, func.json_group_array(func.json_array(*items)))
        .where(c.type.in_(types))
        .group_by(c.lead_id)
    )
    s = pa.string()
    grouped = _arrow(conn, q, ["lead_id", "evs"], [s, s])
    dq = select(leads.c.lead_id, leads.c.duplicate_of).where(leads.c.duplicate_of.is_not(None))
    return grouped, _arrow(conn, dq, ["lead_id", "duplicate_of"], [s, s])


def _pointer(name: str) -> exp.Literal:
    # JSON pointer of a key (RFC 6901): no quoting problems whatever the field name holds.
    return exp.Literal.string("/" + name.replace("~", "~0").replace("/", "~1"))


def _extract(table: str, column: str, key: str) -> exp.Expression:
    return exp.Anonymous(
        this="json_extract_string", expressions=[exp.column(column, table=table), _pointer(key)]
    )


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


# The stored state a re-score compares its fresh scores with (``rescore._changed``,
# ``lifecycle.stages.enters_mql``), exported with each lead's profile when asked for.
SNAPSHOT = (
    "stage", "stage_since", "last_event_at", "score_total", "qualifies", "segment",
    "score_model_hash", "pql", "pql_held",
)  # fmt: skip


def _pql_state(conn: Connection) -> list[Any]:
    """The stored record's PQL flag (0/1) and signals held (``lifecycle.scores.pql_state``)."""
    score = leads.c.score
    flag = func.coalesce(cast(score["pql"].as_boolean(), Integer), 0)
    if conn.dialect.name == "sqlite":
        held = func.json_array_length(score, "$.pql_signals")
    else:
        held = func.json_array_length(score.op("->")("pql_signals"))
    return [flag, func.coalesce(held, 0)]


def _lead_export(conn: Connection, snapshot: bool) -> Any:
    """Primary leads in ``lead_id`` order as Arrow: id, attributes, account (and the snapshot).

    Read raw from the cursor: SQLite gives times as their stored text, PostgreSQL as aware
    datetimes; DuckDB casts either to ``timestamptz``. ``ord`` numbers the rows in that order.
    """
    import pyarrow as pa

    s = pa.string()
    c = leads.c
    cols: list[Any] = [c.lead_id, cast(c.attrs, Text), c.account_id]
    names, types = ["lead_id", "attrs", "account_id"], [s, s, s]
    if snapshot:
        ts = pa.timestamp("us", tz="UTC") if conn.dialect.name == "postgresql" else s
        cols += [c.stage, c.stage_since, c.last_event_at, c.score_total]
        cols += [cast(c.qualifies, Integer), c.segment, c.score_model_hash, *_pql_state(conn)]
        names += [f"old_{n}" for n in SNAPSHOT]
        types += [s, ts, ts, pa.float64(), pa.int64(), s, s, pa.int64(), pa.int64()]
    q = select(*cols).where(c.duplicate_of.is_(None)).order_by(c.lead_id)
    table = _arrow(conn, q, names, types)
    return table.append_column("ord", pa.array(range(table.num_rows), type=pa.int64()))


@contextmanager
def batch_scores(
    conn: Connection,
    plan: ir.Plan,
    as_of: datetime,
    *,
    memory_limit: str = "2GB",
    snapshot: bool = False,
    sort: bool = True,
) -> Iterator[tuple[Any, str]]:
    """The batch path: a DuckDB connection over the store's leads and events, and the SQL of the
    scoring query over them (``engine/sql.py``), as a context manager.

    The query's rows carry ``input_row``: the lead's row number in ``lead_id`` order (and come
    in that order with ``sort``). With
    ``snapshot``, table ``lg_raw_leads`` also holds each lead's stored state (``old_<column>``
    for the ``SNAPSHOT`` columns, joined on ``ord = input_row``).
    """
    import duckdb
    import pyarrow as pa

    from leadgate.engine.sql import InputShape, compile_query

    fields, props, types = model_fields(plan)
    ts = pa.timestamp("us", tz="UTC") if conn.dialect.name == "postgresql" else pa.string()
    s = pa.string()
    raw_leads = _lead_export(conn, snapshot)
    account_fields = sorted(f[len("account.") :] for f in fields if f.startswith("account."))
    raw_accounts = (
        _arrow(
            conn,
            select(accounts.c.account_id, cast(accounts.c.attrs, Text)),
            ["account_id", "attrs"],
            [s, s],
        )
        if account_fields
        else None
    )
    owner = func.coalesce(leads.c.duplicate_of, events.c.lead_id)
    # No event ids: the query never reads them, and they are the widest column.
    event_cols = [owner, events.c.type, events.c.timestamp]
    names, arrow_types = ["lead_id", "type", "timestamp"], [s, s, ts]
    prop_types = property_types(plan) if props else set()
    if prop_types:
        event_cols.append(cast(_properties(prop_types), Text))
        names.append("properties")
        arrow_types.append(s)
    event_q = (
        select(*event_cols)
        .select_from(events.outerjoin(leads, leads.c.lead_id == events.c.lead_id))
        .where(events.c.type.in_(sorted(types)))
    )
    raw_events = dupes = raw_account_events = None
    if types and reads_accounts(plan):
        raw_account_events = _account_events(conn, sorted(types), prop_types, ts)
    grouped = conn.dialect.name == "sqlite"
    if types and grouped:
        raw_events, dupes = _grouped_events(conn, sorted(types), prop_types)
    elif types:
        raw_events = _arrow(conn, event_q, names, arrow_types)

    con = duckdb.connect(config={"memory_limit": memory_limit})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # the adapters draw their own
        con.register("lg_raw_leads", raw_leads)
        view = exp.select(
            exp.column("ord", table="l"),
            exp.alias_(exp.column("lead_id", table="l"), _ident("lead_id")),
        ).from_(exp.to_table("lg_raw_leads").as_("l"))
        for name in sorted(fields - {"lead_id"}):
            value: exp.Expression = _extract("l", "attrs", name)
            if name == "account_id":  # the stored lead's account (``rescore.score_rows`` too)
                value = exp.Coalesce(this=exp.column("account_id", table="l"), expressions=[value])
            if name.startswith(ACCOUNT_PREFIX) and raw_accounts is not None:
                value = account_value(value, _extract("a", "attrs", name[len(ACCOUNT_PREFIX) :]))
            view = view.select(exp.alias_(value, _ident(name)))
        if raw_accounts is not None:
            con.register("lg_raw_accounts", raw_accounts)
            view = join_account(view, "l", "lg_raw_accounts", "a")
        con.execute(f"CREATE TEMP VIEW lg_leads AS {view.sql('duckdb')}")
        ev = exp.select(
            "lead_id",
            "type",
            exp.alias_(
                exp.cast(exp.column(_ident("timestamp")), "timestamptz"), _ident("timestamp")
            ),
        ).from_("lg_raw_events")
        for name in sorted(props) if prop_types else ():
            ev = ev.select(
                exp.alias_(
                    exp.Anonymous(
                        this="json_extract_string",
                        expressions=[exp.column("properties"), _pointer(name)],
                    ),
                    _ident(name),
                )
            )
        if raw_events is not None and grouped:
            con.register("lg_grouped_events", raw_events)
            con.register("lg_duplicates", dupes)
            con.execute(_UNGROUP.format(props=", e[3] AS properties" if prop_types else ""))
        elif raw_events is not None:
            con.register("lg_raw_events", raw_events)
        if raw_account_events is not None:
            con.register("lg_raw_account_events", raw_account_events)
            props_col = ", properties" if prop_types else ""
            con.execute(_WITH_ACCOUNTS.format(acc=ACCOUNT_COLUMN, props=props_col))
            ev = ev.select(ACCOUNT_COLUMN).from_("lg_all_events")
        if raw_events is not None:
            con.execute(f"CREATE TEMP VIEW lg_events AS {ev.sql('duckdb')}")
        shape = InputShape(
            leads_table="lg_leads", events_table="lg_events", lead_columns=None, event_columns=None,
            order_column="ord", sort_output=sort, has_events=raw_events is not None,
            event_account=ACCOUNT_COLUMN if raw_account_events is not None else None,
        )  # fmt: skip
        yield con, compile_query(plan, as_of, "duckdb", shape).sql("duckdb")
    finally:
        con.close()


def score_objects(
    conn: Connection,
    plan: ir.Plan,
    as_of: datetime,
    *,
    memory_limit: str = "2GB",
) -> Iterator[Score]:
    """The ``Score`` of every primary (non-duplicate) lead, in ``lead_id`` order.

    The order is the database's own ``ORDER BY lead_id``, the order ``rescore`` walks the leads.
    """
    from leadgate.batch.records import score_from_row

    with batch_scores(conn, plan, as_of, memory_limit=memory_limit) as (con, query):
        cur = con.execute(query)
        columns = [d[0] for d in cur.description]
        while rows := cur.fetchmany(10_000):
            for row in rows:
                yield score_from_row(plan, dict(zip(columns, row, strict=True)), as_of)
