"""Keys, webhooks, tick and whoami over HTTP (admin routes)."""

from __future__ import annotations

from api_helpers import bearer

VP = {"email": "ana@acme.com", "title": "vp sales"}


def test_whoami_names_the_key(api) -> None:  # type: ignore[no-untyped-def]
    me = api.call("GET", "/v1/whoami", "sales").json()
    assert me["name"] == "test-sales"
    assert me["role"] == "sales"
    assert me["token"] is None


def test_keys_over_http_show_the_token_once(api) -> None:  # type: ignore[no-untyped-def]
    made = api.call("POST", "/v1/keys", json={"role": "read-only", "name": "dashboard"})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("lg_")
    assert api.client.get("/v1/whoami", headers=bearer(token)).json()["name"] == "dashboard"
    listed = api.call("GET", "/v1/keys").json()
    assert "dashboard" in [k["name"] for k in listed]
    assert all(k["token"] is None for k in listed)
    assert token not in api.call("GET", "/v1/keys").text
    revoked = api.call("DELETE", "/v1/keys/dashboard")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert api.client.get("/v1/whoami", headers=bearer(token)).status_code == 401
    assert "dashboard" in [k["name"] for k in api.call("GET", "/v1/keys?revoked=true").json()]
    bad = api.call("POST", "/v1/keys", json={"role": "root"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "role"


def test_webhooks_over_http(api) -> None:  # type: ignore[no-untyped-def]
    made = api.call(
        "POST", "/v1/webhooks", json={"url": "https://crm.example.com/hook", "topics": ["lead.mql"]}
    )
    assert made.status_code == 201
    assert len(made.json()["secret"]) >= 32
    listed = api.call("GET", "/v1/webhooks").json()
    assert [(w["url"], w["topics"], w["secret"]) for w in listed] == [
        ("https://crm.example.com/hook", ["lead.mql"], None)
    ]
    for body, field in [
        ({"url": "mailto:x@y.z"}, "url"),
        ({"url": "https://x.y", "secret": "short"}, "secret"),
        ({"url": "https://x.y", "topics": ["lead.won"]}, "topics"),
    ]:
        response = api.call("POST", "/v1/webhooks", json=body)
        assert response.status_code == 422
        assert response.json()["field"] == field
    assert api.call("DELETE", f"/v1/webhooks/{made.json()['id']}").status_code == 204
    assert api.call("GET", "/v1/webhooks").json() == []
    assert api.call("DELETE", "/v1/webhooks/4242").status_code == 404


def test_tick_expires_untouched_mqls(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()  # recycle_after_days: 10
    api.call("PUT", "/v1/leads/L1", "marketing", json=VP)
    event = {"lead_id": "L1", "type": "demo_request", "timestamp": "2026-11-20T11:00:00Z"}
    assert api.call("POST", "/v1/events", "marketing", json=event).json()["stage"] == "mql"
    api.clock.advance(days=11)
    report = api.call("POST", "/v1/tick").json()
    assert report["summary"]["expired"] == 1
    lead = api.call("GET", "/v1/leads/L1").json()
    assert lead["stage"] == "nurture"
    assert lead["transitions"][-1]["reason"] == "expired"
