"""Errors over HTTP: one JSON shape, a request id on every answer, never a traceback."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api_helpers import bearer
from leadgate.api.app import create_app
from leadgate.api.auth import needs
from leadgate.api.errors import field_of
from leadgate.api.keys import create_key
from leadgate.errors import ConflictError, LeadgateError


def _app_with(tmp_path, endpoint, db: str = "e.db"):  # type: ignore[no-untyped-def]
    app = create_app(str(tmp_path / db))
    app.router.add_api_route("/v1/boom", endpoint, methods=["GET"], openapi_extra=needs("whoami"))
    token = create_key(app.state.config.store, "read-only").token
    return TestClient(app, raise_server_exceptions=False), bearer(token)


def test_a_bug_is_500_with_a_request_id_and_no_details(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    def boom() -> None:
        raise RuntimeError("password=hunter2 in a stack frame")

    client, auth = _app_with(tmp_path, boom)
    response = client.get("/v1/boom", headers=auth)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["request_id"] in body["message"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    # ... while the server log has the traceback under the same id.
    assert any(body["request_id"] in r.getMessage() and r.exc_info for r in caplog.records)


def test_library_errors_map_to_status_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def conflict() -> None:
        raise ConflictError("lead 'L1' is at stage 'won'")

    client, auth = _app_with(tmp_path, conflict)
    response = client.get("/v1/boom", headers=auth)
    assert (response.status_code, response.json()["error"]) == (409, "conflict")

    def user_error() -> None:
        raise LeadgateError("something the user can fix")

    client, auth = _app_with(tmp_path, user_error, "b.db")
    response = client.get("/v1/boom", headers=auth)
    assert response.status_code == 400
    assert response.json()["message"] == "something the user can fix"


def test_request_ids_are_echoed_or_made(api) -> None:  # type: ignore[no-untyped-def]
    given = api.client.get("/healthz", headers={"X-Request-Id": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = api.client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert made.headers["x-request-id"] != "bad id\twith spaces"
    assert len(made.headers["x-request-id"]) == 16
    error = api.call("GET", "/v1/leads/none", "read-only", headers={"X-Request-Id": "r-1"})
    assert error.json()["request_id"] == "r-1"


def test_unknown_paths_and_methods_answer_json(api) -> None:  # type: ignore[no-untyped-def]
    missing = api.client.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = api.client.delete("/v1/mqls", headers=bearer(api.keys["admin"]))
    assert wrong.status_code == 405


def test_field_paths() -> None:
    assert field_of(("body", "events", 2, "type")) == "events[2].type"
    assert field_of(("query", "limit")) == "limit"
    assert field_of(("body",)) == "body"
    assert field_of(()) == "body"
