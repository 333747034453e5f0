"""End to end on a real uvicorn server over loopback, hit with httpx.

The whole flow: keys, model, lead, events -> MQL in the response -> a signed webhook at a real
receiver -> the sales queue -> dispositions (-> webhooks). Then a crash: a server killed with
undelivered outbox rows, restarted, delivers them (at least once, surviving restarts).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api_helpers import bearer, free_port, live_server, receiver
from leadgate.api.keys import create_key
from leadgate.store import open_store
from leadgate.store.schema import webhook_deliveries
from leadgate.webhooks import verify
from leadgate.webhooks.delivery import DeliveryPolicy
from store_helpers import PG_URL, TINY_MODEL, temp_store_url

SECRET = "e2e-secret-0123456789"
FAST = DeliveryPolicy(base_seconds=0.05, max_seconds=0.5)


def test_full_flow_on_a_live_server(store_url: str) -> None:
    store = open_store(store_url)
    admin = create_key(store, "admin", name="ops").token
    store.close()
    with (
        receiver() as rx,
        live_server(store_url, webhooks=True, webhook_policy=FAST, webhook_interval=0.05) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        assert http.get("/healthz").json()["status"] == "ok"
        assert "/v1/events" in http.get("/openapi.json").json()["paths"]
        marketing = http.post(
            "/v1/keys", json={"role": "marketing", "name": "forms"}, headers=bearer(admin)
        ).json()["token"]
        sales = http.post("/v1/keys", json={"role": "sales"}, headers=bearer(admin)).json()["token"]
        assert (
            http.post("/v1/models", json={"yaml": TINY_MODEL}, headers=bearer(admin)).status_code
            == 200
        )
        hook = http.post(
            "/v1/webhooks", json={"url": rx.url, "secret": SECRET}, headers=bearer(admin)
        )
        assert hook.status_code == 201

        lead = http.put(
            "/v1/leads/L1",
            json={"email": "ana@acme.com", "title": "VP sales"},
            headers=bearer(marketing),
        )
        assert lead.json()["stage"] == "lead"
        now = datetime.now(UTC)
        opened = {
            "lead_id": "L1",
            "type": "email_open",
            "timestamp": (now - timedelta(hours=2)).isoformat(),
        }
        first = http.post("/v1/events", json=opened, headers=bearer(marketing)).json()
        assert first["stage"] == "lead" and first["score"]["total"] < 30
        demo = {
            "lead_id": "L1",
            "type": "demo_request",
            "timestamp": (now - timedelta(minutes=5)).isoformat(),
        }
        became = http.post("/v1/events", json=demo, headers=bearer(marketing)).json()
        assert became["stage"] == "mql"  # qualifies in the same request
        assert datetime.fromisoformat(became["score"]["as_of"]) >= now  # the server's real time

        (mql_hook,) = rx.wait_for(1)
        assert verify(SECRET, mql_hook.body, mql_hook.headers["X-Leadgate-Signature"])
        assert mql_hook.json["topic"] == "lead.mql"
        assert mql_hook.json["data"]["lead_id"] == "L1"
        assert mql_hook.json["data"]["score"] == became["score"]

        queue = http.get("/v1/mqls", headers=bearer(sales)).json()
        assert [q["lead_id"] for q in queue] == ["L1"]
        accepted = http.post(
            "/v1/leads/L1/disposition", json={"action": "accept"}, headers=bearer(sales)
        )
        assert accepted.json()["stage"] == "sal"
        won = http.post(
            "/v1/leads/L1/disposition", json={"action": "sql"}, headers=bearer(sales)
        ).json()
        assert won["stage"] == "sql"
        hits = rx.wait_for(3)
        assert [h.json["topic"] for h in hits] == [
            "lead.mql",
            "lead.disposition",
            "lead.disposition",
        ]
        assert [h.json["data"]["action"] for h in hits[1:]] == ["accept", "sql"]
        assert all(verify(SECRET, h.body, h.headers["X-Leadgate-Signature"]) for h in hits)

        view = http.get("/v1/leads/L1", headers=bearer(sales)).json()
        assert [t["to_stage"] for t in view["transitions"]] == ["mql", "sal", "sql"]
        assert http.get("/v1/mqls", headers=bearer(sales)).json() == []
        assert http.get("/v1/leads/L1").status_code == 401


def _spawn(db: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "leadgate", "serve", "--db", db, "--port", str(port),
         "--tick-seconds", "0", "--log-level", "warning", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "server exited")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def _attempts(db: str) -> list[tuple[str, int]]:
    store = open_store(db)
    try:
        with store.read() as conn:
            rows = conn.execute(select(webhook_deliveries.c.status, webhook_deliveries.c.attempts))
            return [(r.status, r.attempts) for r in rows]
    finally:
        store.close()


def test_undelivered_webhooks_survive_a_crash(store_url: str) -> None:
    rx_port, port = free_port(), free_port()
    store = open_store(store_url)
    admin = create_key(store, "admin").token
    store.close()
    base = f"http://127.0.0.1:{port}"
    first = _spawn(store_url, port, "--webhook-backoff", "0.3")
    try:
        _wait_up(base, first)
        with httpx.Client(base_url=base, headers=bearer(admin), timeout=30) as http:
            http.post("/v1/models", json={"yaml": TINY_MODEL}).raise_for_status()
            # The receiver is down: the delivery fails and is scheduled for a retry.
            http.post(
                "/v1/webhooks", json={"url": f"http://127.0.0.1:{rx_port}/hook", "secret": SECRET}
            ).raise_for_status()
            http.put("/v1/leads/L9", json={"title": "vp"}).raise_for_status()
            now = datetime.now(UTC)
            demo = {"lead_id": "L9", "type": "demo_request", "timestamp": now.isoformat()}
            assert http.post("/v1/events", json=demo).json()["stage"] == "mql"
        deadline = time.monotonic() + 30
        while not any(a >= 1 for _s, a in _attempts(store_url)):
            assert time.monotonic() < deadline, "no failed attempt recorded"
            time.sleep(0.1)
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: no shutdown, no flush
        first.wait(10)
        if first.stdout:
            first.stdout.close()
    assert [s for s, _a in _attempts(store_url)] == ["pending"]

    with receiver(port=rx_port) as rx:
        second = _spawn(store_url, port, "--webhook-backoff", "0.3")
        try:
            _wait_up(base, second)
            (hit,) = rx.wait_for(1, timeout=30)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
            if second.stdout:
                second.stdout.close()
    assert verify(SECRET, hit.body, hit.headers["X-Leadgate-Signature"])
    assert hit.json["data"]["lead_id"] == "L9"
    assert int(hit.headers["X-Leadgate-Attempt"]) >= 2
    assert _attempts(store_url)[0][0] == "delivered"


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set")
def test_workers_share_one_port_and_stop_together(tmp_path: Path) -> None:
    """``--workers 2``: two server processes answer on one port; a SIGTERM to the parent stops
    them both. ``--workers 0`` is refused with one line naming the option.

    On PostgreSQL only (the store ``--workers`` is for): what is checked is the processes, three
    of them (~5 CPU-s a run); server processes sharing a SQLite store are raced in
    tests/webhooks/test_delivery_races.py."""
    with temp_store_url("postgres", tmp_path) as store_url:
        _workers_share_one_port_and_stop_together(store_url, tmp_path)


def _workers_share_one_port_and_stop_together(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    admin = create_key(store, "admin").token
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _spawn(store_url, port, "--workers", "2", "--no-webhooks")
    try:
        _wait_up(base, proc)
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
            workers = [int(x) for x in fh.read().split()]
        assert len(workers) == 2
        with httpx.Client(base_url=base, headers=bearer(admin), timeout=30) as http:
            http.post("/v1/models", json={"yaml": TINY_MODEL}).raise_for_status()
            now = datetime.now(UTC).isoformat()
            for i in range(6):  # new connections: the kernel hands them to either worker
                http.headers["Connection"] = "close"
                demo = {"lead_id": f"W{i}", "type": "demo_request", "timestamp": now}
                assert abs(http.post("/v1/events", json=demo).json()["score"]["total"] - 20) < 0.01
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        if proc.stdout:
            proc.stdout.close()
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}")  # stopped, and reaped by the parent
    # refused before the store is opened
    refused = subprocess.run(
        [sys.executable, "-m", "leadgate", "serve", "--db", str(tmp_path / "refused.db"),
         "--workers", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "--workers: must be 1 or more" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "refused.db").exists()
