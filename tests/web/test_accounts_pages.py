"""``/app/accounts`` (the MQA queue) and ``/app/accounts/{id}`` in-process: content, roles,
dispositions, escaping; over a store of synthetic ABM data (tests/abm_store.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from abm_store import AS_OF, KEEP, AbmTruth, build_abm_db
from api_helpers import Clock, bearer, role_keys
from leadgate.api.app import create_app
from leadgate.service.accounts import get_account
from web_helpers import csrf_of, sign_in


class AbmWeb:
    def __init__(self, app: object, truth: AbmTruth, keys: dict[str, str]) -> None:
        self.app, self.truth, self.keys = app, truth, keys

    def client(self, role: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=True)  # type: ignore[arg-type]
        sign_in(client, self.keys[role])
        return client


@pytest.fixture(scope="module")
def abm_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AbmWeb]:
    url, truth = build_abm_db(tmp_path_factory.mktemp("abm-web"))
    app = create_app(url, clock=Clock(AS_OF))
    store = app.state.config.store
    yield AbmWeb(app, truth, role_keys(store))
    store.close()


def test_queue_lists_the_mqas_the_api_lists(abm_web: AbmWeb) -> None:
    client = abm_web.client("sales")
    html = client.get("/app/accounts").text
    api = client.get("/v1/mqas", headers=bearer(abm_web.keys["sales"])).json()
    queued = abm_web.truth.mqas[:KEEP]
    assert sorted(i["account_id"] for i in api) == sorted(queued)
    for aid in queued:
        assert f'data-account="{aid}"' in html
    assert 'href="/app/accounts"' in html and "MQA queue" in html
    assert "Accept" in html and "Reject" in html and "buying group" in html
    # sorted by score (highest first) by default, as the API's queue is
    order = [html.index(f'data-account="{i["account_id"]}"') for i in api]
    assert order == sorted(order)
    # filters: ABM only, and a tier no account has
    abm = client.get("/app/accounts", params={"abm": "yes"}).text
    for aid in queued:
        wanted = abm_web.truth.tier[aid] in ("1", "2")
        assert (f'data-account="{aid}"' in abm) == wanted
    assert "No accounts waiting with these filters" in client.get(
        "/app/accounts", params={"tier": "9"}).text  # fmt: skip
    by_age = client.get("/app/accounts", params={"sort": "age", "dir": "desc"})
    assert by_age.status_code == 200 and 'aria-sort="descending"' in by_age.text


def test_read_only_sees_no_actions_and_may_not_post(abm_web: AbmWeb) -> None:
    client = abm_web.client("read-only")
    html = client.get("/app/accounts").text
    assert "Accounts" in html and 'name="action"' not in html
    aid = abm_web.truth.mqas[0]
    page = client.get(f"/app/accounts/{aid}").text
    assert "Record a disposition" not in page
    answer = client.post(f"/app/accounts/{aid}/dispose",
                         data={"csrf": csrf_of(page), "action": "accept"}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 403
    anonymous = TestClient(abm_web.app)  # type: ignore[arg-type]
    assert anonymous.get("/app/accounts", follow_redirects=False).status_code == 303


def test_account_page_shows_roles_waterfall_lacks_and_leads(abm_web: AbmWeb) -> None:
    client = abm_web.client("sales")
    aid = abm_web.truth.mqas[0]
    html = client.get(f"/app/accounts/{aid}").text
    store = abm_web.app.state.config.store  # type: ignore[attr-defined]
    view = get_account(store, aid)
    api = client.get(f"/v1/accounts/{aid}", headers=bearer(abm_web.keys["sales"])).json()
    assert api["score"] == view.score
    roles = view.score["buying_group"]["roles"]  # type: ignore[index]
    for name, role in roles.items():
        assert f'data-role="{name}"' in html
        assert f"{role['filled']} of {role['required']}" in html
        for member in role["members"]:
            assert f'href="/app/leads/{member}"' in html
    for lack in view.explanation["lacks"]:  # type: ignore[index]
        assert lack["text"] in html
    for m in view.members:
        assert f'data-member="{m.lead_id}"' in html
    assert "Score, rule by rule" in html and "MQA line" in html and "<svg" in html
    steps = [float(x) for x in __import__("re").findall(r'data-points="([^"]+)"', html)]
    assert abs(sum(steps) - view.score["total"]) < 1e-6  # type: ignore[index]
    assert "Record a disposition" in html


def test_missing_roles_are_shown(abm_web: AbmWeb) -> None:
    client = abm_web.client("sales")
    store = abm_web.app.state.config.store  # type: ignore[attr-defined]
    for aid in abm_web.truth.tier:
        view = get_account(store, aid)
        roles = ((view.score or {}).get("buying_group") or {}).get("roles") or {}
        short = [n for n, r in roles.items() if r["filled"] < r["required"]]
        if short:
            html = client.get(f"/app/accounts/{aid}").text
            assert "missing" in html and f"role {short[0]}:" in html
            return
    pytest.fail("no account lacks a role")


def test_dispositions_from_the_queue_and_the_page(abm_web: AbmWeb) -> None:
    client = abm_web.client("sales")
    first, second = abm_web.truth.mqas[KEEP - 1], abm_web.truth.mqas[KEEP - 2]
    queue = client.get("/app/accounts").text
    token = csrf_of(queue)
    no_reason = client.post(f"/app/accounts/{first}/dispose",
                            data={"csrf": token, "action": "reject", "back": "/app/accounts"})  # fmt: skip
    assert "needs a reason" in no_reason.text
    done = client.post(f"/app/accounts/{first}/dispose",
                       data={"csrf": token, "action": "reject", "reason": "no_intent",
                             "back": "/app/accounts"})  # fmt: skip
    assert done.status_code == 200 and f'data-account="{first}"' not in done.text
    page = client.post(f"/app/accounts/{second}/dispose",
                       data={"csrf": token, "action": "opportunity"})  # fmt: skip
    assert "opportunity" in page.text and f"/app/accounts/{second}" in str(page.url)
    wrong = client.post(f"/app/accounts/{second}/dispose", data={"csrf": token, "action": "accept"})
    assert "cannot accept" in wrong.text  # shown on the page, not a 500
    missing = client.get("/app/accounts/NOPE")
    assert missing.status_code == 404


def test_mqa_report_view(abm_web: AbmWeb) -> None:
    from leadgate.report.mqa_store import mqa_report_from_store

    client = abm_web.client("sales")
    html = client.get("/app/reports", params={"view": "mqa", "by": "tier"}).text
    assert "MQA / ABM" in html and "ABM (MQA)" in html and "inbound (MQL)" in html
    store = abm_web.app.state.config.store  # type: ignore[attr-defined]
    report = mqa_report_from_store(store, by=["tier"])
    abm = next(h for h in report.handoffs if h.group["handoff"] == "ABM (MQA)")
    assert f"<td>{abm.counts['handoffs']}</td>" in html
    assert "<svg" in html and "Wilson" in html
    bad = client.get("/app/reports", params={"view": "mqa", "by": "colour"})
    assert bad.status_code == 200  # an unknown group is ignored, as on the other views


def test_bulk_accept_from_the_queue(abm_web: AbmWeb) -> None:
    client = abm_web.client("sales")
    queue = client.get("/app/accounts").text
    assert 'id="bulk"' in queue and 'name="account"' in queue
    token = csrf_of(queue)
    waiting = [i["account_id"] for i in client.get(
        "/v1/mqas", headers=bearer(abm_web.keys["sales"])).json()]  # fmt: skip
    none = client.post("/app/accounts/dispose", data={"csrf": token, "action": "accept"})
    assert "no account chosen" in none.text
    picked = waiting[:2]
    done = client.post(
        "/app/accounts/dispose",
        data={"csrf": token, "action": "accept", "account": [*picked, "NOPE"]},
    )
    assert "2 accounts accepted" in done.text and "NOPE: no account" in done.text
    for aid in picked:
        view = client.get(f"/v1/accounts/{aid}", headers=bearer(abm_web.keys["sales"])).json()
        assert view["transitions"][-1]["action"] == "accept"
    reader = abm_web.client("read-only")
    refused = reader.post("/app/accounts/dispose",
                          data={"csrf": csrf_of(reader.get("/app/accounts").text),
                                "action": "accept", "account": picked[0]},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403
