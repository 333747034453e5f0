"""Scoring files on DuckDB: CSV, JSONL or Parquet scanned where they lie, never loaded into Python.

The files become views shaped like the documented input tables (``engine/sql.py``): CSV cells
are read as text (as the Python reader sees them before its own typing, so "007" stays "007"),
nested JSON objects are flattened to dotted columns, account attributes are joined as
``account.<attr>``. The compiled query then runs inside DuckDB with a memory limit (it spills to
disk beyond it), and results stream back in batches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql import EVENT_COLUMNS, InputShape, compile_query, matches_query
from leadgate.engine.sql_conditions import BOOLEAN, NUMBER, TEXT, ValueScope, alias, equals_any
from leadgate.engine.targets import target
from leadgate.errors import IngestError
from leadgate.executors import DuckDBOptions
from leadgate.io.account_join import (
    ACCOUNT_ID,
    account_value,
    join_account,
    merge_account_fields,
)
from leadgate.io.checks import check_input, jsonl_without_rows
from leadgate.io.formats import format_of
from leadgate.io.numeric_checks import first_non_numeric, numeric_needs
from leadgate.io.readers import bad_time, first_refusal

ORD = "__leadgate_row"
_NUMBER_TYPES = {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
                 "uinteger", "ubigint", "uhugeint", "float", "double", "decimal"}  # fmt: skip


def duckdb_error() -> type[Exception]:
    """DuckDB's base error class (imported late: DuckDB loads only when a scorer is made)."""
    import duckdb

    return duckdb.Error


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _columns(
    names_types: list[tuple[str, Any]], table: str | None = None, prefix: str = "",
    base: exp.Expression | None = None, keep: tuple[str, ...] = (),
) -> list[tuple[str, exp.Expression, str]]:  # fmt: skip
    """(field name, expression, kind) for every usable column; structs flattened to dotted names."""
    out: list[tuple[str, exp.Expression, str]] = []
    for name, dtype in names_types:
        col: exp.Expression = (
            exp.column(_ident(name), table=table) if base is None
            else exp.Anonymous(this="struct_extract", expressions=[base, exp.Literal.string(name)])
        )  # fmt: skip
        field = f"{prefix}{name}"
        if dtype.id == "struct":
            out += _columns(list(dtype.children), table, field + ".", col, keep)
        elif str(dtype) == "JSON":
            # Mixed-type JSON values: scalars keep their JSON text, objects and arrays are missing.
            jtype = exp.Anonymous(this="json_type", expressions=[col])
            scalars = ("VARCHAR", "BIGINT", "UBIGINT", "DOUBLE", "BOOLEAN")
            scalar = exp.In(this=jtype, expressions=[exp.Literal.string(t) for t in scalars])
            text = exp.Anonymous(
                this="json_extract_string", expressions=[col.copy(), exp.Literal.string("$")]
            )
            out.append((field, exp.Case(ifs=[exp.If(this=scalar, true=text)]), TEXT))
        elif dtype.id == "varchar":
            out.append((field, col, TEXT))
        elif dtype.id in _NUMBER_TYPES:
            out.append((field, col, NUMBER))
        elif dtype.id == "boolean":
            out.append((field, col, BOOLEAN))
        elif field in keep:  # an id or time column, whatever its type
            out.append((field, col, TEXT))
        # dates, timestamps, lists, maps: not scalars for the model (docs/semantics.md "Text")
    return out


def _whole_number_text(text: exp.Expression) -> exp.Expression:
    """``4.0`` -> ``4``: an id read as a decimal number has the text ``io.readers`` gives it."""
    pattern, keep = exp.Literal.string(r"^(-?[0-9]+)\.0+$"), exp.Literal.string(r"\1")
    return exp.Anonymous(this="regexp_replace", expressions=[text, pattern, keep])


def _id_column(
    cols: list[tuple[str, exp.Expression, str]], schema: list[tuple[str, Any]],
    table: str | None = None,
) -> list[tuple[str, exp.Expression, str]]:  # fmt: skip
    """``lead_id`` as the Python reader's text: a JSON or decimal column's whole numbers
    without their ``.0`` (a column mixing 4 and 4.0 names one lead, as in ``io.readers``)."""
    dtype = dict(schema).get("lead_id")
    if dtype is None or not (str(dtype) == "JSON" or dtype.id in ("float", "double", "decimal")):
        return cols
    out = []
    for name, e, kind in cols:
        if name == "lead_id":
            column = exp.column(_ident("lead_id"), table=table)
            if str(dtype) == "JSON":
                double = exp.EQ(
                    this=exp.Anonymous(this="json_type", expressions=[column]),
                    expression=exp.Literal.string("DOUBLE"),
                )
                e = exp.Case(
                    ifs=[exp.If(this=double, true=_whole_number_text(e.copy()))], default=e
                )
            else:
                e, kind = _whole_number_text(exp.cast(column, "text")), TEXT
        out.append((name, e, kind))
    return out


def _schema(rel: Any) -> list[tuple[str, Any]]:
    return list(zip(rel.columns, rel.types, strict=True))


def _source(
    con: Any, path: str | Path, required: tuple[str, ...] = (), need_rows: bool = False
) -> Any:
    p = Path(path)
    kind = format_of(p)
    # The checks and the delimiter rule of leadgate.io.readers, so both executors refuse the
    # same files and split lines the same way.
    delimiter = check_input(p, kind, required, need_rows)
    if jsonl_without_rows(p):  # no rows to read the columns from: the required ones, empty
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {_ident(c).sql('duckdb')}" for c in required)
        return con.sql(f"SELECT {cols or 'NULL AS x'} WHERE false")
    try:
        if kind == "csv":
            rel = con.read_csv(
                str(p), header=True, all_varchar=True, sep=delimiter, quotechar='"', escapechar='"'
            )
            if any(name not in rel.columns for name in required):
                # The header names them (check_input), but DuckDB's sniffer took the rows'
                # shape over the header's (a row longer than the header, say).
                raise unreadable(p, ValueError("the header's columns were not found"))
            return rel
        if kind == "jsonl":
            return con.read_json(str(p), format="newline_delimited")
        return con.read_parquet(str(p))
    except duckdb_error() as exc:
        raise unreadable(p, exc) from None


def unreadable(path: str | Path, exc: Exception) -> IngestError:
    """The problem DuckDB met reading ``path``, named as the Python reader names it (file, line,
    what): DuckDB's own message is many lines of reader options."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first_refusal([path]) or IngestError(
        f"unreadable {format_of(path)} file: {first}", file=str(path)
    )


class DuckDBScorer:
    """One DuckDB connection with the input files mounted as ``lg_leads`` and ``lg_events``."""

    def __init__(self, options: DuckDBOptions | None = None) -> None:
        import duckdb

        opts = options or DuckDBOptions()
        # The record writers read sorted files in order without sorting again (record_files).
        config: dict[str, Any] = {
            "memory_limit": opts.memory_limit, "preserve_insertion_order": True,
        }  # fmt: skip
        if opts.threads:
            config["threads"] = opts.threads
        self.con = duckdb.connect(config=config)
        self.con.execute("SET TimeZone = 'UTC'")
        # No progress bar: it would print into `leadgate score -f jsonl` output.
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(
            exp.Set(
                expressions=[
                    exp.EQ(
                        this=exp.column("temp_directory"),
                        expression=exp.Literal.string(opts.temp_directory or tempfile.gettempdir()),
                    )
                ]
            ).sql("duckdb")
        )
        self.shape = InputShape()
        self.event_selects: list[exp.Expression] = []
        self.files: dict[str, str] = {}
        self._leads_unchecked = False

    def _run(self, query: exp.Expression) -> None:
        self.con.execute(query.sql("duckdb"))

    def mount(
        self, leads: str | Path, events: str | Path | None, accounts: str | Path | None = None,
        *, check_leads: bool = True,
    ) -> InputShape:  # fmt: skip
        """Create the input views and check the lead rows; return their shape for the compiler.

        ``check_leads=False`` defers the lead checks (missing and duplicate ids) to the first
        result: ``copy_to`` then checks the rows it wrote instead of reading the leads file a
        second time (a full CSV parse, about a tenth of scoring 1M leads); ``rows`` and
        ``arrow`` check before they return anything. Either way a bad file raises the same
        ``IngestError``.
        """
        self.files = {
            "leads": str(leads),
            "events": str(events or ""),
            "accounts": str(accounts or ""),
        }
        _source(self.con, leads, ("lead_id",), need_rows=True).create_view("lg_src_leads")
        lead_schema = _schema(self.con.table("lg_src_leads"))
        lead_cols = _id_column(_columns(lead_schema, "l", keep=("lead_id",)), lead_schema, "l")
        kinds = {name: kind for name, _, kind in lead_cols}
        if "lead_id" not in kinds:
            raise IngestError("no lead_id column", file=str(leads), field="lead_id")
        exprs = {name: e for name, e, _ in lead_cols}
        source = exp.select().from_(exp.to_table("lg_src_leads").as_("l"))
        if accounts is not None:
            if "account_id" not in kinds:
                raise IngestError(
                    "no account_id column to join accounts on", file=str(leads), field="account_id"
                )
            _source(self.con, accounts, ("account_id",)).create_view("lg_src_accounts")
            acc_cols = _columns(_schema(self.con.table("lg_src_accounts")), "a")
            if "account_id" not in {n for n, _, _ in acc_cols}:
                raise IngestError("no account_id column", file=str(accounts), field="account_id")
            merge_account_fields(exprs, kinds, acc_cols, account_value, TEXT)
            source = join_account(source, "l", "lg_src_accounts", "a")
        view = source.select(
            exp.alias_(exp.Window(this=exp.RowNumber()), ORD, quoted=True),
            *[exp.alias_(e, _ident(name)) for name, e in exprs.items()],
        )
        self.con.execute(f"CREATE TEMP VIEW lg_leads AS {view.sql('duckdb')}")
        self._leads_unchecked = True
        if check_leads:
            self._ensure_leads_checked()
        event_kinds: dict[str, str] = {}
        if events is not None:
            _source(self.con, events, EVENT_COLUMNS[1:]).create_view("lg_src_events")
            ev_schema = _schema(self.con.table("lg_src_events"))
            ev_cols = _id_column(_columns(ev_schema, keep=EVENT_COLUMNS), ev_schema)
            present = {n for n, _, _ in ev_cols}
            for required in ("lead_id", "type", "timestamp"):
                if required not in present:
                    raise IngestError(f"no {required} column", file=str(events), field=required)
            ev_selects: list[exp.Expression] = []
            for name, e, kind in ev_cols:
                if name == "timestamp":
                    # TRY: an unreadable time becomes NULL, which the events checks name
                    # (check_events, or the scoring pass itself: copy_to(check_events=True)).
                    e = exp.TryCast(
                        this=exp.column(_ident("timestamp")),
                        to=exp.DataType.build("timestamptz"),
                    )
                ev_selects.append(alias(e, _ident(name)))
                if name not in EVENT_COLUMNS:
                    event_kinds[name] = kind
            ev_view = exp.select(*ev_selects).from_("lg_src_events")
            self.con.execute(f"CREATE TEMP VIEW lg_events AS {ev_view.sql('duckdb')}")
            self.event_selects = ev_selects  # lg_events' columns over lg_src_events
        self.shape = InputShape(
            leads_table="lg_leads", events_table="lg_events", lead_columns=kinds,
            event_columns=event_kinds, order_column=ORD, has_events=events is not None,
            has_event_ids=events is not None and "event_id" in present,
            event_account=ACCOUNT_ID if events is not None and ACCOUNT_ID in present else None,
        )  # fmt: skip
        return self.shape

    def _first(self, sql: str) -> tuple[Any, ...] | None:
        rows = self.con.execute(sql).fetchall()
        return rows[0] if rows else None

    def _ensure_leads_checked(self) -> None:
        if self._leads_unchecked:
            self._check_leads("lg_leads", ORD)
            self._leads_unchecked = False

    def _check_leads(self, rows: str, row_column: str) -> None:
        """Missing and duplicate lead ids in ``rows`` (the leads view, or the rows a query wrote,
        numbered by ``row_column``), with the row (CSV: line) where they occur first."""
        file = self.files["leads"]
        offset = 1 if format_of(file) == "csv" else 0  # the CSV header is line 1
        n = f'"{row_column}"'
        counts = self._first(
            "SELECT count(*) FILTER (WHERE lead_id IS NULL OR CAST(lead_id AS TEXT) = ''), "
            f"count(*) - count(DISTINCT CAST(lead_id AS TEXT)) FROM {rows}"
        )
        if counts == (0, 0):
            return  # one cheap scan when the file is fine; the queries below name the line
        row = self._first(
            f"SELECT min({n}) FROM {rows} WHERE lead_id IS NULL OR CAST(lead_id AS TEXT) = ''"
        )
        if row and row[0] is not None:
            raise IngestError("is required", file=file, line=int(row[0]) + offset, field="lead_id")
        row = self._first(
            f"SELECT id, {n} FROM (SELECT CAST(lead_id AS TEXT) AS id, {n}, row_number() "
            f"OVER (PARTITION BY CAST(lead_id AS TEXT) ORDER BY {n}) AS rn FROM {rows}) "
            f"WHERE rn = 2 ORDER BY {n} LIMIT 1"
        )
        if row:
            raise IngestError(
                f"duplicate lead_id '{row[0]}'",
                file=file,
                line=int(row[1]) + offset,
                field="lead_id",
            )

    def check_events(self) -> None:
        """Events without lead, type or a readable timestamp: one scan of three columns, then
        (only when one is bad) a second to name its line, as ``leadgate.io.read_events`` does."""
        file = self.files["events"]
        src = self.con.table("lg_src_events")
        text_time = src.types[src.columns.index("timestamp")].id == "varchar"
        stripped_type = target("duckdb").strip(exp.column("type")).sql("duckdb")
        parsed = 'TRY_CAST("timestamp" AS TIMESTAMPTZ)' if text_time else '"timestamp"'
        no_lead = "lead_id IS NULL OR CAST(lead_id AS TEXT) = ''"
        if ACCOUNT_ID in src.columns:  # or an account-level event (io.account_events)
            no_lead = f"({no_lead}) AND (account_id IS NULL OR CAST(account_id AS TEXT) = '')"
        tests = {
            "lead_id": no_lead,
            "type": f"type IS NULL OR {stripped_type} = ''",
            "timestamp": f"{parsed} IS NULL",
        }
        bad = self._first(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {t})" for t in tests.values())
            + " FROM lg_src_events"
        )  # fmt: skip
        assert bad is not None
        for count, (field, test) in zip(bad, tests.items(), strict=True):
            if not count:
                continue
            first = self._first(
                f'SELECT rn, CAST("{field}" AS TEXT) FROM (SELECT row_number() OVER () AS rn, * '
                f"FROM lg_src_events) WHERE {test} ORDER BY rn LIMIT 1"
            )
            assert first is not None
            line = int(first[0]) + (1 if format_of(file) == "csv" else 0)
            message = (
                bad_time(first[1])
                if field == "timestamp" and first[1] is not None
                else "is required"
            )
            raise IngestError(message, file=file, line=line, field=field)

    def check_numeric(self, plan: ir.Plan) -> None:
        """The properties ``plan`` adds up (``io.numeric_checks``): one scan counting the
        values that are there but are not numbers, then (only when one is) the Python reader
        names its line."""
        needs = numeric_needs(plan)
        kinds = self.shape.event_columns or {}
        needs = {prop: types for prop, types in needs.items() if prop in kinds}
        if not needs or not self.shape.has_events:
            return
        scope = ValueScope(
            target("duckdb"), "e", "e", kinds, frozenset(EVENT_COLUMNS), self.shape.event_renames
        )
        typ = target("duckdb").strip(exp.cast(exp.column("type", table="e"), "text"))
        tests = [
            exp.and_(
                equals_any(typ, sorted(types)),
                exp.Not(this=exp.Is(this=scope.text_expr(prop), expression=exp.Null())),
                exp.Is(this=scope.number_expr(prop), expression=exp.Null()),
            )
            for prop, types in needs.items()
        ]
        # The type test alone first, as a WHERE: DuckDB pushes it into the file scan, which then
        # reads and tests the properties only for the rows of those types (docs/performance.md,
        # #16: about a third of this scan's cost on product-led data).
        every = sorted({t for types in needs.values() for t in types})
        query = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.to_table("lg_events").as_("e"))
            .where(exp.and_(equals_any(typ, every), exp.paren(exp.or_(*tests))))
        )
        bad = self._first(query.sql("duckdb"))
        if bad and bad[0]:
            found = first_non_numeric(needs, self.files["events"])
            if found is not None:
                raise found

    def query(
        self, plan: ir.Plan, as_of: datetime, sort: bool = True, columns: list[str] | None = None,
        *, event_checks: bool = False, lead: str | None = None,
    ) -> str:  # fmt: skip
        """The compiled query on the mounted files; ``sort``: in the leads file's order;
        ``columns``: only these output columns (DuckDB then skips computing the others);
        ``event_checks``: with ``bad_events`` (``InputShape.event_checks``) when the query reads
        the events, kept whatever ``columns`` says; ``lead``: that lead only."""
        shape = replace(
            self.shape, sort_output=sort and columns is None, event_checks=event_checks, lead=lead
        )
        compiled = compile_query(plan, as_of, "duckdb", shape)
        query = compiled.sql("duckdb")
        if columns is None:
            return query
        # Wrapped as text: parsing the printed query back (sqlglot) cost about 0.06 CPU-s a run.
        keep = [*columns, *(["bad_events"] if "bad_events" in compiled.named_selects else [])]
        picked = f"SELECT {', '.join(_ident(c).sql('duckdb') for c in keep)} FROM ({query}) AS q"
        # The order on the outside: DuckDB documents the row order kept through a plain SELECT,
        # not an ORDER BY inside a subquery (docs: sql/dialect/order_preservation).
        if sort and "input_row" in compiled.named_selects:
            picked += " ORDER BY q.input_row"
        return picked

    def arrow(self, plan: ir.Plan, as_of: datetime) -> Any:
        """The query result as a pyarrow Table."""
        self._ensure_leads_checked()
        return self.con.sql(self.query(plan, as_of)).to_arrow_table()

    def rows(
        self, plan: ir.Plan, as_of: datetime, batch_size: int = 65536, sort: bool = True,
        columns: list[str] | None = None, lead: str | None = None,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Result rows as dicts, streamed in record batches (``input_row`` gives file order).

        ``columns``: only these (DuckDB then skips computing the others, and Python converts
        fewer values: the explanation columns are most of a row). ``lead``: that lead's row
        only, with its ``event_matches`` (``engine/sql.matches_query``).
        """
        self._ensure_leads_checked()
        query = self.query(plan, as_of, sort, columns, lead=lead)
        matches: list[dict[str, Any]] = []
        if lead is not None:
            found = matches_query(plan, as_of, "duckdb", replace(self.shape, lead=lead))
            if found is not None:
                matches = self.con.sql(found.sql("duckdb")).to_arrow_table().to_pylist()
        reader = self.con.sql(query).to_arrow_reader(batch_size)
        for batch in reader:
            for row in batch.to_pylist():
                yield {**row, "event_matches": matches} if lead is not None else row

    def copy_to(
        self, plan: ir.Plan, as_of: datetime, path: str | Path, columns: list[str] | None = None,
        *, check_events: bool = False, sort: bool = False,
    ) -> int:  # fmt: skip
        """Write the query's result straight to a Parquet file (nothing through Python).

        ``columns``: only these (``input_row`` among them when the lead checks are deferred).

        ``sort``: rows in the leads file's order, so that a reader of the file keeps it without
        a sort of its own (a single table's scan keeps its order); otherwise not sorted (sorting
        wide rows costs more than scoring). ``input_row`` is the lead's row in the leads file.
        With the lead checks deferred (``mount``), they run on the written rows (one row per
        lead row, numbered by ``input_row``). ``check_events``: the events checks of
        ``check_events()`` ride on the scoring pass (the count of refused rows is written as
        ``bad_events``) instead of a scan of their own; only when a row is bad, or nothing tells
        (no lead rows, a model without event rules), does ``check_events()`` run to name it.
        Either way a bad file raises ``IngestError`` and leaves no output.

        Raises:
            IngestError: a lead row without a lead_id, or a duplicate lead_id; an event row
                without lead, type or readable time (file and line).
        """
        target = exp.Literal.string(str(path)).sql("duckdb")
        query = self.query(plan, as_of, sort=sort, columns=columns, event_checks=check_events)
        try:
            rows = self._first(f"COPY ({query}) TO {target} (FORMAT parquet)")
        except duckdb_error() as exc:
            # DuckDB may push the time cast into its CSV reader, which then fails on the first
            # unreadable time instead of leaving NULL for the count: the check names the row.
            Path(path).unlink(missing_ok=True)
            if check_events and self.shape.has_events:
                self.check_events()
            raise exc
        try:
            if self._leads_unchecked:
                self._check_leads(f"read_parquet({target})", "input_row")
                self._leads_unchecked = False
            if check_events and self.shape.has_events:
                self._events_checked(target)
        except IngestError:
            Path(path).unlink(missing_ok=True)
            raise
        return int(rows[0]) if rows else 0

    def _events_checked(self, written: str) -> None:
        """The events checks from the ``bad_events`` a checked query wrote (``copy_to``); a query
        that reads no events (no event rules) wrote none."""
        counted = "bad_events" in self.con.sql(f"SELECT * FROM read_parquet({written})").columns
        bad = (
            self._first(f"SELECT max(bad_events) FROM read_parquet({written})") if counted else None
        )
        if bad is None or bad[0] is None or bad[0] > 0:
            self.check_events()  # names the first bad row's line and field
        if bad is not None and bad[0]:
            # The scoring pass counted rows the check did not find: both must change together.
            raise IngestError(
                f"{bad[0]} event rows without lead, type or readable time",
                file=self.files["events"],
            )

    def close(self) -> None:
        self.con.close()
