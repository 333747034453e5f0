"""Account scoring benchmark (issue #15): scoring the accounts against scoring the leads alone.

    python benchmarks/accounts.py --leads 20000 [--repeat 3]

Data: ``leadgate.synth.generate`` (CSV events) plus ``synth.abm.add_abm`` (tiers, account-level
visits), cached under ``.bench-cache/accounts-<n>``. Model: src/leadgate/examples/b2b-abm.yaml.
Measured in this one process, alternated, best and median of ``--repeat`` runs after a warm-up:

1. baseline: the leads alone on DuckDB (``scoring.score_files``: the compiled lead query over
   the files, records in Python);
2. accounts on DuckDB (``account_scoring.score_account_files``: DuckDB reads the files itself,
   one events file with lead and account events; the lead query, the base query and the
   account query);
3. accounts on the Python executor.

Printed: wall times, the ratio accounts / leads alone (the issue's target: at most 1.5 on
DuckDB), accounts/s. The machine's load average is printed before and after: it moves single
runs by up to 2x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
MODEL = ROOT / "src/leadgate/examples/b2b-abm.yaml"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def data(n: int, cache: Path | None = None) -> Path:
    from leadgate.synth import generate
    from leadgate.synth.abm import add_abm

    folder = (cache or ROOT / ".bench-cache") / f"accounts-{n}"
    if not (folder / "account_truth.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        generate(n, seed=0, out_dir=folder, events_format="csv")
        add_abm(folder, seed=0)
    both = folder / "all_events.csv"
    if not both.exists():  # one events file holding lead and account events, as the issue has it
        import duckdb

        files = [str(folder / "events.csv"), str(folder / "account_events.csv")]
        duckdb.sql(
            f"COPY (SELECT * FROM read_csv({files!r}, union_by_name = true, all_varchar = true)) "
            f"TO '{both}' (HEADER)"
        )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument(
        "--cache", type=Path, default=None, help="Data folder (default .bench-cache/ here)."
    )
    args = parser.parse_args()
    from leadgate.account_scoring import score_account_files
    from leadgate.scoring import score_files

    d = data(args.leads, args.cache)
    events = d / "events.csv"
    n_events = sum(1 for _ in events.open()) - 1

    def leads_alone() -> int:
        return len(
            score_files(
                MODEL,
                d / "leads.csv",
                events,
                AS_OF,
                accounts=d / "abm_accounts.csv",
                engine="duckdb",
            )
        )

    def accounts(engine: str) -> int:
        return len(
            score_account_files(
                MODEL, d / "leads.csv", d / "all_events.csv", d / "abm_accounts.csv", AS_OF,
                engine=engine,
            )
        )  # fmt: skip

    runs = {"leads alone (duckdb)": leads_alone, "accounts (duckdb)": lambda: accounts("duckdb")}
    if not args.skip_python:
        runs["accounts (python)"] = lambda: accounts("python")
    print(f"{args.leads:,} leads, {n_events:,} lead events; load average {os.getloadavg()}")
    counts = {name: fn() for name, fn in runs.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = min(times["leads alone (duckdb)"])
    for name, ts in times.items():
        best, median = min(ts), statistics.median(ts)
        print(
            f"{name:24s} best {best:7.2f} s  median {median:7.2f} s  ratio {best / base:5.2f}  "
            f"({counts[name]:,} rows, {counts[name] / best:,.0f}/s)"
        )
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
