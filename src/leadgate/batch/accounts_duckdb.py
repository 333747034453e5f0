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

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlglot import exp

from leadgate.batch.account_text import (
    csv_header,
    csv_line_sql,
    flat_values_sql,
    jsonl_line_sql,
    mqa_sql,
    role_columns,
    role_members_sql,
)
from leadgate.batch.accounts_runner import (
    Rows,
    lead_score_columns,
    scored_select,
    scores_from_rows,
)
from leadgate.batch.duckdb_runner import (
    DuckDBScorer,
    _columns,
    _ident,
    _schema,
    _source,
    duckdb_error,
)
from leadgate.batch.record_files import copy_lines, copy_parquet, csv_row_sql, stream_lines
from leadgate.engine.accounts_ir import AccountPlan
from leadgate.engine.accounts_sql import AccountShape, account_query, members_query, scored_fields
from leadgate.engine.sql import InputShape, query_sql
from leadgate.engine.sql_conditions import TEXT
from leadgate.errors import IngestError
from leadgate.executors import DuckDBOptions
from leadgate.io.formats import format_of
from leadgate.io.readers import bad_time
from leadgate.io.writers import atomic_output, flat_record, write_records

_ACC_ORD = "__leadgate_acc_row"
_NO_LEAD = "(lead_id IS NULL OR CAST(lead_id AS TEXT) = '')"


def _first(con: Any, sql: str) -> tuple[Any, ...] | None:
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def _event_tests(has_account: bool) -> dict[str, str]:
    """The Python reader's checks (``io.account_events``) on an events row, by field: each row
    has a lead or an account, a type and a readable time."""
    owner = _NO_LEAD
    if has_account:
        owner += " AND (account_id IS NULL OR CAST(account_id AS TEXT) = '')"
    return {
        "lead_id": owner,
        "type": "type IS NULL OR trim(CAST(type AS TEXT)) = ''",
        "timestamp": 'TRY_CAST("timestamp" AS TIMESTAMPTZ) IS NULL',
    }


def _rest_of_events(con: Any, has_account: bool, fields: set[str]) -> tuple[int, bool]:
    """``lg_ev_rest``: the events file's rows without a lead id (the account events, and rows
    with no owner at all), kept in one pass; the account events are read from here, not from
    the file again. Only the columns ``fields`` (the checked ones and the account plan's
    properties) are kept: each column kept costs its share of every row's parse. Returns how
    many rows there are and whether one of them fails a check (``_event_tests``): the lead
    rows are checked by the lead query (``bad_events``)."""
    # A nested property (JSON) lives in its top-level column: keep that column.
    kept = [
        _ident(c).sql("duckdb")
        for c in con.table("lg_src_events").columns
        if c in fields or any(f.startswith(c + ".") for f in fields)
    ]
    con.execute(
        f"CREATE TEMP TABLE lg_ev_rest AS SELECT {', '.join(kept)} FROM lg_src_events "
        f"WHERE {_NO_LEAD}"
    )
    tests = _event_tests(has_account).values()
    found = _first(
        con, "SELECT count(*), " + " OR ".join(f"coalesce(bool_or({t}), false)" for t in tests)
        + " FROM lg_ev_rest"
    )  # fmt: skip
    assert found is not None
    return int(found[0]), bool(found[1])


def _check_events(con: Any, file: str, has_account: bool) -> None:
    """The checks of ``_event_tests`` on every row of the events file, the first bad row named
    (a field's test at a time, in ``_event_tests``' order). Run only when a cheaper count says
    a row may be bad; finds nothing when the count's stricter test was all that failed."""
    tests = _event_tests(has_account)
    flags = ", ".join(f"coalesce(bool_or({test}), false)" for test in tests.values())
    bad = _first(con, f"SELECT {flags} FROM lg_src_events")
    for (field, test), is_bad in zip(tests.items(), bad or (), strict=True):
        if not is_bad:
            continue
        # The line: a window over the rows in file order (one thread), only for a bad file.
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


@contextmanager
def _staged(
    plan: AccountPlan,
    leads: str | Path,
    events: str | Path | None,
    accounts: str | Path,
    as_of: datetime,
    options: DuckDBOptions,
) -> Iterator[tuple[Any, AccountShape]]:
    """A connection holding the scored leads (``lg_scored``) and the base rows (``lg_base``)
    the account and members queries read, the files checked; closed on exit."""
    scorer = DuckDBScorer(options)
    try:
        con = scorer.con
        # The accounts first: a duplicate account would otherwise show as duplicate leads.
        _source(con, accounts, ("account_id",)).create_view("lg_src_accounts")
        _check_accounts(con, str(accounts))
        # The lead checks run on the lead query's rows (below), not on a parse of their own.
        shape = scorer.mount(leads, events, accounts, check_leads=False)
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
        has_account, n_rest = False, 0
        if events is not None:
            has_account = "account_id" in con.table("lg_src_events").columns
            rest_fields = {"lead_id", "account_id", "type", "timestamp"}
            rest_fields |= set(plan.base.fields().properties)
            n_rest, rest_bad = _rest_of_events(con, has_account, rest_fields)
            if rest_bad:
                scorer._ensure_leads_checked()  # a bad leads file is named first
                _check_events(con, str(events), has_account)
            # A column of nulls only (JSON) does not reach lg_events: no account events then.
            if has_account and "account_id" in con.table("lg_events").columns:
                has_account_events = True
                event_kinds.pop("account_id", None)
                event_kinds = {k: v for k, v in event_kinds.items() if k in rest_fields}
                selects = [e for e in scorer.event_selects if e.alias_or_name in rest_fields]
                typed = exp.select(*selects).from_("lg_ev_rest").sql("duckdb")
                con.execute(
                    "CREATE TEMP VIEW lg_acc_events AS SELECT CAST(account_id AS TEXT) AS lead_id, "
                    f"* EXCLUDE (lead_id, account_id) FROM ({typed}) "
                    "WHERE account_id IS NOT NULL AND CAST(account_id AS TEXT) <> ''"
                )
        base_shape = InputShape(
            leads_table="lg_acc", events_table="lg_acc_events",
            lead_columns={"lead_id": TEXT, **{n: k for n, _, k in acc_cols}},
            event_columns=event_kinds, order_column=_ACC_ORD, sort_output=False,
            has_events=has_account_events, has_event_ids=False,  # ids: only to explain one
        )  # fmt: skip
        acc_shape = AccountShape(
            lead_kinds=dict(shape.lead_columns or {}), lead_renames=dict(shape.lead_renames)
        )
        # The lead rows' checks ride on the lead query (``bad_events``: the rows it refuses,
        # those without a lead id included), so the events file is parsed once for the leads
        # and once for lg_ev_rest, not a third time for the checks.
        columns = [*lead_score_columns(plan), "input_row"]
        lead_q = scorer.query(plan.lead, as_of, sort=False, columns=columns, event_checks=True)
        try:
            con.execute(f"CREATE TEMP TABLE lg_lead_q AS {lead_q}")
        except duckdb_error():
            # DuckDB may push the time cast into its CSV reader, which then fails on the first
            # unreadable time instead of leaving NULL for the count: the check names the row.
            scorer._ensure_leads_checked()
            if events is not None:
                _check_events(con, str(events), has_account)
            raise
        # One row per lead row, numbered by input_row: missing and duplicate lead ids show here.
        scorer._check_leads("lg_lead_q", "input_row")
        if events is not None:
            checked = "bad_events" in con.table("lg_lead_q").columns
            bad = _first(con, "SELECT max(bad_events) FROM lg_lead_q") if checked else None
            # The rows without a lead id are refused by the lead query too, unless it reads
            # them as account-level events (an account_id column: engine.sql_events._bad_event).
            refused_rest = 0 if shape.event_account is not None else n_rest
            if bad is None or bad[0] is None or int(bad[0]) > refused_rest:
                _check_events(con, str(events), has_account)
        acct = exp.cast(exp.column("account_id", "l"), "text")
        fields = scored_fields(plan, acc_shape)
        statements = [
            ("lg_scored", scored_select(plan, acct, fields).sql("duckdb")),
            ("lg_base", query_sql(plan.base, as_of, "duckdb", base_shape)),
        ]
        for name, sql in statements:
            con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
        yield con, acc_shape
    finally:
        scorer.close()


def _fetch(con: Any, sql: str) -> Rows:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def duckdb_account_rows(
    plan: AccountPlan,
    leads: str | Path,
    events: str | Path | None,
    accounts: str | Path,
    as_of: datetime,
    options: DuckDBOptions,
) -> tuple[Rows, Rows]:
    """The account query's rows and the members query's rows, DuckDB reading the files."""
    with _staged(plan, leads, events, accounts, as_of, options) as (con, shape):
        rows = _fetch(con, account_query(plan, "duckdb", shape))
        return rows, _fetch(con, members_query(plan, "duckdb", shape))


def write_account_records(
    plan: AccountPlan,
    leads: str | Path,
    events: str | Path | None,
    accounts: str | Path,
    as_of: datetime,
    options: DuckDBOptions,
    fmt: str,
    out: str | Path | None = None,
    stream: IO[str] | None = None,
) -> tuple[int, int]:
    """Every account's record (jsonl, csv or parquet) written by DuckDB to ``out``, or to
    ``stream`` (jsonl, csv) when ``out`` is None: the bytes ``io.writers`` writes for
    ``AccountScore.to_record()``, in the accounts file's order. Returns (records, MQAs).

    The Python records are written instead when the accounts file is empty or, in a flat
    format, a member id is not ASCII (``account_text``: the buying group's JSON escapes it).
    """
    with _staged(plan, leads, events, accounts, as_of, options) as (con, shape):
        con.execute(f"CREATE TEMP TABLE lg_acc_rows AS {account_query(plan, 'duckdb', shape)}")
        members = f"({members_query(plan, 'duckdb', shape)})"
        con.execute(f"CREATE TEMP TABLE lg_roles AS {role_members_sql(plan, members)}")
        picked = ", ".join(f"r.{c}" for c in role_columns(plan))
        # In the accounts file's order once, on the rows' values, so the line writers keep it
        # (record_files.stream_lines) instead of sorting the finished lines.
        con.execute(
            f"CREATE TEMP TABLE lg_acc_out AS SELECT a.*{', ' + picked if picked else ''}, "
            "r.members_ascii FROM lg_acc_rows AS a "
            "LEFT JOIN lg_roles AS r ON r.acct = CAST(a.lead_id AS TEXT) ORDER BY a.input_row"
        )
        source = "lg_acc_out"
        mqa = mqa_sql(plan).sql("duckdb")
        n, mqas, ascii_only = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {mqa}), coalesce(bool_and(members_ascii), "
            f"true) FROM {source} AS s"
        ).fetchall()[0]
        if n == 0 or (fmt != "jsonl" and not ascii_only):
            rows = _fetch(con, "SELECT * FROM lg_acc_rows")
            scores = scores_from_rows(plan, rows, _fetch(con, members[1:-1]), None, as_of)
            _python_write([s.to_record() for s in scores], fmt, out, stream)
        elif out is None:
            if stream is None or fmt == "parquet":
                raise ValueError("a stream and a text format (jsonl, csv) are needed without out")
            if fmt == "csv":
                stream.write(csv_header(plan, as_of))
            stream_lines(con, source, _line(plan, as_of, fmt), stream, int(n))
        else:
            with atomic_output(out) as tmp:
                if fmt == "parquet":
                    cols = [(name, v) for name, v, _ in flat_values_sql(plan, as_of)]
                    copy_parquet(con, source, cols, tmp)
                else:
                    header = csv_header(plan, as_of) if fmt == "csv" else None
                    copy_lines(con, source, _line(plan, as_of, fmt), header, tmp)
        return int(n), int(mqas)


def _line(plan: AccountPlan, as_of: datetime, fmt: str) -> exp.Expression:
    if fmt == "jsonl":
        return jsonl_line_sql(plan, as_of)
    return csv_row_sql(csv_line_sql(plan, as_of))


def _python_write(
    records: list[dict[str, Any]], fmt: str, out: str | Path | None, stream: IO[str] | None
) -> None:
    """The records through ``io.writers`` (a file), or as ``leadgate accounts score`` prints
    them (a stream)."""
    if out is not None:
        write_records(records, out, fmt)
        return
    assert stream is not None
    if fmt == "jsonl":
        stream.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        return
    rows = [flat_record(r) for r in records]
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]) if rows else ["account_id"])
    writer.writeheader()
    writer.writerows(rows)
