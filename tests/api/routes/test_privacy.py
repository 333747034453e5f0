"""Privacy and governance over HTTP: DELETE /v1/leads/{id}, GET /v1/audit, key expiry and
rotation, /v1/settings, POST /v1/retention/apply."""

from __future__ import annotations

from api_helpers import bearer

VP = {"email": "quinn.erasable@acme.com", "title": "vp sales", "name": "Quinn Erasable"}


def _mql(api, lead_id: str) -> None:  # type: ignore[no-untyped-def]
    api.call("PUT", f"/v1/leads/{lead_id}", "marketing", json=VP)
    row = {"lead_id": lead_id, "type": "demo_request", "timestamp": "2026-11-19T10:00:00Z"}
    (state,) = api.call("POST", "/v1/events", "marketing", json={"events": [row]}).json()
    assert state["stage"] == "mql", state


def test_erasure_over_http(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api, "web/42")
    response = api.call("DELETE", "/v1/leads/web/42")
    assert response.status_code == 200, response.text
    (tomb,) = response.json()["tombstones"]
    assert api.call("GET", "/v1/leads/web/42").status_code == 404
    erased = api.call("GET", f"/v1/leads/{tomb}").json()
    assert erased["attrs"] == {} and erased["stage"] == "mql"  # still counted, anonymously
    again = api.call("DELETE", f"/v1/leads/{tomb}")
    assert again.status_code == 409 and "already an erased tombstone" in again.json()["message"]
    assert api.call("DELETE", "/v1/leads/nobody").status_code == 404
    (entry,) = api.call("GET", "/v1/audit", params={"action": "lead.erase"}).json()
    admin = api.call("GET", "/v1/whoami").json()
    assert (entry["actor"], entry["key_id"], entry["target"]) == (
        "key:test-admin",
        admin["id"],
        tomb,
    )
    assert "web/42" not in str(api.call("GET", "/v1/audit").json())


def test_the_audit_actor_is_the_key_not_the_body(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api, "L1")
    spoof = {"action": "accept", "actor": "key:test-admin", "note": "hi"}
    refused = api.call("POST", "/v1/leads/L1/disposition", "sales", json=spoof)
    assert refused.status_code == 422 and refused.json()["field"] == "actor"  # nothing written
    body = {"action": "accept", "note": "hi"}
    assert api.call("POST", "/v1/leads/L1/disposition", "sales", json=body).status_code == 200
    (row,) = api.call("GET", "/v1/audit", params={"action": "lead.disposition"}).json()
    assert row["actor"] == "key:test-sales" and row["target"] == "L1"
    assert row["details"]["action"] == "accept" and "note" not in row["details"]
    (publish,) = api.call("GET", "/v1/audit", params={"action": "model"}).json()
    assert publish["action"] == "model.publish" and publish["actor"] == "key:test-admin"


def test_audit_filters(api) -> None:  # type: ignore[no-untyped-def]
    api.call("POST", "/v1/keys", json={"role": "sales", "name": "a"})
    api.clock.advance(hours=2)
    api.call("POST", "/v1/keys", json={"role": "sales", "name": "b"})
    api.call("PUT", "/v1/reject-reasons", json={"no_intent": "nurture"})
    me = {"actor": "key:test-admin"}  # the fixture's own keys were made by "system"
    rows = api.call("GET", "/v1/audit", params={**me, "action": "key"}).json()
    assert [r["details"]["name"] for r in rows] == ["b", "a"]  # newest first
    since = api.call("GET", "/v1/audit", params={**me, "since": "2026-11-20T13:00:00Z"}).json()
    assert [r["action"] for r in since] == ["reasons.change", "key.create"]
    until = api.call("GET", "/v1/audit", params={**me, "until": "2026-11-20T13:00:00Z"}).json()
    assert [r["details"].get("name") for r in until] == ["a"]
    assert len(api.call("GET", "/v1/audit", params={"limit": 1}).json()) == 1
    assert len(api.call("GET", "/v1/audit", params={"actor": "system"}).json()) == 4
    assert api.call("GET", "/v1/audit", params={"actor": "key:nobody"}).json() == []
    assert api.call("GET", "/v1/audit", params={"limit": 0}).status_code == 422
    bad = api.call("GET", "/v1/audit", params={"since": "2026-12-01", "until": "2026-11-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "since"
    early = api.call("GET", "/v1/audit", params={"since": "0001-01-01T00:00:00+14:00"})
    assert early.status_code == 422 and early.json()["field"] == "since"
    control = api.call("GET", "/v1/audit", params={"actor": "key:\x00x"})
    assert control.status_code == 422 and control.json()["field"] == "actor"


def test_expired_and_rotated_keys_over_http(api) -> None:  # type: ignore[no-untyped-def]
    made = api.call("POST", "/v1/keys", json={"role": "read-only", "expires_in": "1h"}).json()
    assert made["expires_at"] == "2026-11-20T13:00:00+00:00"
    token = made["token"]
    assert api.client.get("/v1/whoami", headers=bearer(token)).status_code == 200
    bad = api.call("POST", "/v1/keys", json={"role": "sales", "expires_in": "soon"})
    assert bad.status_code == 422 and bad.json()["field"] == "expires_in"

    rotated = api.call("POST", f"/v1/keys/{made['id']}/rotate", json={"overlap": "30m"})
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["token"]
    api.clock.advance(minutes=20)
    assert api.client.get("/v1/whoami", headers=bearer(token)).status_code == 200
    api.clock.advance(minutes=20)
    refused = api.client.get("/v1/whoami", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["message"] == "invalid, expired or revoked API key"
    assert api.client.get("/v1/whoami", headers=bearer(new)).status_code == 200
    listed = {k["id"]: k for k in api.call("GET", "/v1/keys").json()}
    assert listed[made["id"]]["replaced_by"] == rotated.json()["id"]
    assert listed[rotated.json()["id"]]["last_used_at"] is not None
    again = api.call("POST", f"/v1/keys/{made['id']}/rotate")
    assert again.status_code == 409


def test_settings_over_http(api) -> None:  # type: ignore[no-untyped-def]
    put = api.call("PUT", "/v1/settings/webhooks.allow_targets", json={"value": ["10.0.0.0/8"]})
    assert put.status_code == 200 and put.json()["value"] == ["10.0.0.0/8"]
    bad = api.call("PUT", "/v1/settings/webhooks.allow_targets", json={"value": ["intranet"]})
    assert bad.status_code == 422 and bad.json()["field"] == "webhooks.allow_targets"
    unknown = api.call("PUT", "/v1/settings/retention.event_days", json={"value": 30})
    assert unknown.status_code == 422 and "unknown setting" in unknown.json()["message"]
    api.publish()  # TINY_MODEL's demo rule decays for ever: any events retention changes scores
    refused = api.call("PUT", "/v1/settings/retention.events_days", json={"value": 30})
    assert refused.status_code == 409 and "rule 'demo'" in refused.json()["message"]
    forced = api.call(
        "PUT", "/v1/settings/retention.events_days", json={"value": 30, "force": True}
    )
    assert forced.status_code == 200
    values = {s["key"]: s["value"] for s in api.call("GET", "/v1/settings").json()}
    assert values["retention.events_days"] == 30
    assert api.call("POST", "/v1/retention/apply").status_code == 409
    applied = api.call("POST", "/v1/retention/apply", params={"force": "true"})
    assert applied.status_code == 200 and applied.json()["changes_scores"] is True
    assert api.call("DELETE", "/v1/settings/retention.events_days").status_code == 204
    assert api.call("DELETE", "/v1/settings/retention.events_days").status_code == 404
    actions = [r["action"] for r in api.call("GET", "/v1/audit").json()]
    assert actions.count("setting.set") == 2 and "setting.unset" in actions
    assert "retention.apply" in actions
