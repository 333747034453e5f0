"""The store fingerprint moves with every write a report reads, and only then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadgate.engine import Event
from leadgate.service import dispose, ingest_events, publish_model, upsert_account, upsert_lead
from leadgate.store.fingerprint import history_fingerprint, models_fingerprint
from store_helpers import TINY_MODEL

T = datetime(2026, 11, 1, tzinfo=UTC)


def _prints(store: Any) -> tuple[Any, Any, Any]:
    with store.read() as conn:
        return (
            history_fingerprint(conn),
            history_fingerprint(conn, with_events=True),
            models_fingerprint(conn),
        )


def test_each_write_moves_what_it_changes(store: Any) -> None:
    publish_model(store, TINY_MODEL, actor="test", as_of=T)
    upsert_account(store, "A1", {"industry": "software"}, T)
    upsert_account(store, "A2", {"industry": "retail"}, T + timedelta(hours=1))
    upsert_lead(store, "L1", {"title": "vp sales", "account_id": "A1"}, T + timedelta(hours=2))
    demo = Event("L1", "demo_request", T + timedelta(hours=2), "d1")
    ingest_events(store, [demo], T + timedelta(hours=2))  # L1 becomes an MQL
    v2 = TINY_MODEL.replace("version: 1", "version: 2")
    # (write, moves the frame's fingerprint, moves the models')
    writes: list[tuple[Callable[[], Any], bool, bool]] = [
        (lambda: upsert_lead(store, "L2", {"title": "cto"}, T + timedelta(hours=3)), True, False),
        # Rewritten at an earlier time than the latest stamp (load --as-of a past day).
        (lambda: upsert_lead(store, "L2", {"title": "cfo"}, T), True, False),
        # Rewritten at the same time, attributes of another size.
        (lambda: upsert_lead(store, "L2", {"title": "ceo sales"}, T), True, False),
        (lambda: upsert_account(store, "A1", {"industry": "fintech"}, T), True, False),
        # An event no rule scores: only the events term moves.
        (lambda: ingest_events(store, [Event("L1", "page_view", T, "e1")], T), False, False),
        (lambda: ingest_events(store, [Event("L9", "page_view", T, "e2")], T), True, False),
        (lambda: dispose(store, "L1", "touch", actor="rep", at=T + timedelta(hours=4)), True, False),
        (lambda: publish_model(store, v2, actor="test", as_of=T + timedelta(hours=5)), True, True),
    ]  # fmt: skip
    before = _prints(store)
    assert _prints(store) == before  # reading moves nothing
    for n, (write, frame, models) in enumerate(writes, start=1):
        write()
        after = _prints(store)
        assert (after[0] != before[0]) == frame, f"write {n}: frame fingerprint"
        assert after[1] != before[1], f"write {n}: with events"
        assert (after[2] != before[2]) == models, f"write {n}: models fingerprint"
        before = after


def test_a_replayed_event_moves_nothing(store: Any) -> None:
    ingest_events(store, [Event("L1", "page_view", T, "e1")], T)
    before = _prints(store)
    ingest_events(store, [Event("L1", "page_view", T, "e1")], T + timedelta(days=1))
    assert _prints(store) == before


@pytest.mark.parametrize("hours", [1, -5])
def test_the_sum_of_stamps_sees_a_rewrite_below_the_latest(store: Any, hours: int) -> None:
    upsert_lead(store, "L1", {"title": "vp"}, T)
    upsert_lead(store, "L2", {"title": "vp"}, T + timedelta(days=1))
    before = _prints(store)
    # Same attribute size, stamped at another time that is not the latest.
    upsert_lead(store, "L1", {"title": "cx"}, T + timedelta(hours=hours))
    assert _prints(store)[0] != before[0]
