"""The web app in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser). One server and one browser for the whole module; a signed-in context per role.

Screenshots of every page go to ``$LEADGATE_WEB_SCREENSHOTS`` (docs/img when refreshing the
docs), else to a temporary folder.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_helpers import Clock, role_keys
from leadgate.model import parse_model
from leadgate.service import mql_queue
from leadgate.store import open_store
from leadgate.web.guard import lead_url
from web_helpers import MODEL, NOW, SCRIPT_TITLE, SLASH_ID

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]
playwright_api = pytest.importorskip("playwright.sync_api")

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
DRAFT = (
    MODEL.read_text()
    .replace("version: 1", "version: 2", 1)
    .replace("threshold: 60 ", "threshold: 45 ", 1)
)


def _port() -> int:
    wanted = os.environ.get("LEADGATE_TEST_WEB_PORT")  # else any free port
    if wanted:
        return int(wanted)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    """The running server: its URL, store path, keys, and a browser context per role."""

    def __init__(self, url: str, db: str, keys: dict[str, str], browser: Any, shots: Path) -> None:
        self.url, self.db, self.keys, self.browser, self.shots = url, db, keys, browser, shots
        self._contexts: dict[str, Any] = {}

    def page(self, role: str, viewport: dict[str, int] = DESKTOP) -> Any:
        """A new tab signed in as ``role`` (one browser context, so one session, per role)."""
        key = f"{role}-{viewport['width']}"
        if key not in self._contexts:
            context = self.browser.new_context(viewport=viewport, base_url=self.url)
            # Signed in by the sign-in form's own two requests, with the context's cookies, not
            # by drawing the form and the queue it leads to (test_sign_in_and_sign_out draws).
            form = context.request.get("/app/login").text()
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None, form
            fields = {"csrf": token.group(1), "key": self.keys[role], "next": "/app/queue"}
            done = context.request.post("/app/login", form=fields, max_redirects=0)
            assert done.status == 303, done.text()
            self._contexts[key] = context
        return self._contexts[key].new_page()

    def shot(self, tab: Any, name: str, *, full: bool = False) -> None:
        tab.screenshot(path=str(self.shots / f"{name}.png"), full_page=full)

    def api(self, path: str, role: str = "admin") -> Any:
        answer = httpx.get(self.url + path, headers={"Authorization": f"Bearer {self.keys[role]}"})
        assert answer.status_code == 200, answer.text
        return answer.json()


@contextmanager
def _serving(app: Any, port: int) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on loopback ``port``; its URL. Closes its store."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.config.store.close()


@pytest.fixture(scope="module")
def site(web_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from leadgate.api.app import create_app

    shots = Path(os.environ.get("LEADGATE_WEB_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    app = create_app(web_db, clock=Clock(NOW))
    keys = role_keys(app.state.config.store)
    with _serving(app, _port()) as url, playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield Site(url, web_db, keys, browser, shots)
        finally:
            browser.close()


def test_sign_in_and_sign_out(site: Site) -> None:
    context = site.browser.new_context(viewport=DESKTOP, base_url=site.url)
    tab = context.new_page()
    tab.goto("/app/queue")
    assert "/app/login" in tab.url
    site.shot(tab, "login")
    tab.fill("#key", "lg_wrong_key")
    tab.click("button[type=submit]")
    assert "not valid" in tab.locator("[role=alert]").inner_text()
    tab.fill("#key", site.keys["sales"])
    tab.click("button[type=submit]")
    tab.wait_for_url("**/app/queue")
    assert tab.locator("h1").inner_text().startswith("MQL queue")
    cookie = next(c for c in context.cookies() if c["name"] == "lg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    tab.get_by_role("button", name="Sign out").click()
    tab.wait_for_url("**/app/login")
    tab.goto("/app/queue")
    assert "/app/login" in tab.url
    context.close()


def test_keyboard_reaches_the_skip_link_first(site: Site) -> None:
    tab = site.page("sales")
    tab.goto("/app/queue")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
    tab.close()


def _post_from_page(tab: Any, path: str, fields: dict[str, str]) -> int:
    """POST a urlencoded form from the page (its cookies), as a hand-made form would."""
    return int(
        tab.evaluate(
            """([path, fields]) => fetch(path, {method: 'POST', redirect: 'manual',
                 headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                 body: new URLSearchParams(fields)}).then(r => r.status)""",
            [path, fields],
        )
    )


def test_each_role_sees_and_may_do_only_its_own(site: Site) -> None:
    sales = site.page("sales")
    sales.goto("/app/queue")
    nav = sales.get_by_role("navigation", name="Main").inner_text()
    assert "Model" not in nav and "Settings" not in nav
    token = sales.locator("input[name=csrf]").first.get_attribute("value")
    draft = {"csrf": token, "yaml": DRAFT, "do": "publish", "note": "sneaky"}
    assert _post_from_page(sales, "/app/model/draft", draft) == 403
    sales.goto("/app/model")
    assert "403" in sales.title()
    reader = site.page("read-only")
    reader.goto("/app/queue")
    assert reader.get_by_role("button", name="Accept", exact=False).count() == 0
    assert reader.locator("form#bulk").count() == 0
    token = reader.locator("input[name=csrf]").first.get_attribute("value")
    lead = reader.locator("tr[data-lead]").first.get_attribute("data-lead")
    fields = {"csrf": token, "lead": lead, "action": "accept"}
    assert _post_from_page(reader, "/app/queue/dispose", fields) == 403
    marketing = site.page("marketing")
    marketing.goto("/app/model")
    assert marketing.get_by_role("button", name="Preview").count() == 1
    assert marketing.get_by_role("button", name="Publish").count() == 0
    for tab in (sales, reader, marketing):
        tab.close()


def test_post_without_csrf_token_is_refused(site: Site) -> None:
    tab = site.page("admin")
    tab.goto("/app/queue")
    lead = tab.locator("tr[data-lead]").first.get_attribute("data-lead")
    assert _post_from_page(tab, "/app/queue/dispose", {"lead": lead, "action": "accept"}) == 403
    assert _post_from_page(tab, "/app/settings/reasons", {"do": "reset", "csrf": "x"}) == 403
    tab.close()


def _dispositions(db: str, lead_id: str) -> list[Any]:
    from leadgate.service import get_lead

    with open_store(db) as store:
        return get_lead(store, lead_id).dispositions


def test_sdr_accepts_and_rejects_from_the_queue(site: Site) -> None:
    tab = site.page("sales")
    tab.goto("/app/queue?sort=score&dir=desc")
    site.shot(tab, "queue")
    rows = tab.locator("tr[data-lead]")
    first, second = rows.nth(0).get_attribute("data-lead"), rows.nth(1).get_attribute("data-lead")
    tab.get_by_role("button", name=f"Accept {first}", exact=True).click()
    assert "1 lead accepted" in tab.locator(".flash.ok").inner_text()
    tab.get_by_role("combobox", name=f"Reject reason for {second}").select_option("no_intent")
    tab.get_by_role("button", name=f"Reject {second}", exact=True).click()
    assert "rejected (no_intent)" in tab.locator(".flash.ok").inner_text()
    accepted, rejected = _dispositions(site.db, first), _dispositions(site.db, second)
    assert [d.action for d in accepted] == ["accept"]
    assert accepted[0].actor == "key:test-sales"
    assert [(d.action, d.reason) for d in rejected] == [("reject", "no_intent")]
    # in bulk: tick two, a reject without a reason is refused, then with one
    ids = [rows.nth(i).get_attribute("data-lead") for i in (0, 1)]
    for lead_id in ids:
        tab.get_by_label(f"Tick {lead_id}", exact=True).check()
    tab.get_by_role("button", name="Reject ticked").click()
    assert "needs a reason" in tab.locator(".flash.error").inner_text()
    for lead_id in ids:
        tab.get_by_label(f"Tick {lead_id}", exact=True).check()
    tab.locator("#bulk-reason").select_option("wrong_title")
    tab.get_by_role("button", name="Reject ticked").click()
    assert "2 leads rejected (wrong_title)" in tab.locator(".flash.ok").inner_text()
    for lead_id in ids:
        assert [(d.action, d.reason) for d in _dispositions(site.db, lead_id)] == [
            ("reject", "wrong_title")
        ]
        assert tab.locator(f'tr[data-lead="{lead_id}"]').count() == 0
    tab.close()


def _cli_dry_run(db: str, tmp: Path) -> dict[str, Any]:
    path = tmp / "draft.yaml"
    path.write_text(DRAFT)
    out = subprocess.run(
        [sys.executable, "-m", "leadgate", "models", "publish", str(path), "--dry-run", "--json",
         "--db", db, "--as-of", NOW.isoformat()],
        capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    return json.loads(out.stdout)["summary"]  # type: ignore[no-any-return]


def test_marketing_validates_previews_and_matches_the_cli(site: Site, tmp_path: Path) -> None:
    tab = site.page("marketing")
    tab.goto("/app/model")
    broken = DRAFT.replace("points: 15\n", "points: lots\n", 1)
    with pytest.raises(Exception) as info:
        parse_model(broken, "draft")
    expected = info.value.problems[0]  # type: ignore[attr-defined]
    tab.fill("#yaml", broken)
    tab.get_by_role("button", name="Validate").click()
    problem = tab.locator("ul.problems li").first
    assert problem.get_attribute("data-line") == str(expected.line)
    assert problem.get_attribute("data-column") == str(expected.column)
    assert f"draft:{expected.line}:{expected.column}:" in problem.inner_text()
    site.shot(tab, "model-validate")
    tab.fill("#yaml", DRAFT)
    tab.get_by_role("button", name="Preview").click()
    entering = int(tab.locator("[data-entering]").get_attribute("data-entering"))
    leaving = int(tab.locator("[data-leaving]").get_attribute("data-leaving"))
    site.shot(tab, "model-preview", full=True)
    cli = _cli_dry_run(site.db, tmp_path)
    assert (entering, leaving) == (cli["starts_qualifying"], cli["stops_qualifying"])
    assert entering > 0
    assert tab.locator("#preview table").nth(0).locator("tbody tr").count() >= 1
    tab.close()


def test_admin_publishes_with_a_note_and_the_queue_changes(site: Site) -> None:
    with open_store(site.db) as store:
        before = {q.lead_id for q in mql_queue(store, as_of=NOW)}
    tab = site.page("admin")
    tab.goto("/app/model")
    tab.fill("#yaml", DRAFT)
    tab.get_by_role("button", name="Publish").click()
    assert "change note is needed" in tab.locator("[role=alert]").inner_text()
    tab.fill("#note", "lower the line to 45 for Q4 <pipeline>")
    tab.get_by_role("button", name="Publish").click()
    tab.wait_for_url("**/app/model")
    assert "published b2b-inbound 2" in tab.locator(".flash.ok").inner_text()
    assert "lower the line to 45 for Q4 <pipeline>" in tab.locator("table").first.inner_text()
    with open_store(site.db) as store:
        after = {q.lead_id for q in mql_queue(store, as_of=NOW)}
    assert after > before
    tab.goto("/app/queue")
    shown = int(tab.locator("h1 small").inner_text().split()[0].replace(",", ""))
    assert shown == len(after)
    tab.goto("/app/model?a=1&b=2")
    assert "changed threshold: 60.0 -> 45.0" in tab.locator("ul.changes").inner_text()
    site.shot(tab, "model", full=True)
    tab.close()


def test_waterfalls_sum_to_the_api_total(site: Site) -> None:
    with open_store(site.db) as store, store.read() as conn:
        ids = sorted(r[0] for r in conn.exec_driver_sql(
            "SELECT lead_id FROM leads WHERE duplicate_of IS NULL"))  # fmt: skip
    tab = site.page("read-only")
    for lead_id in random.Random(13).sample(ids, 20):
        tab.goto(lead_url(lead_id))
        points = tab.eval_on_selector_all("tr.step", "rows => rows.map(r => r.dataset.points)")
        total = site.api("/v1/leads/" + lead_url(lead_id).rsplit("/", 1)[1])["score"]["total"]
        assert sum(float(p) for p in points) == pytest.approx(total, abs=1e-9), lead_id
        shown = tab.locator("[data-waterfall-total]").get_attribute("data-waterfall-total")
        assert float(shown) == pytest.approx(total, abs=1e-12)
    tab.close()


def test_script_title_is_text_and_slash_id_opens(site: Site) -> None:
    tab = site.page("sales")
    dialogs: list[Any] = []
    tab.on("dialog", lambda d: (dialogs.append(d), d.dismiss()))
    tab.goto("/app/leads?q=acme")
    tab.get_by_role("link", name=SLASH_ID).click()
    assert tab.locator("h1 small").inner_text() == SLASH_ID
    assert SCRIPT_TITLE in tab.locator("dl.profile").inner_text()
    assert tab.locator("dl.profile script").count() == 0 and not dialogs
    site.shot(tab, "lead", full=True)
    tab.close()


PAGES = {
    "leads": "/app/leads?q=chen",
    "reports-funnel": "/app/reports?view=funnel&by=channel",
    "reports-quality": "/app/reports?view=quality",
    "reports-rejections": "/app/reports?view=rejections",
    "reports-speed": "/app/reports?view=speed",
    "reports-compare": "/app/reports?view=compare",
    "reports-calibration": "/app/reports?view=calibration",
    "reports-targets": "/app/reports?view=targets",
    "settings": "/app/settings",
}
# Every page of the app (the ones the other tests save, too), for the checks of all of them.
EVERY_PAGE = {
    "queue": "/app/queue", "lead": lead_url(SLASH_ID), "model": "/app/model?a=1&b=1", **PAGES,
}  # fmt: skip


# The pages the accessibility check loads on a desktop: each template once.
CHECKED = ("queue", "lead", "model", "leads", "settings", "reports-funnel", "reports-rejections",
           "reports-calibration", "reports-targets")  # fmt: skip

# axe-core's WCAG 2 A/AA rules; the violations' details only: by default axe also lists every
# element each rule passed (a response ten times larger), which took half of each check.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]},
    "resultTypes": ["violations"],
}

# The elements that stick out to the right of the screen (their insides, when they scroll, not).
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => (!e.parentElement.closest('.scroll'))
    && e.getBoundingClientRect().right > window.innerWidth)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_every_page_passes_an_accessibility_check_and_fits_a_phone(site: Site) -> None:
    """axe-core's WCAG 2 A/AA rules (labels, names, contrast, landmarks, ...) on every template
    (the sign-in page and the model page with a preview too); and no page scrolls sideways at
    390 px (wide tables scroll inside their own box)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems: list[Any] = []

    def check(name: str, tab: Any) -> None:
        found = axe.run(tab, options=AXE_OPTIONS).response["violations"]
        problems.extend((name, v["id"], [n["target"] for n in v["nodes"]]) for v in found)

    tab = site.page("admin")
    # Each template once (the report views share one: those with a form or a chart); the
    # pictures of the pages loaded here are saved here (test_screenshots_of_every_page saves
    # the other ones), not loaded twice.
    for name in CHECKED:
        tab.goto(EVERY_PAGE[name])
        check(name, tab)
        if name in PAGES:
            assert "Error" not in tab.title(), name
            site.shot(tab, name, full=True)
    saved = {p.name for p in site.shots.glob("*.png")}
    assert {f"{n}.png" for n in CHECKED if n in PAGES} <= saved
    tab.goto("/app/model")
    tab.fill("#yaml", DRAFT)
    tab.get_by_role("button", name="Preview").click()
    check("preview", tab)
    tab.close()
    login = site.browser.new_page(viewport=DESKTOP, base_url=site.url)
    login.goto("/app/login")
    check("login", login)
    login.close()
    assert not problems
    phone = site.page("admin", PHONE)
    for name, path in EVERY_PAGE.items():
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate(WIDER_THAN_THE_SCREEN) if width > PHONE["width"] else []
        assert width <= PHONE["width"], f"{name} scrolls sideways on a phone ({width}px): {wide}"
    phone.close()


def test_screenshots_of_every_page(site: Site) -> None:
    tab = site.page("admin")
    pages = {name: path for name, path in PAGES.items() if name not in CHECKED}
    for name, path in pages.items():
        tab.goto(path)
        assert "Error" not in tab.title(), path
        site.shot(tab, name, full=True)
    for name, path in (("queue-phone", "/app/queue"), ("lead-phone", lead_url(SLASH_ID))):
        phone = site.page("sales", PHONE)
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        site.shot(phone, name)
        phone.close()
    tab.close()
    # Each page this test visited is saved (the other tests save the queue, lead, model,
    # sign-in and the accessibility-checked pages; whether they ran first depends on the
    # worker's order).
    saved = {p.name for p in site.shots.glob("*.png")}
    assert {f"{n}.png" for n in [*pages, "queue-phone", "lead-phone"]} <= saved


# -- the account pages (issue #15): a second server over a store of synthetic ABM data, in the
# module's browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def abm_site(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from abm_store import AS_OF, build_abm_db
    from leadgate.api.app import create_app

    db, _ = build_abm_db(tmp_path_factory.mktemp("abm-site"))
    app = create_app(db, clock=Clock(AS_OF))
    keys = role_keys(app.state.config.store)
    port = _port() + 1 if os.environ.get("LEADGATE_TEST_WEB_PORT") else _port()
    with _serving(app, port) as url:
        yield Site(url, db, keys, site.browser, site.shots)


def test_account_pages_pass_the_accessibility_check_fit_a_phone_and_are_saved(
    abm_site: Site,
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    tab = abm_site.page("sales")
    tab.goto("/app/accounts")
    assert tab.locator("h1").inner_text().startswith("MQA queue")
    first = tab.locator("tr[data-account]").first.get_attribute("data-account")
    tab.get_by_role("link", name="Buying group").click()  # sort by completeness
    tab.wait_for_url("**sort=completeness**")
    abm_site.shot(tab, "accounts", full=True)
    tab.goto(f"/app/accounts/{first}")
    view = abm_site.api(f"/v1/accounts/{first}")
    for name, role in view["score"]["buying_group"]["roles"].items():
        text = tab.locator(f"li[data-role='{name}']").inner_text()
        assert f"{role['filled']} of {role['required']}" in text
    total = float(tab.locator("[data-waterfall-total]").get_attribute("data-waterfall-total"))
    assert abs(total - view["score"]["total"]) < 1e-9
    abm_site.shot(tab, "account", full=True)
    axe = Axe()
    problems: list[Any] = []
    for path in ("/app/accounts", f"/app/accounts/{first}", "/app/reports?view=mqa"):
        tab.goto(path)
        found = axe.run(tab, options=AXE_OPTIONS).response["violations"]
        problems.extend((path, v["id"], [n["target"] for n in v["nodes"]]) for v in found)
        if path.startswith("/app/reports"):
            abm_site.shot(tab, "reports-mqa", full=True)
    assert not problems
    tab.close()
    phone = abm_site.page("sales", PHONE)
    for name, path in (("accounts-phone", "/app/accounts"),
                       ("account-phone", f"/app/accounts/{first}")):  # fmt: skip
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate(WIDER_THAN_THE_SCREEN) if width > PHONE["width"] else []
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px): {wide}"
        abm_site.shot(phone, name)
    phone.close()


def test_sales_disposes_an_account_in_the_browser(abm_site: Site) -> None:
    tab = abm_site.page("sales")
    tab.goto("/app/accounts")
    rows = tab.locator("tr[data-account]")
    before = rows.count()
    last = rows.nth(before - 1).get_attribute("data-account")
    tab.get_by_role("button", name=f"Accept {last}").click()
    tab.wait_for_load_state()
    assert "accept" in tab.locator(".flash.ok").inner_text()
    tab.goto(f"/app/accounts/{last}")
    tab.select_option("select[name=action]", "opportunity")
    tab.get_by_role("button", name="Record").click()
    tab.wait_for_load_state()
    assert tab.locator(".badge.stage").first.inner_text() == "opportunity"
    reader = abm_site.page("read-only")
    reader.goto(f"/app/accounts/{last}")
    assert reader.get_by_role("button", name="Record").count() == 0
    reader.close()
    tab.goto("/app/accounts")
    assert tab.locator("tr[data-account]").count() == before - 1
    tab.close()
