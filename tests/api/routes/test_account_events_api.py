"""The real-time account path over HTTP (issues #15/#16): account-level events on
POST /v1/events, accounts re-scored in the same request, and the ``abm_when`` hand-off (the
account's MQA, one item per account in GET /v1/mqas; its leads never in GET /v1/mqls)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from accounts_helpers import ACCOUNTS, EVENTS, LEADS, MODEL
from leadgate.store.schema import account_events, events, mqa_cycles, mql_cycles, outbox

ABM_MODEL = MODEL.replace("threshold: 100", "threshold: 80")


def _month_later(e: dict[str, Any]) -> dict[str, Any]:
    # the hand-checked events, a month later (the app's clock is 2026-11-20)
    return {**e, "timestamp": e["timestamp"].replace("2026-10", "2026-11")}


def _setup(api: Any) -> None:
    api.publish(ABM_MODEL)
    for a in ACCOUNTS:
        attrs = {k: v for k, v in a.items() if k != "account_id"}
        assert api.call(
            "PUT", f"/v1/accounts/{a['account_id']}", "marketing", json=attrs
        ).is_success
    for lead in LEADS:
        attrs = {k: v for k, v in lead.items() if k != "lead_id"}
        assert api.call("PUT", f"/v1/leads/{lead['lead_id']}", "marketing", json=attrs).is_success


def _count(api: Any, table: Any, *where: Any) -> int:
    with api.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def test_events_move_accounts_in_the_same_request_and_abm_hands_off_the_account(
    api: Any,
) -> None:
    _setup(api)
    lead_rows = [_month_later(e) for e in EVENTS if "lead_id" in e]
    assert api.call("POST", "/v1/events", "marketing", json={"events": lead_rows}).is_success
    # no tick: the lead events re-scored A1 in their own request
    a1 = api.call("GET", "/v1/accounts/A1", "sales").json()
    assert a1["stage"] == "mqa" and a1["score"]["abm"] is True
    # an account-level event answers its account's new state
    visit = _month_later(next(e for e in EVENTS if "account_id" in e))
    answer = api.call("POST", "/v1/events", "marketing", json=visit)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["account_id"] == "A1" and body["stage"] == "mqa"
    assert body["score"]["scores"]["intent"] > 0  # the pricing visit, scored in this request
    again = api.call("POST", "/v1/events", "marketing", json=visit)  # a replay adds nothing
    assert again.headers["X-Leadgate-Ignored"] == "1" and _count(api, account_events) == 1
    # L1 (A1, ABM) is an MQL by score but is not handed off on its own; L5 (A2) is
    l1 = api.call("GET", "/v1/leads/L1", "sales").json()
    assert l1["score"]["mql"] is True and l1["stage"] == "lead"
    queue = api.call("GET", "/v1/mqls", "sales").json()
    assert [q["lead_id"] for q in queue] == ["L5"]
    # the ABM account is one queue item, listing its buying group
    (item,) = api.call("GET", "/v1/mqas", "sales").json()
    assert item["account_id"] == "A1" and item["abm"] is True
    roles = item["buying_group"]["roles"]
    assert roles["decision maker"] == {"filled": 1, "required": 1, "members": ["L1"]}
    # hand-offs, each once: L5's MQL cycle and A1's MQA cycle (qualified_by mqa)
    assert _count(api, mql_cycles) == 1
    with api.store.read() as conn:
        (cycle,) = conn.execute(select(mqa_cycles)).all()
        (note,) = conn.execute(select(outbox).where(outbox.c.topic == "account.mqa")).all()
    assert (cycle.account_id, cycle.cycle, cycle.qualified_by, cycle.handoff) == (
        "A1",
        1,
        "mqa",
        True,
    )
    assert note.payload["account_id"] == "A1" and note.payload["abm"] is True
    # sales accepting the account is the cycle's first touch
    assert api.call(
        "POST", "/v1/accounts/A1/disposition", "sales", json={"action": "accept"}
    ).is_success
    with api.store.read() as conn:
        assert conn.execute(select(mqa_cycles.c.first_touch_at)).scalar() is not None


def test_bad_account_events_are_422_naming_the_field_and_write_nothing(api: Any) -> None:
    _setup(api)
    ok = {"lead_id": "L2", "type": "email_open", "timestamp": "2026-11-10T00:00:00Z"}
    unknown = {"account_id": "A9", "type": "page_view", "timestamp": "2026-11-10T00:00:00Z"}
    response = api.call("POST", "/v1/events", "marketing", json={"events": [ok, unknown]})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "events[1].account_id" and "A9" in response.json()["message"]
    assert _count(api, events) == 0 and _count(api, account_events) == 0
    nobody = {"type": "page_view", "timestamp": "2026-11-10T00:00:00Z"}
    response = api.call("POST", "/v1/events", "marketing", json=nobody)
    assert response.status_code == 422 and response.json()["field"] == "event.lead_id"
    # a batch of both kinds: one answer per lead, then one per account
    visit = {**unknown, "account_id": "A2"}
    response = api.call("POST", "/v1/events", "marketing", json={"events": [ok, visit]})
    assert response.status_code == 200, response.text
    assert [s.get("lead_id") or s["account_id"] for s in response.json()] == ["L2", "A2"]
    assert response.headers["X-Leadgate-Inserted"] == "2"
