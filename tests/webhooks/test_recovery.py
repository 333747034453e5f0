"""Nothing lost: fan-out takes every committed outbox row whatever the commit order, and
``recover`` / ``leadgate webhooks recover`` find and deliver messages that lack their deliveries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from api_helpers import receiver
from leadgate.cli import _register, app
from leadgate.store import Store, open_store
from leadgate.store.schema import outbox, webhook_deliveries
from leadgate.webhooks.delivery import DeliveryPolicy, fan_out
from leadgate.webhooks.recovery import deliver_all, recover
from leadgate.webhooks.registry import add_webhook
from store_helpers import PG_URL

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECRET = "a-long-enough-secret"

if not any(c.name == "serve" for c in app.registered_commands):  # once per test process
    _register()


def _rows(ids: range, at: datetime = T0, fanned: datetime | None = None) -> list[dict[str, object]]:
    return [
        {"id": i, "topic": "lead.mql", "lead_id": f"L{i}", "payload": {"lead_id": f"L{i}"},
         "created_at": at, "fanned_out_at": fanned}
        for i in ids
    ]  # fmt: skip


def _insert(store: Store, rows: list[dict[str, object]]) -> None:
    with store.write() as conn:
        conn.execute(outbox.insert(), rows)


def _pairs(store: Store) -> set[tuple[int, int]]:
    d = webhook_deliveries
    with store.read() as conn:
        return {(o, w) for o, w in conn.execute(select(d.c.outbox_id, d.c.webhook_id))}


def test_a_row_committed_behind_many_higher_ids_is_still_fanned_out(store: Store) -> None:
    # What PostgreSQL does when a publish creating hundreds of MQLs commits after another
    # request's MQL: the low id becomes visible after 300 higher ones were fanned out. (Explicit
    # ids emulate that order on both backends; the next test has real concurrent transactions.)
    hook, _ = add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0)
    _insert(store, _rows(range(2, 303)))
    assert fan_out(store, now=T0, batch=100) == 301
    _insert(store, _rows(range(1, 2)))
    assert fan_out(store, now=T0) == 1
    assert fan_out(store, now=T0) == 0
    assert _pairs(store) == {(i, hook.id) for i in range(1, 303)}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="LEADGATE_TEST_PG_URL is not set")
def test_late_commit_of_a_lower_id_on_postgresql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from store_helpers import temp_store_url

    with temp_store_url("postgres", tmp_path) as url:
        store, late = open_store(url), open_store(url)
        try:
            hook, _ = add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0)
            row = {"topic": "lead.mql", "payload": {}, "created_at": T0}
            with late.write() as slow:
                low = slow.execute(outbox.insert().values(**row)).inserted_primary_key[0]
                with store.write() as conn:  # 300 rows after it, committed first
                    conn.execute(outbox.insert(), [row] * 300)
                assert fan_out(store, now=T0) == 300  # the low id is not visible yet
            assert fan_out(store, now=T0) == 1  # committed now: fanned out
            with store.read() as conn:
                top = conn.execute(select(func.max(outbox.c.id))).scalar()
            assert (low, hook.id) in _pairs(store)
            assert len(_pairs(store)) == 301 and top == low + 300
        finally:
            store.close()
            late.close()


def test_recover_creates_the_missing_deliveries_once(store: Store) -> None:
    old, _ = add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0)
    mql_only, _ = add_webhook(
        store, "http://127.0.0.1:9/b", secret=SECRET, topics=["lead.disposition"], now=T0
    )
    _insert(store, _rows(range(1, 6), at=T0 - timedelta(hours=1)))  # before the webhooks
    # Messages marked fanned out but without deliveries: what the old id cursor left behind.
    _insert(store, _rows(range(6, 2506), fanned=T0))
    fan_out(store, now=T0)
    assert _pairs(store) == set()
    found = recover(store, now=T0, batch=1000)
    assert (found.checked, found.missing, found.requeued) == (2505, 2500, 0)
    assert _pairs(store) == {(i, old.id) for i in range(6, 2506)}  # topics and age respected
    assert mql_only.id not in {w for _o, w in _pairs(store)}
    assert recover(store, now=T0).missing == 0  # idempotent


def test_recover_failed_queues_them_again(store: Store) -> None:
    add_webhook(store, "http://127.0.0.1:9/a", secret=SECRET, now=T0)
    _insert(store, _rows(range(1, 4)))
    fan_out(store, now=T0)
    with store.write() as conn:
        conn.execute(update(webhook_deliveries).values(status="failed", next_attempt_at=None))
    assert recover(store, now=T0).requeued == 0
    assert recover(store, failed=True, now=T0).requeued == 3


def test_webhooks_recover_command_delivers_every_lost_message(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with receiver() as rx:
            add_webhook(store, rx.url, secret=SECRET, now=T0)
            _insert(store, _rows(range(1, 121)))
            with httpx.Client() as client:
                assert deliver_all(store, client, DeliveryPolicy(batch=50)).delivered == 120
            # Lose 30 of them: deliveries gone, rows marked fanned out (the old cursor's harm).
            with store.write() as conn:
                conn.execute(delete(webhook_deliveries).where(webhook_deliveries.c.outbox_id > 90))
            result = CliRunner().invoke(app, ["webhooks", "recover", "--db", store_url])
            assert result.exit_code == 0, result.output
            assert "checked 120 messages: 30 deliveries were missing" in result.stdout
            assert "delivered 30," in result.stdout
            ids = sorted(h.json["id"] for h in rx.wait_for(150))
        assert ids == sorted([*range(1, 121), *range(91, 121)])
    finally:
        store.close()
