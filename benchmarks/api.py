"""How fast is the HTTP API at taking an event and answering the lead's new score? (by hand)

    python benchmarks/api.py [--leads 2000] [--requests 1500] [--levels 1,8,32] [--db URL]

A ``leadgate serve`` process (uvicorn, one worker, SQLite store in WAL mode, webhooks and the
periodic tick off) is started on a free loopback port over a store seeded with synthetic leads
and their event history (``leadgate.synth``) and the reference model. This process is the load
generator: at each concurrency level it runs N clients on keep-alive connections, each sending
``POST /v1/events`` (one new event for a random lead; the answer carries the re-scored lead),
until ``--requests`` requests are done, and reports requests/s and p50/p99 latency. The ceiling is
the same server's bare ``GET /healthz`` (no auth, no store) driven the same way, printed as a
ratio. The client is a minimal HTTP/1.1 writer on asyncio streams, so the generator costs little
CPU next to the server (both share the machine: numbers are for this machine, as printed).

On a SQLite store the event load then runs on two more servers, one with the default
``synchronous=FULL`` and one with ``NORMAL`` (``LEADGATE_SQLITE_SYNCHRONOUS``), taking turns, and
the ratio FULL/NORMAL is printed: what durable commits cost. ``--no-sync-compare`` skips it.

The write path (issue 17, ``benchmarks/api_write.py``): the cost of one event against the
lead's history length (10 to 10,000 events), incremental state against rebuild, in the library;
batches of 100 and 1,000 events over HTTP; the time from an MQL-making event to its webhook's
first delivery attempt; and with ``--pg URL`` the same seeded store on PostgreSQL, single events
on ``leadgate serve --workers 1`` against ``--workers 4``. The issue's targets are printed last,
each as a ratio measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[1] / "src/leadgate/examples/b2b-inbound.yaml"


def _seed(db: str, n_leads: int, work: Path) -> tuple[str, list[str]]:
    """A store with the reference model, synthetic leads with history, and a marketing key."""
    from leadgate.api.keys import create_key
    from leadgate.service import load_file, publish_model
    from leadgate.store import open_store
    from leadgate.synth import generate

    now = datetime.now(UTC)
    folder = work / ("data" if not (work / "data").exists() else "data-2")  # a second store
    data = generate(n_leads, 7, folder, as_of=now)
    store = open_store(db)
    load_file(store, "accounts", data.accounts, as_of=now)
    load_file(store, "leads", data.leads, as_of=now)
    load_file(store, "events", data.events, as_of=now)
    publish_model(store, EXAMPLE.read_text(), actor="bench", as_of=now)
    token = create_key(store, "marketing", name="bench").token
    with store.read() as conn:
        from sqlalchemy import select

        from leadgate.store.schema import leads

        ids = list(
            conn.execute(select(leads.c.lead_id).where(leads.c.duplicate_of.is_(None))).scalars()
        )
    store.close()
    print(f"seeded {len(ids):,} leads, {data.n_events:,} events ({db})", flush=True)
    return token, ids


_TAKEN: set[int] = set()


def _free_port() -> int:
    """A free loopback port: any, or one of ``LEADGATE_BENCH_PORTS`` ("18500-18599") on a
    shared machine where each user has a range."""
    import socket

    first, _, last = os.environ.get("LEADGATE_BENCH_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            got = int(s.getsockname()[1])
            if port == 0 or got not in _TAKEN:
                _TAKEN.add(got)
                return got
    raise SystemExit(f"no free port in LEADGATE_BENCH_PORTS={first}-{last}")


def _start_server(
    db: str,
    port: int,
    group_commit: bool,
    synchronous: str = "FULL",
    *,
    workers: int = 1,
    webhooks: bool = False,
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "leadgate", "serve", "--db", db, "--port", str(port),
           "--tick-seconds", "0", "--webhooks" if webhooks else "--no-webhooks",
           "--log-level", "warning", "--workers", str(workers),
           "--group-commit" if group_commit else "--no-group-commit"]  # fmt: skip
    env = {**os.environ, "LEADGATE_SQLITE_SYNCHRONOUS": synchronous}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = asyncio.run(_one_get(port, "/healthz"))
            if status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(
        "server did not start: " + (proc.stderr.read().decode() if proc.stderr else "")
    )


async def _one_get(port: int, path: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        status, _ = await _read_response(reader)
        return status
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


class Load:
    """Bounded load: ``total`` requests shared by ``clients`` keep-alive connections."""

    def __init__(self, port: int, total: int) -> None:
        self.port = port
        self.total = total
        self.issued = 0
        self.latencies: list[float] = []
        self.errors = 0

    async def client(self, make_request) -> None:  # type: ignore[no-untyped-def]
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while self.issued < self.total:
                self.issued += 1
                request = make_request()
                start = time.perf_counter()
                writer.write(request)
                status, _body = await _read_response(reader)
                self.latencies.append(time.perf_counter() - start)
                if status != 200:
                    self.errors += 1
        finally:
            writer.close()

    async def run(self, clients: int, make_request) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        await asyncio.gather(*(self.client(make_request) for _ in range(clients)))
        return time.perf_counter() - start


def _stats(load: Load, elapsed: float) -> dict[str, float]:
    lat = sorted(load.latencies)
    return {
        "requests": len(lat),
        "errors": load.errors,
        "rps": len(lat) / elapsed,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
    }


def _event_requests(ids: list[str], token: str):  # type: ignore[no-untyped-def]
    """A function making one ``POST /v1/events`` request (a new event for a random lead)."""
    rng = random.Random(1)
    counter = iter(range(10**9))
    types = ["page_view", "email_open", "email_click", "content_download"]
    tag = f"{rng.randrange(10**9)}-{os.getpid()}"

    def event_request() -> bytes:
        n = next(counter)
        body = json.dumps({
            "lead_id": rng.choice(ids), "type": rng.choice(types), "event_id": f"bench-{tag}-{n}",
            "timestamp": (datetime.now(UTC) - timedelta(seconds=rng.uniform(0, 3600))).isoformat(),
            "url": "/pricing" if n % 5 == 0 else "/blog/x",
        }).encode()  # fmt: skip
        return (
            b"POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    return event_request


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1500, help="per level and endpoint")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--db", default=None, help="store URL (default: a new SQLite file)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    parser.add_argument(
        "--no-group-commit", action="store_true", help="one write per request (for comparison)"
    )
    parser.add_argument("--pg", default=None, help="also run on this PostgreSQL URL (--workers)")
    parser.add_argument("--history", default="10,100,1000,10000", help="history lengths")
    parser.add_argument("--per-size", type=int, default=100, help="events timed per history")
    parser.add_argument("--batch-events", type=int, default=5000, help="events per batch size")
    parser.add_argument("--mqls", type=int, default=60, help="MQL-making events timed to webhook")
    parser.add_argument("--chart", default=None, help="draw the history curve to this PNG")
    parser.add_argument("--no-write-path", action="store_true", help="skip the issue-17 part")
    parser.add_argument(
        "--no-sync-compare",
        action="store_true",
        help="skip the second run with SQLite synchronous=NORMAL (the cost of durable commits)",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    work = Path(tempfile.mkdtemp(prefix="leadgate-api-bench-"))
    db = args.db or str(work / "leadgate.db")
    token, ids = _seed(db, args.leads, work)
    port = _free_port()
    server = _start_server(db, port, not args.no_group_commit)
    event_request = _event_requests(ids, token)

    health = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"

    def library_rate(n: int) -> float:
        """The same ingestion as one library call per event in this process: no HTTP at all."""
        from leadgate.io.readers import event_from_row
        from leadgate.service import ingest_events
        from leadgate.store import open_store

        store = open_store(db)
        start = time.perf_counter()
        for _ in range(n):
            row = json.loads(event_request().split(b"\r\n\r\n", 1)[1])
            ingest_events(store, [event_from_row(row)], datetime.now(UTC), actor="bench")
        elapsed = time.perf_counter() - start
        store.close()
        return n / elapsed

    results = []
    lib = 0.0
    write: dict[str, Any] = {}
    try:
        print(f"server pid {server.pid} on 127.0.0.1:{port}; load generator pid {os.getpid()}")
        print(f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.1f}")
        # Warm-up: imports, plan cache, SQLite page cache.
        asyncio.run(Load(port, 100).run(4, event_request))
        header = f"{'clients':>7} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'healthz/s':>10} {'p50 ms':>8} {'ratio':>6}"
        print(header)
        for clients in levels:
            ev_load = Load(port, args.requests)
            ev = _stats(ev_load, asyncio.run(ev_load.run(clients, event_request)))
            hz_load = Load(port, args.requests)
            hz = _stats(hz_load, asyncio.run(hz_load.run(clients, lambda: health)))
            ratio = ev["rps"] / hz["rps"]
            print(
                f"{clients:>7} {ev['rps']:>9,.0f} {ev['p50_ms']:>8.1f} {ev['p99_ms']:>8.1f} "
                f"{hz['rps']:>10,.0f} {hz['p50_ms']:>8.2f} {ratio:>6.2f}",
                flush=True,
            )
            if ev["errors"] or hz["errors"]:
                print(f"  errors: events {ev['errors']}, healthz {hz['errors']}")
            results.append({"clients": clients, "events": ev, "healthz": hz, "ratio": ratio})
        lib = library_rate(min(args.requests, 500))
        print(f"library baseline (ingest_events per event, no HTTP, 1 caller): {lib:,.0f} events/s")
        if not args.no_write_path:
            from api_write import batch_rates

            print("batches over HTTP (one client, POST /v1/events {events: [...]}):")
            write["batches"] = batch_rates(port, token, ids, [100, 1000], args.batch_events)
        print(
            f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine skews figures)"
        )
    finally:
        server.terminate()
        server.wait(10)
    if not args.no_write_path:
        _write_path(args, db, work, write)
        _targets(results, lib, write)
        if args.chart:
            from api_write import chart

            chart(write, args.chart)
    sync = []
    if not args.no_sync_compare and "://" not in db:
        sync = _sync_compare(db, not args.no_group_commit, levels, args.requests, event_request)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "leads": len(ids),
                    "library_rps": lib,
                    "results": results,
                    "synchronous": sync,
                    "write_path": write,
                },
                indent=2,
            )
        )


def _write_path(args: argparse.Namespace, db: str, work: Path, write: dict[str, Any]) -> None:
    """Issue 17: cost per event against history, webhook latency, PostgreSQL workers."""
    from api_write import history_curve, webhook_latency, workers_rates

    from leadgate.api.keys import create_key
    from leadgate.store import open_store

    sizes = [int(x) for x in args.history.split(",")]
    print("cost of one event against the lead's history (library, SQLite, 1 caller):")
    write["history_sqlite"] = history_curve(db, sizes, args.per_size)
    store = open_store(db)
    admin = create_key(store, "admin", name="bench-admin").token
    marketing = create_key(store, "marketing", name="bench-hooks").token
    store.close()
    port = _free_port()
    os.environ["LEADGATE_WEBHOOKS_ALLOW"] = "loopback"  # the receiver is this process
    server = _start_server(db, port, True, webhooks=True)
    try:
        print("webhooks (SQLite, 1 worker, webhooks on):")
        write["webhook"] = webhook_latency(port, admin, marketing, _free_port(), args.mqls)
    finally:
        server.terminate()
        server.wait(10)
    if not args.pg:
        return
    token, ids = _seed(args.pg, args.leads, work)
    print("cost of one event against the lead's history (library, PostgreSQL, 1 caller):")
    write["history_pg"] = history_curve(args.pg, sizes, args.per_size)
    port = _free_port()
    event_request = _event_requests(ids, token)

    def run_load(clients: int) -> dict[str, float]:
        load = Load(port, args.requests if clients > 4 else 100)
        return _stats(load, asyncio.run(load.run(clients, event_request)))

    def start(n: int) -> subprocess.Popen[bytes]:
        return _start_server(args.pg, port, True, workers=n)

    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        proc.wait(20)

    print("PostgreSQL, single events at 32 clients, leadgate serve --workers N:")
    write["pg_workers"] = workers_rates(start, stop, run_load, [1, 4])


def _targets(results: list[dict[str, Any]], lib: float, write: dict[str, Any]) -> None:
    """The issue's targets, each from this run's figures."""
    print("targets (issue 17), measured in this run:")
    at32 = next((r for r in results if r["clients"] == 32), None)
    if at32:
        ok = at32["ratio"] >= 0.5 and at32["events"]["p99_ms"] <= 50
        print(f"  32 clients: {at32['ratio']:.2f} of /healthz (>= 0.50), "
              f"p99 {at32['events']['p99_ms']:.0f} ms (<= 50): {'met' if ok else 'NOT met'}")  # fmt: skip
    print(
        f"  library, 1 caller: {lib:,.0f} events/s (>= 2,000): {'met' if lib >= 2000 else 'NOT met'}"
    )
    for b in write.get("batches", []):
        if b["batch"] == 1000:
            rate = b["events_per_s"]
            print(f"  batches of 1,000: {rate:,.0f} events/s (>= 20,000): "
                  f"{'met' if rate >= 20000 else 'NOT met'}")  # fmt: skip
    for key in ("history_sqlite", "history_pg"):
        curve = write.get(key)
        if curve:
            flat = curve[-1]["incremental_ms"] / curve[0]["incremental_ms"]
            print(f"  {key}: cost at {curve[-1]['history']:,} events / at {curve[0]['history']:,}: "
                  f"{flat:.2f} (flat: ~1)")  # fmt: skip
    pg = write.get("pg_workers")
    if pg and len(pg) == 2:
        ratio = pg[1]["rps"] / pg[0]["rps"]
        print(f"  PostgreSQL --workers 4 / --workers 1: {ratio:.2f} (>= 2.5): "
              f"{'met' if ratio >= 2.5 else 'NOT met'}")  # fmt: skip
    hook = write.get("webhook")
    if hook:
        print(f"  MQL event -> first webhook attempt p99: {hook['p99_s'] * 1000:.0f} ms (< 1,000): "
              f"{'met' if hook['p99_s'] < 1 else 'NOT met'}")  # fmt: skip


def _sync_compare(  # type: ignore[no-untyped-def]
    db: str, group_commit: bool, levels: list[int], requests: int, make_request
) -> list[dict[str, float]]:
    """The cost of durable commits: the event load on a FULL and a NORMAL server, interleaved.

    FULL (the default) syncs the WAL at every commit; NORMAL syncs only at checkpoints and can
    lose the last acknowledged commits on a power cut. Both servers run on the same store at
    once; at each level they take turns (FULL, NORMAL, FULL, NORMAL, half the requests each
    turn) so drifting load on a shared machine weighs on both alike. Printed: FULL's events/s
    over NORMAL's.
    """
    ports = {"FULL": _free_port(), "NORMAL": _free_port()}
    servers = {m: _start_server(db, p, group_commit, synchronous=m) for m, p in ports.items()}
    out = []
    try:
        for port in ports.values():
            asyncio.run(Load(port, 100).run(4, make_request))
        print(
            "SQLite synchronous=FULL (default, durable) vs NORMAL, same store, turns interleaved:"
        )
        print(f"{'clients':>7} {'FULL ev/s':>10} {'NORMAL ev/s':>12} {'FULL p50':>9} "
              f"{'NORMAL p50':>11} {'ratio':>6}")  # fmt: skip
        for clients in levels:
            loads = {m: Load(p, requests) for m, p in ports.items()}
            took = dict.fromkeys(ports, 0.0)
            for _turn in range(2):
                for mode, load in loads.items():
                    load.total = len(load.latencies) + requests // 2
                    took[mode] += asyncio.run(load.run(clients, make_request))
            full, normal = (_stats(loads[m], took[m]) for m in ("FULL", "NORMAL"))
            ratio = full["rps"] / normal["rps"]
            print(
                f"{clients:>7} {full['rps']:>10,.0f} {normal['rps']:>12,.0f} "
                f"{full['p50_ms']:>9.1f} {normal['p50_ms']:>11.1f} {ratio:>6.2f}",
                flush=True,
            )
            out.append({"clients": clients, "full": full, "normal": normal, "ratio": ratio})
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
    commits = {"FULL": 0.0, "NORMAL": 0.0}
    for _turn in range(2):
        for mode in commits:
            commits[mode] += _commit_rate(db, mode, 200) / 2
    ratio = commits["FULL"] / commits["NORMAL"]
    print(
        f"bare commits (one small write transaction each, 1 caller): FULL {commits['FULL']:,.0f}/s, "
        f"NORMAL {commits['NORMAL']:,.0f}/s, ratio {ratio:.2f}"
    )
    out.append({"commits_full": commits["FULL"], "commits_normal": commits["NORMAL"]})
    return out


def _commit_rate(db: str, mode: str, n: int) -> float:
    """Write transactions per second that change one small row: the commit's own cost."""
    from sqlalchemy import update

    from leadgate.store import open_store
    from leadgate.store.schema import settings

    os.environ["LEADGATE_SQLITE_SYNCHRONOUS"] = mode
    try:
        store = open_store(db)
    finally:
        del os.environ["LEADGATE_SQLITE_SYNCHRONOUS"]
    now = datetime.now(UTC)
    with store.write() as conn:
        conn.execute(settings.delete().where(settings.c.key == "bench.commit"))
        conn.execute(settings.insert().values(key="bench.commit", value=0, updated_at=now))
    start = time.perf_counter()
    for i in range(n):
        with store.write() as conn:
            conn.execute(update(settings).where(settings.c.key == "bench.commit").values(value=i))
    elapsed = time.perf_counter() - start
    store.close()
    return n / elapsed


if __name__ == "__main__":
    main()
