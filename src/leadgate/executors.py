"""The executors a caller can choose, in one registry, each with its own typed options.

``python`` is the per-lead executor (``engine/python.py``); the others run the compiled query
(``engine/sql.py``) through ``leadgate.batch``. A caller names an engine and the options it
means (``options_for``), or builds the options object itself; ``leadgate.scoring`` takes that
object and dispatches on its type. An option that does not apply to the chosen engine is an
``OptionError``, never silently ignored (``--spark-master`` with ``--engine duckdb``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from leadgate.errors import OptionError


@dataclass(frozen=True)
class PythonOptions:
    """The per-lead executor: reads the files with ``leadgate.io``; no options."""


@dataclass(frozen=True)
class DuckDBOptions:
    """DuckDB scans the files in place; it spills to ``temp_directory`` beyond
    ``memory_limit`` and uses ``threads`` threads (default: every core)."""

    memory_limit: str = "1GB"
    threads: int | None = None
    temp_directory: str | None = None


@dataclass(frozen=True)
class SQLiteOptions:
    """The files are loaded into an in-memory SQLite database; no options."""


@dataclass(frozen=True)
class PostgresOptions:
    """The files are loaded into temporary tables of the server at ``pg_url`` (default: the
    ``LEADGATE_PG_URL`` environment variable)."""

    pg_url: str | None = None


@dataclass(frozen=True)
class SparkOptions:
    """PySpark on ``spark_master`` (a cluster URL; default ``local[*]``)."""

    spark_master: str | None = None


SqlOptions = DuckDBOptions | SQLiteOptions | PostgresOptions | SparkOptions
EngineOptions = PythonOptions | SqlOptions

# Every engine, by name, with its options type; the first is the default for files.
ENGINES: dict[str, type[EngineOptions]] = {
    "duckdb": DuckDBOptions,
    "python": PythonOptions,
    "sqlite": SQLiteOptions,
    "postgres": PostgresOptions,
    "spark": SparkOptions,
}
SQL_ENGINES = tuple(name for name, kind in ENGINES.items() if kind is not PythonOptions)


def engine_name(options: EngineOptions) -> str:
    """The registry name of the engine ``options`` are for."""
    return next(name for name, kind in ENGINES.items() if isinstance(options, kind))


def options_for(engine: str, **given: Any) -> EngineOptions:
    """The typed options of ``engine`` from named values (None: not given).

    Raises:
        OptionError: ``engine`` is unknown, or a value is given that ``engine`` does not take.
    """
    kind = ENGINES.get(engine)
    if kind is None:
        raise OptionError("engine", f"expected one of {', '.join(ENGINES)}, got '{engine}'")
    takes = {f.name for f in fields(kind)}
    for name, value in given.items():
        if value is not None and name not in takes:
            owners = [n for n, k in ENGINES.items() if name in {f.name for f in fields(k)}]
            raise OptionError(
                name, f"does not apply to the {engine} engine (only to {', '.join(owners)})"
            )
    return kind(**{k: v for k, v in given.items() if k in takes and v is not None})
