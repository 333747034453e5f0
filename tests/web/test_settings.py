"""The settings page's forms over HTTP: keys shown once and revoked, webhooks added, tested
against a real receiver and removed, reject reasons changed."""

from __future__ import annotations

import re

from api_helpers import receiver
from leadgate.service import reject_reasons
from leadgate.service.keys import list_keys
from leadgate.webhooks.registry import list_webhooks
from leadgate.webhooks.signing import SIGNATURE_HEADER, sign
from web_helpers import csrf_of, sign_in


def test_a_new_key_is_shown_once_and_can_be_revoked(web) -> None:
    admin = web.client("admin")
    token = csrf_of(admin.get("/app/settings").text)
    made = admin.post(
        "/app/settings/keys", data={"csrf": token, "do": "create", "role": "sales", "name": "Dana <SDR>"}
    )  # fmt: skip
    assert made.status_code == 200
    key = re.search(r'id="token" type="text" readonly value="(lg_[^"]+)"', made.text).group(1)  # type: ignore[union-attr]
    assert "Dana &lt;SDR&gt;" in made.text
    assert key not in admin.get("/app/settings").text  # never shown again
    dana = web.client()
    sign_in(dana, key)
    assert dana.get("/app/queue").status_code == 200
    ident = next(k.id for k in list_keys(web.store) if k.name == "Dana <SDR>")
    revoked = admin.post(
        "/app/settings/keys", data={"csrf": token, "do": "revoke", "key": str(ident)},
        follow_redirects=True,
    )  # fmt: skip
    assert "revoked key" in revoked.text
    assert dana.get("/app/queue", follow_redirects=False).status_code == 303
    bad = admin.post("/app/settings/keys", data={"csrf": token, "do": "create", "role": "boss"})
    assert bad.status_code == 422 and "unknown role" in bad.text


def test_webhooks_add_test_log_and_remove(web) -> None:
    admin = web.client("admin")
    token = csrf_of(admin.get("/app/settings").text)
    with receiver() as hook:
        added = admin.post(
            "/app/settings/webhooks",
            data={"csrf": token, "do": "add", "url": hook.url, "topic": "lead.mql"},
        )
        assert added.status_code == 200
        secret = re.search(
            r'id="secret-out" type="text" readonly value="([^"]+)"', added.text
        ).group(1)  # type: ignore[union-attr]
        webhook = next(h for h in list_webhooks(web.store) if h.url == hook.url)
        assert webhook.topics == ("lead.mql",)
        tested = admin.post(
            "/app/settings/webhooks",
            data={"csrf": token, "do": "test", "webhook": str(webhook.id)}, follow_redirects=True,
        )  # fmt: skip
        assert "test message delivered" in tested.text
        (hit,) = hook.wait_for(1)
        assert hit.json["topic"] == "webhook.test"
        assert hit.headers[SIGNATURE_HEADER] == sign(secret, hit.body)
    down = admin.post(
        "/app/settings/webhooks",
        data={"csrf": token, "do": "test", "webhook": str(webhook.id)}, follow_redirects=True,
    )  # fmt: skip
    assert "failed" in down.text  # the receiver is gone: the error is shown, nothing crashes
    log = admin.get(f"/app/settings?log={webhook.id}")
    assert log.status_code == 200 and f"Delivery log of webhook {webhook.id}" in log.text
    gone = admin.post(
        "/app/settings/webhooks",
        data={"csrf": token, "do": "remove", "webhook": str(webhook.id)}, follow_redirects=True,
    )  # fmt: skip
    assert "removed" in gone.text
    assert all(h.id != webhook.id for h in list_webhooks(web.store))
    refused = admin.post(
        "/app/settings/webhooks", data={"csrf": token, "do": "add", "url": "ftp://x"}
    )
    assert refused.status_code == 422 and "http(s) URL" in refused.text


def test_reject_reasons_change(web) -> None:
    admin = web.client("admin")
    token = csrf_of(admin.get("/app/settings").text)
    data = {"csrf": token, "do": "add", "code": "timing", "target": "nurture"}
    admin.post("/app/settings/reasons", data=data)
    assert reject_reasons(web.store)["timing"] == "nurture"
    assert "timing" in web.client("sales").get("/app/queue").text  # offered to sales at once
    admin.post("/app/settings/reasons", data={"csrf": token, "do": "remove", "code": "timing"})
    assert "timing" not in reject_reasons(web.store)
    bad = admin.post("/app/settings/reasons", data={**data, "code": "no way!"})
    assert bad.status_code == 422
    admin.post("/app/settings/reasons", data={"csrf": token, "do": "reset"})
    assert "other" in reject_reasons(web.store)


def test_send_test_respects_the_webhook_target_allow_list(web, monkeypatch) -> None:
    admin = web.client("admin")
    token = csrf_of(admin.get("/app/settings").text)
    with receiver() as hook:
        admin.post(
            "/app/settings/webhooks",
            data={"csrf": token, "do": "add", "url": hook.url, "topic": "lead.mql"},
        )
        webhook = next(h for h in list_webhooks(web.store) if h.url == hook.url)
        monkeypatch.delenv("LEADGATE_WEBHOOKS_ALLOW")  # loopback is no longer allowed
        tested = admin.post(
            "/app/settings/webhooks",
            data={"csrf": token, "do": "test", "webhook": str(webhook.id)}, follow_redirects=True,
        )  # fmt: skip
        assert "refused target" in tested.text and "loopback" in tested.text
        assert "test message delivered" not in tested.text
        assert hook.hits == []  # nothing was sent
    admin.post(
        "/app/settings/webhooks", data={"csrf": token, "do": "remove", "webhook": str(webhook.id)}
    )
