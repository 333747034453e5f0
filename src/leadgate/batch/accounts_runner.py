"""The account stage on a SQL engine: inputs loaded into one database, then three statements.

The leads, their events, the accounts and their account-level events (read and validated by
``leadgate.io``) are loaded as text, as ``batch/loaded.py`` loads leads (generated column names,
values as their text), into an in-memory DuckDB or SQLite database or PostgreSQL temporary
tables. Then, in that database: the compiled lead query (``engine/sql``) on the leads, joined
back to their profiles (``lg_scored``); the compiled lead query on ``AccountPlan.base`` over the
accounts (``lg_base``); the account query and its members (``engine/accounts_sql``). The rows
come back as ``AccountScore``s through ``accounts_python.assemble``, as the query computed them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlglot import exp

from leadgate.batch.loaded import ACCOUNT_COLUMN, _create, _pg_connect, _regexp
from leadgate.batch.records import score_from_row
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_python import Decided, assemble
from leadgate.engine.accounts_result import AccountRuleResult, AccountScore, RoleResult
from leadgate.engine.accounts_sql import AccountShape, account_query, members_query, score_column
from leadgate.engine.event import Event
from leadgate.engine.python import reads_accounts
from leadgate.engine.sql import InputShape, matches_query, query_sql
from leadgate.engine.sql_conditions import TEXT
from leadgate.engine.sql_shape import dimension_column
from leadgate.engine.targets import target
from leadgate.engine.values import text_of
from leadgate.executors import DuckDBOptions, PostgresOptions, SparkOptions, SQLiteOptions

AccountSqlOptions = DuckDBOptions | SQLiteOptions | PostgresOptions | SparkOptions
Rows = list[dict[str, Any]]
Table = tuple[str, list[tuple[str, str]], list[tuple[Any, ...]]]


def _profiles_table(
    name: str, profiles: Sequence[Mapping[str, Any]], id_field: str, with_acct: bool
) -> tuple[Table, dict[str, str]]:
    fields = list(dict.fromkeys(k for p in profiles for k in p if k != id_field))
    renames = {f: f"f{i}" for i, f in enumerate(fields)}
    cols = [("ord", "bigint"), ("lead_id", "text")]
    cols += [("acct", "text")] if with_acct else []
    cols += [(renames[f], "text") for f in fields]
    rows = [
        (
            i,
            str(p[id_field]),
            *((text_of(p.get("account_id")),) if with_acct else ()),
            *(text_of(p.get(f)) for f in fields),
        )
        for i, p in enumerate(profiles)
    ]
    return (name, cols, rows), renames


def _events_table(
    name: str, events: Sequence[Event], engine: str, account_level: Sequence[Event] = ()
) -> tuple[Table, dict[str, str]]:
    """``events`` as a table; ``account_level``: account-level events (``Event.lead_id`` their
    account) in it too, with no lead and their account in ``ACCOUNT_COLUMN`` (issue #16)."""
    props = list(dict.fromkeys(k for e in (*events, *account_level) for k in e.properties))
    renames = {f: f"f{i}" for i, f in enumerate(props)}
    time_type = {"sqlite": "double", "postgres": "timestamptz"}.get(engine, "timestamp")

    def when(e: Event) -> Any:
        if engine == "sqlite":
            return e.epoch
        # DuckDB's timestamp is naive UTC; PySpark converts an aware time by its zone.
        return e.timestamp.replace(tzinfo=None) if engine == "duckdb" else e.timestamp

    cols = [("event_id", "text"), ("lead_id", "text"), ("type", "text"), ("timestamp", time_type)]
    cols += [(renames[f], "text") for f in props]
    rows = [
        (e.event_id, e.lead_id, e.type, when(e), *(text_of(e.properties.get(f)) for f in props))
        for e in events
    ]
    if account_level:
        cols.append((ACCOUNT_COLUMN, "text"))
        rows = [(*r, None) for r in rows] + [
            (e.event_id, None, e.type, when(e), *(text_of(e.properties.get(f)) for f in props),
             e.lead_id)
            for e in account_level
        ]  # fmt: skip
    return (name, cols, rows), renames


def _shape(
    table: str, events: str, profile: dict[str, str], props: dict[str, str], has_events: bool,
    lead: str | None = None, event_account: str | None = None,
) -> InputShape:  # fmt: skip
    names = profile | {"lead_id": "lead_id"}
    return InputShape(
        leads_table=table, events_table=events,
        lead_columns=dict.fromkeys(names, TEXT), event_columns=dict.fromkeys(props, TEXT),
        order_column="ord", sort_output=False, has_events=has_events,
        lead_renames=names, event_renames=props, lead=lead, event_account=event_account,
    )  # fmt: skip


def account_rows(
    plan: AccountPlan,
    accounts: Sequence[Mapping[str, Any]],
    leads: Sequence[Mapping[str, Any]],
    lead_events: Sequence[Event],
    account_events: Sequence[Event],
    as_of: datetime,
    options: AccountSqlOptions,
    account: str | None = None,
) -> tuple[Rows, Rows, Rows]:
    """The account query's rows, the members query's rows and (``account``: that account only)
    the base plan's event matches, computed on ``options``' engine."""
    engine = {
        DuckDBOptions: "duckdb", SQLiteOptions: "sqlite", PostgresOptions: "postgres",
        SparkOptions: "spark",
    }[type(options)]  # fmt: skip
    dialect = target(engine).dialect
    leads_t, lead_names = _profiles_table("lg_leads", leads, "lead_id", True)
    # scope: account measures of the leads read the account-level events too (issue #16)
    level = account_events if reads_accounts(plan.lead) else ()
    events_t, prop_names = _events_table("lg_events", lead_events, engine, level)
    acc_t, acc_names = _profiles_table("lg_acc", accounts, "account_id", False)
    acc_ev_t, acc_props = _events_table("lg_acc_events", account_events, engine)
    lead_shape = _shape(
        "lg_leads", "lg_events", lead_names, prop_names, bool(lead_events) or bool(level),
        event_account=ACCOUNT_COLUMN if level else None,
    )  # fmt: skip
    base_shape = _shape("lg_acc", "lg_acc_events", acc_names, acc_props, bool(account_events))
    if account is not None:
        base_shape = _shape(
            "lg_acc", "lg_acc_events", acc_names, acc_props, bool(account_events), account
        )
    shape = AccountShape(lead_kinds=dict.fromkeys(lead_names, TEXT), lead_renames=lead_names)
    statements = [
        ("lg_lead_q", lead_scores_sql(plan, query_sql(plan.lead, as_of, engine, lead_shape))),
        ("lg_scored", scored_select(plan, None).sql(dialect=dialect)),
        ("lg_base", query_sql(plan.base, as_of, engine, base_shape)),
    ]
    queries = [account_query(plan, engine, shape), members_query(plan, engine, shape)]
    found = matches_query(plan.base, as_of, engine, base_shape) if account is not None else None
    if found is not None:
        queries.append(found.sql(dialect=dialect))
    tables = [leads_t, events_t, acc_t, acc_ev_t]
    if isinstance(options, SQLiteOptions):
        out = _sqlite(tables, statements, queries)
    elif isinstance(options, PostgresOptions):
        out = _postgres(tables, statements, queries, options.pg_url)
    elif isinstance(options, SparkOptions):
        out = _spark(tables, statements, queries, options.spark_master)
    else:
        out = _duckdb(tables, statements, queries, options)
    rows, members, *matches = out
    return rows, members, (matches[0] if matches else [])


Statements = list[tuple[str, str]]  # (table name, the query that fills it)


def lead_score_columns(plan: AccountPlan) -> list[str]:
    """The lead query's columns the account stage reads: id, total, MQL flag, scores."""
    cols = ["lead_id", "total", "mql"]
    return cols + [dimension_column(plan.lead, i) for i in range(len(plan.lead.dimensions))]


def lead_scores_sql(plan: AccountPlan, query: str) -> str:
    """The compiled lead query cut to what the account stage reads (``lead_score_columns``),
    so an engine that prunes columns skips the explanation's."""
    return f"SELECT {', '.join(lead_score_columns(plan))} FROM ({query}) AS lead_q"


def scored_select(
    plan: AccountPlan, acct: exp.Expression | None, fields: list[str] | None = None
) -> exp.Select:
    """``lg_scored``: every lead of ``lg_leads`` with its scores from the lead query
    (``lg_lead_q``) as the account query reads them; ``acct``: its account id (None: the
    leads table has an ``acct`` column already); ``fields``: only these profile columns
    besides ``lead_id`` (``accounts_sql.scored_fields``; None: all of them)."""
    scores = [
        exp.alias_(exp.column("total", "q"), "s_total"),
        *(
            exp.alias_(exp.column(dimension_column(plan.lead, i), "q"), score_column(i))
            for i in range(len(plan.lead.dimensions))
        ),
        exp.alias_(
            exp.Case(
                ifs=[exp.If(this=exp.column("mql", "q"), true=exp.Literal.string("true"))],
                default=exp.Literal.string("false"),
            ),
            "s_mql",
        ),
    ]
    lead_id = exp.cast(exp.column("lead_id", "l"), "text")
    profile: list[exp.Expression] = [exp.Column(this=exp.Star(), table=exp.to_identifier("l"))]
    if fields is not None:
        names = ["lead_id", *(f for f in fields if f != "lead_id")]
        profile = [exp.column(exp.to_identifier(f, quoted=True), "l") for f in names]
    return (
        exp.select(*profile, *([exp.alias_(acct, "acct")] if acct is not None else []), *scores)
        .from_(exp.to_table("lg_leads").as_("l"))
        .join(
            exp.to_table("lg_lead_q").as_("q"),
            on=exp.EQ(this=exp.column("lead_id", "q"), expression=lead_id),
        )
    )


def _as_table(name: str, query: str) -> str:
    return f"CREATE TEMPORARY TABLE {name} AS {query}"


def _fetch(cur: Any, names: list[str]) -> Rows:
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _sqlite(tables: list[Table], statements: Statements, queries: list[str]) -> list[Rows]:
    import sqlite3

    con = sqlite3.connect(":memory:")
    try:
        con.create_function("regexp", 2, _regexp, deterministic=True)
        for name, cols, rows in tables:
            con.execute(_create(name, cols, "sqlite"))
            marks = ", ".join("?" * len(cols))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        for name, sql in statements:
            con.execute(_as_table(name, sql))
        out = []
        for sql in queries:
            cur = con.execute(sql)
            out.append(_fetch(cur, [d[0] for d in cur.description]))
        return out
    finally:
        con.close()


def _postgres(
    tables: list[Table], statements: Statements, queries: list[str], pg_url: str | None
) -> list[Rows]:
    con = _pg_connect(pg_url)
    try:
        with con.cursor() as cur:
            for name, cols, rows in tables:
                cur.execute(_create(name, cols, "postgres"))
                with cur.copy(f"COPY {name} FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
            for name, sql in statements:
                cur.execute(_as_table(name, sql))
            out = []
            for sql in queries:
                cur.execute(sql)
                out.append(_fetch(cur, [d.name for d in cur.description or ()]))
            con.rollback()  # temporary tables, nothing to keep
            return out
    finally:
        con.close()


def _duckdb(
    tables: list[Table], statements: Statements, queries: list[str], options: DuckDBOptions
) -> list[Rows]:
    import duckdb

    config: dict[str, Any] = {"memory_limit": options.memory_limit}
    if options.threads is not None:
        config["threads"] = options.threads
    if options.temp_directory is not None:
        config["temp_directory"] = options.temp_directory
    con = duckdb.connect(":memory:", config=config)
    try:
        for name, cols, rows in tables:
            # Through Arrow: DuckDB's executemany takes seconds per ten thousand rows.
            con.register(f"{name}_arrow", _arrow(cols, rows))
            con.execute(f"CREATE TEMPORARY TABLE {name} AS SELECT * FROM {name}_arrow")
            con.unregister(f"{name}_arrow")
        for name, sql in statements:
            con.execute(_as_table(name, sql))
        out = []
        for sql in queries:
            cur = con.execute(sql)
            out.append(_fetch(cur, [d[0] for d in cur.description or ()]))
        return out
    finally:
        con.close()


def _spark(
    tables: list[Table], statements: Statements, queries: list[str], master: str | None
) -> list[Rows]:
    """On Spark: the tables as DataFrames, each statement a materialized temporary view.

    The tables go to the JVM as Arrow data (PySpark 4; from Python rows, the jobs on them start
    Python workers to unpickle them). A statement is materialized by ``localCheckpoint``, as the
    other engines' temporary tables, not ``cache()``: dropping a cached view re-planned every
    other cached one (a fifth of the time of a small call)."""
    import pyspark
    from pyspark.sql import types as T

    from leadgate.batch.spark_runner import spark_session

    kinds = {
        "text": T.StringType(), "bigint": T.LongType(), "double": T.DoubleType(),
        "timestamp": T.TimestampType(),
    }  # fmt: skip
    arrow = int(pyspark.__version__.split(".")[0]) >= 4  # createDataFrame(pa.Table) since 4.0
    spark = spark_session(master)
    views: list[str] = []
    try:
        for name, cols, rows in tables:
            schema = T.StructType([T.StructField(c, kinds[t], True) for c, t in cols])
            data = _arrow(cols, rows, zone="UTC") if arrow else rows
            spark.createDataFrame(data, schema).createOrReplaceTempView(name)
            views.append(name)
        for name, sql in statements:
            spark.sql(sql).localCheckpoint(eager=True).createOrReplaceTempView(name)
            views.append(name)
        return [[row.asDict() for row in spark.sql(sql).collect()] for sql in queries]
    finally:
        for name in views:
            spark.catalog.dropTempView(name)


def _arrow(
    cols: list[tuple[str, str]], rows: list[tuple[Any, ...]], zone: str | None = None
) -> Any:
    """The rows as an Arrow table of the columns' types (``zone``: the timestamps' time zone;
    None: naive)."""
    import pyarrow as pa

    kinds = {"text": pa.string(), "bigint": pa.int64(), "double": pa.float64(),
             "timestamp": pa.timestamp("us", tz=zone)}  # fmt: skip
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
    return pa.table(
        {c: pa.array(list(v), type=kinds[t]) for (c, t), v in zip(cols, columns, strict=True)}
    )


def _f(value: Any) -> float:
    return 0.0 if value is None else float(value)


def scores_from_rows(
    plan: AccountPlan, rows: Rows, members: Rows, matches: Rows | None, as_of: datetime
) -> Iterator[AccountScore]:
    """The rows of ``account_rows`` as ``AccountScore``s, in the accounts' input order."""
    by_account: dict[str, Rows] = {}
    for m in sorted(members, key=lambda m: str(m["lead_id"])):
        by_account.setdefault(str(m["acct"]), []).append(m)
    group = plan.buying_group
    for row in sorted(rows, key=lambda r: int(r["input_row"])):
        base = score_from_row(plan.base, row, as_of, matches)
        mine = by_account.get(base.lead_id, [])
        rollups: dict[str, AccountRuleResult] = {}
        for r in plan.rollups:
            k, ru = r.key, r.rollup
            hit = [m for m in mine if m[f"in_{k}"]]
            if ru.kind == "count_distinct":
                hit = [m for m in hit if m[f"cd_{k}"] is not None]
            elif ru.kind in ("max", "top_sum"):
                hit = sorted(hit, key=lambda m: int(m[f"rk_{k}"]))[
                    : 1 if ru.kind == "max" else ru.n
                ]
            rollups[k] = AccountRuleResult(
                k, r.dimension, r.name, r.kind, bool(row[f"ru_matched_{k}"]), 0,
                _f(row[f"ru_raw_{k}"]), _f(row[f"ru_raw_{k}"]), _f(row[f"ru_points_{k}"]),
                bool(row[f"ru_capped_{k}"]), (), _f(row[f"ru_value_{k}"]),
                tuple(str(m["lead_id"]) for m in hit),
            )  # fmt: skip
        roles: tuple[RoleResult, ...] = ()
        if group is not None:
            roles = tuple(
                RoleResult(
                    role.name,
                    role.required,
                    int(row[f"role_filled_{i}"] or 0),
                    tuple(str(m["lead_id"]) for m in mine if _fills(m, i)),
                )
                for i, role in enumerate(group.roles)
            )
        names = [d.name for d in plan.dimensions]
        met = {
            n: bool(row[f"acc_met_floor_{i}"])
            for i, n in enumerate(names)
            if f"acc_met_floor_{i}" in row
        }
        met["total"] = bool(row["acc_met_total"])
        met["completeness"] = bool(row["acc_met_completeness"])
        decided = Decided(
            sums={n: _f(row[f"acc_sum_{i}"]) for i, n in enumerate(names)},
            scores={n: _f(row[f"acc_score_{i}"]) for i, n in enumerate(names)},
            total=_f(row["acc_total"]),
            met=met,
        )
        ids = tuple(str(m["lead_id"]) for m in mine)
        yield assemble(plan, base, rollups, roles, ids, decided)


def _fills(member: Mapping[str, Any], role: int) -> bool:
    """The member's role is ``role`` and it is engaged."""
    index = member["role_ix"]
    return index is not None and int(index) == role and bool(member["engaged"])
