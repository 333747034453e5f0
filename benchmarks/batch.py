"""Batch scoring benchmark: leadgate on DuckDB against a bare scan, pandas, Python and Spark.

    python benchmarks/batch.py --leads 1000000 --events 20000000

Data comes from ``leadgate.synth.generate`` once and is cached under ``.bench-cache/``; with
``--events N`` the synthetic events are repeated (new ids, times shifted by whole minutes) or cut
to exactly N rows. Every measured step runs in its own process, so its peak memory (max RSS) is
its own. Reported, on the reference model (src/leadgate/examples/b2b-inbound.yaml):

1. leadgate on DuckDB (the compiled query, result written to Parquet): wall time, events/s,
   peak memory, twice: writing each lead's scores (the columns ``leadgate score`` reads from its
   scoring pass: lead id, segment, dimension scores, total, MQL flag, checks, input row; the
   ratios of step 2 are taken on this one), and writing every explanation column as well (the
   points, counts, decayed sums and flags of each rule: about 90 columns, which only
   ``leadgate score --explain`` reads, into Python records; the Parquet writer alone spends about
   1.7 CPU-s on them at 1M leads); plus ``leadgate score -o scores.jsonl``'s whole work (checks, scoring, records
   written) both ways: DuckDB writing the lines itself (the CLI now) and a ``Score.to_record()``
   dict per lead in Python (the CLI before), with how many lines are byte-identical;
2. scans of the same events on DuckDB, the floors no scorer can beat, and the ratio leadgate /
   scan against each (see ``SCANS``): the issue's bare scan (read ``lead_id``, group by lead,
   count), then scans that also read the event columns the model needs (type and timestamp,
   then url), with the ISO-8601 text timestamps parsed, the events part of the model written by
   hand, and the parsed scan plus reading the leads file's columns the model needs. ``--typed-times`` runs everything on a copy of the
   events whose times are a Parquet TIMESTAMP column (as warehouses export them);
3. a vectorised pandas implementation of the same model: speed-up and MQL-set equality;
4. the Python executor on a 1% sample of leads (extrapolated) and Spark local mode on a smaller
   data set.

Steps 1 and 2 run in one process, alternated (leadgate, each scan, leadgate, ...) ``--repeat``
times after one untimed warm-up round, each on a fresh DuckDB connection with the same settings and the same files; the best and
the median of each are printed, with the process's CPU time next to wall time and the load
average before and after, because the machine's load moves single runs by up to 2x. Nothing is
cached between runs (each one reads the files again, and DuckDB keeps no results).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
MODEL = ROOT / "src/leadgate/examples/b2b-inbound.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


# -- data ------------------------------------------------------------------------------------
def dataset(
    cache: Path,
    leads: int,
    seed: int,
    events: int | None,
    typed: bool = False,
    product_led: bool = False,
) -> dict[str, Any]:
    """Synthetic files for ``leads`` leads (cached); events resized to ``events`` rows if given;
    ``typed``: the events' times as a Parquet TIMESTAMP column instead of ISO-8601 text;
    ``product_led``: with the product-led motion's events and properties (``synth.product``);
    cut to fewer events, those are thinned evenly (by a hash of the id), not the newest dropped,
    so every lead keeps its share of product usage."""
    from leadgate.synth import generate

    folder = cache / f"synth-{'product-' if product_led else ''}{leads}-{seed}"
    if not (folder / "events.parquet").exists():
        print(f"generating {leads:,} leads into {folder} ...", flush=True)
        generate(leads, seed, folder, as_of=AS_OF, events_format="parquet", product_led=product_led)
    files = {
        "leads": folder / "leads.csv",
        "accounts": folder / "accounts.csv",
        "events": folder / "events.parquet",
    }
    if events is not None:
        sized = folder / f"events-{events}.parquet"
        if not sized.exists():
            import duckdb

            src = str(files["events"]).replace("'", "''")
            n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{src}')").fetchall()[0][0]
            copies = -(-events // n)
            print(f"resizing {n:,} events to {events:,} ({copies} copies) ...", flush=True)
            # Thinning keeps a little more than needed (1%), so LIMIT cuts the last few rows.
            keep = min(1.0, 1.01 * events / n) if product_led else 1.0
            thin = f"WHERE hash(e.event_id) % 1000000 < {round(keep * 1e6)} " if keep < 1 else ""
            duckdb.sql(
                f"COPY (SELECT e.* REPLACE (e.event_id || '-' || k AS event_id, "
                f"strftime(CAST(timestamp AS TIMESTAMP) - to_minutes(k), '%Y-%m-%dT%H:%M:%SZ') AS timestamp) "
                f"FROM read_parquet('{src}') AS e, range({copies}) AS r(k) {thin}LIMIT {events}) "
                f"TO '{str(sized).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)"
            )
        files["events"] = sized
    if typed:
        typed_file = files["events"].with_name(files["events"].stem + "-typed.parquet")
        if not typed_file.exists():
            import duckdb

            src = str(files["events"]).replace("'", "''")
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"COPY (SELECT * REPLACE (CAST(timestamp AS TIMESTAMPTZ) AS timestamp) "
                f"FROM read_parquet('{src}')) TO '{str(typed_file).replace(chr(39), chr(39) * 2)}' "
                "(FORMAT parquet)"
            )
        files["events"] = typed_file
    return {k: str(v) for k, v in files.items()}


# -- steps (each runs in a child process) ------------------------------------------------------
def _leadgate_once(
    files: dict[str, str], opts: dict[str, Any], out: Path, explained: bool = False
) -> tuple[int, Any]:
    """Mount the files and write every lead's scores to ``out`` (``DuckDBScorer.copy_to``):
    the columns ``leadgate score`` reads, or with ``explained`` every column of the query."""
    from leadgate.batch.duckdb_runner import DuckDBOptions, DuckDBScorer
    from leadgate.batch.records import record_columns
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    plan = compile_model(load_model(MODEL))
    scorer = DuckDBScorer(DuckDBOptions(memory_limit=opts["memory_limit"], threads=opts["threads"]))
    # The lead checks (missing, duplicate ids) run on the written rows: one read of the CSV.
    scorer.mount(files["leads"], files["events"], check_leads=False)
    # --validate: the events row checks, counted in the scoring pass (as leadgate score does).
    columns = None if explained else record_columns(plan)
    rows = scorer.copy_to(plan, AS_OF, out, columns, check_events=bool(opts.get("validate")))
    return rows, scorer


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# The floors, each a query on the same files (format it with `events` and `leads`), what it reads.
SCANS: dict[str, tuple[str, str]] = {
    "scan": (
        "the issue's bare scan: lead_id only, group by lead, count",
        "SELECT lead_id, count(*) AS n FROM read_parquet({events}) GROUP BY lead_id",
    ),
    "scan_needed": (
        "+ type and timestamp read, as every scorer of this model must (a rule per event type, "
        "decay by age)",
        "SELECT lead_id, count(*) AS n, max(type) AS ty, max({time_read}) AS t "
        "FROM read_parquet({events}) GROUP BY lead_id",
    ),
    "scan_columns": (
        "+ url (the pricing-page rule) read as well",
        "SELECT lead_id, count(*) AS n, max(type) AS ty, max(url) AS u, max({time_read}) "
        "AS t FROM read_parquet({events}) GROUP BY lead_id",
    ),
    "scan_parsed": (
        "+ the timestamp parsed (as leadgate must when the events' times are ISO-8601 text)",
        "SELECT lead_id, count(*) AS n, max(type) AS ty, max(url) AS u, "
        "max(epoch_us(CAST(timestamp AS TIMESTAMPTZ))) AS t FROM read_parquet({events}) "
        "GROUP BY lead_id",
    ),
    "hand_events": (
        "the reference model's events part written by hand (6 counts, 4 decayed sums per lead; "
        "no leads, no explanation, no checks)",
        "SELECT lead_id, count_if(type = 'email_open') AS n0, count_if(type = 'email_click') AS n1,"
        " count_if(type = 'content_download' AND age <= 180) AS n2,"
        " count_if(type = 'webinar_attended') AS n3,"
        " count_if(type = 'page_view' AND contains(lower(url), '/pricing')) AS n4,"
        " count_if(type = 'demo_request') AS n5,"
        " sum(CASE WHEN type = 'email_open' THEN 2 * power(0.5, age / 30) END) AS d0,"
        " sum(CASE WHEN type = 'email_click' THEN 5 * power(0.5, age / 30) END) AS d1,"
        " sum(CASE WHEN type = 'content_download' AND age <= 180"
        " THEN 10 * power(0.5, age / 30) END) AS d2,"
        " sum(CASE WHEN type = 'webinar_attended' THEN 15 * power(0.5, age / 30) END) AS d3"
        " FROM (SELECT lead_id, type, url, ({as_of} - {time_epoch}) / 86400 AS age"
        " FROM read_parquet({events})) WHERE age >= 0 GROUP BY lead_id",
    ),
    "scan_with_leads": (
        "+ the leads CSV's model columns read (lead_id, title, industry, company_size, country, "
        "email)",
        # Every aggregate is written out: DuckDB drops the ones nothing reads, and their columns.
        "SELECT * FROM (SELECT lead_id, count(*) AS n, max(type) AS ty, max(url) AS u, "
        "max(epoch_us(CAST(timestamp AS TIMESTAMPTZ))) AS t FROM read_parquet({events}) "
        "GROUP BY lead_id), (SELECT count(*) AS leads, max(lead_id) AS l, max(title) AS ti, "
        "max(industry) AS i, max(company_size) AS cs, max(country) AS c, max(email) AS em "
        "FROM read_csv({leads}, header=true, all_varchar=true))",
    ),
}


def _scan_once(files: dict[str, str], opts: dict[str, Any], sql: str, out: Path) -> None:
    import duckdb

    config: dict[str, Any] = {"memory_limit": opts["memory_limit"]}
    if opts["threads"]:
        config["threads"] = opts["threads"]
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    typed = files["events"].endswith("-typed.parquet")
    query = sql.format(
        events=_sql_text(files["events"]), leads=_sql_text(files["leads"]),
        # The text's length reads it without parsing; a typed time is read as it is.
        time_read="epoch_us(timestamp)" if typed else "length(timestamp)",
        time_epoch=f"epoch_us({'' if typed else 'CAST'}({'timestamp' if typed else 'timestamp AS TIMESTAMPTZ'})) / 1e6",
        as_of=AS_OF.timestamp(),
    )  # fmt: skip
    con.execute(f"COPY ({query}) TO {_sql_text(str(out))} (FORMAT parquet)").fetchall()
    con.close()


def _timed(run: Any) -> tuple[float, float]:
    """(wall, CPU) seconds of ``run()``; CPU is this process's, all threads."""
    t0, c0 = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - t0, time.process_time() - c0


def step_duckdb(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """leadgate on DuckDB and the scans, alternated ``repeat`` times on fresh connections."""
    cache = Path(opts["cache"])
    out = cache / "scores.parquet"
    times: dict[str, list[tuple[float, float]]] = {
        "duckdb": [],
        "duckdb_explained": [],
        **{k: [] for k in SCANS},
    }
    load_before = _loadavg()
    rows = 0
    # Round 0 is a warm-up, not timed: the first run of a process pays Python imports, DuckDB's
    # extension loading and a cold file cache, which would all be charged to leadgate (it runs
    # first) and make a best-of-few meaningless.
    for round_ in range(opts["repeat"] + 1):
        for name, explained in (("duckdb", False), ("duckdb_explained", True)):

            def leadgate(explained: bool = explained) -> None:
                nonlocal rows
                rows, scorer = _leadgate_once(files, opts, out, explained)
                scorer.close()

            measured = _timed(leadgate)
            if round_:
                times[name].append(measured)
        for name, (_, sql) in SCANS.items():
            scan_out = cache / f"{name}.parquet"
            measured = _timed(lambda sql=sql, o=scan_out: _scan_once(files, opts, sql, o))
            if round_:
                times[name].append(measured)
    import duckdb

    mqls = duckdb.sql(
        f"SELECT lead_id FROM read_parquet({_sql_text(str(out))}) WHERE mql ORDER BY lead_id"
    ).fetchall()
    (cache / "mql-duckdb.json").write_text(json.dumps([m[0] for m in mqls]))
    return {"times": times, "leads": rows, "mqls": len(mqls), "load_before": load_before,
            "load_after": _loadavg()}  # fmt: skip


def _loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "n/a"


def _records_out(opts: dict[str, Any], name: str) -> Path:
    return Path(opts["cache"]) / f"records-{name}.jsonl"


def _compare_lines(a: Path, b: Path) -> tuple[int, bool, int]:
    """(identical lines, whether the others differ only in the last bits of a float, lines).

    Two runs of one query may add a lead's decayed points in another order (DuckDB aggregates
    in parallel), so a float can differ in its last bit between any two runs.
    """
    same = lines = 0
    close = True
    with a.open(encoding="utf-8") as fa, b.open(encoding="utf-8") as fb:
        for x, y in zip(fa, fb, strict=True):
            lines += 1
            if x == y:
                same += 1
                continue
            rx, ry = json.loads(x), json.loads(y)
            nums = [(rx["total"], ry["total"])] + [
                (rx["scores"][k], ry["scores"][k]) for k in rx["scores"]
            ]
            close = (
                close
                and all(abs(p - q) <= 1e-9 for p, q in nums)
                and (
                    {k: v for k, v in rx.items() if k not in ("scores", "total", "missing")}
                    == {k: v for k, v in ry.items() if k not in ("scores", "total", "missing")}
                )
            )
    return same, close, lines


def step_records(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """``leadgate score -o scores.jsonl`` before: a ``Score.to_record()`` dict per lead in
    Python, then ``io.writers`` (what the CLI did up to 63bf656)."""
    from leadgate.batch import score_file_records
    from leadgate.engine import compile_model
    from leadgate.executors import DuckDBOptions
    from leadgate.io.writers import write_records
    from leadgate.model import load_model

    plan = compile_model(load_model(MODEL))
    t0, c0 = time.perf_counter(), time.process_time()
    records = score_file_records(
        plan, files["leads"], files["events"], AS_OF,
        engine=DuckDBOptions(memory_limit=opts["memory_limit"]),
    )  # fmt: skip
    write_records(records, _records_out(opts, "python"), "jsonl")
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "leads": len(records), "mqls": sum(r["mql"] for r in records)}  # fmt: skip


def step_records_duckdb(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """``leadgate score -o scores.jsonl`` now: DuckDB writes the same bytes itself."""
    from leadgate.batch import write_score_records
    from leadgate.engine import compile_model
    from leadgate.executors import DuckDBOptions
    from leadgate.model import load_model

    plan = compile_model(load_model(MODEL))
    t0, c0 = time.perf_counter(), time.process_time()
    rows, mqls = write_score_records(
        plan, files["leads"], files["events"], AS_OF, "jsonl", _records_out(opts, "duckdb"),
        options=DuckDBOptions(memory_limit=opts["memory_limit"], threads=opts["threads"]),
    )  # fmt: skip
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
            "leads": rows, "mqls": mqls}  # fmt: skip


def step_pandas(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """The reference model as a good analyst would write it with pandas (no loops over rows)."""
    import numpy as np
    import pandas as pd

    from leadgate.model.free_email import FREE_EMAIL_DOMAINS

    t0 = time.perf_counter()
    leads = pd.read_csv(files["leads"], dtype=str, keep_default_na=False, engine="pyarrow")
    ev = pd.read_parquet(files["events"], columns=["lead_id", "type", "timestamp", "url"])
    now = AS_OF.timestamp()
    stamps = pd.to_datetime(ev["timestamp"], utc=True, format="ISO8601")
    epoch = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()  # any resolution (pandas 3)
    ev = ev.assign(age=(now - epoch) / 86400.0)
    ev = ev[ev["age"] >= 0]
    fold = lambda s: s.str.lower()  # noqa: E731  (the data is ASCII)
    title, email = leads["title"], fold(leads["email"])
    size = pd.to_numeric(leads["company_size"], errors="coerce")
    domain = email.str.rsplit("@", n=1).str[-1].where(email.str.contains("@"), "")
    fit = (
        np.where(
            title.str.contains(
                r"\b(?:director|vp|vice president|head of)\b", case=False, regex=True
            ),
            20,
            0,
        )
        + np.where(fold(leads["industry"]).isin(["software", "fintech", "healthcare"]), 15, 0)
        + np.where(size.between(200, 5000), 10, 0)
        + np.where(
            (leads["country"] != "") & ~fold(leads["country"]).isin(["us", "ca", "gb", "de"]),
            -10,
            0,
        )
        + np.where(domain.str.contains(r"\.edu$", regex=True), -50, 0)
    )
    fit = np.minimum(fit, 60)

    def suffix_in(d: pd.Series, names: tuple[str, ...]) -> pd.Series:
        parts = d.str.split(".")
        hit = d.isin(names)
        for k in range(2, 5):  # the listed domains have 2 to 4 labels
            hit |= parts.str[-k:].str.join(".").isin(names)
        return hit

    free = suffix_in(domain, FREE_EMAIL_DOMAINS) | (domain == "")
    rival = suffix_in(domain, ("rival.io",))
    decay = 0.5 ** (ev["age"] / 30.0)
    per = pd.DataFrame(
        {"lead_id": ev["lead_id"], "type": ev["type"], "decay": decay, "age": ev["age"]}
    )
    sums = per.pivot_table(
        index="lead_id", columns="type", values="decay", aggfunc="sum", fill_value=0.0
    )
    get = lambda name: sums.get(name, 0.0)  # noqa: E731
    download = (
        per[(per["type"] == "content_download") & (per["age"] <= 180)]
        .groupby("lead_id")["decay"]
        .sum()
    )
    opened = (2 * get("email_open")).clip(upper=10)
    engagement = opened.add(5 * get("email_click"), fill_value=0).add(
        15 * get("webinar_attended"), fill_value=0
    )
    engagement = engagement.add(10 * download, fill_value=0)
    pricing = ev[
        (ev["type"] == "page_view")
        & ev["url"].fillna("").str.lower().str.contains("/pricing", regex=False)
    ]
    intent = (10 * pricing.groupby("lead_id").size().clip(upper=3)).add(
        30 * ev[ev["type"] == "demo_request"].groupby("lead_id").size(), fill_value=0
    )
    eng = engagement.reindex(leads["lead_id"], fill_value=0.0).to_numpy()
    inten = intent.reindex(leads["lead_id"], fill_value=0.0).to_numpy()
    total = fit + eng + inten
    enterprise = (size >= 5000).to_numpy()
    threshold = np.where(enterprise, 80, 60)
    fit_floor = np.where(enterprise, 30, 20)
    mql = (
        (~rival.to_numpy())
        & (~free.to_numpy())
        & (fit + 1e-9 >= fit_floor)
        & (eng + 1e-9 >= 5)
        & (total + 1e-9 >= threshold)
    )
    seconds = time.perf_counter() - t0
    ids = sorted(leads["lead_id"][mql].tolist())
    (Path(opts["cache"]) / "mql-pandas.json").write_text(json.dumps(ids))
    return {"seconds": seconds, "mqls": len(ids)}


def step_python(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from leadgate.scoring import score_files

    cache = Path(opts["cache"])
    every = round(1 / opts["sample"])
    leads, events = cache / "sample-leads.csv", cache / "sample-events.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{files['leads']}', all_varchar=true) WHERE hash(lead_id) % {every} = 0) TO '{leads}' (HEADER)"
    ).fetchall()
    con.execute(
        f"COPY (SELECT e.* FROM read_parquet('{files['events']}') e SEMI JOIN read_csv('{leads}', all_varchar=true) l ON e.lead_id = l.lead_id) TO '{events}' (FORMAT parquet)"
    ).fetchall()
    n = con.execute(f"SELECT count(*) FROM read_csv('{leads}')").fetchall()[0][0]
    t0 = time.perf_counter()
    records = score_files(MODEL, leads, events, AS_OF, engine="python")
    return {"seconds": time.perf_counter() - t0, "leads": n, "mqls": sum(r["mql"] for r in records)}


def step_spark(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    from leadgate.batch.spark_runner import spark_rows, spark_session
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    plan = compile_model(load_model(MODEL))
    t0 = time.perf_counter()
    spark_session(None)
    started = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows = list(spark_rows(plan, files["leads"], files["events"], AS_OF))
    return {
        "seconds": time.perf_counter() - t1,
        "startup": started,
        "leads": len(rows),
        "mqls": sum(bool(r["mql"]) for r in rows),
    }


def step_product(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """Issue #16: the product-usage and example PQL models against the reference model
    (benchmarks/product_usage.py)."""
    import product_usage

    return product_usage.step_product(files, opts)


STEPS = {"duckdb": step_duckdb, "records": step_records, "records_duckdb": step_records_duckdb,
         "pandas": step_pandas,
         "python": step_python, "spark": step_spark, "product": step_product}  # fmt: skip


def run_step(name: str, files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """Run one step in a fresh process; add its peak resident memory (MB)."""
    payload = json.dumps({"step": name, "files": files, "opts": opts})
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", payload], stdout=subprocess.PIPE, text=True
    )
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"step {name} failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _child(payload: str) -> None:
    import resource

    job = json.loads(payload)
    result = STEPS[job["step"]](job["files"], job["opts"])
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's over exec.
    status = Path("/proc/self/status")
    if status.exists():
        hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM"))
        result["peak_mb"] = int(hwm.split()[1]) / 1024
    else:
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)


def add_data_args(ap: argparse.ArgumentParser) -> None:
    """The data set's options (size, seed, cache) and DuckDB's, shared by the benchmarks that
    score ``dataset``'s files."""
    ap.add_argument("--leads", type=int, default=200_000)
    ap.add_argument("--events", type=int, default=None, help="resize events to exactly this many")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", default=str(ROOT / ".bench-cache"))
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: all cores)")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_args(ap)
    ap.add_argument(
        "--sample", type=float, default=0.01, help="share of leads for the Python engine"
    )
    ap.add_argument("--spark-leads", type=int, default=20_000, help="0 skips Spark")
    ap.add_argument(
        "--skip", default="", help="comma-separated steps to skip (e.g. records,pandas)"
    )
    ap.add_argument("--validate", action="store_true", help="include the events row checks")
    ap.add_argument(
        "--repeat", type=int, default=3, help="alternated runs of leadgate and each scan"
    )
    ap.add_argument(
        "--typed-times",
        action="store_true",
        help="events' times as a Parquet TIMESTAMP column (as warehouses export them), not text",
    )
    ap.add_argument(
        "--product-usage",
        action="store_true",
        help="product-led data (synth product_led) and step 5: a product-usage model and the "
        "example PQL models against the reference model, same files, same run (issue #16)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    files = dataset(cache, args.leads, args.seed, args.events, args.typed_times, args.product_usage)
    import duckdb

    n_events = duckdb.sql(f"SELECT count(*) FROM read_parquet('{files['events']}')").fetchall()[0][
        0
    ]
    opts = {"cache": str(cache), "memory_limit": args.memory_limit, "threads": args.threads or None,
            "sample": args.sample, "validate": args.validate, "repeat": args.repeat}  # fmt: skip
    skip = set(filter(None, args.skip.split(",")))
    res: dict[str, Any] = {}
    for name in ("duckdb", "records", "records_duckdb", "pandas", "python"):
        if name not in skip:
            print(f"running {name} ...", flush=True)
            res[name] = run_step(name, files, opts)
    if args.product_usage:
        print("running product ...", flush=True)
        res["product"] = run_step("product", files, opts)
    if args.spark_leads and "spark" not in skip:
        print("running spark ...", flush=True)
        res["spark"] = run_step("spark", dataset(cache, args.spark_leads, args.seed, None), opts)
    print(f"\nreference model, {args.leads:,} leads, {n_events:,} events, as of {AS_OF.date()}, "
          f"DuckDB memory_limit {args.memory_limit}, threads {args.threads or 'all'}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    d = res.get("duckdb")
    best = med = 0.0
    if d:
        print(f"load average before {d['load_before']}, after {d['load_after']}; "
              f"{args.repeat} alternated runs of each: best / median, wall (CPU); the events "
              f"row checks {'included' if args.validate else 'not included (--validate)'}")  # fmt: skip
        t = d["times"]

        def stats(name: str) -> tuple[float, float, float, float]:
            wall = [w for w, _ in t[name]]
            cpu = [c for _, c in t[name]]
            return min(wall), statistics.median(wall), min(cpu), statistics.median(cpu)

        best, med, cbest, cmed = stats("duckdb")
        print(
            f"1. leadgate on DuckDB   {best:6.2f} / {med:6.2f} s  ({cbest:.2f} / {cmed:.2f} CPU-s)  "
            f"{n_events / best:>12,.0f} events/s  peak {d['peak_mb']:,.0f} MB  ({d['mqls']:,} MQLs)"
            "\n      each lead's scores (the columns leadgate score reads)"
        )
        xb, xm, xcb, xcm = stats("duckdb_explained")
        print(
            f"   + explanation       {xb:6.2f} / {xm:6.2f} s  ({xcb:.2f} / {xcm:.2f} CPU-s)  "
            f"ratio to hand_events CPU {xcb / stats('hand_events')[2]:.2f}x / "
            f"{xcm / stats('hand_events')[3]:.2f}x\n      every explanation column written "
            "as well (what this step measured up to issue #12)"
        )
        print("2. DuckDB scans of the same files (the floors); leadgate / scan, best and median:")
        for name, (what, _) in SCANS.items():
            sb, sm, scb, scm = stats(name)
            target = "  (target <= 2.5x)" if name == "scan" else ""
            print(
                f"   {name:16s}{sb:6.2f} / {sm:6.2f} s  ({scb:.2f} / {scm:.2f} CPU-s)  "
                f"ratio {best / sb:5.2f}x / {med / sm:5.2f}x (CPU {cbest / scb:.2f}x / "
                f"{cmed / scm:.2f}x){target}\n      {what}"
            )
    for name, what in (("records", "Score.to_record() per lead in Python, then io.writers"),
                       ("records_duckdb", "DuckDB writes the lines itself (leadgate score now)")):  # fmt: skip
        if name in res:
            r = res[name]
            print(f"   records to JSONL     {r['seconds']:8.2f} s  ({r['cpu']:.2f} CPU-s)  "
                  f"peak {r['peak_mb']:,.0f} MB  {r['mqls']:,} MQLs: {what}")  # fmt: skip
    if "records" in res and "records_duckdb" in res:
        same, close, lines = _compare_lines(
            _records_out(opts, "python"), _records_out(opts, "duckdb")
        )
        print(f"   records: {res['records']['seconds'] / res['records_duckdb']['seconds']:.1f}x "
              f"faster written by DuckDB; {same:,} of {lines:,} lines byte-identical, the other "
              f"{lines - same:,} equal within 1e-9: {close}")  # fmt: skip
    if "pandas" in res:
        p = res["pandas"]
        same = ""
        if d:
            a = json.loads((cache / "mql-duckdb.json").read_text())
            b = json.loads((cache / "mql-pandas.json").read_text())
            same = f"  same MQL set: {a == b} ({len(a):,} vs {len(b):,})"
        speed = f"  speed-up {p['seconds'] / med:.1f}x (target >= 3x)" if d else ""
        print(
            f"3. pandas (vectorised)  {p['seconds']:8.2f} s  peak {p['peak_mb']:,.0f} MB{speed}{same}"
        )
    if "python" in res:
        py = res["python"]
        full = py["seconds"] * args.leads / max(py["leads"], 1)
        print(
            f"4. python engine        {py['seconds']:8.2f} s for {py['leads']:,} leads -> ~{full:,.0f} s for all (extrapolated)"
        )
    if "spark" in res:
        sp = res["spark"]
        print(
            f"   spark local          {sp['seconds']:8.2f} s for {sp['leads']:,} leads (+{sp['startup']:.1f} s session start)  peak driver {sp['peak_mb']:,.0f} MB"
        )
    if "product" in res:
        import product_usage

        print(f"5. product usage (issue #16), peak {res['product'].pop('peak_mb'):,.0f} MB; "
              "each model on the same files, best / median:")  # fmt: skip
        product_usage.report(res["product"])
    (cache / "results.json").write_text(
        json.dumps({"args": vars(args), "events": n_events, "results": res}, indent=2)
    )


if __name__ == "__main__":
    main()
