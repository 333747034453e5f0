"""A re-score of the whole store never overwrites a newer state (issue 11).

Two processes: a real ``leadgate serve`` takes events over HTTP from several clients while this
process publishes a new model version, then runs ``tick``, on the same store. After each,
every lead an event touched must hold the score a fresh scoring of its stored events gives (under
the active model, at the stored score's time), with the right MQL flag and stage: an event that
arrived during the re-score is never lost under the re-score's older snapshot.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api_helpers import bearer, port_in, served
from leadgate.api.keys import create_key
from leadgate.engine import Event
from leadgate.service import publish_model, tick
from leadgate.service.models import active_model
from leadgate.service.rescore import HISTORY_RESOLUTION, score_rows
from leadgate.store import Store, open_store
from leadgate.store.history import fetch_leads
from leadgate.store.ingest import insert_events, upsert_leads
from store_helpers import TINY_MODEL, store_url

__all__ = ["store_url"]

LEADS = 600
V2 = TINY_MODEL.replace("version: 1", "version: 2").replace("threshold: 30", "threshold: 35")


def _seed(store: Store, now: datetime) -> None:
    """Leads (every other one a VP) with a few email opens each, and model version 1."""
    rng = random.Random(7)
    profiles = [
        {"lead_id": f"P{i:05d}", "title": "VP sales" if i % 2 else "analyst"} for i in range(LEADS)
    ]
    events = [
        Event(p["lead_id"], "email_open", now - timedelta(days=rng.uniform(1, 30)), f"s{i}-{j}", {})
        for i, p in enumerate(profiles)
        for j in range(rng.randint(1, 6))
    ]
    with store.write() as conn:
        upsert_leads(conn, profiles, now)
        insert_events(conn, events, now)
    publish_model(store, TINY_MODEL, actor="seed", as_of=now, engine="python")


def _stale(store: Store, touched: set[str]) -> list[str]:
    """The touched leads whose stored state is not what their stored events say."""
    bad = []
    with store.read() as conn:
        model = active_model(conn, store)
        assert model is not None
        rows = fetch_leads(conn, touched)
        for lead_id in sorted(touched):
            lead = rows[lead_id]
            assert lead.scored_at is not None
            fresh = score_rows(conn, model, [lead], lead.scored_at)[0].to_record()
            ok = (
                lead.score_model_hash == model.hash
                and lead.score_total is not None
                and abs(lead.score_total - fresh["total"]) < HISTORY_RESOLUTION
                and bool(lead.qualifies) == bool(fresh["mql"])
                and not (fresh["mql"] and lead.stage == "lead")  # qualifies: it is an MQL
            )
            if not ok:
                bad.append(f"{lead_id}: stored {lead.score_total} {lead.qualifies} {lead.stage}"
                           f" fresh {fresh['total']} {fresh['mql']}")  # fmt: skip
    return bad


class _Racer:
    """A seeded store and a real ``leadgate serve`` on it: ``race`` posts events over HTTP from
    eight clients while a re-score runs in this process, as often as a test asks (one server
    start and one seeding for several races)."""

    def __init__(self, store: Store, base: str, token: str) -> None:
        self.store, self.base, self.token, self.races = store, base, token, 0

    def race(self, rescore: Callable[[Store, datetime], object]) -> tuple[int, int, list[str]]:
        """Post events while ``rescore`` runs; (events posted, posts that overlapped the
        re-score, stale leads among those the events touched)."""
        self.races += 1
        tag = self.races
        touched: set[str] = set()
        posted = [0]
        spans: list[tuple[float, float]] = []
        lock = threading.Lock()
        done = threading.Event()
        # Every client is in its loop (its first answer received) before the re-score starts:
        # on a loaded machine a thread still connecting would miss a short re-score entirely.
        ready = threading.Barrier(9)

        def client(n: int) -> None:
            rng = random.Random(n * 10 + tag)
            with httpx.Client(base_url=self.base, headers=bearer(self.token), timeout=120) as http:
                i = 0
                while not done.is_set() or i < 3:
                    lead_id = f"P{rng.randrange(LEADS):05d}"
                    body = {"lead_id": lead_id, "type": "demo_request", "event_id": f"r{tag}-c{n}-{i}",
                            "timestamp": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}  # fmt: skip
                    start = time.monotonic()
                    response = http.post("/v1/events", json=body)
                    assert response.status_code == 200, response.text
                    with lock:
                        touched.add(lead_id)
                        posted[0] += 1
                        spans.append((start, time.monotonic()))
                    if i == 0:
                        ready.wait(timeout=120)
                    i += 1

        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in clients:
            t.start()
        ready.wait(timeout=120)
        began = time.monotonic()
        try:
            rescore(self.store, datetime.now(UTC))
        finally:
            ended = time.monotonic()
            done.set()
            for t in clients:
                t.join()
        during = sum(1 for start, end in spans if start < ended and end > began)
        return posted[0], during, _stale(self.store, touched)


@contextmanager
def _racer(store_url: str) -> Iterator[_Racer]:
    """A seeded store served by a real ``leadgate serve`` (no webhooks), for ``race``."""
    now = datetime.now(UTC)
    store = open_store(store_url)
    try:
        _seed(store, now)
        token = create_key(store, "marketing").token
        with served(store_url, port_in(18100, 18199), "--no-webhooks") as base:
            yield _Racer(store, base, token)
    finally:
        store.close()


# One server and one seeded store per backend and engine for both re-scores: a publish races
# the clients, then a tick does (each on the state the one before left, as in production).
@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_events_posted_during_a_publish_or_a_tick_are_kept(store_url: str, engine: str) -> None:
    with _racer(store_url) as racer:
        posted, during, stale = racer.race(
            lambda s, at: publish_model(s, V2, actor="t", as_of=at, engine=engine, pinned=False)
        )
        assert during >= 8  # each client had a request in flight while the publish ran
        assert stale == [], f"publish: {len(stale)} stale leads of those touched by {posted} events"
        posted, during, stale = racer.race(
            lambda s, at: tick(s, at + timedelta(days=2), engine=engine, pinned=False)
        )
        assert during >= 8  # and while the tick ran
        assert stale == [], f"tick: {len(stale)} stale leads of those touched by {posted} events"
