"""One client's failure stays its own: a merged event write that fails for any error (here the
database itself refusing a row, which no input validation catches) is retried request by request.

The failing row is injected at the store layer: a trigger on ``events`` that raises for event ids
starting with ``poison``, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy.exc import DBAPIError

from api_helpers import Clock, bearer, live_server
from leadgate.api.app import create_app
from leadgate.api.keys import create_key
from leadgate.engine import Event
from leadgate.service import publish_model
from leadgate.store import Store, open_store
from store_helpers import TINY_MODEL, store_url

__all__ = ["store_url"]

_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER lg_test_poison BEFORE INSERT ON events "
        "WHEN substr(NEW.event_id, 1, 6) = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION lg_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF left(NEW.event_id, 6) = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER lg_test_poison BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION lg_test_poison()",
    ],
}


def poison(store: Store) -> None:
    """Make the database refuse any event whose id starts with ``poison``."""
    with store.write() as conn:
        for statement in _TRIGGER[store.dialect]:
            conn.exec_driver_sql(statement)


def test_a_database_error_in_a_merged_write_fails_only_its_request(store_url: str) -> None:
    clock = Clock()
    app = create_app(store_url, clock=clock)
    cfg = app.state.config
    try:
        poison(cfg.store)
        publish_model(cfg.store, TINY_MODEL, actor="t", as_of=clock.now)
        writes: list[int] = []
        original = cfg.batcher._write

        def spy(items, actor):  # type: ignore[no-untyped-def]
            writes.append(len(items))
            return original(items, actor)

        cfg.batcher._write = spy
        at = clock.now - timedelta(hours=1)
        requests = [[Event(f"L{i}", "demo_request", at, f"ok{i}", {})] for i in range(5)]
        requests.insert(2, [Event("L9", "demo_request", at, "poison-1", {})])

        async def run():  # type: ignore[no-untyped-def]
            return await asyncio.gather(
                *(cfg.batcher.submit(evs, "key:t") for evs in requests), return_exceptions=True
            )

        results = asyncio.run(run())
        assert writes[0] == 6  # the six requests were merged, and that write failed
        assert writes[1:] == [1] * 6  # then each request was written on its own
        assert isinstance(results[2], DBAPIError)
        good = [r for i, r in enumerate(results) if i != 2]
        assert all(type(r).__name__ == "Answer" for r in good), good
        assert [(r.inserted, r.leads[0].stage) for r in good] == [(1, "lead")] * 5
    finally:
        cfg.store.close()


def test_concurrent_clients_never_fail_because_of_a_bad_one(store_url: str) -> None:
    store = open_store(store_url)
    poison(store)
    token = create_key(store, "admin").token
    store.close()
    clients, per_client = 6, 15
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    with live_server(store_url) as base:
        with httpx.Client(base_url=base, headers=bearer(token), timeout=60) as http:
            http.post("/v1/models", json={"yaml": TINY_MODEL}).raise_for_status()

        def client(n: int, bad: bool) -> None:
            with httpx.Client(base_url=base, headers=bearer(token), timeout=60) as http:
                for i in range(per_client):
                    event_id = f"poison-{n}-{i}" if bad else f"c{n}-{i}"
                    body = {"lead_id": f"C{n}", "type": "email_open", "event_id": event_id,
                            "timestamp": "2026-11-20T11:00:00+00:00"}  # fmt: skip
                    try:
                        code = str(http.post("/v1/events", json=body).status_code)
                    except httpx.HTTPError as exc:  # a 500 drops the connection
                        code = type(exc).__name__
                    with lock:
                        statuses[f"{'bad' if bad else 'good'} {code}"] += 1

        threads = [threading.Thread(target=client, args=(n, n == 0)) for n in range(clients + 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with httpx.Client(base_url=base, headers=bearer(token), timeout=60) as http:
            for n in range(1, clients + 1):
                lead = http.get(f"/v1/leads/C{n}").json()
                opens = next(r for r in lead["explanation"]["rules"] if r["name"] == "open")
                assert opens["events_counted"] == per_client
    assert statuses["good 200"] == clients * per_client, statuses
    assert sum(n for k, n in statuses.items() if k.startswith("bad 2")) == 0, statuses
