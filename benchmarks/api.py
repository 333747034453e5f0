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

EXAMPLE = Path(__file__).resolve().parents[1] / "src/leadgate/examples/b2b-inbound.yaml"


def _seed(db: str, n_leads: int, work: Path) -> tuple[str, list[str]]:
    """A store with the reference model, synthetic leads with history, and a marketing key."""
    from leadgate.api.keys import create_key
    from leadgate.service import load_file, publish_model
    from leadgate.store import open_store
    from leadgate.synth import generate

    now = datetime.now(UTC)
    data = generate(n_leads, 7, work / "data", as_of=now)
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(
    db: str, port: int, group_commit: bool, synchronous: str = "FULL"
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "leadgate", "serve", "--db", db, "--port", str(port),
           "--tick-seconds", "0", "--no-webhooks", "--log-level", "warning",
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
    rng = random.Random(1)
    counter = iter(range(10**9))
    types = ["page_view", "email_open", "email_click", "content_download"]

    def event_request() -> bytes:
        n = next(counter)
        body = json.dumps({
            "lead_id": rng.choice(ids), "type": rng.choice(types), "event_id": f"bench-{n}",
            "timestamp": (datetime.now(UTC) - timedelta(seconds=rng.uniform(0, 3600))).isoformat(),
            "url": "/pricing" if n % 5 == 0 else "/blog/x",
        }).encode()  # fmt: skip
        return (
            b"POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

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
        print(
            f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine skews figures)"
        )
    finally:
        server.terminate()
        server.wait(10)
    sync = []
    if not args.no_sync_compare and "://" not in db:
        sync = _sync_compare(db, not args.no_group_commit, levels, args.requests, event_request)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"leads": len(ids), "library_rps": lib, "results": results, "synchronous": sync},
                indent=2,
            )
        )


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
