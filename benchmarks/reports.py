"""How much do the server's report caches save? (by hand)

    python benchmarks/reports.py [--leads 20000] [--repeat 5] [--cache .bench-cache]

A SQLite store of synthetic leads (``leadgate.synth``, seed 7) with their accounts, events and
outcomes, loaded under the reference model ``examples/b2b-inbound.yaml`` (version 1), then a
version 2 with a lower threshold published, is built once and kept under ``--cache``. Then, in
this one process:

- the baseline, what each request did before the caches: the library calls of the route on the
  store (``history_from_store`` or ``frame_from_store``, ``store_plans``, the report function);
- through the HTTP app (``create_app`` and a TestClient, so routing, auth and JSON are included),
  on a fresh app per route: the first request (builds the cache) and ``--repeat`` more with no
  write in between (reuse it); the median of those is printed;
- the fingerprint read alone (what a reused request pays to know the cache is fresh);
- first of all, the resident memory the cached history takes (what a server keeps once a
  rejections or compare request has run).

Wall time and CPU time (this process, every thread) are printed for each, with the ratio of the
baseline to the repeated request, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src/leadgate/examples/b2b-inbound.yaml"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _store(n_leads: int, cache: Path) -> Path:
    """The benchmark store for ``n_leads``, built on first use (loads re-score every lead)."""
    from leadgate.service import load_file, publish_model
    from leadgate.store import open_store
    from leadgate.synth import generate

    path = cache / f"reports-{n_leads}.db"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    started = time.perf_counter()
    data = generate(n_leads, 7, cache / f"reports-{n_leads}-data", as_of=NOW)
    store = open_store(str(building))
    model = EXAMPLE.read_text()
    publish_model(store, model, actor="bench", as_of=NOW)
    for kind in ("accounts", "leads", "events", "outcomes"):
        load_file(store, kind, getattr(data, kind), as_of=NOW)
    v2 = re.sub(r"^version: .*$", "version: 2", model, flags=re.M)
    v2 = re.sub(r"^threshold: .*$", "threshold: 40", v2, flags=re.M)
    publish_model(store, v2, actor="bench", as_of=NOW)
    store.close()
    building.rename(path)
    print(f"built {path} ({data.n_events:,} events) in {time.perf_counter() - started:.0f} s")
    return path


def _rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def _line(label: str, wall: float, cpu: float) -> None:
    print(f"  {label:<40} {wall:>9,.0f} ms wall {cpu:>9,.0f} ms CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5, help="repeated requests per route")
    parser.add_argument("--cache", default=str(ROOT / ".bench-cache"))
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from leadgate.api.app import create_app
    from leadgate.api.keys import create_key
    from leadgate.engine import compile_model
    from leadgate.report.compare import compare_models
    from leadgate.report.funnel import funnel_report
    from leadgate.report.rejections import rejection_report
    from leadgate.report.store_frame import (
        frame_from_store,
        history_cache,
        history_from_store,
        store_model,
        store_plans,
    )
    from leadgate.store import open_store
    from leadgate.store.fingerprint import history_fingerprint

    db = _store(args.leads, Path(args.cache))
    store = open_store(str(db))
    token = create_key(store, "read-only", name=f"bench-{time.time_ns()}").token
    with store.read() as conn:
        from sqlalchemy import func, select

        from leadgate.store.schema import events, leads

        n_leads = conn.execute(select(func.count()).select_from(leads)).scalar_one()
        n_events = conn.execute(select(func.count()).select_from(events)).scalar_one()
    print(f"store: {n_leads:,} leads, {n_events:,} events ({db})")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    # What a server holds once rejections or compare ran: the history, built in a clean heap.
    rss = _rss_mb()
    held = history_cache()
    held.get(store)
    print(f"history held by the cache: {_rss_mb() - rss:,.0f} MB resident", flush=True)
    del held

    a = compile_model(store_model(store, "1"))
    b = compile_model(store_model(store, "2"))

    def old_rejections() -> Any:
        history = history_from_store(store)
        return rejection_report(history.frame, history=history, plans=store_plans(store))

    baselines: dict[str, Callable[[], Any]] = {
        "funnel": lambda: funnel_report(frame_from_store(store)),
        "rejections": old_rejections,
        "compare": lambda: compare_models(history_from_store(store), a, b),
    }
    queries = {"funnel": {}, "rejections": {}, "compare": {"model_a": "1", "model_b": "2"}}
    old_rejections()  # warm-up: imports, SQLite page cache
    for name, baseline in baselines.items():
        print(f"/v1/reports/{name}")
        base = _timed(baseline)
        _line("baseline (no cache, library)", *base)
        app = create_app(str(db))
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}"}

            def request() -> None:
                response = client.get(f"/v1/reports/{name}", params=queries[name], headers=headers)  # noqa: B023
                assert response.status_code == 200, response.text

            first = _timed(request)
            _line("first request (builds the cache)", *first)
            again = _median([_timed(request) for _ in range(args.repeat)])
            _line(f"repeated request (median of {args.repeat})", *again)
            caches = app.state.config.report_cache()
            built = caches.frames.builds if name == "funnel" else caches.histories.builds
            print(
                f"  builds: {built}; baseline / repeated: {base[0] / again[0]:.1f}x wall, "
                f"{base[1] / max(again[1], 1e-9):.1f}x CPU",
                flush=True,
            )
        app.state.config.store.close()

    def read_fingerprint(with_events: bool) -> None:
        with store.read() as conn:
            history_fingerprint(conn, with_events=with_events)

    for with_events in (False, True):
        runs = [_timed(lambda: read_fingerprint(with_events)) for _ in range(20)]  # noqa: B023
        _line(f"fingerprint{' with events' if with_events else ''} (median of 20)", *_median(runs))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store.close()


if __name__ == "__main__":
    main()
