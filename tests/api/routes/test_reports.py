"""GET /v1/reports/*: the report library's numbers over HTTP, on a real store of synthetic leads.

One store per backend for the module: 300 synthetic leads with accounts, events and outcomes
loaded under published version 1, then version 2 (a lower threshold) published, so the history
holds three model versions (1, 2 and ``imported`` outcomes). Each endpoint must answer exactly
what the library function computes on the same store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_helpers import Clock, bearer, role_keys
from leadgate.api.app import create_app
from leadgate.engine import compile_model
from leadgate.report.compare import compare_models
from leadgate.report.funnel import funnel_report
from leadgate.report.quality import quality_report
from leadgate.report.rejections import rejection_report
from leadgate.report.speed import speed_report
from leadgate.report.store_frame import (
    frame_from_store,
    history_from_store,
    store_model,
    store_plans,
)
from leadgate.report.targets import funnel_targets, parse_rates
from leadgate.service import load_file, publish_model
from leadgate.synth import generate
from store_helpers import BACKENDS, temp_store_url

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MODEL = (Path(__file__).parents[3] / "src/leadgate/examples/b2b-inbound.yaml").read_text()
RATES = "lead:mql=.2,mql:sal=.7,sal:sql=.5,sql:opp=.6,opp:won=.25"


class Reports:
    """A TestClient over the filled store, a key per role, and the store for the library side."""

    def __init__(self, client: TestClient, store: Any, keys: dict[str, str]) -> None:
        self.client, self.store, self.keys = client, store, keys

    def get(self, path: str, role: str = "marketing", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=bearer(self.keys[role]))

    def ok(self, path: str, role: str = "marketing", **params: Any) -> dict[str, Any]:
        response = self.get(path, role, **params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=BACKENDS)
def reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reports]:
    tmp = tmp_path_factory.mktemp("reports")
    synth = generate(300, 11, tmp / "synth", as_of=NOW)
    with temp_store_url(request.param, tmp) as url:
        app = create_app(url, clock=Clock(NOW))
        store = app.state.config.store
        publish_model(store, MODEL, actor="test", as_of=NOW)
        for kind, path in (("accounts", synth.accounts), ("leads", synth.leads),
                           ("events", synth.events), ("outcomes", synth.outcomes)):  # fmt: skip
            load_file(store, kind, path, as_of=NOW)
        v2 = re.sub(r"^version: .*$", "version: 2", MODEL, flags=re.M)
        v2 = re.sub(r"^threshold: .*$", "threshold: 40", v2, flags=re.M)
        publish_model(store, v2, actor="test", as_of=NOW)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Reports(client, store, role_keys(store))
        store.close()


def plain(report: Any) -> Any:
    """A library report as the JSON the API sends."""
    return json.loads(json.dumps(report.to_dict()))


def test_the_history_holds_several_versions_and_outcomes(reports: Reports) -> None:
    frame = frame_from_store(reports.store)
    mql_versions = set(frame.loc[frame["is_mql"], "model_version"])
    assert mql_versions == {"1", "2", "imported"}
    assert frame["sal_status"].eq("rejected").sum() > 5
    assert frame["won"].sum() > 0


# Each case: endpoint, query, the library call on the store that must give the same JSON.
CASES: list[tuple[str, dict[str, Any], Callable[[Any], Any]]] = [
    ("funnel", {}, lambda s: funnel_report(frame_from_store(s))),
    ("funnel", {"by": "channel"}, lambda s: funnel_report(frame_from_store(s), ["channel"])),
    (
        "funnel",
        {"by": "channel,persona", "since": "2026-06-01", "until": "2026-10-01T00:00:00Z",
         "mix_versions": "true"},
        lambda s: funnel_report(
            frame_from_store(s), ["channel", "persona"], since=datetime(2026, 6, 1, tzinfo=UTC),
            until=datetime(2026, 10, 1, tzinfo=UTC), mix_versions=True,
        ),
    ),
    (
        "funnel",
        {"by": "segment", "model_version": "imported"},
        lambda s: funnel_report(frame_from_store(s), ["segment"], model_version="imported"),
    ),
    ("quality", {}, lambda s: quality_report(frame_from_store(s))),
    (
        "quality",
        {"by": "region", "min_n": "5", "mix_versions": "true"},
        lambda s: quality_report(frame_from_store(s), ["region"], min_n=5, mix_versions=True),
    ),
    (
        "rejections",
        {},
        lambda s: rejection_report(
            history_from_store(s).frame, history=history_from_store(s), plans=store_plans(s)
        ),
    ),
    (
        "rejections",
        {"by": "persona", "model": "1", "mix_versions": "true"},
        lambda s: rejection_report(
            history_from_store(s).frame, ["persona"], history=history_from_store(s),
            plans=store_plans(s), plan=compile_model(store_model(s, "1")), mix_versions=True,
        ),
    ),
    ("speed", {}, lambda s: speed_report(frame_from_store(s))),
    (
        "speed",
        {"as_of": "2026-11-01", "model_version": "imported"},
        lambda s: speed_report(frame_from_store(s), as_of=NOW, model_version="imported"),
    ),
    (
        "compare",
        {"model_a": "1", "model_b": "2"},
        lambda s: compare_models(
            history_from_store(s), compile_model(store_model(s, "1")),
            compile_model(store_model(s, "2")),
        ),
    ),
    (
        "compare",
        {"model_a": "1", "model_b": "2", "since": "2026-08-01", "as_of": "2026-10-15"},
        lambda s: compare_models(
            history_from_store(s), compile_model(store_model(s, "1")),
            compile_model(store_model(s, "2")), since=datetime(2026, 8, 1, tzinfo=UTC),
            as_of=datetime(2026, 10, 15, tzinfo=UTC),
        ),
    ),
    (
        "targets",
        {"revenue": "2000000", "deal_size": "25000"},
        lambda s: funnel_targets(2_000_000, 25_000, frame=frame_from_store(s)),
    ),
    (
        "targets",
        {"revenue": "1200000", "deal_size": "20000", "rates": RATES, "period": "quarter"},
        lambda s: funnel_targets(1_200_000, 20_000, rates=parse_rates(RATES), period="quarter"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "query", "library"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_endpoint_answers_the_library_numbers(
    reports: Reports, name: str, query: dict[str, Any], library: Callable[[Any], Any]
) -> None:
    answer = reports.ok(f"/v1/reports/{name}", **query)
    assert answer == plain(library(reports.store))
    assert answer["report"] == name


def test_versions_are_separated_unless_mixed_and_filters_narrow(reports: Reports) -> None:
    separated = reports.ok("/v1/reports/funnel", by="channel")
    assert separated["by"] == ["channel", "model_version"]
    assert separated["model_versions"] == ["1", "2", "imported"]
    assert not separated["mixed_versions"]
    pooled = reports.ok("/v1/reports/funnel", by="channel", mix_versions="true")
    assert pooled["by"] == ["channel"] and pooled["mixed_versions"]
    assert pooled["total"]["mqls"] == separated["total"]["mqls"]

    # model_version: a label, a repeated parameter, or a comma-separated list.
    only = reports.ok("/v1/reports/funnel", model_version="2")
    assert only["model_versions"] == ["2"] and only["by"] == []
    two = reports.client.get(
        "/v1/reports/funnel?model_version=1&model_version=imported",
        headers=bearer(reports.keys["marketing"]),
    ).json()
    assert two["model_versions"] == ["1", "imported"]
    assert reports.ok("/v1/reports/funnel", model_version="1,imported") == two
    assert two["total"]["mqls"] < pooled["total"]["mqls"]

    # The window: fewer MQLs in a narrower window; an empty window has none.
    window = reports.ok("/v1/reports/funnel", mix_versions="true", since="2026-09-01")
    assert 0 < window["total"]["mqls"] < pooled["total"]["mqls"]
    assert window["since"] == "2026-09-01T00:00:00+00:00"
    empty = reports.ok("/v1/reports/funnel", mix_versions="true", since="2030-01-01")
    assert empty["total"]["mqls"] == 0 and empty["total"]["leads"] == 0


def test_every_role_reads_reports(reports: Reports) -> None:
    first = reports.ok("/v1/reports/quality", role="admin")
    for role in ("marketing", "sales", "read-only"):
        assert reports.ok("/v1/reports/quality", role=role) == first


BAD = [
    ("funnel", {"by": "channel,colour"}, "by", "unknown dimension 'colour' (choose from"),
    ("quality", {"by": "nope"}, "by", "unknown dimension 'nope'"),
    ("funnel", {"since": "yesterday"}, "since", "expected an ISO 8601 time"),
    ("speed", {"until": "2026-13-01"}, "until", "expected an ISO 8601 time"),
    ("speed", {"as_of": "soon"}, "as_of", "expected an ISO 8601 time"),
    ("funnel", {"model_version": "9"}, "model_version", "model version '9' has no leads here"),
    ("rejections", {"model_version": "zz"}, "model_version", "model version 'zz' has no leads"),
    ("rejections", {"model": "7"}, "model", "no published model version '7'"),
    ("funnel", {"mix_versions": "maybe"}, "mix_versions", "valid boolean"),
    ("quality", {"min_n": "-1"}, "min_n", "greater than or equal to 0"),
    ("compare", {"model_a": "1"}, "model_b", "Field required"),
    ("compare", {"model_a": "9", "model_b": "2"}, "model_a", "no published model version '9'"),
    ("compare", {"model_a": "1", "model_b": "../../etc/passwd"}, "model_b", "no published"),
    ("targets", {"deal_size": "10"}, "revenue", "Field required"),
    ("targets", {"revenue": "0", "deal_size": "10"}, "revenue", "greater than 0"),
    ("targets", {"revenue": "10", "deal_size": "x"}, "deal_size", "valid number"),
    ("targets", {"revenue": "10", "deal_size": "1", "period": "week"}, "period", "'month'"),
    ("targets", {"revenue": "10", "deal_size": "1", "rates": "lead:mql=2"}, "rates",
     "lead:mql: a conversion rate must be in (0, 1], got 2"),
    ("targets", {"revenue": "10", "deal_size": "1", "rates": "lead:mql=.5"}, "rates",
     "missing mql:sal"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "query", "field", "message"),
    BAD,
    ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)],
)
def test_bad_query_values_are_422_naming_the_parameter(
    reports: Reports, name: str, query: dict[str, Any], field: str, message: str
) -> None:
    response = reports.get(f"/v1/reports/{name}", **query)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert body["field"] == field
    assert message in body["message"]
    assert "--" not in body["message"].split(":")[0]  # no CLI option names over HTTP


def test_reports_on_an_empty_store(api) -> None:  # type: ignore[no-untyped-def]
    for name in ("funnel", "quality", "rejections", "speed"):
        response = api.call("GET", f"/v1/reports/{name}", role="read-only")
        assert response.status_code == 200, (name, response.text)
    funnel = api.call("GET", "/v1/reports/funnel", role="sales").json()
    assert funnel["total"]["leads"] == 0 and funnel["total"]["mql:sql"] is None
    given = api.call(
        "GET", "/v1/reports/targets", role="sales",
        params={"revenue": 300_000, "deal_size": 25_000, "period": "year", "rates": RATES},
    ).json()  # fmt: skip
    # 12 wins a year at 25% opp:won -> 48 opps -> 80 SQLs -> 160 SALs -> 229 MQLs -> 1145 leads.
    assert [given["rows"][0][k] for k in ("wins", "opps", "sqls", "sals", "mqls", "leads")] == [
        12, 48, 80, 160, 229, 1145,
    ]  # fmt: skip


def test_rejections_reuse_the_history_until_an_event_arrives(api) -> None:  # type: ignore[no-untyped-def]
    api.publish()
    assert (
        api.call("PUT", "/v1/leads/L1", "marketing", json={"title": "vp sales"}).status_code == 200
    )
    demo = {"lead_id": "L1", "type": "demo_request", "timestamp": "2026-11-19T12:00:00Z"}
    assert api.call("POST", "/v1/events", "marketing", json=demo).json()["stage"] == "mql"
    reject = {"action": "reject", "reason": "no_intent"}
    assert api.call("POST", "/v1/leads/L1/disposition", "sales", json=reject).status_code == 200
    caches = api.client.app.state.config.report_cache()

    def rejections() -> dict[str, Any]:
        response = api.call("GET", "/v1/reports/rejections", role="read-only")
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        expected = rejection_report(
            history_from_store(api.store).frame, history=history_from_store(api.store),
            plans=store_plans(api.store),
        )  # fmt: skip
        assert answer == plain(expected)
        return answer

    first = rejections()
    assert [r["group"] for r in first["by"]["top_rule"]] == ["fit: vp"]  # 20 > one demo, decayed
    assert rejections() == first
    assert caches.histories.builds == 1 and caches.plans.builds == 1
    # A second demo before the handoff: replayed at its MQL time, demos now contribute most.
    earlier = {"lead_id": "L1", "type": "demo_request", "timestamp": "2026-11-19T13:00:00Z"}
    assert api.call("POST", "/v1/events", "marketing", json=earlier).status_code == 200
    second = rejections()
    assert caches.histories.builds == 2 and caches.plans.builds == 1
    assert [r["group"] for r in second["by"]["top_rule"]] == ["engagement: demo"]
