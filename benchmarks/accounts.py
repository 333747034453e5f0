"""Account scoring benchmark (issue #15): scoring the accounts against scoring the leads alone.

    python benchmarks/accounts.py --leads 20000 [--repeat 3] [--cache /work/benchcache/accounts]

Data: ``leadgate.synth.generate`` (CSV events) plus ``synth.abm.add_abm`` (tiers, account-level
visits), cached under ``.bench-cache/accounts-<n>`` (or ``--cache``). Model:
src/leadgate/examples/b2b-abm.yaml. Measured in this one process, alternated, best and median
of ``--repeat`` runs after a warm-up, wall and CPU time (all threads):

1. the leads alone on DuckDB, records written (``batch.write_score_records`` to JSONL: what
   ``leadgate score -o scores.jsonl`` does) - the baseline;
2. the leads alone on DuckDB, records as Python dicts (``scoring.score_files``);
3. the accounts on DuckDB, records written (``account_scoring.write_account_files`` to JSONL:
   what ``leadgate accounts score -o accounts.jsonl`` does; the lead query, the base query,
   the account query and its members, one events file with lead and account events);
4. the accounts on DuckDB as ``AccountScore`` objects (``score_account_files``: the rows mapped
   back in Python, as ``explain`` and the table read them);
5. the accounts on the Python executor.

Printed: the ratio of 3 to 1 (the issue's target: at most 1.5) and of 4 and 5 to 2. The
machine's load average is printed before and after: it moves single runs by up to 2x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
        "--skip-objects", action="store_true", help="Skip the AccountScore-objects pair (2, 4)."
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="Data folder (default .bench-cache/ here)."
    )
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit.")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads.")
    args = parser.parse_args()
    from leadgate.account_scoring import score_account_files, write_account_files
    from leadgate.batch import write_score_records
    from leadgate.engine import compile_model
    from leadgate.executors import DuckDBOptions
    from leadgate.model import load_model
    from leadgate.scoring import score_files

    d = data(args.leads, args.cache)
    events = d / "events.csv"
    options = DuckDBOptions(memory_limit=args.memory_limit, threads=args.threads)
    plan = compile_model(load_model(MODEL))
    scratch = Path(tempfile.mkdtemp(prefix="leadgate-bench-"))

    def leads_records() -> int:
        return write_score_records(
            plan, d / "leads.csv", events, AS_OF, "jsonl", scratch / "leads.jsonl",
            accounts=d / "abm_accounts.csv", options=options,
        )[0]  # fmt: skip

    def account_records() -> int:
        return write_account_files(
            MODEL, d / "leads.csv", d / "all_events.csv", d / "abm_accounts.csv", AS_OF, "jsonl",
            scratch / "accounts.jsonl", options=options,
        )[0]  # fmt: skip

    def leads_objects() -> int:
        return len(
            score_files(
                MODEL, d / "leads.csv", events, AS_OF, accounts=d / "abm_accounts.csv",
                engine=options,
            )
        )  # fmt: skip

    def accounts(engine: Any) -> int:
        return len(
            score_account_files(
                MODEL, d / "leads.csv", d / "all_events.csv", d / "abm_accounts.csv", AS_OF,
                engine=engine,
            )
        )  # fmt: skip

    runs: dict[str, Callable[[], int]] = {
        "1. leads alone, records": leads_records,
        "3. accounts, records": account_records,
    }
    if not args.skip_objects:
        runs["2. leads alone, dicts"] = leads_objects
        runs["4. accounts, objects"] = lambda: accounts(options)
    if not args.skip_python:
        runs["5. accounts (python)"] = lambda: accounts("python")
    n_events = sum(1 for _ in events.open()) - 1
    print(f"{args.leads:,} leads, {n_events:,} lead events; load average {os.getloadavg()}")
    counts = {name: fn() for name, fn in runs.items()}  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    bases = {
        "1": "1. leads alone, records",
        "3": "1. leads alone, records",
        "2": "2. leads alone, dicts",
        "4": "2. leads alone, dicts",
        "5": "2. leads alone, dicts",
    }
    for name in runs:
        base = bases[name[0]] if bases[name[0]] in runs else "1. leads alone, records"
        ratio = (min(wall[name]) / min(wall[base]), min(cpu[name]) / min(cpu[base]))
        print(
            f"{name:26s} wall best {min(wall[name]):7.2f} s median "
            f"{statistics.median(wall[name]):7.2f} s | CPU best {min(cpu[name]):7.2f} s median "
            f"{statistics.median(cpu[name]):7.2f} s | ratio wall {ratio[0]:5.2f} CPU "
            f"{ratio[1]:5.2f}  ({counts[name]:,} rows)"
        )
    print(f"load average after {os.getloadavg()}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
