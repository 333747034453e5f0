"""POST /v1/events, PUT /v1/leads/{id}, PUT /v1/accounts/{id}: stored, re-scored, answered at once."""

from __future__ import annotations

from datetime import timedelta

from leadgate.engine import compile_model, score_lead
from leadgate.io.readers import event_from_row
from leadgate.model import parse_model
from store_helpers import TINY_MODEL

VP = {"email": "ana@acme.com", "title": "vp sales", "company_size": 300}


def _expected_record(profile: dict, rows: list[dict], as_of, lead_id: str) -> dict:  # type: ignore[no-untyped-def]
    """The record ``leadgate score --format jsonl`` gives for this lead at ``as_of``."""
    plan = compile_model(parse_model(TINY_MODEL, "tiny.yaml"))
    events = [event_from_row(r) for r in rows]
    return score_lead(plan, {**profile, "lead_id": lead_id}, events, as_of, lead_id).to_record()


def test_single_event_answers_the_leads_new_score_record(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    assert api.call("PUT", "/v1/leads/L1", "marketing", json=VP).json()["stage"] == "lead"
    demo = {"lead_id": "L1", "type": "demo_request", "timestamp": "2026-11-19T12:00:00Z"}
    response = api.call("POST", "/v1/events", "marketing", json=demo)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lead_id"] == "L1"
    assert body["stage"] == "mql"  # 20 (vp) + 20 * 0.5 ** (1/10) >= 30: qualifies this request
    expected = _expected_record(VP | {"email": "ana@acme.com"}, [demo], api.clock.now, "L1")
    assert body["score"] == expected
    assert body["score"]["as_of"] == api.clock.now.isoformat()  # the server's "now" is the as_of
    assert response.headers["x-leadgate-inserted"] == "1"
    assert body["account"] is None  # the model scores no accounts


def test_batch_answers_one_state_per_affected_lead(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    api.call("PUT", "/v1/leads/L1", "marketing", json=VP)
    rows = [
        {"lead_id": "L2", "type": "email_open", "timestamp": "2026-11-18T10:00:00Z"},
        {"lead_id": "L1", "type": "email_open", "timestamp": "2026-11-18T10:00:00Z", "url": "/x"},
        {"lead_id": "L2", "type": "email_open", "timestamp": "2026-11-19T10:00:00+02:00"},
    ]
    response = api.call("POST", "/v1/events", "marketing", json={"events": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["lead_id"] for s in body] == ["L2", "L1"]
    assert body[0]["score"] == _expected_record({}, [rows[0], rows[2]], api.clock.now, "L2")
    assert body[1]["score"]["scores"] == {"fit": 20.0, "engagement": 2 * 0.5 ** ((2 + 2 / 24) / 10)}
    assert response.headers["x-leadgate-inserted"] == "3"


def test_replayed_events_add_nothing(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    given = {"lead_id": "L1", "type": "email_open", "timestamp": "2026-11-18T10:00:00Z"}
    first = api.call("POST", "/v1/events", "marketing", json={"events": [given, given]})
    assert first.headers["x-leadgate-inserted"] == "1"  # same content, same derived id
    again = api.call("POST", "/v1/events", "marketing", json={**given, "event_id": None})
    assert again.headers["x-leadgate-ignored"] == "1"
    with_id = {**given, "event_id": "e-1"}
    assert (
        api.call("POST", "/v1/events", "marketing", json=with_id).headers["x-leadgate-inserted"]
        == "1"
    )
    replay = api.call("POST", "/v1/events", "marketing", json=with_id)
    assert replay.headers["x-leadgate-ignored"] == "1"
    assert (
        replay.json()["score"]["scores"]["engagement"]
        == first.json()[0]["score"]["scores"]["engagement"] * 2
    )


def test_events_without_a_model_are_stored_unscored(api) -> None:  # type: ignore[no-untyped-def]
    row = {"lead_id": "L9", "type": "email_open", "timestamp": "2026-11-18T10:00:00Z"}
    body = api.call("POST", "/v1/events", "marketing", json=row).json()
    assert body == {**body, "lead_id": "L9", "stage": "lead", "score": None}
    # Publishing later scores the stored events.
    report = api.publish()
    assert report["summary"]["scored"] == 1
    lead = api.call("GET", "/v1/leads/L9", "read-only").json()
    assert lead["score"]["scores"]["engagement"] > 0


def test_bad_events_are_422_naming_the_field_and_write_nothing(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    ok = {"lead_id": "L1", "type": "email_open", "timestamp": "2026-11-18T10:00:00Z"}
    cases = [
        ({"events": [ok, {"type": "x", "timestamp": "2026-11-18"}]}, "events[1].lead_id"),
        ({"events": [ok, {**ok, "timestamp": "yesterday"}]}, "events[1].timestamp"),
        ({"events": [{**ok, "type": ""}]}, "events[0].type"),
        ({"events": [ok, 7]}, "events[1]"),
        ({"events": "all of them"}, "events"),
        ({"events": []}, "events"),
        ({**ok, "lead_id": {"id": 1}}, "event.lead_id"),
        ({**ok, "timestamp": 1700000000}, "event.timestamp"),
        ({**ok, "lead_id": True}, "event.lead_id"),
        ([ok], "body"),
    ]
    for body, field in cases:
        response = api.call("POST", "/v1/events", "marketing", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, response.json()
        assert "<input>" not in response.json()["message"]
    bad_json = api.call(
        "POST",
        "/v1/events",
        "marketing",
        content=b'{"lead_id": ',
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["field"] == "body"
    assert "not valid JSON" in bad_json.json()["message"]
    assert api.call("GET", "/v1/leads/L1", "read-only").status_code == 404  # nothing written


def test_oversized_batches_are_refused_with_413(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    start = api.clock.now - timedelta(days=1)
    rows = [
        {
            "lead_id": f"L{i}",
            "type": "email_open",
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
        }
        for i in range(51)  # the fixture's limit is 50
    ]
    response = api.call("POST", "/v1/events", "marketing", json={"events": rows})
    assert response.status_code == 413
    assert response.json()["field"] == "events"
    assert "51 events in one request; the limit is 50" in response.json()["message"]
    assert api.call("GET", "/v1/leads/L0", "read-only").status_code == 404
    huge = {"events": [{**rows[0], "blob": "x" * 300_000}]}  # over max_body_bytes (256 KiB)
    response = api.call("POST", "/v1/events", "marketing", json=huge)
    assert response.status_code == 413
    assert "limit is 262144" in response.json()["message"]
    assert (
        api.call("POST", "/v1/events", "marketing", json={"events": rows[:50]}).status_code == 200
    )


def test_put_lead_replaces_the_profile_and_rescores(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    first = api.call("PUT", "/v1/leads/L1", "marketing", json=VP).json()
    assert first["score"]["scores"]["fit"] == 20.0
    assert first["score"]["missing"] == ["threshold 30: short by 10 points"]
    second = api.call("PUT", "/v1/leads/L1", "marketing", json={"email": "ana@acme.com"}).json()
    assert second["score"]["scores"]["fit"] == 0.0  # PUT replaces: the title is gone
    dup = api.call("PUT", "/v1/leads/L2", "marketing", json={"email": " ANA@acme.com "}).json()
    assert dup["duplicate_of"] == "L1"
    assert dup["score"] is None  # a duplicate is flagged, never scored twice


def test_put_lead_rejects_nested_attributes_naming_them(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call(
        "PUT", "/v1/leads/L1", "marketing", json={"title": "vp", "address": {"city": "x"}}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "address"
    response = api.call("PUT", "/v1/leads/L1", "marketing", json=["title"])
    assert response.status_code == 422
    assert response.json()["field"] == "body"


def test_put_account_rescores_its_leads(api) -> None:  # type: ignore[no-untyped-def]
    model = TINY_MODEL.replace(
        "      - {name: vp, when: {title: {contains: vp}}, points: 20}",
        "      - {name: vp, when: {title: {contains: vp}}, points: 20}\n"
        "      - {name: big account, when: {account.industry: {eq: software}}, points: 15}",
    )
    api.publish(model)
    api.call("PUT", "/v1/leads/L1", "marketing", json={**VP, "account_id": "A1"})
    api.call("PUT", "/v1/leads/L2", "marketing", json={"email": "bo@acme.com", "account_id": "A1"})
    api.call("PUT", "/v1/leads/L3", "marketing", json={"email": "cy@other.com", "account_id": "A2"})
    response = api.call("PUT", "/v1/accounts/A1", "marketing", json={"industry": "software"})
    assert response.status_code == 200, response.text
    states = response.json()
    assert [s["lead_id"] for s in states] == ["L1", "L2"]
    assert [s["score"]["scores"]["fit"] for s in states] == [35.0, 15.0]
    assert states[0]["stage"] == "mql"  # 35 >= 30: the account change made L1 qualify


def test_chunked_oversized_bodies_are_refused_too(api) -> None:  # type: ignore[no-untyped-def]
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"lead_id": "L1", "type": "x", "timestamp": "2026-11-18", "blob": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}'

    response = api.call(
        "POST",
        "/v1/events",
        "marketing",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert api.call("GET", "/v1/leads/L1", "read-only").status_code == 404


def test_nan_attributes_are_refused_naming_them(api) -> None:  # type: ignore[no-untyped-def]
    for path in ("/v1/leads/L1", "/v1/accounts/A1"):
        response = api.call(
            "PUT", path, "marketing", content=b'{"title": "vp", "score_hint": NaN}',
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "score_hint"


def test_values_too_long_for_the_store_are_422(api) -> None:  # type: ignore[no-untyped-def]
    long = "x" * 256
    cases = [
        ("PUT", f"/v1/leads/{long}", {"title": "vp"}, "lead_id"),
        ("PUT", "/v1/leads/L1", {"email": "a" * 320 + "@x.com"}, "email"),
        ("PUT", "/v1/leads/L1", {"owner": long}, "owner"),
        ("PUT", f"/v1/accounts/{long}", {"industry": "x"}, "account_id"),
        (
            "POST",
            "/v1/events",
            {"lead_id": long, "type": "x", "timestamp": "2026-11-19"},
            "event.lead_id",
        ),
        (
            "POST",
            "/v1/events",
            {"lead_id": "L1", "type": long, "timestamp": "2026-11-19"},
            "event.type",
        ),
    ]
    for method, path, body, field in cases:
        response = api.call(method, path, "admin", json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["field"] == field
    response = api.call("POST", f"/v1/leads/{long}/disposition", "sales", json={"action": "accept"})
    assert response.status_code == 422
