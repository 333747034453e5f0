"""How fast does publishing a model re-score the store? (run by hand; prints figures).

    python benchmarks/rescore.py --leads 100000 [--db URL] [--engine auto|python|duckdb]

Steps, each timed (wall and this process's CPU): synthetic data (``leadgate.synth``), bulk loads
of accounts, leads and events into a fresh store (events in parts of ``--events-part`` rows, as
the benchmark did when a load held its file in memory; loads stream now, so one part of any size
will do), a first publish (every lead scored), a dry run and
a real publish of a changed model (every lead re-scored, transitions recorded), and a ``tick``.
Baselines in the same process: the DuckDB batch engine over the synthetic files (the ratios
printed at the end compare publish, dry run and tick with it) and, up to 200,000 leads, the bare
per-lead Python engine over the same leads in memory (no store).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "src/leadgate/examples/b2b-inbound.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _timed(label: str, n: int, unit: str, fn):  # type: ignore[no-untyped-def]
    """Run ``fn``; print wall time, rate, and this process's CPU time (robust on a busy box)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{label:<40} {elapsed:8.2f} s  {n / elapsed:>9,.0f} {unit}/s   cpu {used:7.2f} s",
        flush=True,
    )
    return result, elapsed


def _scores_only(store, n: int) -> None:  # type: ignore[no-untyped-def]
    """The batch path without lifecycle decisions or writes: export, DuckDB, records."""
    from leadgate.service import active_model
    from leadgate.service.batch import score_objects

    with store.read() as conn:
        model = active_model(conn, store)
        _timed(
            "  of which: batch scores only", n, "leads",
            lambda: sum(1 for s in score_objects(conn, model.plan, AS_OF) if s.to_record()),
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=None, help="store URL (default: a new SQLite file)")
    parser.add_argument("--engine", default="auto", help="rescore engine for publish/tick")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--events-part", type=int, default=2_000_000, help="events per load")
    parser.add_argument(
        "--scores-only", action="store_true", help="also time the batch path's Score objects"
    )
    parser.add_argument(
        "--compare-python", action="store_true", help="also publish with --engine python"
    )
    args = parser.parse_args()

    from leadgate.engine import compile_model, score_lead
    from leadgate.io import read_events, read_leads
    from leadgate.model import load_model
    from leadgate.service import load_file, publish_model, tick
    from leadgate.store import open_store
    from leadgate.synth import generate

    work = Path(tempfile.mkdtemp(prefix="leadgate-bench-"))
    data, _ = _timed(
        "synth data",
        args.leads,
        "leads",
        lambda: generate(args.leads, args.seed, work / "data", as_of=AS_OF),
    )
    print(
        f"  {data.n_leads:,} leads, {data.n_accounts:,} accounts, {data.n_events:,} events",
        flush=True,
    )
    store = open_store(args.db or str(work / "leadgate.db"))
    print(f"store: {store.url}", flush=True)
    _timed(
        "load accounts",
        data.n_accounts,
        "rows",
        lambda: load_file(store, "accounts", data.accounts, as_of=AS_OF),
    )
    _timed(
        "load leads",
        data.n_leads,
        "rows",
        lambda: load_file(store, "leads", data.leads, as_of=AS_OF),
    )
    _timed(
        "load events",
        data.n_events,
        "rows",
        lambda: [
            load_file(store, "events", part, as_of=AS_OF)
            for part in _event_parts(data.events, args.events_part)
        ],
    )

    text = EXAMPLE.read_text()
    changed = text.replace("threshold: 60 ", "threshold: 50 ").replace("version: 1", "version: 2")
    kw = {"engine": args.engine} if args.engine != "auto" else {}
    first, _ = _timed(
        "publish v1 (score every lead)", data.n_leads, "leads",
        lambda: publish_model(store, text, actor="bench", as_of=AS_OF, **kw),
    )  # fmt: skip
    print(f"  {first.summary.new_mqls:,} new MQLs", flush=True)
    dry, t_dry = _timed(
        "publish v2 --dry-run", data.n_leads, "leads",
        lambda: publish_model(store, changed, actor="bench", as_of=AS_OF, dry_run=True, **kw),
    )  # fmt: skip
    real, t_real = _timed(
        "publish v2 (re-score + transitions)", data.n_leads, "leads",
        lambda: publish_model(store, changed, actor="bench", as_of=AS_OF, **kw),
    )  # fmt: skip
    print(
        f"  dry run said {dry.summary.new_mqls:,} new MQLs; publish made {real.summary.new_mqls:,}",
        flush=True,
    )
    ticked, t_tick = _timed(
        "tick (+1 day: decay, expiries)",
        data.n_leads,
        "leads",
        lambda: tick(store, AS_OF + timedelta(days=1), **kw),
    )
    print(f"  {ticked.summary.score_changed:,} scores changed, {ticked.summary.expired:,} expired")
    if args.scores_only:
        _scores_only(store, data.n_leads)
    if args.compare_python:
        third = changed.replace("threshold: 50 ", "threshold: 55 ").replace(
            "version: 2", "version: 3"
        )
        _timed(
            "publish v3, python engine", data.n_leads, "leads",
            lambda: publish_model(store, third, actor="bench", as_of=AS_OF, engine="python"),
        )  # fmt: skip
    store.close()

    if args.no_baseline:
        return
    plan = compile_model(load_model(EXAMPLE))
    from leadgate.batch import score_files

    _, t_duck = _timed(
        "baseline: duckdb batch over files", data.n_leads, "leads",
        lambda: score_files(plan, data.leads, data.events, AS_OF, accounts=data.accounts),
    )  # fmt: skip
    for label, t in (("publish v2", t_real), ("publish v2 --dry-run", t_dry), ("tick", t_tick)):
        print(
            f"{label:<22} {data.n_leads / t:>9,.0f} leads/s  {t / t_duck:5.1f}x the duckdb files "
            f"baseline; 1M leads in ~{t * 1_000_000 / data.n_leads:,.0f} s",
            flush=True,
        )
    if data.n_leads <= 200_000:  # its events in memory as Python objects: ~20 GB at 1M leads
        leads = read_leads(data.leads, data.accounts)
        by_lead: dict[str, list] = {}
        for ev in read_events(data.events):
            by_lead.setdefault(ev.lead_id, []).append(ev)
        _, t_bare = _timed(
            "baseline: python engine, in memory", len(leads), "leads",
            lambda: [score_lead(plan, p, by_lead.get(p["lead_id"], ()), AS_OF, p["lead_id"]) for p in leads],
        )  # fmt: skip
        print(f"publish v2 / bare python engine: {t_real / t_bare:.2f}x", flush=True)
    print(f"load average: {os.getloadavg()}", flush=True)


def _event_parts(path: Path, rows: int) -> list[Path]:
    """The events file split into Parquet files of about ``rows`` events (row groups kept)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    if f.metadata.num_rows <= rows:
        return [path]
    parts, groups, count = [], [], 0
    for i in range(f.num_row_groups):
        groups.append(i)
        count += f.metadata.row_group(i).num_rows
        if count >= rows or i == f.num_row_groups - 1:
            part = path.with_name(f"events-part{len(parts):03d}.parquet")
            pq.write_table(f.read_row_groups(groups), part)
            parts.append(part)
            groups, count = [], 0
    return parts


if __name__ == "__main__":
    main()
