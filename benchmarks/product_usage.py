"""Product-usage benchmark: a model with measures and a PQL block against the reference model.

    python benchmarks/product_usage.py --leads 1000000 --events 20000000

Issue #16's speed target: scoring with a product-usage model (distinct days, distinct values, a
property's sum, account-scoped distinct leads, points per unit, a PQL block with an account
signal and a gate on a score) takes at most 1.5x the reference model's time
(src/leadgate/examples/b2b-inbound.yaml) in the same run, on the same files.

Data: ``benchmarks/batch.py``'s synthetic files (``dataset``: cached, events resized to
``--events``), with a numeric ``seats`` property added to the form and download events (1 to 5,
from the event id) so that sums and ``points_per`` have a number to read. Both models score the
same files with leadgate on DuckDB (``DuckDBScorer.copy_to``, scores written to Parquet, as
``batch.py`` step 1), alternated ``--repeat`` times after an untimed warm-up, each on a fresh
connection; best and median wall and CPU times are printed, and the ratio of the medians.
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
REFERENCE = ROOT / "src/leadgate/examples/b2b-inbound.yaml"

# The reference model's fit, plus product usage measured over the synthetic events.
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
        when: {title: {matches: '\\\\b(director|vp|vice president|head of)\\\\b'}}
        points: 20
      - name: target industry
        when: {industry: {in: [software, fintech, healthcare]}}
        points: 15
      - name: ideal company size
        when: {company_size: {between: [200, 5000]}}
        points: 10
  usage:
    rules:
      - name: active on 3 of the last 14 days
        events: {type: [page_view, email_click], within_days: 14, measure: distinct_days, min: 3}
        points: 15
      - name: breadth of pages
        events: {type: page_view, within_days: 30, measure: {distinct: url}, min: 4}
        points: 10
      - name: seats requested
        events: {type: [form_submit, content_download], within_days: 90, measure: {sum: seats}, min: 6}
        points: 10
      - name: team adoption
        events: {type: page_view, within_days: 30, scope: account, measure: {distinct: lead_id}, min: 3}
        points: 20
      - name: per seat
        event: form_submit
        points_per: seats
        points: 2
        half_life_days: 30
        max_points: 20
      - {name: opened email, event: email_open, points: 2, max_points: 10, half_life_days: 30}
pql:
  signals:
    - {name: hand raise, events: {type: demo_request, within_days: 30}}
    - {name: team adoption, events: {type: page_view, within_days: 7, scope: account, measure: {distinct: lead_id}, min: 5}}
    - {name: heavy use, events: {type: page_view, within_days: 7, measure: distinct_days, min: 4}}
  min_signals: 1
  require: [{name: fit floor, when: {score.fit: {gte: 20}}}]
"""


def product_events(events: str) -> str:
    """The events with ``seats`` (1..5) on form and download events (cached beside them)."""
    import duckdb

    src = Path(events)
    out = src.with_name(src.stem + "-seats.parquet")
    if not out.exists():
        q = (
            "COPY (SELECT *, CASE WHEN type IN ('form_submit', 'content_download') "
            "THEN CAST(1 + hash(event_id) % 5 AS VARCHAR) END AS seats "
            f"FROM read_parquet('{src}')) TO '{out}' (FORMAT parquet)"
        )
        duckdb.sql(q)
    return str(out)


def run_once(
    model: Path, files: dict[str, str], opts: dict[str, Any], out: Path, as_of: Any
) -> float:
    """One scoring of every lead with ``model``, written to ``out``; returns CPU seconds."""
    from leadgate.batch.duckdb_runner import DuckDBOptions, DuckDBScorer
    from leadgate.engine import compile_model
    from leadgate.model import load_model

    c0 = time.process_time()
    plan = compile_model(load_model(model))
    scorer = DuckDBScorer(DuckDBOptions(memory_limit=opts["memory_limit"], threads=opts["threads"]))
    try:
        scorer.mount(files["leads"], files["events"], check_leads=False)
        scorer.check_numeric(plan)  # as leadgate score does for a model that adds numbers up
        scorer.copy_to(plan, as_of, out)
    finally:
        scorer.close()
    return time.process_time() - c0


def main() -> None:
    import batch  # benchmarks/batch.py: the data set

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    batch.add_data_args(ap)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = batch.dataset(Path(args.cache), args.leads, args.seed, args.events)
    files["events"] = product_events(files["events"])
    opts = {"memory_limit": args.memory_limit, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        product = Path(tmp) / "product-usage.yaml"
        product.write_text(PRODUCT_MODEL, encoding="utf-8")
        models = {"reference": REFERENCE, "product": product}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in models}
        for round_ in range(args.repeat + 1):  # round 0: the warm-up, not timed
            for name, model in models.items():
                t0 = time.perf_counter()
                cpu = run_once(model, files, opts, Path(tmp) / f"{name}.parquet", batch.AS_OF)
                wall = time.perf_counter() - t0
                if round_:
                    times[name].append((wall, cpu))
                    print(f"{name:>9}: {wall:7.2f} s wall, {cpu:7.2f} s CPU", flush=True)
    summary: dict[str, Any] = {"leads": args.leads, "events": args.events, "repeat": args.repeat}
    for name, runs in times.items():
        walls = [w for w, _ in runs]
        summary[name] = {
            "best_s": min(walls), "median_s": statistics.median(walls),
            "median_cpu_s": statistics.median(c for _, c in runs),
        }  # fmt: skip
    ratio = summary["product"]["median_s"] / summary["reference"]["median_s"]
    cpu_ratio = summary["product"]["median_cpu_s"] / summary["reference"]["median_cpu_s"]
    summary["ratio"], summary["cpu_ratio"] = ratio, cpu_ratio
    print(json.dumps(summary, indent=2))
    print(f"product-usage / reference: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target <= 1.5x)")


if __name__ == "__main__":
    main()
