"""The write path's measurements for ``benchmarks/api.py`` (issue 17), by hand.

- ``history_curve``: milliseconds per ``ingest_events`` call (one event, one caller, no HTTP) on
  leads whose history holds 10, 100, 1,000 and 10,000 events, with the incremental state (as
  shipped) and with it bypassed (every lead re-scored from all its events, as before issue 17):
  the cost of an event must not grow with the history.
- ``batch_rates``: ``POST /v1/events`` with ``{"events": [...]}`` of 100 and 1,000 events.
- ``workers_rates``: single events at 32 clients on ``leadgate serve --workers N`` servers over
  one store (PostgreSQL): N=1 against N=4.
- ``webhook_latency``: from sending an MQL-making event to its ``lead.mql`` webhook's first
  delivery attempt reaching a receiver on loopback.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

TYPES = ("page_view", "page_view", "page_view", "email_open", "email_open", "email_click",
         "content_download")  # fmt: skip


def _history(lead_id: str, n: int, now: datetime, rng: random.Random) -> list[Any]:
    """``n`` events over the last three years (a realistic mix: mostly page views and opens)."""
    from leadgate.engine import Event

    span = 3 * 365 * 86400
    return [
        Event(
            lead_id, rng.choice(TYPES), now - timedelta(seconds=rng.uniform(3600, span)),
            f"{lead_id}-h{i}", {"url": "/pricing" if i % 7 == 0 else "/blog/x"},
        )
        for i in range(n)
    ]  # fmt: skip


def history_curve(db: str, sizes: list[int], per_size: int) -> list[dict[str, float]]:
    """ms per single-event ``ingest_events`` against history length, incremental and rebuild."""
    from leadgate.engine import Event
    from leadgate.service import ingest_events

    try:  # where the live path scores from the state (before service/ingest_live.py: leads)
        from leadgate.service import ingest_live as live

        bypass = "score_with_states"
    except ImportError:
        from leadgate.service import leads as live  # type: ignore[no-redef]

        bypass = "score_from_states"
    from leadgate.service.rescore import score_rows
    from leadgate.store import open_store

    store = open_store(db)
    rng = random.Random(7)
    counter = iter(range(10**9))
    out = []

    def pure(c: Any, m: Any, rows: Any, at: datetime, *_: Any) -> Any:
        return score_rows(c, m, rows, at)

    def run(lead_id: str, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            now = datetime.now(UTC)
            ev = Event(lead_id, rng.choice(TYPES), now - timedelta(seconds=rng.uniform(0, 60)),
                       f"{lead_id}-n{next(counter)}", {"url": "/pricing"})  # fmt: skip
            ingest_events(store, [ev], now, actor="bench")
        return 1000 * (time.perf_counter() - start) / n

    print(f"{'history':>8} {'incremental ms/event':>21} {'rebuild ms/event':>17} {'ratio':>6}")
    try:
        for size in sizes:
            lead_id = f"hist-{size}-{rng.randrange(10**6)}"
            now = datetime.now(UTC)
            for start in range(0, size, 1000):
                batch = _history(lead_id, size, now, rng)[start : start + 1000]
                ingest_events(store, batch, now, actor="bench")
            run(lead_id, 5)  # the first event builds the state from the history
            inc = run(lead_id, per_size)
            with mock.patch.object(live, bypass, pure):
                slow = run(lead_id, max(5, per_size // max(1, size // 1000)))
            print(f"{size:>8,} {inc:>21.2f} {slow:>17.2f} {slow / inc:>6.1f}", flush=True)
            out.append({"history": size, "incremental_ms": inc, "rebuild_ms": slow})
    finally:
        store.close()
    return out


async def _post_all(port: int, bodies: list[bytes], token: str) -> tuple[float, list[float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    from api import _read_response  # type: ignore[import-not-found]

    lat = []
    start = time.perf_counter()
    try:
        for body in bodies:
            t = time.perf_counter()
            writer.write(
                b"POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status, _ = await _read_response(reader)
            if status != 200:
                raise SystemExit(f"batch refused: HTTP {status}")
            lat.append(time.perf_counter() - t)
    finally:
        writer.close()
    return time.perf_counter() - start, lat


def batch_rates(
    port: int, token: str, ids: list[str], sizes: list[int], events: int
) -> list[dict[str, float]]:
    """events/s for ``{"events": [...]}`` requests of each size (one client)."""
    rng = random.Random(3)
    counter = iter(range(10**9))
    out = []
    for size in sizes:
        bodies = []
        for _ in range(max(2, events // size)):
            now = datetime.now(UTC)
            bodies.append(json.dumps({"events": [
                {"lead_id": rng.choice(ids), "type": rng.choice(TYPES),
                 "event_id": f"batch-{next(counter)}",
                 "timestamp": (now - timedelta(seconds=rng.uniform(0, 3600))).isoformat(),
                 "url": "/blog/x"}
                for _ in range(size)
            ]}).encode())  # fmt: skip
        took, lat = asyncio.run(_post_all(port, bodies, token))
        rate = size * len(bodies) / took
        print(f"  batches of {size:>5,}: {rate:>8,.0f} events/s "
              f"({1000 * statistics.median(lat):.0f} ms per request)", flush=True)  # fmt: skip
        out.append(
            {"batch": size, "events_per_s": rate, "ms_per_request": 1000 * statistics.median(lat)}
        )
    return out


class _Receiver:
    """A loopback HTTP receiver noting when each webhook for a lead first arrives."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                at = time.perf_counter()
                data = json.loads(body or b"{}")
                lead = (data.get("data") or {}).get("lead_id")
                if data.get("topic") == "lead.mql" and lead:
                    self.first.setdefault(lead, at)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def webhook_latency(
    port: int, admin: str, marketing: str, rx_port: int, n: int
) -> dict[str, float]:
    """Seconds from sending an MQL-making event to its webhook reaching the receiver."""
    import httpx

    base = f"http://127.0.0.1:{port}"
    receiver = _Receiver()
    sent: dict[str, float] = {}

    async def main() -> None:
        server = await asyncio.start_server(receiver.handle, "127.0.0.1", rx_port)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            hook = {"url": f"http://127.0.0.1:{rx_port}/hook", "secret": "bench-secret-0123456789"}
            r = await http.post(
                "/v1/webhooks", json=hook, headers={"Authorization": f"Bearer {admin}"}
            )
            r.raise_for_status()
            auth = {"Authorization": f"Bearer {marketing}"}
            for i in range(n):
                lead = f"hook-{rx_port}-{i}"
                profile = {"title": "VP Sales", "industry": "software", "company_size": 300,
                           "country": "US", "email": f"{lead}@acme.com"}  # fmt: skip
                (await http.put(f"/v1/leads/{lead}", json=profile, headers=auth)).raise_for_status()
                now = datetime.now(UTC).isoformat()
                clicks = [{"lead_id": lead, "type": "email_click", "timestamp": now,
                           "event_id": f"{lead}-c{k}"} for k in range(2)]  # fmt: skip
                body = {"events": clicks}  # over the engagement floor (5) however they decay
                (await http.post("/v1/events", json=body, headers=auth)).raise_for_status()
                demo = {"lead_id": lead, "type": "demo_request", "timestamp": now}
                sent[lead] = time.perf_counter()
                answer = (await http.post("/v1/events", json=demo, headers=auth)).json()
                assert answer["stage"] == "mql", answer
            deadline = time.perf_counter() + 30
            while len(receiver.first) < n and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
        server.close()

    asyncio.run(main())
    lat = sorted(receiver.first[k] - sent[k] for k in sent if k in receiver.first)
    if not lat:
        raise SystemExit("no webhook arrived")
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    out = {"mqls": n, "delivered": len(lat), "p50_s": statistics.median(lat), "p99_s": p99}
    print(f"  MQL event -> first webhook attempt: p50 {out['p50_s'] * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms ({len(lat)}/{n} delivered)", flush=True)  # fmt: skip
    return out


def workers_rates(
    start: Callable[[int], Any],
    stop: Callable[[Any], None],
    run_load: Callable[[int], dict[str, float]],
    counts: list[int],
) -> list[dict[str, float]]:
    """Single events at 32 clients on ``--workers N`` servers, one N at a time."""
    out = []
    for n in counts:
        server = start(n)
        try:
            run_load(4)  # warm-up: every worker's imports and caches
            stats = run_load(32)
        finally:
            stop(server)
        print(
            f"  --workers {n}: {stats['rps']:>7,.0f} events/s, p99 {stats['p99_ms']:.0f} ms",
            flush=True,
        )
        out.append({"workers": n, **stats})
    return out


def chart(write: dict[str, Any], path: str) -> None:
    """Cost per event against history length (log-log), incremental and rebuild, per store."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    styles = {"history_sqlite": ("SQLite", "tab:blue"), "history_pg": ("PostgreSQL", "tab:orange")}
    for key, (label, color) in styles.items():
        curve = write.get(key)
        if not curve:
            continue
        xs = [c["history"] for c in curve]
        ax.plot(xs, [c["incremental_ms"] for c in curve], "o-", color=color,
                label=f"{label}: incremental state")  # fmt: skip
        ax.plot(xs, [c["rebuild_ms"] for c in curve], "s--", color=color, alpha=0.6,
                label=f"{label}: rebuild from history (before)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("events in the lead's history")
    ax.set_ylabel("ms per ingest_events call (one event)")
    ax.set_title("Cost of one event against history length")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"chart written to {path}")
