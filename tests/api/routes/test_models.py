"""POST /v1/models (publish, dry run), GET /v1/models, /v1/models/diff, /v1/models/{ref}."""

from __future__ import annotations

from store_helpers import TINY_MODEL

LOWER = TINY_MODEL.replace("version: 1", "version: 2").replace("threshold: 30", "threshold: 15")
VP = {"email": "ana@acme.com", "title": "vp sales"}


def test_publish_list_show_and_diff(api) -> None:  # type: ignore[no-untyped-def]
    first = api.publish()
    assert first["model"]["name"] == "tiny"
    assert first["previous"] is None
    api.call("PUT", "/v1/leads/L1", "marketing", json=VP)  # 20 points: below 30, above 15

    dry = api.call("POST", "/v1/models", json={"yaml": LOWER, "dry_run": True}).json()
    assert dry["dry_run"] is True
    assert dry["summary"]["new_mqls"] == 1
    assert [e["lead_id"] for e in dry["examples"]] == ["L1"]
    assert len(api.call("GET", "/v1/models", "read-only").json()) == 1  # nothing written
    assert api.call("GET", "/v1/leads/L1", "read-only").json()["stage"] == "lead"

    raw = api.call(
        "POST", "/v1/models", content=LOWER.encode(), headers={"content-type": "application/yaml"}
    )
    assert raw.status_code == 200, raw.text
    assert raw.json()["summary"]["new_mqls"] == 1
    assert raw.json()["previous"]["version"] == "1"
    assert api.call("GET", "/v1/leads/L1", "read-only").json()["stage"] == "mql"

    versions = api.call("GET", "/v1/models", "marketing").json()
    assert [(v["version"], v["active"]) for v in versions] == [("1", False), ("2", True)]
    assert versions[1]["published_by"] == "key:test-admin"

    one = api.call("GET", f"/v1/models/{versions[0]['hash'][:8]}", "read-only").json()
    assert one["id"] == versions[0]["id"]
    assert one["yaml"] == TINY_MODEL

    diff = api.call("GET", "/v1/models/diff", "read-only").json()
    assert diff["a"]["version"] == "1" and diff["b"]["version"] == "2"
    assert "-threshold: 30" in diff["yaml_diff"] and "+threshold: 15" in diff["yaml_diff"]
    assert any("threshold" in c for c in diff["changes"])
    explicit = api.call("GET", "/v1/models/diff", "read-only", params={"a": "2", "b": "1"}).json()
    assert explicit["a"]["version"] == "2"


def test_publishing_the_active_model_again_changes_nothing(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    again = api.publish()
    assert again["summary"]["scored"] == 0
    assert len(api.call("GET", "/v1/models").json()) == 1


def test_invalid_model_is_422_with_location(api) -> None:  # type: ignore[no-untyped-def]
    bad = TINY_MODEL.replace("threshold: 30", "threshold: lots")
    response = api.call("POST", "/v1/models", json={"yaml": bad})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "threshold"
    assert body["problems"][0]["line"] == 3
    assert api.call("GET", "/v1/models").json() == []


def test_publish_body_errors_name_the_field(api) -> None:  # type: ignore[no-untyped-def]
    response = api.call("POST", "/v1/models", json={"yml": TINY_MODEL})
    assert response.status_code == 422
    assert response.json()["field"] in ("yaml", "yml")
    response = api.call("POST", "/v1/models", json={"yaml": TINY_MODEL, "dry_run": "perhaps"})
    assert response.status_code == 422
    assert response.json()["field"] == "dry_run"


def test_a_path_in_the_body_is_never_read_from_the_server(api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "model.yaml"
    secret.write_text(TINY_MODEL)
    response = api.call("POST", "/v1/models", json={"yaml": str(secret)})
    assert response.status_code == 422  # parsed as YAML text (a bare string), not opened
    assert api.call("GET", "/v1/models").json() == []


def test_unknown_versions_are_404(api) -> None:  # type: ignore[no-untyped-def]
    assert api.call("GET", "/v1/models/99", "read-only").status_code == 404
    response = api.call("GET", "/v1/models/diff", "read-only")
    assert response.status_code == 404
    assert response.json()["message"] == "no model published yet"
    api.publish()
    assert "nothing to diff" in api.call("GET", "/v1/models/diff").json()["message"]
