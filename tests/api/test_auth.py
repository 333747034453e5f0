"""Every route refuses a missing, malformed, unknown or revoked key (401) and a wrong role (403).

The routes come from the app's own route table, so a new route is covered (and must be added to
``EXPECTED``) the day it is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api_helpers import bearer
from leadgate.api.app import create_app
from leadgate.api.auth import PERMISSIONS, PUBLIC, GuardedRoute, needs, permission_of
from leadgate.api.keys import ROLES, revoke_key
from leadgate.api.routes import api_routes

ALL = set(ROLES)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    # Authorisation does not depend on the database: SQLite only keeps the matrix fast.
    return str(tmp_path / "auth.db")


# "METHOD path" -> roles allowed. The contract: admin (models, keys), marketing (events, leads,
# reports), sales (queue, dispositions), read-only (reads).
EXPECTED = {
    "POST /v1/events": {"admin", "marketing"},
    "PUT /v1/leads/{lead_id}": {"admin", "marketing"},
    "PUT /v1/accounts/{account_id}": {"admin", "marketing"},
    "GET /v1/leads/{lead_id}": ALL,
    "GET /v1/mqls": ALL,
    "GET /v1/sla-breaches": ALL,
    "POST /v1/leads/{lead_id}/disposition": {"admin", "sales"},
    "GET /v1/accounts/{account_id}": ALL,
    "GET /v1/mqas": ALL,
    "POST /v1/accounts/{account_id}/disposition": {"admin", "sales"},
    "GET /v1/reject-reasons": ALL,
    "PUT /v1/reject-reasons": {"admin"},
    "POST /v1/models": {"admin"},
    "GET /v1/models": {"admin", "marketing", "read-only"},
    "GET /v1/models/diff": {"admin", "marketing", "read-only"},
    "GET /v1/models/{ref}": {"admin", "marketing", "read-only"},
    "GET /v1/reports/funnel": ALL,
    "GET /v1/reports/quality": ALL,
    "GET /v1/reports/rejections": ALL,
    "GET /v1/reports/speed": ALL,
    "GET /v1/reports/compare": ALL,
    "GET /v1/reports/targets": ALL,
    "GET /v1/reports/mqa": ALL,
    "GET /v1/whoami": ALL,
    "GET /v1/keys": {"admin"},
    "POST /v1/keys": {"admin"},
    "DELETE /v1/keys/{ident}": {"admin"},
    "GET /v1/webhooks": {"admin"},
    "POST /v1/webhooks": {"admin"},
    "DELETE /v1/webhooks/{webhook_id}": {"admin"},
    "POST /v1/tick": {"admin"},
    "POST /v1/keys/{ident}/rotate": {"admin"},
    "DELETE /v1/leads/{lead_id}": {"admin"},
    "GET /v1/audit": {"admin"},
    "GET /v1/settings": {"admin"},
    "PUT /v1/settings/{key}": {"admin"},
    "DELETE /v1/settings/{key}": {"admin"},
    "POST /v1/retention/apply": {"admin"},
}


def _routes() -> list[tuple[str, str, str | None]]:
    out = []
    for route in api_routes():
        for method in sorted(route.methods):
            out.append((method, route.path_format, permission_of(route)))
    return out


ROUTES = _routes()
GUARDED = [(m, p) for m, p, perm in ROUTES if perm is not None]


def _concrete(path: str) -> str:
    return path.replace("{webhook_id}", "987").replace("{", "").replace("}", "-x")


def test_every_route_is_guarded_except_health() -> None:
    open_routes = {p for _m, p, perm in ROUTES if perm is None}
    assert open_routes == {"/healthz"}
    assert {f"{m} {p}" for m, p in GUARDED} == set(EXPECTED)
    # ... and the app serves exactly these routes (plus the OpenAPI schema and docs).
    served = set(create_app("sqlite://").openapi()["paths"])
    assert served == {p for _m, p, _perm in ROUTES}


def test_route_without_permission_fails_at_definition() -> None:
    with pytest.raises(RuntimeError, match=r"/v1/oops declares no permission"):
        GuardedRoute("/v1/oops", lambda: None, methods=["GET"])
    with pytest.raises(ValueError, match="unknown permission"):
        needs("everything")
    assert "/healthz" in PUBLIC


@pytest.mark.parametrize(("method", "path"), GUARDED, ids=[f"{m} {p}" for m, p in GUARDED])
def test_route_refuses_bad_keys_and_wrong_roles(api, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    url = _concrete(path)
    body = {"json": {"garbage": True}} if method in ("POST", "PUT") else {}

    missing = api.client.request(method, url, **body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"] == "unauthorized"
    assert "missing API key" in missing.json()["message"]

    for header in ("Basic Zm9vOmJhcg==", "Bearer", "Bearer lg_nope_nope", "Bearer not-a-key"):
        wrong = api.client.request(method, url, headers={"Authorization": header}, **body)
        assert wrong.status_code == 401, header

    # A real key with a wrong secret part is refused too.
    admin = api.keys["admin"]
    tampered = admin[:-3] + ("AAA" if not admin.endswith("AAA") else "BBB")
    assert api.client.request(method, url, headers=bearer(tampered), **body).status_code == 401

    allowed = EXPECTED[f"{method} {path}"]
    for role, token in api.keys.items():
        response = api.client.request(method, url, headers=bearer(token), **body)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"] == "forbidden"
            assert f"role '{role}' may not" in response.json()["message"]


def test_revoked_key_is_refused_at_once(api) -> None:  # type: ignore[no-untyped-def]
    token = api.keys["sales"]
    assert api.client.get("/v1/mqls", headers=bearer(token)).status_code == 200
    revoke_key(api.store, "test-sales")
    response = api.client.get("/v1/mqls", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["message"] == "invalid, expired or revoked API key"


def test_health_needs_no_key(api) -> None:  # type: ignore[no-untyped-def]
    response = api.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_auth_runs_before_the_body_is_read(api) -> None:  # type: ignore[no-untyped-def]
    # Malformed JSON without a key is a 401, not a 422: nothing about the body leaks.
    response = api.client.post(
        "/v1/events", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401
    response = api.client.post(
        "/v1/events",
        content=b"{not json",
        headers={"content-type": "application/json", **bearer(api.keys["sales"])},
    )
    assert response.status_code == 403


def test_permission_table_roles_exist() -> None:
    for roles in PERMISSIONS.values():
        assert {r.value for r in roles} <= set(ROLES)


def test_openapi_documents_the_bearer_scheme_and_roles() -> None:
    schema = create_app("sqlite://").openapi()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    events = schema["paths"]["/v1/events"]["post"]
    assert events["security"] == [{"bearer": []}]
    assert events["x-leadgate-roles"] == ["admin", "marketing"]
    assert len(events["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 2
    assert "security" not in schema["paths"]["/healthz"]["get"]
