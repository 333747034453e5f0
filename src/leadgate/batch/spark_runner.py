"""Scoring files on Spark: the same compiled query, printed as Spark SQL, run by PySpark.

Optional (``pip install 'leadgate[spark]'``, Java 17+). ``spark_master`` is a cluster URL
(``spark://host:7077``, ``yarn``, ``k8s://...``); default ``local[*]``. The session runs in UTC and
case-sensitive, so column names resolve exactly as the Python executor looks keys up. Files are
read by Spark itself (Parquet best; CSV cells as text, like the DuckDB runner), so nothing but the
result rows passes through Python.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from leadgate.engine import ir
from leadgate.engine.sql import EVENT_COLUMNS, InputShape, matches_query, query_sql
from leadgate.engine.sql_conditions import BOOLEAN, NUMBER, TEXT
from leadgate.errors import IngestError, UnsupportedTargetError
from leadgate.io.account_join import ACCOUNT_ID, JOIN_TYPE, account_on, merge_account_fields
from leadgate.io.checks import bad_utf8_error, check_input, jsonl_without_rows
from leadgate.io.formats import format_of
from leadgate.io.readers import first_refusal

ORD = "__leadgate_row"
_NUMERIC = (
    "ByteType",
    "ShortType",
    "IntegerType",
    "LongType",
    "FloatType",
    "DoubleType",
    "DecimalType",
)


def spark_available() -> bool:
    """PySpark importable and a Java runtime on the PATH (or JAVA_HOME)."""
    import importlib.util
    import os

    has_java = bool(shutil.which("java") or os.environ.get("JAVA_HOME"))
    return has_java and importlib.util.find_spec("pyspark") is not None


def spark_session(master: str | None = None, *, verbose: bool | None = None) -> Any:
    """A SparkSession for scoring (reused if one is running).

    Quiet unless ``verbose`` (default: the ``LEADGATE_VERBOSE`` environment variable, which
    ``leadgate --verbose`` sets): the JVM prints a dozen start-up warnings (incubator modules,
    log4j profile, hostname, native Hadoop) that say nothing about the user's data, so the JVM
    starts with its stderr in an unnamed temporary file, shown only if the start fails. Spark's
    own errors still reach the user as exceptions.
    """
    import os
    import warnings

    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise UnsupportedTargetError(
            "the spark engine needs PySpark and Java 17: pip install 'leadgate[spark]'"
        ) from None
    if verbose is None:
        verbose = os.environ.get("LEADGATE_VERBOSE", "") not in ("", "0")
    local = master is None or master.startswith("local")
    builder = (
        SparkSession.builder.master(master or "local[*]")
        .appName("leadgate")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.caseSensitive", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if local:
        # Spark's 200 shuffle partitions are for clusters; locally, one per core (at most 4).
        partitions = min(4, os.cpu_count() or 1)
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
        # Bind to loopback: a local session needs no other interface (and Spark warns
        # when the host name resolves to loopback while it picks another address).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if verbose or SparkContext._gateway is not None:
        session = builder.getOrCreate()
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="PySpark does not yet", category=FutureWarning
            )
            session = _quiet_start(builder)
    session.sparkContext.setLogLevel("WARN" if verbose else "ERROR")
    return session


def _quiet_start(builder: Any) -> Any:
    """``builder.getOrCreate()`` with the JVM's stderr (which it keeps) in a temporary file."""
    import os
    import sys
    import tempfile

    # The JVM inherits descriptor 2 and keeps it after this file is closed here.
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            return builder.getOrCreate()
        except Exception:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", "replace"))  # why the JVM did not start
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _kind(path: str | Path) -> str:
    p = Path(path)
    remote = "://" in str(path)  # hdfs://, s3a://: Spark reads it; a folder of Parquet parts too
    return "parquet" if (remote or p.is_dir()) and not p.suffix else format_of(p)


def _check(path: str | Path, required: tuple[str, ...] = (), need_rows: bool = False) -> str:
    """The checks of the other engines (io.checks) on a local file, before Spark starts; the
    CSV delimiter. Spark would read bytes that are not UTF-8 as U+FFFD without a word, so a
    local text file is decoded once first."""
    text, p = str(path), Path(path)
    if "://" in text:
        return ","
    if not p.exists():
        raise IngestError("file not found", file=text)
    if not p.is_file():
        return ","
    kind = _kind(p)
    sep = check_input(p, kind, required, need_rows)
    bad = bad_utf8_error(p) if kind != "parquet" else None
    if bad is not None:
        raise bad
    return sep or ","


def _read(spark: Any, path: str | Path, sep: str, required: tuple[str, ...] = ()) -> Any:
    text = str(path)
    kind = _kind(path)
    if "://" not in text and jsonl_without_rows(path):  # no rows to infer columns from
        return spark.createDataFrame([], ", ".join(f"`{c}` string" for c in required))
    if kind == "parquet":
        return spark.read.parquet(text)
    if kind == "jsonl":
        return spark.read.json(text)
    # FAILFAST: a short or long row fails the job (then named by spark_rows), not a null.
    return (
        spark.read.option("header", True).option("sep", sep).option("quote", '"')
        .option("escape", '"').option("multiLine", True).option("mode", "FAILFAST").csv(text)
    )  # fmt: skip


def _flat(
    schema: Any, keep: tuple[str, ...], prefix: str = "", path: tuple[str, ...] = ()
) -> list[tuple[str, Any, str]]:
    """(field, column, kind) per usable column, structs flattened to dotted field names."""
    from pyspark.sql import functions as F

    out: list[tuple[str, Any, str]] = []
    for f in schema.fields:
        parts = (*path, f.name)
        col = F.col(".".join(f"`{p.replace('`', '``')}`" for p in parts))
        name = f"{prefix}{f.name}"
        kind = type(f.dataType).__name__
        if kind == "StructType":
            out += _flat(f.dataType, keep, name + ".", parts)
        elif kind in ("StringType", "VarcharType", "CharType"):
            out.append((name, col, TEXT))
        elif kind in _NUMERIC:
            out.append((name, col, NUMBER))
        elif kind == "BooleanType":
            out.append((name, col, BOOLEAN))
        elif name in keep:
            out.append((name, col, TEXT))
    return out


def spark_rows(
    plan: ir.Plan,
    leads: str | Path,
    events: str | Path | None,
    as_of: datetime,
    accounts: str | Path | None = None,
    spark_master: str | None = None,
    lead: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Mount the files as ``lg_leads``/``lg_events``, run the Spark SQL query, yield its rows
    (``lead``: that lead's only, with its ``event_matches``)."""
    from pyspark.sql import functions as F

    # The files are checked before the session starts (seconds of JVM start-up).
    seps = {"leads": _check(leads, ("lead_id",), need_rows=True)}
    if accounts is not None:
        seps["accounts"] = _check(accounts, ("account_id",))
    if events is not None:
        seps["events"] = _check(events, EVENT_COLUMNS[1:])
    spark = spark_session(spark_master)
    src = _read(spark, leads, seps["leads"])
    cols = _flat(src.schema, ("lead_id",))
    kinds = {n: k for n, _, k in cols}
    if "lead_id" not in kinds:
        raise IngestError("no lead_id column", file=str(leads), field="lead_id")
    selects = {n: c for n, c, _ in cols}
    frame = src
    if accounts is not None:
        acc = _read(spark, accounts, seps["accounts"])
        acc_cols = [(n, c, k) for n, c, k in _flat(acc.schema, (ACCOUNT_ID,)) if n != ACCOUNT_ID]
        # Account columns renamed apart from the lead's, then joined and merged as every runner
        # does (io/account_join.py: the condition, the join type, the lead's own value wins).
        acc = acc.select(
            F.col(ACCOUNT_ID).alias("__acc_id"),
            *[c.alias(f"__acc_{i}") for i, (_, c, _) in enumerate(acc_cols)],
        )
        on = account_on(exp.column(ACCOUNT_ID), exp.column("__acc_id"))
        frame = src.join(acc, F.expr(on.sql("spark")), JOIN_TYPE)
        merge_account_fields(
            selects, kinds, ((n, F.col(f"__acc_{i}"), k) for i, (n, _, k) in enumerate(acc_cols)),
            F.coalesce, TEXT,
        )  # fmt: skip
    view = frame.select(
        F.monotonically_increasing_id().alias(ORD), *[c.alias(n) for n, c in selects.items()]
    )
    view.createOrReplaceTempView("lg_leads")
    event_kinds: dict[str, str] = {}
    ev_cols: list[tuple[str, Any, str]] = []
    if events is not None:
        ev = _read(spark, events, seps["events"], EVENT_COLUMNS[1:])
        ev_cols = _flat(ev.schema, EVENT_COLUMNS)
        present = {n for n, _, _ in ev_cols}
        for required in ("lead_id", "type", "timestamp"):
            if required not in present:
                raise IngestError(f"no {required} column", file=str(events), field=required)
        out = []
        for n, c, k in ev_cols:
            if n == "timestamp":
                c = F.expr("try_cast(`timestamp` AS TIMESTAMP)")
            elif n not in EVENT_COLUMNS:
                event_kinds[n] = k
            out.append(c.alias(n))
        ev.select(*out).createOrReplaceTempView("lg_events")
    shape = InputShape(
        leads_table="lg_leads", events_table="lg_events", lead_columns=kinds,
        event_columns=event_kinds, order_column=ORD, has_events=events is not None,
        lead=lead, has_event_ids="event_id" in {n for n, _, _ in ev_cols} if events else False,
        event_account=ACCOUNT_ID if ACCOUNT_ID in event_kinds else None,
    )  # fmt: skip
    matches: list[dict[str, Any]] = []
    found = matches_query(plan, as_of, "spark", shape) if lead is not None else None
    if found is not None:
        matches = [r.asDict() for r in spark.sql(found.sql("spark")).collect()]
    result = spark.sql(query_sql(plan, as_of, "spark", shape))
    # One job; the rows come back in the leads' order (ORDER BY in the query).
    try:
        rows = result.collect()
    except Exception:  # pyspark wraps the reader's failure in one of several error types
        local = [f for f in (leads, events, accounts) if f is not None and Path(f).is_file()]
        refused = first_refusal(local)
        if refused is None:
            raise
        raise refused from None
    for row in rows:
        yield {**row.asDict(), "event_matches": matches} if lead is not None else row.asDict()
