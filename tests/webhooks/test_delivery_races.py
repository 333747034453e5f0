"""Nothing lost under concurrency: a publish creating hundreds of MQLs overlaps MQLs made by
events over HTTP, on two real ``leadgate serve`` processes sharing one store, both delivering
webhooks to a real receiver on loopback. Every outbox message must arrive at least once.

(Before outbox rows were marked as fanned out, PostgreSQL lost such messages: the fan-out cursor
looked back only 200 ids behind the highest id it had seen.)
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from api_helpers import bearer, port_in, receiver, served
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
BY_EVENTS = 8 * 15  # VPs without events: an MQL each when a demo request is posted
V2 = TINY_MODEL.replace("version: 1", "version: 2").replace(
    "      - {name: vp, when: {title: {contains: vp}}, points: 20}",
    "      - {name: vp, when: {title: {contains: vp}}, points: 20}\n"
    "      - {name: director, when: {title: {contains: director}}, points: 20}",
)


def _seed(store: Store, now: datetime) -> None:
    profiles = [{"lead_id": f"D{i:04d}", "title": "director"} for i in range(BY_PUBLISH)]
    profiles += [{"lead_id": f"V{i:04d}", "title": "VP"} for i in range(BY_EVENTS)]
    demos = [
        Event(f"D{i:04d}", "demo_request", now - timedelta(hours=2), f"d{i}", {})
        for i in range(BY_PUBLISH)
    ]
    with store.write() as conn:
        upsert_leads(conn, profiles, now)
        insert_events(conn, demos, now)
    publish_model(store, TINY_MODEL, actor="seed", as_of=now, engine="python")


def test_a_publish_overlapping_http_mqls_on_two_servers_loses_nothing(store_url: str) -> None:
    now = datetime.now(UTC)
    store = open_store(store_url)
    try:
        assert "director" in V2
        _seed(store, now)
        admin = create_key(store, "admin").token
        first = port_in(18100, 18149)
        second = port_in(first + 1, 18199)
        fast = ("--webhook-backoff", "0.2")
        with (
            receiver() as rx,
            served(store_url, first, *fast) as a,
            served(store_url, second, *fast) as b,
        ):
            httpx.post(
                f"{a}/v1/webhooks", json={"url": rx.url, "secret": SECRET}, headers=bearer(admin)
            ).raise_for_status()
            failures: list[str] = []
            order = list(range(BY_EVENTS))
            random.Random(3).shuffle(order)
            todo = iter(order)
            lock = threading.Lock()

            def client(base: str) -> None:
                with httpx.Client(base_url=base, headers=bearer(admin), timeout=120) as http:
                    while True:
                        with lock:
                            i = next(todo, None)
                        if i is None:
                            return
                        body = {"lead_id": f"V{i:04d}", "type": "demo_request",
                                "timestamp": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}  # fmt: skip
                        answer = http.post("/v1/events", json=body)
                        if answer.status_code != 200 or answer.json()["stage"] != "mql":
                            failures.append(f"{i}: {answer.status_code} {answer.text[:200]}")
                        time.sleep(random.uniform(0, 0.05))

            clients = [threading.Thread(target=client, args=(base,)) for base in (a, b) * 4]
            for t in clients:
                t.start()
            time.sleep(0.3)  # the publish starts while events stream in
            published = httpx.post(
                f"{b}/v1/models", json={"yaml": V2}, headers=bearer(admin), timeout=300
            )
            for t in clients:
                t.join()
            assert published.status_code == 200, published.text
            assert published.json()["summary"]["new_mqls"] >= BY_PUBLISH - BY_EVENTS
            assert failures == []
            with store.read() as conn:
                expected = set(conn.execute(select(outbox.c.id)).scalars())
            assert len(expected) == BY_PUBLISH + BY_EVENTS  # one lead.mql per lead
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
        assert len(leads) == BY_PUBLISH + BY_EVENTS  # every MQL reached the receiver
        assert recover(store).missing == 0  # fan-out left nothing for recovery
    finally:
        store.close()
