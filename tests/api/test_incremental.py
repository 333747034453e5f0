"""Incremental equals rebuild, through HTTP: events posted one by one, in one batch, or before
the model is published give the same scores and transitions -- and the same score records as the
engine computes from scratch (STYLE.md "Incremental equals rebuild")."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api_helpers import Clock, bearer, role_keys
from factories import explanation_differences
from leadgate.api.app import create_app
from leadgate.engine import compile_model, score_lead
from leadgate.io.readers import event_from_row
from leadgate.model import parse_model
from store_helpers import TINY_MODEL, temp_store_url

TITLES = ["VP Sales", "Engineer", "vp marketing", "Analyst"]


def _data(seed: int, clock: Clock) -> tuple[dict[str, dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(seed)
    leads = {
        f"L{i}": {"title": rng.choice(TITLES), "company_size": rng.choice([10, 9000])}
        for i in range(8)
    }
    events = [
        {
            "lead_id": rng.choice(list(leads)),
            "type": rng.choice(["demo_request", "email_open", "page_view"]),
            "timestamp": (clock.now - timedelta(days=rng.uniform(0, 40))).isoformat(),
            "event_id": f"e{n}",
        }
        for n in range(40)
    ]
    return leads, events


def _run(url: str, way: str, leads, events, clock: Clock) -> dict:  # type: ignore[no-untyped-def]
    app = create_app(url, clock=clock)
    store = app.state.config.store
    keys = role_keys(store)
    out: dict[str, object] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        admin, marketing = bearer(keys["admin"]), bearer(keys["marketing"])

        def publish() -> None:
            assert (
                client.post("/v1/models", json={"yaml": TINY_MODEL}, headers=admin).status_code
                == 200
            )

        if way != "publish_last":
            publish()
        for lead_id, attrs in leads.items():
            client.put(f"/v1/leads/{lead_id}", json=attrs, headers=marketing)
        answered = {}
        if way == "one_by_one":
            for event in events:
                state = client.post("/v1/events", json=event, headers=marketing).json()
                answered[state["lead_id"]] = state["score"]
        else:
            for state in client.post(
                "/v1/events", json={"events": events}, headers=marketing
            ).json():
                answered[state["lead_id"]] = state["score"]
        if way == "publish_last":
            publish()
        for lead_id in leads:
            view = client.get(f"/v1/leads/{lead_id}", headers=admin).json()
            out[lead_id] = (
                view["stage"],
                view["cycle"],
                view["score"],
                [(t["from_stage"], t["to_stage"], t["cycle"]) for t in view["transitions"]],
            )
            if way != "publish_last" and lead_id in answered:
                assert answered[lead_id] == view["score"]  # the answer is what was stored
    store.close()
    return out


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_events_one_by_one_equal_one_batch_and_a_rebuild(seed: int, backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from store_helpers import PG_URL

    if backend == "postgres" and not PG_URL:
        pytest.skip("LEADGATE_TEST_PG_URL is not set")
    clock = Clock()
    leads, events = _data(seed, clock)
    results = []
    for way in ("one_by_one", "batch", "publish_last"):
        folder = tmp_path / way
        folder.mkdir()
        with temp_store_url(backend, folder) as url:
            results.append(_run(url, way, leads, events, clock))
    # Scores within 1e-9 (issue 17: a lead's decayed sums are kept against a reference time, so
    # a total may differ from the pure engine's in its last bits); the rest exactly.
    assert not explanation_differences(results[0], results[1])
    assert not explanation_differences(results[0], results[2])
    assert any(stage == "mql" for stage, *_ in results[0].values())  # the data exercises MQLs

    # The rebuild from scratch: the engine on the same profiles and events at the same as_of.
    plan = compile_model(parse_model(TINY_MODEL, "tiny.yaml"))
    for lead_id, attrs in leads.items():
        mine = [event_from_row(e) for e in events if e["lead_id"] == lead_id]
        record = score_lead(
            plan, {**attrs, "lead_id": lead_id}, mine, clock.now, lead_id
        ).to_record()
        assert not explanation_differences(results[0][lead_id][2], record)
