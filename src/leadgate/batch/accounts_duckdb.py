"""The account stage on DuckDB reading the files itself (no Python pass over the rows).

``DuckDBScorer.mount`` mounts the leads (joined with their accounts), the events and the
accounts as the lead runner does; on top of its views: ``lg_acc`` (the accounts as the base
plan's "leads", ``lead_id`` = ``account_id``) and ``lg_acc_events`` (the events file's rows with
an ``account_id`` and no ``lead_id``). Then the same three statements and two queries as
``batch/accounts_runner`` (lead query, scored leads, base query; account and members queries),
so the rows map back through ``accounts_runner.scores_from_rows``. The rows the Python readers
would refuse are refused here too, naming file, line and field (checked by queries).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from leadgate.batch.accounts_runner import Rows, lead_scores_sql, scored_select
from leadgate.batch.duckdb_runner import DuckDBScorer, _columns, _ident, _schema, _source
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_sql import AccountShape, account_query, members_query
from leadgate.engine.sql import InputShape, query_sql
from leadgate.engine.sql_conditions import TEXT
from leadgate.errors import IngestError
from leadgate.executors import DuckDBOptions
from leadgate.io.formats import format_of
from leadgate.io.readers import bad_time

_ACC_ORD = "__leadgate_acc_row"


def _first(con: Any, sql: str) -> tuple[Any, ...] | None:
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def _check_events(con: Any, file: str, has_account: bool) -> None:
    """Each event row has a lead or an account, a type and a readable time (the Python
    reader's checks, ``io.account_events``), else the first bad row is named."""
    owner = "(lead_id IS NULL OR CAST(lead_id AS TEXT) = '')"
    if has_account:
        owner += " AND (account_id IS NULL OR CAST(account_id AS TEXT) = '')"
    tests = {
        "lead_id": owner,
        "type": "type IS NULL OR trim(CAST(type AS TEXT)) = ''",
        "timestamp": 'TRY_CAST("timestamp" AS TIMESTAMPTZ) IS NULL',
    }
    for field, test in tests.items():
        found = _first(
            con,
            f'SELECT rn, CAST("{field}" AS TEXT) FROM (SELECT row_number() OVER () AS rn, * '
            f"FROM lg_src_events) WHERE {test} ORDER BY rn LIMIT 1",
        )
        if found is None:
            continue
        line = int(found[0]) + (1 if format_of(file) == "csv" else 0)
        message = {
            "lead_id": "needs a lead_id (a lead's event) or an account_id (an account's event)",
            "type": "is required (the event type, e.g. email_open)",
            "timestamp": bad_time(found[1]),
        }[field]
        raise IngestError(message, file=file, line=line, field=field)


def _check_accounts(con: Any, file: str) -> None:
    found = _first(
        con,
        "SELECT id, rn FROM (SELECT CAST(account_id AS TEXT) AS id, row_number() OVER () AS rn "
        "FROM lg_src_accounts) QUALIFY row_number() OVER (PARTITION BY id ORDER BY rn) = 2 "
        "ORDER BY rn LIMIT 1",
    )
    if found is not None:
        line = int(found[1]) + (1 if format_of(file) == "csv" else 0)
        raise IngestError(
            f"duplicate account_id '{found[0]}'", file=file, line=line, field="account_id"
        )


def duckdb_account_rows(
    plan: AccountPlan,
    leads: str | Path,
    events: str | Path | None,
    accounts: str | Path,
    as_of: datetime,
    options: DuckDBOptions,
) -> tuple[Rows, Rows]:
    """The account query's rows and the members query's rows, DuckDB reading the files."""
    scorer = DuckDBScorer(options)
    try:
        con = scorer.con
        # The accounts first: a duplicate account would otherwise show as duplicate leads.
        _source(con, accounts, ("account_id",)).create_view("lg_src_accounts")
        _check_accounts(con, str(accounts))
        shape = scorer.mount(leads, events, accounts)
        acc_cols = [
            (name, e, kind)
            for name, e, kind in _columns(_schema(con.table("lg_src_accounts")), "a")
            if name != "account_id"
        ]
        acc_view = exp.select(
            exp.alias_(exp.Window(this=exp.RowNumber()), _ACC_ORD, quoted=True),
            exp.alias_(exp.cast(exp.column("account_id", "a"), "text"), "lead_id"),
            *[exp.alias_(e, _ident(name)) for name, e, _ in acc_cols],
        ).from_(exp.to_table("lg_src_accounts").as_("a"))
        con.execute(f"CREATE TEMP VIEW lg_acc AS {acc_view.sql('duckdb')}")
        has_account_events = False
        event_kinds = dict(shape.event_columns or {})
        if events is not None:
            has_account = "account_id" in con.table("lg_src_events").columns
            _check_events(con, str(events), has_account)
            if has_account:
                has_account_events = True
                event_kinds.pop("account_id", None)
                con.execute(
                    "CREATE TEMP VIEW lg_acc_events AS SELECT CAST(account_id AS TEXT) AS lead_id, "
                    "* EXCLUDE (lead_id, account_id) FROM lg_events "
                    "WHERE (lead_id IS NULL OR CAST(lead_id AS TEXT) = '') "
                    "AND account_id IS NOT NULL AND CAST(account_id AS TEXT) <> ''"
                )
        base_shape = InputShape(
            leads_table="lg_acc", events_table="lg_acc_events",
            lead_columns={"lead_id": TEXT, **{n: k for n, _, k in acc_cols}},
            event_columns=event_kinds, order_column=_ACC_ORD, sort_output=False,
            has_events=has_account_events, has_event_ids=shape.has_event_ids,
        )  # fmt: skip
        lead_shape = replace(shape, sort_output=False)
        statements = [
            ("lg_lead_q", lead_scores_sql(plan, query_sql(plan.lead, as_of, "duckdb", lead_shape))),
            (
                "lg_scored",
                scored_select(plan, exp.cast(exp.column("account_id", "l"), "text")).sql("duckdb"),
            ),
            ("lg_base", query_sql(plan.base, as_of, "duckdb", base_shape)),
        ]
        for name, sql in statements:
            con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
        acc_shape = AccountShape(
            lead_kinds=dict(shape.lead_columns or {}), lead_renames=dict(shape.lead_renames)
        )
        out: list[Rows] = []
        for sql in (
            account_query(plan, "duckdb", acc_shape),
            members_query(plan, "duckdb", acc_shape),
        ):
            cur = con.execute(sql)
            names = [d[0] for d in cur.description or ()]
            out.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        rows, members = out
        return rows, members
    finally:
        scorer.close()
