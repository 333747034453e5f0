"""GET /v1/accounts/{id}, GET /v1/mqas, POST /v1/accounts/{id}/disposition (issue #15)."""

from __future__ import annotations

from accounts_helpers import ACCOUNTS, EVENTS, LEADS, MODEL
from leadgate.io.readers import event_from_row
from leadgate.service.accounts import add_account_events, rescore_accounts

ABM_MODEL = MODEL.replace("threshold: 100", "threshold: 80")


def _load(api) -> None:  # type: ignore[no-untyped-def]
    api.publish(ABM_MODEL)
    for a in ACCOUNTS:
        attrs = {k: v for k, v in a.items() if k != "account_id"}
        assert (
            api.call("PUT", f"/v1/accounts/{a['account_id']}", "marketing", json=attrs).status_code
            == 200
        )
    for lead in LEADS:
        attrs = {k: v for k, v in lead.items() if k != "lead_id"}
        assert (
            api.call("PUT", f"/v1/leads/{lead['lead_id']}", "marketing", json=attrs).status_code
            == 200
        )
    # the events of the hand-checked case, a month later (the app's clock is 2026-11-20)
    rows = [{**e, "timestamp": e["timestamp"].replace("2026-10", "2026-11")} for e in EVENTS]
    lead_rows = [e for e in rows if "lead_id" in e]
    assert (
        api.call("POST", "/v1/events", "marketing", json={"events": lead_rows}).status_code == 200
    )
    account_rows = [
        event_from_row(
            {**{k: v for k, v in e.items() if k != "account_id"}, "lead_id": e["account_id"]}
        )
        for e in rows
        if "lead_id" not in e
    ]
    add_account_events(api.store, account_rows, at=api.clock.now)
    rescore_accounts(api.store, api.clock.now)


def test_account_queue_and_dispositions(api) -> None:  # type: ignore[no-untyped-def]
    _load(api)
    response = api.call("GET", "/v1/accounts/A1", "sales")
    assert response.status_code == 200, response.text
    account = response.json()
    assert account["stage"] == "mqa" and account["score"]["mqa"] is True
    assert account["score"]["buying_group"]["roles"]["practitioner"]["members"] == ["L4"]
    assert {m["lead_id"] for m in account["members"]} == {"L1", "L2", "L3", "L4"}
    rules = {r["name"]: r for r in account["explanation"]["rules"]}
    assert rules["engaged people"]["leads"] == ["L1", "L2", "L4"]
    queue = api.call("GET", "/v1/mqas", "sales").json()
    assert [(q["account_id"], q["sla_state"]) for q in queue] == [("A1", "pending")]
    assert queue[0]["buying_group"]["completeness"] == 0.8333
    path = "/v1/accounts/A1/disposition"
    assert api.call("POST", path, "marketing", json={"action": "accept"}).status_code == 403
    bad = api.call("POST", path, "sales", json={"action": "reject"})
    assert bad.status_code == 422 and "reason" in bad.text
    assert api.call("POST", path, "sales", json={"action": "won"}).status_code == 409
    assert api.call("POST", path, "sales", json={"action": "fly"}).status_code == 422
    done = api.call("POST", path, "sales", json={"action": "reject", "reason": "no_budget"})
    assert done.status_code == 200 and done.json()["stage"] == "engaged"
    assert api.call("GET", "/v1/mqas", "sales").json() == []
    moves = api.call("GET", "/v1/accounts/A1", "sales").json()["transitions"]
    assert moves[-1]["action"] == "reject" and moves[-1]["reason"] == "no_budget"
    assert api.call("GET", "/v1/accounts/A9", "sales").status_code == 404
    assert (
        api.call(
            "POST", "/v1/accounts/A9/disposition", "sales", json={"action": "accept"}
        ).status_code
        == 404
    )


def test_a_lead_event_answers_with_its_account_as_the_write_left_it(api) -> None:  # type: ignore[no-untyped-def]
    _load(api)
    before = api.call("GET", "/v1/accounts/A1", "sales").json()
    event = {"lead_id": "L3", "type": "email_open", "timestamp": "2026-11-19T00:00:00Z"}
    answer = api.call("POST", "/v1/events", "marketing", json=event)
    assert answer.status_code == 200, answer.text
    account = answer.json()["account"]
    after = api.call("GET", "/v1/accounts/A1", "sales").json()
    assert account["score"]["total"] > before["score"]["total"]  # L3's engagement rolled up
    assert {k: after[k] for k in ("account_id", "stage", "cycle", "score")} == account
    # a batch: each lead with its own account; a lead without one answers null
    batch = [
        {"lead_id": "L5", "type": "email_open", "timestamp": "2026-11-19T00:00:00Z"},
        {"lead_id": "L6", "type": "email_open", "timestamp": "2026-11-19T00:00:00Z"},
    ]
    states = api.call("POST", "/v1/events", "marketing", json={"events": batch}).json()
    assert [(s["lead_id"], s["account"] and s["account"]["account_id"]) for s in states] == [
        ("L5", "A2"),
        ("L6", None),
    ]
    a2 = api.call("GET", "/v1/accounts/A2", "sales").json()
    assert states[0]["account"]["score"] == a2["score"]
