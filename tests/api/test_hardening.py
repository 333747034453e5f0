"""Hostile input over HTTP (issue #11): every case answers 4xx naming the field, writes nothing,
and the server keeps serving. Runs on SQLite and PostgreSQL (the ``api`` fixture), where
PostgreSQL is the stricter store (it refuses NUL bytes, for one)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadgate.api.keys import create_key, list_keys

NUL = "\x00"


def _refused(response: Any, field: str, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["field"] == field, body
    assert body["request_id"]
    return body


def _mql(api: Any, lead_id: str = "L1") -> None:
    api.call("PUT", f"/v1/leads/{lead_id}", "marketing", json={"title": "vp sales"})
    demo = {"lead_id": lead_id, "type": "demo_request", "timestamp": "2026-11-19T10:00:00Z"}
    state = api.call("POST", "/v1/events", "marketing", json=demo).json()
    assert state["stage"] == "mql", state


def _event(**changes: Any) -> dict[str, Any]:
    return {"lead_id": "L1", "type": "page_view", "timestamp": "2026-11-20T09:00:00Z", **changes}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_event(lead_id="L" + NUL), "event.lead_id"),
        (_event(lead_id="L1\n"), "event.lead_id"),  # accepted before, then unreachable
        (_event(type="page" + NUL), "event.type"),
        (_event(event_id="e\r1"), "event.event_id"),
        (_event(url="/pricing" + NUL), "event.url"),
        (_event(utm={"source": "x" + NUL}), "event.utm.source"),
        (_event(big=10**30), "event.big"),
        (_event(timestamp="0001-01-01T00:00:00+14:00"), "event.timestamp"),
        ({"events": [_event(), _event(lead_id="x" * 256)]}, "events[1].lead_id"),
    ],
)
def test_bad_events_are_refused_naming_the_field(api, body: Any, field: str) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _refused(api.call("POST", "/v1/events", "marketing", json=body), field)
    assert api.call("GET", "/v1/leads/L1", "read-only").status_code == 404  # nothing written


@pytest.mark.parametrize(
    ("attrs", "field"),
    [
        ({"title": "VP" + NUL}, "title"),
        ({"note\x07": "x"}, "note\x07"),
        ({"tags": ["ok", "bad" + NUL]}, "tags[1]"),
        ({"revenue": 10**400}, "revenue"),  # beyond the float range
        ({"email": "a" * 321}, "email"),
        ({"bio": "x" * 70_000}, "bio"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(api, attrs: Any, field: str) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    content = json.dumps(attrs)
    response = api.call(
        "PUT", "/v1/leads/L1", "marketing", content=content,
        headers={"content-type": "application/json"},
    )  # fmt: skip
    _refused(response, field)
    assert api.call("GET", "/v1/leads/L1", "read-only").status_code == 404


def test_bad_ids_in_paths_and_queries(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _refused(api.call("GET", "/v1/leads/L%001", "read-only"), "lead_id")
    _refused(api.call("PUT", "/v1/leads/L%091", "marketing", json={}), "lead_id")
    # A line break never matches a route's path pattern: no such resource.
    assert api.call("PUT", "/v1/leads/L%0A1", "marketing", json={}).status_code == 404
    _refused(api.call("GET", "/v1/mqls?segment=a%00b", "sales"), "segment")
    _refused(api.call("GET", "/v1/models/1%00", "admin"), "ref")
    _refused(api.call("DELETE", "/v1/webhooks/99999999999999999999", "admin"), "webhook_id")
    _refused(api.call("GET", "/v1/leads/L1?as_of=0.5", "read-only"), "as_of")


def test_non_ascii_digits_never_name_a_key(api) -> None:  # type: ignore[no-untyped-def]
    third = list_keys(api.store)[2]
    assert third.id == 3
    response = api.call("DELETE", "/v1/keys/%D9%A3", "admin")  # Arabic-Indic digit three
    assert response.status_code == 404, response.text
    assert any(k.id == 3 for k in list_keys(api.store))  # still active
    assert api.call("DELETE", "/v1/keys/3", "admin").json()["revoked_at"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("revenue=1000000&deal_size=5e-324", "deal_size"),
        ("revenue=inf&deal_size=1000", "revenue"),
        ("revenue=nan&deal_size=1000", "revenue"),
        ("revenue=1e308&deal_size=1", "revenue"),
        ("revenue=1000&deal_size=10&rates=lead:mql=1e-300,mql:sal=1e-300,sal:sql=1e-300,"
         "sql:opp=1e-300,opp:won=1e-300", "rates"),
    ],
)  # fmt: skip
def test_out_of_range_numbers_on_targets(api, query: str, field: str) -> None:  # type: ignore[no-untyped-def]
    _refused(api.call("GET", f"/v1/reports/targets?{query}", "read-only"), field)


def test_deep_json_is_refused_before_parsing(api) -> None:  # type: ignore[no-untyped-def]
    deep = "[" * 1000 + "]" * 1000
    for method, path, body in [
        ("PUT", "/v1/leads/L1", '{"a": ' + deep + "}"),
        ("POST", "/v1/events", deep),
        ("PUT", "/v1/reject-reasons", '{"a": ' + deep + "}"),
    ]:
        response = api.call(
            method, path, "admin", content=body, headers={"content-type": "application/json"}
        )
        body_ = _refused(response, "body")
        assert "nested more than 32 levels" in body_["message"]
    # Brackets inside strings are text, not nesting.
    api.publish()
    fine = api.call("PUT", "/v1/leads/L1", "marketing", json={"title": "[" * 100})
    assert fine.status_code == 200, fine.text


def test_limits_on_every_string_field(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    hook = {"url": "https://crm.example.com/hook"}
    _refused(
        api.call("POST", "/v1/webhooks", json={**hook, "url": "https://x/" + "a" * 2048}), "url"
    )
    _refused(api.call("POST", "/v1/webhooks", json={**hook, "secret": "s" * 513}), "secret")
    _refused(api.call("POST", "/v1/webhooks", json={**hook, "secret": "s\x00"}), "secret")
    _refused(api.call("POST", "/v1/webhooks", json={**hook, "topics": ["a\nb"]}), "topics[0]")
    _refused(api.call("POST", "/v1/keys", json={"role": "sales", "name": "a\nb"}), "name")
    _refused(api.call("PUT", "/v1/reject-reasons", json={"x" * 300: "nurture"}), "body")
    _mql(api)
    disposition = "/v1/leads/L1/disposition"
    _refused(api.call("POST", disposition, json={"action": "touch", "note": "n" * 10_001}), "note")
    _refused(api.call("POST", disposition, json={"action": "touch", "note": "a\x00"}), "note")
    _refused(
        api.call("POST", disposition, json={"action": "reject", "reason": "r" * 256}), "reason"
    )
    lone_surrogate = b'{"yaml": "name: \\udbe2"}'  # valid JSON, not valid Unicode
    response = api.call(
        "POST", "/v1/models", content=lone_surrogate, headers={"content-type": "application/json"}
    )
    _refused(response, "yaml")
    ok = api.call("POST", disposition, json={"action": "touch", "note": "called\n\tno answer"})
    assert ok.status_code == 200, ok.text  # line breaks and tabs are fine in free text


def test_models_with_bad_values_are_refused_with_line_and_column(api) -> None:  # type: ignore[no-untyped-def]
    from store_helpers import TINY_MODEL

    cases = [
        (TINY_MODEL.replace("name: tiny", "name: ti\x01ny", 1), "not valid YAML"),
        (TINY_MODEL.replace("recycle_after_days: 10", "recycle_after_days: 1e308"), "36500"),
    ]
    for text, message in cases:
        assert text != TINY_MODEL
        response = api.call(
            "POST", "/v1/models", content=text.encode(), headers={"content-type": "text/yaml"}
        )
        assert response.status_code == 422, response.text
        problem = response.json()["problems"][0]
        assert message in problem["message"], problem
        assert problem["line"] and problem["column"]
    for key, value in [("threshold", ".nan"), ("threshold", ".inf")]:
        text = "\n".join(
            f"{key}: {value}" if line.startswith(f"{key}:") else line
            for line in TINY_MODEL.splitlines()
        )
        response = api.call("POST", "/v1/models", json={"yaml": text})
        assert response.status_code == 422, response.text
        assert "finite number" in response.json()["message"]
    assert api.call("GET", "/v1/models", "admin").json() == []  # nothing published


def test_the_actor_is_always_the_key(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    _mql(api)
    path = "/v1/leads/L1/disposition"
    spoof = api.call("POST", path, "sales", json={"action": "touch", "actor": "key:test-admin"})
    body = _refused(spoof, "actor")
    assert "API key" in body["message"]
    done = api.call("POST", path, "sales", json={"action": "touch", "note": "for Ana"})
    assert done.status_code == 200, done.text
    lead = api.call("GET", "/v1/leads/L1", "read-only").json()
    assert [d["actor"] for d in lead["dispositions"]] == ["key:test-sales"]
    assert lead["dispositions"][0]["note"] == "for Ana"
    assert "actor" not in json.dumps(
        api.client.get("/openapi.json").json()["components"]["schemas"]["DispositionIn"]
    )


def test_every_guarded_route_documents_its_error_statuses(api) -> None:  # type: ignore[no-untyped-def]
    schema = api.client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "security" not in operation:
                continue
            statuses = set(operation["responses"])
            assert {"400", "401", "403", "413", "422", "429"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    disposition = schema["paths"]["/v1/leads/{lead_id}/disposition"]["post"]["responses"]
    assert "409" in disposition


def test_key_names_are_checked_in_the_library_too(api) -> None:  # type: ignore[no-untyped-def]
    made = create_key(api.store, "sales", name="ok name")
    assert made.key.name == "ok name"


def test_chunked_bodies_meet_the_same_limit_on_a_live_server(store_url: str) -> None:
    """A body without Content-Length (chunked) is cut at the limit on every route; before, a
    20 MiB lead profile was stored this way."""
    import httpx

    from api_helpers import bearer, live_server, role_keys
    from leadgate.store import open_store

    limit = 64 * 1024
    store = open_store(store_url)
    keys = role_keys(store)
    store.close()

    def chunks(size: int) -> Any:
        yield b'{"title": "'
        for _ in range(size // 1024):
            yield b"x" * 1024
        yield b'"}'

    with (
        live_server(store_url, max_body_bytes=limit) as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        auth = bearer(keys["admin"])
        for method, path in [("PUT", "/v1/leads/L1"), ("PUT", "/v1/accounts/A1"),
                             ("POST", "/v1/webhooks"), ("PUT", "/v1/reject-reasons")]:  # fmt: skip
            response = http.request(
                method, path, content=chunks(2 * 1024 * 1024),
                headers={**auth, "content-type": "application/json"},
            )  # fmt: skip
            assert "content-length" not in response.request.headers  # really chunked
            body = _refused(response, "body", status=413)
            assert f"the limit is {limit} bytes" in body["message"]
        small = http.request(
            "PUT", "/v1/leads/L1", content=chunks(4 * 1024),
            headers={**auth, "content-type": "application/json"},
        )  # fmt: skip
        assert small.status_code != 413
        anonymous = http.put("/v1/leads/L1", content=chunks(2 * 1024 * 1024))
        assert anonymous.status_code == 401  # answered without reading (or buffering) the body
        assert http.get("/v1/webhooks", headers=auth).json() == []
