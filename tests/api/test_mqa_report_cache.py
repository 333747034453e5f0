"""``GET /v1/reports/mqa`` is kept between requests (the report cache) and computed again when
a write changes what it reads: an account disposition (account stages are not in the funnel
frame's fingerprint)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

from abm_store import AS_OF, load_abm_store, make_abm_folder
from api_helpers import Clock, bearer, role_keys
from leadgate.api.app import create_app
from leadgate.report.mqa_store import mqa_report_from_store
from leadgate.service.accounts import mqa_queue
from leadgate.store import open_store


def _fresh(store: object) -> object:
    return json.loads(json.dumps(mqa_report_from_store(store, by=["tier"]).to_dict(), default=str))


def test_mqa_report_is_kept_until_an_account_write_changes_it(tmp_path: Path) -> None:
    folder = make_abm_folder(tmp_path, n_leads=150, seed=3)
    url = str(tmp_path / "abm.db")
    with open_store(url) as store:
        load_abm_store(folder, store, keep_in_queue=2)
    api = create_app(url, clock=Clock(AS_OF + timedelta(days=1)))
    store, frames = api.state.config.store, api.state.config.report_cache().frames
    keys = role_keys(store)
    client = TestClient(api)

    def get() -> Response:
        return client.get("/v1/reports/mqa", params={"by": "tier"}, headers=bearer(keys["sales"]))

    first = get()
    assert first.status_code == 200, first.text
    done = frames.derivations
    again = get()
    assert again.json() == first.json() and frames.derivations == done  # the kept answer
    assert first.json() == _fresh(store)
    queued = mqa_queue(store, as_of=AS_OF + timedelta(days=1))
    assert queued, "the store keeps MQAs in the queue"
    moved = client.post(
        f"/v1/accounts/{queued[0].account_id}/disposition",
        json={"action": "accept"}, headers=bearer(keys["admin"]),
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    after = get()
    assert frames.derivations == done + 1  # the write moved the fingerprint: computed again
    assert after.json() == _fresh(store) and after.json() != first.json()
    store.close()
