"""The web app over HTTP (no browser): sessions, CSRF, roles refused by the server, escaping,
lead ids with URL characters, every page answering."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from leadgate.service.keys import revoke_key
from leadgate.web.guard import lead_url
from leadgate.web.session import Sessions
from web_helpers import ODD_ID, SCRIPT_TITLE, SLASH_ID, csrf_of


def test_pages_need_a_session(web) -> None:
    client = web.client()
    answer = client.get("/app/queue?segment=default", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?next=" + quote(
        "/app/queue?segment=default", safe=""
    )
    assert client.post("/app/queue/dispose", data={"lead": "x"}).status_code == 403


def test_session_cookie_flags_and_sign_out(web) -> None:
    client = web.client()
    form = client.get("/app/login")
    answer = client.post(
        "/app/login", data={"csrf": csrf_of(form.text), "key": web.keys["sales"]},
        follow_redirects=False,
    )  # fmt: skip
    cookie = answer.headers["set-cookie"].lower()
    assert "lg_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "path=/app" in cookie and "max-age=" in cookie and "secure" not in cookie
    page = client.get("/app/queue")
    assert page.status_code == 200 and "Sign out" in page.text
    old = dict(client.cookies)
    out = client.post("/app/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.update(old)  # the old cookie is dead on the server, not only in the browser
    assert client.get("/app/queue", follow_redirects=False).status_code == 303


def test_cookie_is_secure_over_https(web) -> None:
    client = web.client(https=True)
    form = client.get("/app/login")
    answer = client.post(
        "/app/login", data={"csrf": csrf_of(form.text), "key": web.keys["admin"]},
        follow_redirects=False,
    )  # fmt: skip
    assert "secure" in answer.headers["set-cookie"].lower()


def test_wrong_key_and_sign_in_without_csrf(web) -> None:
    client = web.client()
    form = client.get("/app/login")
    bad = client.post("/app/login", data={"csrf": csrf_of(form.text), "key": "lg_nope_nope"})
    assert bad.status_code == 401 and "not valid" in bad.text
    assert client.post("/app/login", data={"key": web.keys["admin"]}).status_code == 403


def test_failed_sign_ins_are_throttled_per_address_with_the_apis_counter(web_db) -> None:
    from fastapi.testclient import TestClient

    from api_helpers import Clock, role_keys
    from leadgate.api.app import create_app
    from web_helpers import NOW

    app = create_app(web_db, clock=Clock(NOW), auth_failures_per_minute=3)
    keys = role_keys(app.state.config.store)
    try:
        client = TestClient(app)
        token = csrf_of(client.get("/app/login").text)
        for _ in range(2):
            bad = client.post("/app/login", data={"csrf": token, "key": "lg_nope_nope"})
            assert bad.status_code == 401
        # The API's guesses count too: the third failure, at /v1, reaches the limit.
        api = client.get("/v1/whoami", headers={"Authorization": "Bearer lg_nope_nope"})
        assert api.status_code == 401
        held = client.post("/app/login", data={"csrf": token, "key": keys["admin"]})
        assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in held.text and "lg_session" not in held.headers.get(
            "set-cookie", ""
        )
        assert "<form" in held.text  # the sign-in page, not a bare error
        other = TestClient(app, client=("10.9.8.7", 50000))  # another address is not held
        form = other.get("/app/login").text
        ok = other.post(
            "/app/login", data={"csrf": csrf_of(form), "key": keys["admin"]},
            follow_redirects=False,
        )  # fmt: skip
        assert ok.status_code == 303
    finally:
        app.state.config.store.close()


def test_next_never_leaves_the_app(web) -> None:
    client = web.client()
    form = client.get("/app/login?next=//evil.example/x")
    assert 'value="/app"' in form.text
    answer = client.post(
        "/app/login", data={"csrf": csrf_of(form.text), "key": web.keys["admin"],
                            "next": "https://evil.example/"}, follow_redirects=False,
    )  # fmt: skip
    assert answer.headers["location"] == "/app"


def test_revoked_key_ends_its_sessions(web) -> None:
    from leadgate.service.keys import create_key
    from web_helpers import sign_in

    made = create_key(web.store, "sales", name="short-lived")
    client = web.client()
    sign_in(client, made.token)
    assert client.get("/app/queue").status_code == 200
    revoke_key(web.store, str(made.key.id))
    assert client.get("/app/queue", follow_redirects=False).status_code == 303


def test_sessions_expire() -> None:
    sessions = Sessions(idle=0.0)
    assert sessions.get(sessions.create("t").sid) is None
    sessions = Sessions(idle=60, longest=0.0)
    assert sessions.get(sessions.create("t").sid) is None
    live = Sessions()
    s = live.create("t")
    assert live.get(s.sid) is s and live.get("forged") is None


@pytest.mark.parametrize(
    ("role", "path", "data"),
    [
        ("read-only", "/app/queue/dispose", {"lead": SLASH_ID, "action": "accept"}),
        ("sales", "/app/model/draft", {"yaml": "x: 1\n", "do": "publish", "note": "n"}),
        ("marketing", "/app/model/draft", {"yaml": "x: 1\n", "do": "publish", "note": "n"}),
        ("marketing", "/app/settings/keys", {"role": "admin", "do": "create"}),
        ("sales", "/app/settings/reasons", {"do": "reset"}),
    ],
)
def test_server_refuses_what_a_role_may_not_do(
    web, role: str, path: str, data: dict[str, str]
) -> None:
    client = web.client(role)
    token = csrf_of(client.get("/app/leads").text)  # a valid token: only the role is wrong
    answer = client.post(path, data={**data, "csrf": token}, follow_redirects=False)
    assert answer.status_code == 403, answer.text
    assert f"role '{role}'" in answer.text.replace("&#39;", "'")


def test_pages_hide_what_a_role_may_not_do(web) -> None:
    sales = web.client("sales").get("/app/queue").text
    assert 'href="/app/model"' not in sales and 'href="/app/settings"' not in sales
    assert 'value="accept"' in sales
    reader = web.client("read-only").get("/app/queue").text
    assert 'value="accept"' not in reader and 'action="/app/queue/dispose"' not in reader
    marketing = web.client("marketing").get("/app/model").text
    assert 'value="preview"' in marketing and 'value="publish"' not in marketing
    assert 'value="publish"' in web.client("admin").get("/app/model").text
    assert 'value="preview"' not in web.client("read-only").get("/app/model").text


@pytest.mark.parametrize("field", [None, "wrong"])
def test_post_without_the_csrf_token_is_refused(web, field: str | None) -> None:
    client = web.client("admin")
    data = {"lead": SLASH_ID, "action": "accept"}
    if field:
        data["csrf"] = field
    answer = client.post("/app/queue/dispose", data=data, follow_redirects=False)
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert client.post("/app/settings/reasons", data={"do": "reset"}).status_code == 403


def test_user_text_is_escaped(web) -> None:
    client = web.client("admin")
    page = client.get(lead_url(SLASH_ID)).text
    assert SCRIPT_TITLE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Bold</b>" not in page and "Acme &amp; &lt;Sons&gt;" in page
    found = client.get("/app/leads", params={"q": "acme-corp"}).text
    assert SLASH_ID in found and "<b>Bold</b>" not in found
    queue = client.get("/app/queue").text
    assert "&lt;script&gt;" in queue and SCRIPT_TITLE not in queue
    echoed = client.get("/app/leads", params={"q": "<img src=x onerror=alert(1)>"}).text
    assert "<img src=x" not in echoed


@pytest.mark.parametrize("lead_id", [SLASH_ID, ODD_ID])
def test_lead_ids_with_url_characters_open(web, lead_id: str) -> None:
    client = web.client("sales")
    page = client.get(lead_url(lead_id))
    assert page.status_code == 200 and "data-total=" in page.text
    api = client.get(
        "/v1/leads/" + quote(lead_id, safe=""),
        headers={"Authorization": f"Bearer {web.keys['sales']}"},
    )
    assert api.status_code == 200 and api.json()["lead_id"] == lead_id


@pytest.mark.parametrize(
    "path",
    ["/app/queue", "/app/queue?sort=score&dir=desc&segment=default", "/app/queue?sort=age",
     "/app/leads", "/app/leads?q=L00001", "/app/model", "/app/model?a=1&b=1", "/app/settings",
     "/app/settings?log=1", *(f"/app/reports?view={v}" for v in
     ("funnel", "quality", "rejections", "speed", "compare", "calibration", "targets")),
     "/app/reports?view=funnel&by=segment&by=cohort&rate=mql:sal"],
)  # fmt: skip
def test_every_page_answers(web, path: str) -> None:
    answer = web.client("admin").get(path)
    assert answer.status_code == 200, answer.text[-2000:]
    assert "Content-Security-Policy" in answer.headers


@pytest.mark.parametrize(
    ("path", "status"),
    [("/app/leads/no-such-lead", 404), ("/app/reports?view=targets&revenue=-5", 422),
     ("/app/reports?view=calibration&target=nonsense", 422),
     ("/app/reports?view=targets&revenue=abc", 422), ("/app/model?a=999&b=1", 200)],
)  # fmt: skip
def test_bad_input_is_a_page_not_a_crash(web, path: str, status: int) -> None:
    answer = web.client("admin").get(path)
    assert answer.status_code == status
    assert 'role="alert"' in answer.text


def test_a_report_page_is_computed_once_until_the_store_changes(web) -> None:
    admin = web.client("admin")
    frames = web.app.state.config.report_cache().frames
    first = admin.get("/app/reports?view=quality&by=segment")
    assert first.status_code == 200
    done = frames.derivations
    again = admin.get("/app/reports?view=quality&by=segment")
    assert frames.derivations == done and again.text == first.text  # the kept result
    other = admin.get("/app/reports?view=quality&by=channel")  # other form values: computed
    assert other.status_code == 200 and frames.derivations == done + 1
    from leadgate.service import upsert_lead

    upsert_lead(web.store, "new-lead-for-reports", {"source": "partner"}, web.clock())
    admin.get("/app/reports?view=quality&by=segment")
    assert frames.derivations == done + 2  # the store changed: computed again
