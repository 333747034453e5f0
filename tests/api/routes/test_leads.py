"""GET /v1/leads/{id}, GET /v1/mqls, GET /v1/sla-breaches, POST /v1/leads/{id}/disposition,
GET/PUT /v1/reject-reasons."""

from __future__ import annotations

VP = {"email": "ana@acme.com", "title": "vp sales", "company_size": 300}


def _mql(api, lead_id: str, *, demos: int = 1, **attrs) -> dict:  # type: ignore[no-untyped-def]
    """Make ``lead_id`` an MQL (a VP with ``demos`` fresh demo requests)."""
    profile = {**VP, "email": f"{lead_id.lower()}@acme.com", **attrs}
    api.call("PUT", f"/v1/leads/{lead_id}", "marketing", json=profile)
    rows = [
        {"lead_id": lead_id, "type": "demo_request", "timestamp": f"2026-11-19T1{i}:00:00Z"}
        for i in range(demos)
    ]
    state = api.call("POST", "/v1/events", "marketing", json={"events": rows}).json()[0]
    assert state["stage"] == "mql", state
    return state  # type: ignore[no-any-return]


def test_get_lead_has_score_explanation_and_history(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    state = _mql(api, "L1")
    response = api.call("GET", "/v1/leads/L1", "sales")
    assert response.status_code == 200
    lead = response.json()
    assert lead["lead_id"] == "L1"
    assert lead["stage"] == "mql"
    assert lead["score"] == state["score"]
    rules = {r["name"]: r for r in lead["explanation"]["rules"]}
    assert rules["vp"]["points"] == 20.0
    assert rules["demo"]["events_counted"] == 1
    assert [(t["from_stage"], t["to_stage"], t["cause"]) for t in lead["transitions"]] == [
        ("lead", "mql", "score")
    ]
    assert lead["transitions"][0]["actor"] == "key:test-marketing"
    assert [p["qualifies"] for p in lead["score_history"]] == [False, True]
    assert lead["cycles"][0]["cycle"] == 1


def test_get_unknown_lead_is_404(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("GET", "/v1/leads/nobody", "read-only")
    assert response.status_code == 404
    assert response.json() == {
        **response.json(),
        "error": "not_found",
        "message": "no lead 'nobody'",
    }


def test_queue_is_ordered_by_score_then_age_and_filtered(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api, "L1")
    api.clock.advance(hours=1)
    _mql(api, "L2", demos=2)  # higher score
    api.clock.advance(hours=1)
    _mql(api, "L3")  # same score as L1, younger
    _mql(api, "L4", company_size=9000, owner="kim")  # enterprise segment: 4 h SLA
    queue = api.call("GET", "/v1/mqls", "sales").json()
    assert [q["lead_id"] for q in queue][:1] == ["L2"]
    ids = [q["lead_id"] for q in queue]
    assert ids.index("L1") < ids.index("L3")  # same score: the older MQL first
    totals = [q["total"] for q in queue]
    assert totals == sorted(totals, reverse=True)
    assert queue[0]["score"]["lead_id"] == "L2"

    only = api.call("GET", "/v1/mqls", "sales", params={"segment": "enterprise"}).json()
    assert [q["lead_id"] for q in only] == ["L4"]
    assert [
        q["lead_id"] for q in api.call("GET", "/v1/mqls", "sales", params={"owner": "kim"}).json()
    ] == ["L4"]
    assert len(api.call("GET", "/v1/mqls", "sales", params={"limit": 2}).json()) == 2

    api.clock.advance(hours=5)  # L4's 4 h SLA is breached; the others have 24 h
    breached = api.call("GET", "/v1/mqls", "sales", params={"sla": "breached"}).json()
    assert [q["lead_id"] for q in breached] == ["L4"]
    pending = api.call("GET", "/v1/mqls", "sales", params={"sla": "pending"}).json()
    assert {q["lead_id"] for q in pending} == {"L1", "L2", "L3"}
    whole = api.call("GET", "/v1/mqls", "sales").json()
    # Paging in the database: pages of two, one after another, are the whole queue in order.
    pages = [
        api.call("GET", "/v1/mqls", "sales", params={"limit": 2, "offset": start}).json()
        for start in (0, 2, 4)
    ]
    assert [q["lead_id"] for page in pages for q in page] == [q["lead_id"] for q in whole]
    assert [len(page) for page in pages] == [2, 2, 0]
    assert pages[1] == whole[2:4]  # same items, same shape
    # The SLA filters split the queue: each item in exactly the filter of its own state.
    for state in ("pending", "breached", "met"):
        chosen = api.call("GET", "/v1/mqls", "sales", params={"sla": state}).json()
        assert chosen == [q for q in whole if q["sla_state"] == state]
    breaches = api.call("GET", "/v1/sla-breaches", "sales").json()
    assert [b["lead_id"] for b in breaches] == ["L4"]


def test_queue_rejects_bad_filters_naming_them(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("GET", "/v1/mqls", "sales", params={"sla": "late"})
    assert response.status_code == 422
    assert response.json()["field"] == "sla"
    response = api.call("GET", "/v1/mqls", "sales", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["field"] == "limit"
    response = api.call("GET", "/v1/mqls", "sales", params={"offset": -1})
    assert response.status_code == 422
    assert response.json()["field"] == "offset"


def test_dispositions_move_the_lead_through_its_stages(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api, "L1")
    steps = [
        ({"action": "accept"}, "sal"),
        ({"action": "sql", "note": "budget confirmed"}, "sql"),
        ({"action": "opportunity", "amount": 25000}, "opportunity"),
        ({"action": "won", "amount": 24000.5}, "won"),
    ]
    for body, stage in steps:
        response = api.call("POST", "/v1/leads/L1/disposition", "sales", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["stage"] == stage
        assert response.json()["score"]["lead_id"] == "L1"
    lead = api.call("GET", "/v1/leads/L1", "sales").json()
    assert [d["action"] for d in lead["dispositions"]] == ["accept", "sql", "opportunity", "won"]
    assert lead["dispositions"][0]["actor"] == "key:test-sales"
    assert lead["cycles"][0]["amount"] == 24000.5
    assert lead["owner"] == "key:test-sales"  # accepting takes ownership
    assert api.call("GET", "/v1/mqls", "sales").json() == []


def test_reject_needs_a_known_reason_code(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api, "L1")
    _mql(api, "L2")
    cases = [
        ({"action": "reject"}, "reason", "a reject needs a reason code"),
        ({"action": "reject", "reason": "smelly"}, "reason", "unknown reason code 'smelly'"),
        ({"action": "reject", "reason": "other"}, "note", "needs a note"),
        ({"action": "promote"}, "action", "Input should be"),
        ({"action": "won", "amount": -5}, "amount", "greater than or equal to 0"),
        ({"action": "accept", "colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"reason": "no_intent"}, "action", "Field required"),
    ]
    for body, field, text in cases:
        response = api.call("POST", "/v1/leads/L1/disposition", "sales", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field
        assert text in response.json()["message"]
    ok = api.call(
        "POST", "/v1/leads/L1/disposition", "sales",
        json={"action": "reject", "reason": "competitor", "note": "works at a rival"},
    )  # fmt: skip
    assert ok.json()["stage"] == "disqualified"
    recycled = api.call(
        "POST",
        "/v1/leads/L2/disposition",
        "sales",
        json={"action": "reject", "reason": "no_intent"},
    )
    assert recycled.json()["stage"] == "nurture"


def test_illegal_moves_are_409_and_unknown_leads_404(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    api.call("PUT", "/v1/leads/L1", "marketing", json=VP)  # stage lead, not an MQL
    response = api.call("POST", "/v1/leads/L1/disposition", "sales", json={"action": "won"})
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert "is at stage 'lead'" in response.json()["message"]
    missing = api.call("POST", "/v1/leads/L404/disposition", "sales", json={"action": "accept"})
    assert missing.status_code == 404


def test_reject_reasons_can_be_read_and_replaced(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    codes = api.call("GET", "/v1/reject-reasons", "sales").json()
    assert codes["competitor"] == "disqualified" and codes["no_intent"] == "nurture"
    bad = api.call("PUT", "/v1/reject-reasons", "admin", json={"no_budget": "lost"})
    assert bad.status_code == 422 and "must map to nurture or disqualified" in bad.text
    assert api.call("GET", "/v1/reject-reasons", "sales").json() == codes  # unchanged
    new = {"no_budget": "disqualified", "timing": "nurture"}
    assert api.call("PUT", "/v1/reject-reasons", "admin", json=new).json() == new
    _mql(api, "L1")
    _mql(api, "L2")
    old = api.call(
        "POST",
        "/v1/leads/L1/disposition",
        "sales",
        json={"action": "reject", "reason": "no_intent"},
    )
    assert old.status_code == 422 and "unknown reason code 'no_intent'" in old.text
    done = api.call(
        "POST",
        "/v1/leads/L2/disposition",
        "sales",
        json={"action": "reject", "reason": "no_budget"},
    )
    assert done.json()["stage"] == "disqualified"


def test_lead_ids_with_slashes_are_addressable(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    for lead_id, url in (("crm/00Q5e", "crm%2F00Q5e"), ("a/b/c", "a/b/c")):
        profile = {**VP, "email": f"{lead_id.replace('/', '.')}@acme.com"}
        put = api.call("PUT", f"/v1/leads/{url}", "marketing", json=profile)
        assert put.status_code == 200 and put.json()["lead_id"] == lead_id, put.text
        event = {"lead_id": lead_id, "type": "demo_request", "timestamp": "2026-11-19T10:00:00Z"}
        assert api.call("POST", "/v1/events", "marketing", json=event).json()["stage"] == "mql"
        got = api.call("GET", f"/v1/leads/{url}", "sales")
        assert got.status_code == 200 and got.json()["lead_id"] == lead_id
        done = api.call("POST", f"/v1/leads/{url}/disposition", "sales", json={"action": "accept"})
        assert done.status_code == 200 and done.json()["stage"] == "sal", done.text
    missing = api.call("GET", "/v1/leads/nobody%2Fhere", "sales")
    assert missing.status_code == 404 and "nobody/here" in missing.text
