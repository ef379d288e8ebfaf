"""The staff console in Debian's headless Chromium (Playwright), against the real app on a real
port, the tests' Redis and the fake LINE API: two staff members at their desks while a parent
writes something urgent."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import drain, post_webhook, user_id
from tests.test_simulator_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def readme_picture(page, name: str, tmp_path: Path) -> None:
    """Taken on every run (so it cannot break unnoticed); written into docs/ only when missing or
    asked for with UPDATE_SCREENSHOTS=1, so a test run leaves the tree clean."""
    shot = page.screenshot(path=str(tmp_path / name), full_page=True)
    if not (DOCS / name).exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1":
        (DOCS / name).write_bytes(shot)
PASSWORD = "correct horse battery"
TIMEOUT_MS = 8_000
XSS = '<script>alert(1)</script><img src="x" onerror="alert(2)">'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (make test installs it when CI is set)"),
]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture
def console_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console-under-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser():
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


class Desk:
    """One staff member's browser window, with what went wrong in it."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="ja-JP")
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.base = base
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def sign_in(self, name: str) -> None:
        self.page.goto(self.base + "/console/")
        expect(self.page).to_have_url(self.base + "/console/sign-in?next=/console/")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button.primary")
        expect(self.page.locator("h1")).to_have_text("受付キュー")


@pytest.fixture
def desks(browser, console_url, runtime):
    runtime.staff_accounts.add("hoken-a", PASSWORD)
    runtime.staff_accounts.add("hoken-b", PASSWORD)
    made = [Desk(browser, console_url), Desk(browser, console_url)]
    yield made
    for desk in made:
        desk.context.close()


def test_two_staff_an_urgent_chat_a_canned_reply_and_back_to_the_bot(desks, client, runtime, events, fake_line,
                                                                     tmp_path):
    a, b = desks
    a.sign_in("hoken-a")
    expect(a.page.locator("#queue-rows tr.empty")).to_be_visible()
    a.page.evaluate("window.notReloaded = true")

    # A Vietnamese parent who asked for a person, then writes that the child is not breathing.
    parent = user_id()
    runtime.users.save(parent, state="", data={}, profile_changes={"language": "vi", "consent": True})
    for text in (XSS, "子どもが息をしていない"):
        assert post_webhook(client, [events.text(parent, text)]).status_code == 200
    drain(runtime)
    assert runtime.handoff.case(parent).urgency == 0

    # It appears without reloading, marked urgent, and the alarm shows.
    row = a.page.locator(f"#queue-rows tr[data-user='{parent}']")
    expect(row).to_have_class("urgent")
    expect(a.page.locator("#alarm")).to_be_visible()
    assert a.page.evaluate("window.notReloaded") is True
    assert a.page.title().startswith("【緊急】")
    DOCS.mkdir(exist_ok=True)
    readme_picture(a.page, "console-queue.png", tmp_path)

    # Both open the conversation; A claims it first; B's claim is refused.
    b.sign_in("hoken-b")
    b.page.goto(f"{b.base}/console/chat/{parent}")
    row.locator("a.button").click()
    expect(a.page.locator("dd.language")).to_have_text("Tiếng Việt")
    a.page.click("#claim")
    expect(a.page.locator("dd.holder")).to_have_text("hoken-a")
    b.page.click("#claim")
    expect(b.page.locator(".flash.error")).to_contain_text("ほかの職員がすでに担当しています")
    assert runtime.handoff.case(parent).holder == "hoken-a"

    # The parent's <script> is shown as text, and runs nothing.
    expect(a.page.locator(".entry.user .text").first).to_have_text(XSS)
    assert a.dialogs == [] and a.page.locator(".transcript img[src='x']").count() == 0

    # A canned reply goes out in Vietnamese.
    before = len(fake_line.sent_to(parent))
    vietnamese = runtime.catalogs.translator("vi")("確認してからお返事します。少しお待ちください。")
    card = a.page.locator(".canned li", has=a.page.locator("button[data-reply='checking']"))
    expect(card.locator(".translated")).to_have_text(vietnamese)
    card.locator("button").click()
    expect(a.page.locator(".flash.ok")).to_have_text("送りました。")
    pushes = fake_line.sent_to(parent)[before:]
    assert [d.kind for d in pushes] == ["push"] and pushes[0].messages[0]["text"] == vietnamese
    expect(a.page.locator(".entry.staff .text")).to_have_text(vietnamese)

    # A POST without the CSRF token is refused, even from a signed-in page.
    status = a.page.evaluate(f"fetch('/console/chat/{parent}/release', {{method: 'POST'}}).then(r => r.status)")
    assert status == 400
    assert runtime.handoff.case(parent) is not None
    readme_picture(a.page, "console-chat.png", tmp_path)

    # Back to the bot: the parent is told in Vietnamese, and the queue is empty again.
    a.page.click("#release")
    expect(a.page.locator("h1")).to_have_text("受付キュー")
    expect(a.page.locator("#queue-rows tr.empty")).to_be_visible()
    assert runtime.handoff.case(parent) is None
    released = fake_line.sent_to(parent)[-1]
    assert released.kind == "push" and released.to == parent
    assert a.errors == [] and b.errors == []
