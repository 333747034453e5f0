"""Benchmark ``leadgate.synth.generate``: leads and events per second, peak memory, file sizes.

Run by hand: ``.venv/bin/python benchmarks/synth.py [--leads 100000] [--format parquet]
[--scale 500000]``. It first times a small baseline run (10k leads) in the same process, then the
main run, and prints events/s for both and their ratio (close to 1 means generation scales
linearly). ``--scale N`` adds a run with N leads (500k leads is about 10M events) and reports its
peak resident memory, to show that memory stays bounded while events stream to disk.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from leadgate.synth import generate


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(n: int, fmt: str, root: Path) -> tuple[float, int, float]:
    out = root / f"n{n}-{fmt}"
    started = time.perf_counter()
    result = generate(n, 42, out, events_format=fmt)
    seconds = time.perf_counter() - started
    size_mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    return seconds, result.n_events, size_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv", "jsonl"))
    parser.add_argument("--scale", type=int, default=0, help="extra run with this many leads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _run(500, args.format, root)  # warm-up: imports and lookup tables, not timed
        base_s, base_ev, _ = _run(10_000, args.format, root)
        print(
            f"baseline  10,000 leads: {base_ev:>11,} events in {base_s:6.2f} s "
            f"= {base_ev / base_s:>10,.0f} events/s"
        )
        s, ev, mb = _run(args.leads, args.format, root)
        print(
            f"main     {args.leads:>7,} leads: {ev:>11,} events in {s:6.2f} s "
            f"= {ev / s:>10,.0f} events/s ({args.leads / s:,.0f} leads/s, {mb:,.0f} MB written)"
        )
        print(f"ratio main/baseline events/s: {(ev / s) / (base_ev / base_s):.2f}")
        print(f"peak RSS so far: {_rss_mb():,.0f} MB")
        if args.scale:
            s, ev, mb = _run(args.scale, args.format, root)
            print(
                f"scale    {args.scale:>7,} leads: {ev:>11,} events in {s:6.2f} s "
                f"= {ev / s:>10,.0f} events/s ({mb:,.0f} MB written); "
                f"peak RSS {_rss_mb():,.0f} MB"
            )


if __name__ == "__main__":
    main()
