"""Nothing lost under concurrency: a publish (300 MQLs), then a ``leadgate load`` (1,000 MQLs),
overlaps MQLs made by events over HTTP on two real ``leadgate serve`` processes sharing one store,
both delivering webhooks to a real receiver on loopback. Every outbox message must arrive at least
once, and ``recover`` must find nothing left to do.

(Before outbox rows were marked as fanned out, PostgreSQL lost such messages: the fan-out cursor
looked back only 200 ids behind the highest id it had seen; the load test lost 3,830 of 5,045.)
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from api_helpers import bearer, port_in, receiver, served_together
from leadgate.api.keys import create_key
from leadgate.engine import Event
from leadgate.service import publish_model
from leadgate.store import Store, open_store
from leadgate.store.ingest import insert_events, upsert_leads
from leadgate.store.schema import outbox
from leadgate.webhooks import verify
from leadgate.webhooks.recovery import recover
from store_helpers import TINY_MODEL

SECRET = "race-secret-0123456789"
BY_PUBLISH = 300  # directors with a demo request: MQLs once version 2 counts directors
BY_EVENTS = 1500  # VPs without events, an MQL each when a demo request is posted (a pool; the
# eight clients posted 40-560 during one bulk write on a loaded machine, and the test makes two:
# 3,000 seeded and scored leads that no client reached cost seconds of CPU in every run)
BY_LOAD = 1000  # VPs without events: MQLs when a file of demo requests is loaded (5x the old
# fan-out look-back of 200 ids, which lost such messages)
V2 = TINY_MODEL.replace("version: 1", "version: 2").replace(
    "      - {name: vp, when: {title: {contains: vp}}, points: 20}",
    "      - {name: vp, when: {title: {contains: vp}}, points: 20}\n"
    "      - {name: director, when: {title: {contains: director}}, points: 20}",
)


def _seed(store: Store, now: datetime, loaded: int) -> None:
    """Directors with a demo request, VPs without events (``loaded`` more for a load), v1."""
    profiles = [{"lead_id": f"D{i:04d}", "title": "director"} for i in range(BY_PUBLISH)]
    profiles += [{"lead_id": f"V{i:04d}", "title": "VP"} for i in range(BY_EVENTS)]
    profiles += [{"lead_id": f"W{i:05d}", "title": "VP"} for i in range(loaded)]
    demos = [
        Event(f"D{i:04d}", "demo_request", now - timedelta(hours=2), f"d{i}", {})
        for i in range(BY_PUBLISH)
    ]
    with store.write() as conn:
        upsert_leads(conn, profiles, now)
        insert_events(conn, demos, now)
    publish_model(store, TINY_MODEL, actor="seed", as_of=now, engine="python")


def _race(store_url: str, bulk: Callable[[str, str], None], expected_mqls: int) -> None:
    """MQLs over HTTP on two servers while ``bulk(server_url, admin_token)`` makes many more;
    then every outbox message must reach the receiver (waited for, up to two minutes)."""
    store = open_store(store_url)
    try:
        admin = create_key(store, "admin").token
        first = port_in(18100, 18149)
        second = port_in(first + 1, 18199)
        fast = ("--webhook-backoff", "0.2")
        with receiver() as rx, served_together(store_url, [first, second], *fast) as (a, b):
            httpx.post(
                f"{a}/v1/webhooks", json={"url": rx.url, "secret": SECRET}, headers=bearer(admin)
            ).raise_for_status()
            failures: list[str] = []
            posted: list[int] = []
            order = list(range(BY_EVENTS))
            random.Random(3).shuffle(order)
            todo = iter(order)
            lock = threading.Lock()
            done = threading.Event()

            def client(base: str) -> None:
                # Until the bulk write is over, and a few more after it.
                after = 0
                with httpx.Client(base_url=base, headers=bearer(admin), timeout=300) as http:
                    while after < 3:
                        with lock:
                            i = next(todo, None)
                        if i is None:
                            return
                        after += done.is_set()
                        body = {"lead_id": f"V{i:04d}", "type": "demo_request",
                                "timestamp": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}  # fmt: skip
                        answer = http.post("/v1/events", json=body)
                        if answer.status_code != 200 or answer.json()["stage"] != "mql":
                            failures.append(f"{i}: {answer.status_code} {answer.text[:200]}")
                        posted.append(i)

            clients = [threading.Thread(target=client, args=(base,)) for base in (a, b) * 4]
            for t in clients:
                t.start()
            time.sleep(0.3)  # the bulk write starts while events stream in
            try:
                bulk(b, admin)
            finally:
                done.set()
                for t in clients:
                    t.join()
            assert failures == []
            with store.read() as conn:
                expected = set(conn.execute(select(outbox.c.id)).scalars())
            assert len(expected) == expected_mqls + len(posted)  # one lead.mql per lead
            deadline = time.monotonic() + 120
            while {h.json["id"] for h in rx.hits} < expected:
                assert time.monotonic() < deadline, (
                    f"{len(expected - {h.json['id'] for h in rx.hits})} of {len(expected)} "
                    "messages never delivered"
                )
                time.sleep(0.2)
            hits = list(rx.hits)
        assert all(verify(SECRET, h.body, h.headers["X-Leadgate-Signature"]) for h in hits)
        leads = {h.json["data"]["lead_id"] for h in hits}
        assert len(leads) == expected_mqls + len(posted)  # every MQL reached the receiver
        assert recover(store).missing == 0  # fan-out left nothing for recovery
    finally:
        store.close()


def test_a_publish_and_a_load_overlapping_http_mqls_on_two_servers_lose_nothing(
    store_url: str, tmp_path: Path
) -> None:
    # One race, two bulk writes in turn (one server pair, one seeding, one wait for the
    # receiver): a publish over HTTP makes 300 MQLs in one transaction, then a load writes its
    # MQLs' outbox rows chunk by chunk (2,000 leads a chunk) and commits at the end, while HTTP
    # MQLs on other leads commit with higher outbox ids meanwhile: the commit order that made
    # the old fan-out cursor skip messages on PostgreSQL.
    now = datetime.now(UTC)
    with open_store(store_url) as store:
        _seed(store, now, BY_LOAD)
    events = tmp_path / "demos.jsonl"
    stamp = (now - timedelta(hours=1)).isoformat()
    events.write_text(
        "".join(
            json.dumps({"lead_id": f"W{i:05d}", "type": "demo_request", "timestamp": stamp}) + "\n"
            for i in range(BY_LOAD)
        )
    )

    def publish_then_load(base: str, admin: str) -> None:
        answer = httpx.post(f"{base}/v1/models", json={"yaml": V2}, headers=bearer(admin),
                            timeout=300)  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.json()["summary"]["new_mqls"] == BY_PUBLISH  # one publish, 300 MQLs
        done = subprocess.run(
            [sys.executable, "-m", "leadgate", "load", "events", str(events), "--db", store_url],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    _race(store_url, publish_then_load, BY_PUBLISH + BY_LOAD)
