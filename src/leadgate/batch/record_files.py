"""``leadgate score`` output written by DuckDB: records go from the query to the file (or stdout)
without a Python object per lead.

Two statements, each parallel: the scoring query writes the few columns a record reads to a
scratch Parquet file in the leads file's order (the lead and event checks run on it:
``DuckDBScorer.copy_to``), then one ``COPY`` turns those rows into the output, keeping that order.
The order is set by sorting those few columns, not the finished lines: DuckDB keeps a single
table's row order through a plain ``SELECT`` and ``COPY`` (``preserve_insertion_order``), while
sorting the lines held all of them at once (1M leads: a peak of about 1 GB, against 0.7 GB).
The bytes are those ``io.writers`` writes for the same records (``batch/record_text.py`` says how
and the tests prove it); the output appears whole or not at all (a temp file, then a rename);
memory stays within DuckDB's limit plus one batch of lines, whatever the number of leads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlglot import exp

from leadgate.batch.record_text import (
    CSV_LINE_END,
    csv_header,
    csv_line_sql,
    flat_columns,
    flat_values_sql,
    jsonl_line_sql,
)
from leadgate.batch.records import record_columns, record_maker
from leadgate.engine import ir
from leadgate.io.writers import atomic_output

Progress = Callable[[int, int | None], None]
BATCH = 65536


def _text(value: str | Path) -> str:
    return exp.Literal.string(str(value)).sql("duckdb")


@contextmanager
def _scored(scorer: Any, plan: ir.Plan, as_of: datetime) -> Iterator[tuple[str, int, int]]:
    """Score into a scratch Parquet file in ``input_row`` order (removed on exit): its SQL
    source, leads, MQLs."""
    with tempfile.TemporaryDirectory(prefix="leadgate-") as folder:
        scratch = Path(folder) / "scores.parquet"
        # The events checks ride on this pass (the caller mounted without a scan of its own).
        scorer.copy_to(
            plan, as_of, scratch, columns=record_columns(plan), check_events=True, sort=True
        )
        source = f"read_parquet({_text(scratch)})"
        counted = scorer.con.execute(f"SELECT count(*), count(*) FILTER (WHERE mql) FROM {source}")
        rows, mqls = counted.fetchall()[0]
        yield source, int(rows), int(mqls)


def _line_sql(plan: ir.Plan, as_of: datetime, fmt: str) -> exp.Expression:
    if fmt == "jsonl":
        return jsonl_line_sql(plan, as_of)
    return csv_row_sql(csv_line_sql(plan, as_of))


def csv_row_sql(line: exp.Expression) -> exp.Expression:
    """A CSV row as the line writers write it: DuckDB ends each line with LF, so the row gets
    the CR of csv.writer's CRLF (``CSV_LINE_END``) itself."""
    end = exp.Literal.string(CSV_LINE_END.removesuffix("\n"))
    return exp.Anonymous(this="concat", expressions=[line, end])


def _select(source: str, columns: Sequence[exp.Expr]) -> str:
    return exp.select(*columns).from_(exp.maybe_parse(source, dialect="duckdb")).sql("duckdb")


def copy_parquet(
    con: Any, source: str, columns: Sequence[tuple[str, exp.Expression]], path: str | Path
) -> None:
    """Write the named ``columns`` of every row of ``source`` to the Parquet file ``path``, in
    the source's order (as ``stream_lines``); one parallel ``COPY``."""
    picked = [exp.alias_(v, exp.to_identifier(name, quoted=True)) for name, v in columns]
    con.execute(f"COPY ({_select(source, picked)}) TO {_text(path)} (FORMAT parquet)")


def write_lines(
    scorer: Any, plan: ir.Plan, as_of: datetime, fmt: str, stream: IO[str],
    progress: Progress | None = None,
) -> tuple[int, int]:  # fmt: skip
    """Write every record (JSONL, or CSV with its header) to ``stream``; (records, MQLs).

    No records: nothing for JSONL, and for CSV the header ``lead_id`` the Python writer prints.
    """
    with _scored(scorer, plan, as_of) as (source, rows, mqls):
        if not rows:
            if fmt == "csv":
                stream.write("lead_id" + CSV_LINE_END)
            return 0, 0
        if fmt == "csv":
            stream.write(csv_header(plan))
        stream_lines(scorer.con, source, _line_sql(plan, as_of, fmt), stream, rows, progress)
    return rows, mqls


def stream_lines(
    con: Any, source: str, line: exp.Expression, stream: IO[str], rows: int,
    progress: Progress | None = None,
) -> None:  # fmt: skip
    """Write ``line`` of every row of ``source`` to ``stream`` in the source's order, a batch of
    lines at a time (``rows``: their number, for ``progress``). ``source``: a table or a file
    read whole, its rows in the order wanted (a single table's scan keeps it)."""
    done = 0
    sql = _select(source, [exp.alias_(line, "line")])
    if rows <= BATCH:
        # One batch: plain rows, so a small file's score does not import pyarrow (and numpy),
        # a large part of a short command's start-up (issue #14); Arrow batches for the rest.
        batches: Iterator[list[str]] = iter([[row[0] for row in con.sql(sql).fetchall()]])
    else:
        batches = (batch.column(0).to_pylist() for batch in con.sql(sql).to_arrow_reader(BATCH))
    for lines in batches:
        stream.write("\n".join(lines) + "\n")
        done += len(lines)
        if progress is not None:
            progress(done, rows)


def top_records(
    scorer: Any, plan: ir.Plan, as_of: datetime, limit: int
) -> tuple[list[dict[str, Any]], int, int]:
    """The ``limit`` records people read first (MQLs, then by total, ties in file order), the
    number of leads and of MQLs: only ``limit`` records become Python objects."""
    with _scored(scorer, plan, as_of) as (source, rows, mqls):
        sql = (
            exp.select("*")
            .from_(exp.maybe_parse(source, dialect="duckdb"))
            .order_by(
                exp.Ordered(this=exp.column("mql"), desc=True),
                exp.Ordered(this=exp.column("total"), desc=True),
                exp.column("input_row"),
            )
            .limit(max(limit, 0))
            .sql("duckdb")
        )
        make = record_maker(plan, as_of)
        # Plain rows, not an Arrow table: at most ``limit`` of them, and the table a person
        # reads should not import pyarrow and numpy (issue #14).
        result = scorer.con.sql(sql)
        names = result.columns
        top = [make(dict(zip(names, row, strict=True))) for row in result.fetchall()]
    return top, rows, mqls


def write_file(
    scorer: Any, plan: ir.Plan, as_of: datetime, fmt: str, path: str | Path,
    progress: Progress | None = None,
) -> tuple[int, int]:  # fmt: skip
    """Write every record to ``path`` (jsonl, csv or parquet) atomically; (records, MQLs)."""
    with atomic_output(path) as tmp, _scored(scorer, plan, as_of) as (source, rows, mqls):
        if not rows:  # the Python writer's empty files (a CSV without columns, and so on)
            from leadgate.io.writers import write_records

            write_records([], tmp, fmt)
        elif fmt == "parquet":
            values = zip(flat_columns(plan), flat_values_sql(plan, as_of), strict=True)
            copy_parquet(scorer.con, source, [(n, v) for n, (v, _) in values], tmp)
        else:
            header = csv_header(plan) if fmt == "csv" else None
            copy_lines(scorer.con, source, _line_sql(plan, as_of, fmt), header, tmp)
    if progress is not None:
        progress(rows, rows)
    return rows, mqls


def copy_lines(
    con: Any, source: str, line: exp.Expression, header: str | None, path: str | Path
) -> None:
    """Write ``line`` of every row of ``source`` to ``path`` in the source's order (as
    ``stream_lines``), after ``header`` (a CSV header with its line end) when given; one
    parallel ``COPY``."""
    rows_sql: exp.Query = exp.select(exp.alias_(line, "line")).from_(
        exp.maybe_parse(source, dialect="duckdb")
    )
    if header is not None:  # UNION ALL keeps its inputs' order: the header first
        first = exp.select(exp.alias_(exp.Literal.string(header.removesuffix("\n")), "line"))
        rows_sql = exp.union(first, rows_sql, distinct=False)
    sql = rows_sql.sql("duckdb")
    # No quoting or escaping: each row is already the finished line.
    con.execute(f"COPY ({sql}) TO {_text(path)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '')")
