"""What one live event costs the library: SQL statements and CPU per event (issue 17, by hand).

    python benchmarks/api_cost.py [--leads 1000] [--events 500] [--batches 3] [--db URL]
                                  [--seeded FILE] [--profile OUT.pstats]

A store is seeded as ``benchmarks/api.py`` does (synthetic leads with history, the reference
model; ``--seeded FILE`` keeps that SQLite file and copies it for each run, so that two commits
are measured on the same store), every lead's incremental state is built by one event each,
then, one caller, no HTTP:

- single events: one ``ingest_events`` call per new event on a random lead: statements per event
  (counted by a SQLAlchemy ``before_cursor_execute`` hook; ``BEGIN``/``COMMIT`` are not cursor
  executions and not counted), CPU ms per event (this process) and events/s;
- batches of 1,000 events (one call each, random leads): statements per batch, CPU ms per
  1,000 events and events/s;
- the baseline of the same run: a bare write transaction (one tiny ``UPDATE`` and its commit),
  per second, so the rates can be read as a ratio of what the store commits at all.

Printed with the load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

TYPES = ("page_view", "email_open", "email_click", "content_download")


def _counter(store: Any) -> Callable[[], int]:
    from sqlalchemy import event

    box = [0]

    def count(*_: Any) -> None:
        box[0] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    return lambda: box[0]


def _events(ids: list[str], n: int, rng: random.Random, tag: str) -> list[Any]:
    from leadgate.engine import Event

    now = datetime.now(UTC)
    return [
        Event(
            rng.choice(ids), rng.choice(TYPES), now - timedelta(seconds=rng.uniform(0, 3600)),
            f"cost-{tag}-{i}", {"url": "/pricing" if i % 5 == 0 else "/blog/x"},
        )
        for i in range(n)
    ]  # fmt: skip


def _bare_commits(store: Any, ids: list[str], n: int) -> float:
    """Write transactions of one one-row UPDATE each (a real write: a page to sync)."""
    start = time.perf_counter()
    for i in range(n):
        with store.write() as conn:
            conn.exec_driver_sql(
                "UPDATE leads SET updated_at = updated_at WHERE lead_id = "
                + ("?" if conn.dialect.paramstyle == "qmark" else "%s"),
                (ids[i % len(ids)],),
            )
    return n / (time.perf_counter() - start)


def measure(db: str, ids: list[str], events: int, batches: int, profile: str | None) -> None:
    from leadgate.service import ingest_events
    from leadgate.store import open_store

    store = open_store(db)
    statements = _counter(store)
    rng = random.Random(5)
    # Every lead gets its state (the steady state of a live store).
    for part in range(0, len(ids), 500):
        warm = [_events([i], 1, rng, f"warm-{i}")[0] for i in ids[part : part + 500]]
        for ev in warm:
            ingest_events(store, [ev], datetime.now(UTC), actor="bench")
    singles = _events(ids, events, rng, "single")
    prof = cProfile.Profile() if profile else None
    before, cpu, wall = statements(), time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    for ev in singles:
        ingest_events(store, [ev], datetime.now(UTC), actor="bench")
    if prof:
        prof.disable()
        prof.dump_stats(profile + ".single")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per = (statements() - before) / events
    print(
        f"single events: {per:.1f} statements/event, {1000 * cpu / events:.2f} CPU ms/event, "
        f"{events / wall:,.0f} events/s",
        flush=True,
    )
    big = [_events(ids, 1000, rng, f"batch{b}") for b in range(batches)]
    prof = cProfile.Profile() if profile else None
    before, cpu, wall = statements(), time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    for batch in big:
        ingest_events(store, batch, datetime.now(UTC), actor="bench")
    if prof:
        prof.disable()
        prof.dump_stats(profile + ".batch")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"batches of 1,000: {(statements() - before) / batches:.0f} statements/batch, "
        f"{1000 * cpu / batches:.0f} CPU ms/batch, {1000 * batches / wall:,.0f} events/s",
        flush=True,
    )
    print(f"baseline: bare write transactions {_bare_commits(store, ids, 200):,.0f}/s", flush=True)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--events", type=int, default=500, help="single events timed")
    parser.add_argument("--batches", type=int, default=3, help="batches of 1,000 timed")
    parser.add_argument("--db", default=None, help="store URL (default: a new SQLite file)")
    parser.add_argument("--seeded", default=None, help="keep/reuse the seeded SQLite file here")
    parser.add_argument(
        "--profile", default=None, help="write cProfile stats to OUT.single/.batch (slower)"
    )
    args = parser.parse_args()
    from api import _seed  # type: ignore[import-not-found]

    work = Path(tempfile.mkdtemp(prefix="leadgate-cost-"))
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    if args.db:
        db = args.db
        _, ids = _seed(db, args.leads, work)
    else:
        db = str(work / "leadgate.db")
        seeded = Path(args.seeded) if args.seeded else None
        if seeded is None or not seeded.exists():
            _, ids = _seed(str(seeded or db), args.leads, work)
        if seeded is not None:
            shutil.copyfile(seeded, db)
        from sqlalchemy import select

        from leadgate.store import open_store
        from leadgate.store.schema import leads

        store = open_store(db)
        with store.read() as conn:
            q = select(leads.c.lead_id).where(leads.c.duplicate_of.is_(None))
            ids = sorted(conn.execute(q).scalars())
        store.close()
    measure(db, ids, args.events, args.batches, args.profile)
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
