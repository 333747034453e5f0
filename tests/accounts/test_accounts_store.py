"""Accounts in the store: scores recorded, stages moved, the MQA queue, dispositions, SLA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts_helpers import ACCOUNTS, AS_OF, EVENTS, LEADS, MODEL
from leadgate.errors import ConflictError, NotFoundError
from leadgate.io.readers import event_from_row
from leadgate.lifecycle.account_stages import plan_account_disposition, stage_after_score
from leadgate.lifecycle.dispositions import DispositionError
from leadgate.service import ingest_events, publish_model, tick, upsert_account, upsert_lead
from leadgate.service.accounts import (
    add_account_events,
    dispose_account,
    get_account,
    mqa_queue,
    rescore_accounts,
)
from leadgate.store import Store, open_store
from leadgate.store.schema import outbox
from store_helpers import BACKENDS, temp_store_url

BEFORE = AS_OF - timedelta(days=30)


def _load(store: Store) -> None:
    publish_model(store, MODEL, actor="t", as_of=BEFORE)
    for a in ACCOUNTS:
        upsert_account(
            store, a["account_id"], {k: v for k, v in a.items() if k != "account_id"}, BEFORE
        )
    for lead in LEADS:
        upsert_lead(
            store, lead["lead_id"], {k: v for k, v in lead.items() if k != "lead_id"}, BEFORE
        )
    ingest_events(store, [event_from_row(dict(e)) for e in EVENTS if "lead_id" in e], AS_OF)
    acct = [
        event_from_row(
            {**{k: v for k, v in e.items() if k != "account_id"}, "lead_id": e["account_id"]}
        )
        for e in EVENTS
        if "lead_id" not in e
    ]
    assert add_account_events(store, acct, at=AS_OF) == 1 + 1
    assert add_account_events(store, acct, at=AS_OF) == 0  # replays add nothing


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with temp_store_url(request.param, tmp_path) as url, open_store(url) as s:
        _load(s)
        yield s


def test_accounts_are_scored_moved_queued_and_disposed(store: Store) -> None:
    tick(store, AS_OF)  # the tick scores the accounts after their leads
    a1 = get_account(store, "A1")  # 85 of 100: engaged, not an MQA
    assert a1.stage == "engaged" and a1.score is not None and a1.score["total"] == 85.0
    roles = {m.lead_id: m.role for m in a1.members}
    assert roles == {"L1": "decision maker", "L2": "champion", "L3": None, "L4": "practitioner"}
    assert a1.explanation is not None and a1.explanation["leads"] == ["L1", "L2", "L3", "L4"]
    assert get_account(store, "A2").stage == "engaged"
    # A lower threshold makes A1 an MQA: one queue item, listing its buying group.
    publish_model(
        store,
        MODEL.replace("threshold: 100", "threshold: 80").replace("version: 1", "version: 2"),
        actor="t",
        as_of=AS_OF,
    )
    # publishing re-scores the accounts: A1 is a new MQA, and says so
    assert get_account(store, "A1").stage == "mqa"
    with store.read() as conn:
        (row,) = conn.execute(select(outbox).where(outbox.c.topic == "account.mqa")).all()
    assert row.payload["account_id"] == "A1" and row.payload["score"]["mqa"] is True
    (item,) = mqa_queue(store, as_of=AS_OF + timedelta(hours=1))
    assert (item.account_id, item.cycle, item.sla_state) == ("A1", 1, "pending")
    assert item.buying_group["roles"]["champion"]["members"] == ["L2"]
    assert mqa_queue(store, as_of=AS_OF + timedelta(hours=25))[0].sla_state == "breached"
    assert rescore_accounts(store, AS_OF).new_mqas == []  # an MQA stays one: no second cycle
    with pytest.raises(DispositionError, match="reason"):
        dispose_account(store, "A1", "reject", actor="rep", at=AS_OF)
    with pytest.raises(ConflictError, match="cannot won"):
        dispose_account(store, "A1", "won", actor="rep", at=AS_OF)
    state = dispose_account(store, "A1", "accept", actor="rep", at=AS_OF + timedelta(hours=2))
    assert state.stage == "mqa"
    assert mqa_queue(store, as_of=AS_OF + timedelta(hours=30))[0].sla_state == "met"
    dispose_account(store, "A1", "opportunity", actor="rep", at=AS_OF + timedelta(hours=3))
    assert mqa_queue(store, as_of=AS_OF) == []
    assert dispose_account(store, "A1", "won", actor="rep", at=AS_OF).stage == "customer"
    moves = [
        (t.from_stage, t.to_stage, t.cause, t.action) for t in get_account(store, "A1").transitions
    ]
    assert moves == [
        ("target", "engaged", "score", None),
        ("engaged", "mqa", "score", None),
        ("mqa", "mqa", "disposition", "accept"),
        ("mqa", "opportunity", "disposition", "opportunity"),
        ("opportunity", "customer", "disposition", "won"),
    ]
    with pytest.raises(NotFoundError):
        get_account(store, "A9")


def test_stage_decisions() -> None:
    assert stage_after_score("target", mqa=False, engaged=True) == "engaged"
    assert stage_after_score("engaged", mqa=True, engaged=True) == "mqa"
    assert stage_after_score("engaged", mqa=False, engaged=True) is None
    assert stage_after_score("opportunity", mqa=True, engaged=True) is None
    assert plan_account_disposition("mqa", "reject", "no_budget").target == "engaged"
    assert plan_account_disposition("opportunity", "lost", None).target == "engaged"
    with pytest.raises(DispositionError, match="action"):
        plan_account_disposition("mqa", "dance", None)
