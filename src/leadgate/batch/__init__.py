"""The batch executors: the compiled query (``engine/sql.py``) run on DuckDB, SQLite, PostgreSQL or
Spark over lead and event files, returning the same records as the per-lead Python executor.

- ``duckdb`` (default for files): scans CSV/JSONL/Parquet in place, bounded memory.
- ``sqlite``: files read by ``leadgate.io`` into an in-memory SQLite database (small data, tests).
- ``postgres``: the same, loaded into temporary tables of a PostgreSQL server (``pg_url``).
- ``spark``: PySpark (``pip install leadgate[spark]``), local or ``spark_master``.

Each function takes ``engine``: an engine's name (default options) or its typed options
(``leadgate.executors``).

``score_files`` returns the query's result table (pyarrow) with every explanation column;
``score_file_records`` returns ``Score.to_record()`` dicts in the leads file's order;
``write_score_records`` writes those records as JSONL, CSV or Parquet straight from DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, assert_never

from leadgate.batch.records import record_columns, record_maker, score_from_row
from leadgate.engine.ir import Plan
from leadgate.engine.result import Score
from leadgate.errors import OptionError
from leadgate.executors import (
    SQL_ENGINES,
    DuckDBOptions,
    PostgresOptions,
    PythonOptions,
    SparkOptions,
    SQLiteOptions,
    SqlOptions,
    options_for,
)
from leadgate.io.numeric_checks import check_numeric

if TYPE_CHECKING:
    from leadgate.batch.duckdb_runner import DuckDBScorer

Progress = Callable[[int, int], None]
PathLike = str | Path
Engine = str | SqlOptions


def sql_options(engine: Engine) -> SqlOptions:
    """The typed options of a SQL engine given by name (its defaults) or by its options.

    Raises:
        OptionError: an unknown engine, or ``python`` (not a SQL engine).
    """
    options = options_for(engine) if isinstance(engine, str) else engine
    if isinstance(options, PythonOptions):
        raise OptionError("engine", f"expected one of {', '.join(SQL_ENGINES)}, got 'python'")
    return options


@contextmanager
def _duckdb(
    plan: Plan, leads: PathLike, events: PathLike | None, accounts: PathLike | None,
    options: DuckDBOptions, *, check_leads: bool, check_events: bool = True,
) -> Iterator[DuckDBScorer]:  # fmt: skip
    """A DuckDB scorer with the files mounted (and, ``check_events``, the event rows checked by
    a scan of their own; the numbers ``plan`` adds up always are); closed on exit."""
    from leadgate.batch.duckdb_runner import DuckDBScorer, duckdb_error
    from leadgate.io.readers import first_refusal

    scorer = DuckDBScorer(options)
    try:
        scorer.mount(leads, events, accounts, check_leads=check_leads)
        if events is not None and check_events:
            scorer.check_events()
        if events is not None:
            scorer.check_numeric(plan)
        yield scorer
    except duckdb_error():
        # DuckDB reads the files lazily, so a bad byte or a short row far down a file fails the
        # query: the Python reader then names the file and line (a failure it cannot find in
        # the files is not the user's, and propagates).
        files = [f for f in (leads, events, accounts) if f is not None]
        found = first_refusal(files)
        if found is None:
            raise
        raise found from None
    finally:
        scorer.close()


def _rows(
    plan: Plan, leads: PathLike, events: PathLike | None, as_of: datetime, options: SqlOptions,
    accounts: PathLike | None, sort: bool = True, columns: list[str] | None = None,
    lead: str | None = None,
) -> Generator[dict[str, Any], None, None]:  # fmt: skip
    """Result rows; ``columns``: the ones the caller reads (DuckDB fetches only those);
    ``lead``: that lead's row only, with its ``event_matches``."""
    if isinstance(options, DuckDBOptions):
        with _duckdb(plan, leads, events, accounts, options, check_leads=True) as scorer:
            yield from scorer.rows(plan, as_of, sort=sort, columns=columns, lead=lead)
    elif isinstance(options, SQLiteOptions | PostgresOptions):
        from leadgate.batch.loaded import loaded_rows

        check_numeric(plan, events)
        yield from loaded_rows(plan, leads, events, as_of, options, accounts, lead)
    elif isinstance(options, SparkOptions):
        from leadgate.batch.spark_runner import spark_rows

        check_numeric(plan, events)
        yield from spark_rows(plan, leads, events, as_of, accounts, options.spark_master, lead)
    else:
        assert_never(options)


def iter_batch_scores(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    as_of: datetime,
    *,
    engine: Engine = "duckdb",
    accounts: PathLike | None = None,
) -> Iterator[Score]:
    """Every lead's ``Score`` (with its explanation, event ids aside), computed by ``engine``.

    Raises:
        IngestError: a file is missing, unreadable, or has rows without ids, types or times.
        OptionError: unknown engine.
        UnsupportedTargetError: engine not installed, or a model regex the engine cannot match
            as RE2 does.
    """
    for row in _rows(plan, leads, events, as_of, sql_options(engine), accounts):
        yield score_from_row(plan, row, as_of)


def explain_batch_lead(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    lead_id: str,
    as_of: datetime,
    *,
    engine: Engine = "duckdb",
    accounts: PathLike | None = None,
) -> Score | None:
    """One lead's ``Score`` with its whole explanation (event ids included), computed by
    ``engine`` on that lead alone; None when the leads file has no such lead."""
    rows = _rows(plan, leads, events, as_of, sql_options(engine), accounts, lead=lead_id)
    with closing(rows):  # the engine's connection closes now, not when collected
        row = next(rows, None)
    return None if row is None else score_from_row(plan, row, as_of, row["event_matches"])


def score_file_records(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    as_of: datetime,
    *,
    engine: Engine = "duckdb",
    accounts: PathLike | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """``Score.to_record()`` of every lead, in the leads file's order (what ``leadgate score`` prints)."""
    make = record_maker(plan, as_of)
    rows = _rows(
        plan, leads, events, as_of, sql_options(engine), accounts, sort=False,
        columns=record_columns(plan),
    )  # fmt: skip
    # Sorting a million Python pairs by row number is far cheaper than ORDER BY on wide rows.
    keyed = [(row.get("input_row") or 0, make(row)) for row in rows]
    keyed.sort(key=lambda pair: pair[0])
    out = [record for _, record in keyed]
    if progress is not None:
        progress(len(out), len(out))
    return out


def write_score_records(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    as_of: datetime,
    fmt: str,
    out: PathLike | None,
    *,
    accounts: PathLike | None = None,
    options: DuckDBOptions | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    stream: IO[str] | None = None,
) -> tuple[int, int]:
    """Every lead's record written by DuckDB to ``out`` (or to ``stream`` when ``out`` is None):
    the bytes ``io.writers`` writes for ``score_file_records``' records, with no Python object
    per lead. Returns (records, MQLs).

    Raises:
        IngestError: as ``score_file_records`` (a bad input file); nothing is written to ``out``.
    """
    from leadgate.batch.record_files import write_file, write_lines

    # Lead and event checks ride on the scoring pass (record_files._scored).
    with _duckdb(
        plan, leads, events, accounts, options or DuckDBOptions(), check_leads=False,
        check_events=False,
    ) as scorer:  # fmt: skip
        if out is not None:
            return write_file(scorer, plan, as_of, fmt, out, progress)
        if stream is None or fmt == "parquet":
            raise ValueError("a stream and a text format (jsonl, csv) are needed without out")
        return write_lines(scorer, plan, as_of, fmt, stream, progress)


def top_score_records(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    as_of: datetime,
    limit: int,
    *,
    accounts: PathLike | None = None,
    options: DuckDBOptions | None = None,
) -> tuple[list[dict[str, Any]], int, int]:
    """The ``limit`` records ``leadgate score``'s table shows (MQLs first, then by total), with
    the number of leads and MQLs, scored on DuckDB; only those records are built in Python."""
    from leadgate.batch.record_files import top_records

    with _duckdb(
        plan, leads, events, accounts, options or DuckDBOptions(), check_leads=False,
        check_events=False,
    ) as scorer:  # fmt: skip
        return top_records(scorer, plan, as_of, limit)


def score_files(
    plan: Plan,
    leads: PathLike,
    events: PathLike | None,
    as_of: datetime,
    *,
    engine: Engine = "duckdb",
    accounts: PathLike | None = None,
) -> Any:
    """The query's whole result (``engine/sql.output_columns``) as a pyarrow Table."""
    import pyarrow as pa

    options = sql_options(engine)
    if isinstance(options, DuckDBOptions):
        with _duckdb(plan, leads, events, accounts, options, check_leads=True) as scorer:
            return scorer.arrow(plan, as_of)
    return pa.Table.from_pylist(list(_rows(plan, leads, events, as_of, options, accounts)))


__all__ = [
    "explain_batch_lead", "iter_batch_scores", "score_file_records", "score_files", "sql_options",
    "top_score_records", "write_score_records",
]  # fmt: skip
