"""Failed-authentication throttling: 429 with Retry-After after the limit, per client address,
for a sliding minute; configurable (``create_app(auth_failures_per_minute=...)`` and
``leadgate serve --auth-failures``)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from api_helpers import bearer, live_server, role_keys
from leadgate.api.app import create_app
from leadgate.api.throttle import AuthThrottle

WRONG = bearer("lg_00000000_not-a-real-secret")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_addresses_are_separate() -> None:
    clock = FakeClock()
    throttle = AuthThrottle(3, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.failed("10.0.0.1")
        clock.now += 10
    assert throttle.retry_after("10.0.0.1") == 30  # the first failure leaves the window at 1060
    assert throttle.retry_after("10.0.0.2") is None  # another address is not affected
    clock.now = 1060.5
    assert throttle.retry_after("10.0.0.1") is None  # one failure left the window: one more try
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 10
    off = AuthThrottle(0, clock=clock)
    for _ in range(100):
        off.failed("10.0.0.1")
    assert off.retry_after("10.0.0.1") is None


def test_failed_keys_get_429_with_retry_after_by_default(store_url: str) -> None:
    app = create_app(store_url)  # the default: at most 20 failures a minute
    store = app.state.config.store
    keys = role_keys(store)
    with TestClient(app, raise_server_exceptions=False) as client:
        # A wrong role (403) and a missing header are not guesses: they do not count.
        for _ in range(25):
            assert client.get("/v1/keys", headers=bearer(keys["sales"])).status_code == 403
            assert client.get("/v1/whoami").status_code == 401
        statuses = [client.get("/v1/whoami", headers=WRONG).status_code for _ in range(21)]
        assert statuses == [401] * 20 + [429]
        refused = client.get("/v1/whoami", headers=bearer(keys["admin"]))
        assert refused.status_code == 429  # a right key too: telling them apart is the guess
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"] == "too_many_requests"
        assert client.get("/healthz").status_code == 200  # no key needed, never throttled
    store.close()


def test_the_limit_is_configurable_on_a_live_server(store_url: str) -> None:
    with (
        live_server(store_url, auth_failures_per_minute=3) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        statuses = [http.get("/v1/whoami", headers=WRONG).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert int(http.get("/v1/whoami", headers=WRONG).headers["Retry-After"]) <= 60
