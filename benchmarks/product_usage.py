"""Product-usage benchmark: a model with measures and a PQL block against the reference model.

    python benchmarks/batch.py --product-usage --leads 1000000 --events 20000000
    python benchmarks/product_usage.py --leads 1000000 --events 20000000   # the same step alone

Issue #16's speed target: scoring with a product-usage model (distinct days, distinct values, a
property's sum, account-scoped distinct leads and sums, points per unit, a PQL block with
account signals and a gate on a score) takes at most 1.5x the reference model's time
(src/leadgate/examples/b2b-inbound.yaml) in the same run, on the same files.

Data: ``benchmarks/batch.py``'s synthetic files with the product-led motion
(``dataset(..., product_led=True)``: marketing events plus trial sign-ups, sessions, features
used, posts with a ``count``, ingested ``events``, invitations, upgrades with ``seats``, hand
raises; events resized to ``--events``, thinned evenly when cut). Every model scores the same
files with leadgate on DuckDB (``DuckDBScorer.copy_to``, scores written to Parquet, as
``batch.py`` step 1), the accounts file mounted for all: the reference model, this file's
product-usage model and the two example PQL models (Mattermost's and PostHog's definitions),
alternated ``--repeat`` times after an untimed warm-up, each on a fresh connection; best and
median wall and CPU times are printed, and each model's ratio of medians to the reference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
EXAMPLES = ROOT / "src/leadgate/examples"
REFERENCE = EXAMPLES / "b2b-inbound.yaml"

# The reference model's fit, plus product usage measured over the product-led events.
PRODUCT_MODEL = """\
name: product-usage
version: 1
threshold: 60
floors: {fit: 20}
dimensions:
  fit:
    max: 60
    rules:
      - name: senior title
        when: {title: {matches: '\\b(director|vp|vice president|head of)\\b'}}
        points: 20
      - name: target industry
        when: {industry: {in: [software, fintech, healthcare]}}
        points: 15
      - name: ideal company size
        when: {company_size: {between: [200, 5000]}}
        points: 10
  usage:
    rules:
      - name: active on 3 of the last 7 days
        events: {type: [session_start, feature_used], within_days: 7, measure: distinct_days, min: 3}
        points: 15
      - name: breadth of features
        events: {type: feature_used, within_days: 14, measure: {distinct: feature}, min: 3}
        points: 10
      - name: heavy posting
        events: {type: post_created, within_days: 30, measure: {sum: count}, min: 50}
        points: 10
      - name: team adoption
        events: {type: session_start, within_days: 30, scope: account, measure: {distinct: lead_id}, min: 3}
        points: 20
      - name: data flowing
        events: {type: event_ingested, within_days: 30, scope: account, measure: {sum: events}, min: 100000}
        points: 10
      - name: per seat
        event: seats_added
        points_per: seats
        points: 2
        half_life_days: 30
        max_points: 20
      - {name: opened email, event: email_open, points: 2, max_points: 10, half_life_days: 30}
pql:
  signals:
    - {name: hand raise, events: {type: [contact_sales, enterprise_trial_started], within_days: 30}}
    - {name: self-serve upgrade, events: {type: plan_upgraded, within_days: 30}}
    - {name: team adoption, events: {type: session_start, within_days: 7, scope: account, measure: {distinct: lead_id}, min: 5}}
    - {name: heavy use, events: {type: session_start, within_days: 7, measure: distinct_days, min: 4}}
  min_signals: 1
  require: [{name: fit floor, when: {score.fit: {gte: 20}}}]
"""


def run_once(
    model: Path, files: dict[str, str], opts: dict[str, Any], out: Path, as_of: Any
) -> float:
    """One scoring of every lead with ``model``, written to ``out``; returns CPU seconds.

    As ``leadgate score``'s scoring pass (and ``batch.py``'s step 1): the columns a record
    reads, the event checks in the pass; with ``opts["explained"]`` every column of the query
    (the explanation too, as ``leadgate score --explain`` reads them) and no event checks, what
    this step measured up to 2026-12-03 17:00."""
    from leadgate.batch.duckdb_runner import DuckDBOptions, DuckDBScorer
    from leadgate.batch.records import record_columns
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    c0 = time.process_time()
    plan = compile_model(load_model(model))
    scorer = DuckDBScorer(DuckDBOptions(memory_limit=opts["memory_limit"], threads=opts["threads"]))
    try:
        scorer.mount(files["leads"], files["events"], files["accounts"], check_leads=False)
        scorer.check_numeric(plan)  # as leadgate score does for a model that adds numbers up
        explained = bool(opts.get("explained"))
        columns = None if explained else record_columns(plan)
        scorer.copy_to(plan, as_of, out, columns, check_events=not explained)
    finally:
        scorer.close()
    return time.process_time() - c0


def step_product(files: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    """Every model on the same files, alternated ``opts["repeat"]`` times after a warm-up;
    per model best/median wall and median CPU seconds, MQL and PQL counts, and its ratios of
    medians to the reference (``ratio`` wall, ``cpu_ratio``)."""
    import duckdb

    from batch import AS_OF

    with tempfile.TemporaryDirectory() as tmp:
        product = Path(tmp) / "product-usage.yaml"
        product.write_text(PRODUCT_MODEL, encoding="utf-8")
        models = {
            "reference": REFERENCE, "product-usage": product,
            "mattermost-pql": EXAMPLES / "mattermost-pql.yaml",
            "posthog-pql": EXAMPLES / "posthog-pql.yaml",
        }  # fmt: skip
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
        counts: dict[str, tuple[int, int]] = {}
        for round_ in range(opts["repeat"] + 1):  # round 0: the warm-up, not timed
            for name, model in models.items():
                out = Path(tmp) / f"{name}.parquet"
                t0 = time.perf_counter()
                cpu = run_once(model, files, opts, out, AS_OF)
                wall = time.perf_counter() - t0
                if round_:
                    times[name].append((wall, cpu))
                    print(f"{name:>15}: {wall:7.2f} s wall, {cpu:7.2f} s CPU", flush=True)
                else:
                    pql = "pql" if name != "reference" else "false"
                    q = f"SELECT count_if(mql), count_if({pql}) FROM read_parquet('{out}')"
                    counts[name] = duckdb.sql(q).fetchall()[0]
    summary: dict[str, Any] = {}
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        summary[name] = {
            "best_s": min(walls), "median_s": statistics.median(walls),
            "median_cpu_s": statistics.median(c for _, c in runs),
            "mqls": counts[name][0], "pqls": counts[name][1],
        }  # fmt: skip
    ref = summary["reference"]
    for name in models:
        summary[name]["ratio"] = summary[name]["median_s"] / ref["median_s"]
        summary[name]["cpu_ratio"] = summary[name]["median_cpu_s"] / ref["median_cpu_s"]
    return summary


def report(summary: dict[str, Any]) -> None:
    """Print each model's times and its ratios to the reference (the target: <= 1.5x)."""
    for name, s in summary.items():
        if not isinstance(s, dict) or "ratio" not in s:
            continue
        print(
            f"   {name:15s} {s['best_s']:6.2f} / {s['median_s']:6.2f} s  "
            f"({s['median_cpu_s']:.2f} CPU-s)  {s['mqls']:,} MQLs, {s['pqls']:,} PQLs  "
            f"ratio {s['ratio']:.2f}x wall, {s['cpu_ratio']:.2f}x CPU"
            + ("  (target <= 1.5x)" if name == "product-usage" else "")
        )


def profile(files: dict[str, str], opts: dict[str, Any], model: Path, top: int = 15) -> None:
    """Run ``model``'s query as ``copy_to`` does with DuckDB's JSON profiling on; print the
    wall time, the operator time summed over threads and the ``top`` costliest operators."""
    from batch import AS_OF
    from leadgate.batch.duckdb_runner import DuckDBOptions, DuckDBScorer
    from leadgate.batch.records import record_columns
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    plan = compile_model(load_model(model))
    scorer = DuckDBScorer(DuckDBOptions(memory_limit=opts["memory_limit"], threads=opts["threads"]))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            scorer.mount(files["leads"], files["events"], files["accounts"], check_leads=False)
            query = scorer.query(plan, AS_OF, sort=False, columns=record_columns(plan))
            scorer.con.execute("PRAGMA enable_profiling='json'")
            scorer.con.execute(f"PRAGMA profiling_output='{tmp}/profile.json'")
            t0 = time.perf_counter()
            scorer.con.execute(f"COPY ({query}) TO '{tmp}/out.parquet' (FORMAT parquet)")
            wall = time.perf_counter() - t0
        finally:
            scorer.close()
        prof = json.loads(Path(tmp, "profile.json").read_text())
    ops: list[tuple[float, str, Any, str]] = []
    stack = list(prof["operator"])
    while stack:
        node = stack.pop()
        info = json.dumps(node.get("extra_info", {}))[:160]
        ops.append(
            (node.get("timing") or 0.0, node.get("name", "?"), node.get("intermediate_rows"), info)
        )
        stack.extend(node.get("children", []))
    print(f"{model.name}: {wall:.2f} s wall, {sum(o[0] for o in ops):.2f} s operator time")
    for t, name, rows, info in sorted(ops, key=lambda o: -o[0])[:top]:
        print(f"  {t:7.3f} s  {name:16s} {rows!s:>10} rows  {info}")


def main() -> None:
    import batch  # benchmarks/batch.py: the data set

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    batch.add_data_args(ap)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--explained", action="store_true",
        help="write every column of the query (the explanation too), not only the scores",
    )  # fmt: skip
    ap.add_argument(
        "--profile", action="store_true",
        help="instead of timing: one profiled run of the reference and product-usage queries",
    )  # fmt: skip
    args = ap.parse_args()
    files = batch.dataset(Path(args.cache), args.leads, args.seed, args.events, product_led=True)
    opts = {"memory_limit": args.memory_limit, "threads": args.threads or None,
            "repeat": args.repeat, "explained": args.explained}  # fmt: skip
    if args.profile:
        with tempfile.TemporaryDirectory() as tmp:
            product = Path(tmp) / "product-usage.yaml"
            product.write_text(PRODUCT_MODEL, encoding="utf-8")
            for model in (REFERENCE, product):
                profile(files, opts, model)
        return
    summary = step_product(files, opts)
    print(json.dumps(summary, indent=2))
    print(f"product-led data, {args.leads:,} leads, events {args.events or 'as generated'}; "
          f"{args.repeat} alternated runs: best / median")  # fmt: skip
    report(summary)


if __name__ == "__main__":
    main()
