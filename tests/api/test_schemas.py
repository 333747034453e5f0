"""Whatever JSON a client sends, the answer is a 2xx or a 4xx naming the problem -- never 500."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_helpers import Clock, bearer
from leadgate.api.app import create_app
from leadgate.api.keys import create_key
from leadgate.api.schemas import parse_events
from leadgate.errors import IngestError
from leadgate.service import publish_model
from store_helpers import TINY_MODEL

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
timestamps = st.sampled_from(["2026-11-19T10:00:00Z", "2026-11-19", "soon", "", 17])
event_like = st.fixed_dictionaries(
    {},
    optional={
        "lead_id": st.sampled_from(["L1", "L2", 7, True, None]) | values,
        "type": st.sampled_from(["email_open", "demo_request", ""]) | values,
        "timestamp": timestamps | values,
        "event_id": st.text(max_size=5) | values,
        "url": values,
    },
)
bodies = (
    event_like
    | st.fixed_dictionaries({"events": st.lists(event_like | values, max_size=4)})
    | values
)


@given(body=bodies)
def test_parse_events_accepts_or_names_a_field(body: Any) -> None:
    try:
        events, _batch = parse_events(body, max_batch=3)
    except IngestError as exc:
        assert exc.field
        assert not str(exc).startswith("<input>")
    else:
        assert events and all(e.event_id and e.lead_id and e.type for e in events)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=bodies)
def test_events_endpoint_never_answers_500(body: Any) -> None:
    client, auth = _client()
    response = client.post("/v1/events", json=body, headers=auth)
    assert response.status_code in (200, 413, 422), response.text
    if response.status_code != 200:
        assert response.json()["field"]


def test_nan_and_infinity_are_refused() -> None:
    client, auth = _client()
    body = b'{"lead_id": "L1", "type": "x", "timestamp": "2026-11-19", "v": NaN}'
    response = client.post(
        "/v1/events", content=body, headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["message"] == "body: NaN is not a JSON value (use null or a number)"


_CACHE: dict[str, Any] = {}


def _client() -> tuple[TestClient, dict[str, str]]:
    """One app for every example (hypothesis runs the test body many times)."""
    if "client" not in _CACHE:
        folder = Path(tempfile.mkdtemp(prefix="leadgate-fuzz-"))
        clock = Clock()
        app = create_app(str(folder / "f.db"), clock=clock, max_batch=3)
        publish_model(app.state.config.store, TINY_MODEL, actor="t", as_of=clock.now)
        _CACHE["client"] = TestClient(app, raise_server_exceptions=False)
        _CACHE["auth"] = bearer(create_key(app.state.config.store, "marketing").token)
        _CACHE["admin"] = bearer(create_key(app.state.config.store, "admin").token)
    return _CACHE["client"], _CACHE["auth"]


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=values, action=st.sampled_from(["accept", "reject", "won", "x"]) | values)
def test_profile_and_disposition_bodies_never_answer_500(body: Any, action: Any) -> None:
    client, auth = _client()
    lead = client.put("/v1/leads/F1", json=body, headers=auth)
    assert lead.status_code in (200, 422), lead.text
    disposition = {"action": action, "reason": body if isinstance(body, str) else None}
    sales = client.post("/v1/leads/F1/disposition", json=disposition, headers=_CACHE["admin"])
    assert sales.status_code in (200, 404, 409, 422), sales.text
