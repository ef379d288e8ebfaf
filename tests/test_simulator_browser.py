"""The dev simulator end to end: the real bot (`python -m bot run`, BOT_ENV=development) in a
subprocess, driven through its /dev/ page in Debian's headless Chromium with Playwright.

Nothing is mocked: the page signs webhook events and POSTs them to /callback, the bot's workers
answer through its LINE client pointed at the fake Messaging API in /dev/line, and the page
shows what that fake received. The bot uses the tests' Redis under a key prefix of its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from bot.content import load_city
from bot.i18n import Catalogs
from bot.redis_server import free_port
from dialogs.languages import LANGUAGES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "simulator.png"
TIMEOUT_MS = 5_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed: apt-get install -y chromium "
               "(make test installs it when CI is set)",
    ),
]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# What the bot says, from its own sources: Japanese is the source language, English comes from
# the catalog the bot itself loads, so the test follows the wording of the catalogs.
_en = Catalogs().translator("en")
CITY = load_city(ROOT / "content" / "ayase")
GREETING = "{bot}です。友だち追加ありがとうございます。子育ての相談や手続きのご案内をします。"
PROMPT = "使う言語を選んでください。"
EN_GREETING = _en(GREETING).format(bot=_en(CITY.bot_name))
EN_PROMPT = _en(PROMPT)
LANGUAGE_NAMES = [language.native_name for language in LANGUAGES]
JA_LEAD = "日本語で話します。"
JA_NOTICE_START = "個人情報の扱いについて"
JA_CONSENT_QUESTION = "この内容に同意しますか？"
JA_MENU = "メニューです。下のボタンから選ぶか、知りたいことを文章で送ってください。"
JA_THANKS_MENU = f"ありがとうございます。\n\n{JA_MENU}"
JA_NOT_FOUND = "ごめんなさい、その質問の答えが見つかりませんでした。話題から選ぶか、担当の職員に相談してください。"
JA_MENU_BUTTONS = ["よくある質問", "人と話したい", "センターの予約", "お知らせの登録", "個人情報の扱い", "緊急の電話番号",
                   "🌐 言語 Language"]
XSS = '<script>alert(1)</script><img src="x" onerror="alert(2)"> hello'


def _bot_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _get(url: str, timeout: float = 1.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@dataclass
class BotServer:
    url: str
    key_prefix: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (the bot finishes its work, stops its threads), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.fixture(scope="module")
def bot_server(redis_url, tmp_path_factory):
    """`python -m bot run` with BOT_ENV=development on a free port, using the tests' Redis.

    REDIS_URL is set, so the bot starts no Redis of its own; a random REDIS_KEY_PREFIX keeps its
    keys apart from any other test's (and each test here also flushes the db via redis_client).
    """
    port = free_port()
    prefix = "sim" + secrets.token_hex(4)
    data_dir = tmp_path_factory.mktemp("simulator")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LINE_", "REDIS_", "BOT_", "CITY_"))
           and k not in ("PORT", "HOST", "WORKER_THREADS", "ORDER_WINDOW_MS", "LOG_LEVEL")}
    env.update(BOT_ENV="development", HOST="127.0.0.1", PORT=str(port), REDIS_URL=redis_url,
               REDIS_KEY_PREFIX=prefix, BOT_DATA_DIR=str(data_dir), LOG_LEVEL="INFO",
               PYTHONUNBUFFERED="1")
    log = data_dir / "bot.log"
    with log.open("wb") as out:
        process = subprocess.Popen([_bot_python(), "-m", "bot", "run"], cwd=ROOT, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    server = BotServer(f"http://127.0.0.1:{port}", prefix, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"`python -m bot run` exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if _get(server.url + "/healthz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the bot did not answer /healthz within 30 s:\n{server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture(scope="module")
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


@dataclass
class Simulator:
    """The /dev/ page, with what went wrong in it: alert dialogs and uncaught JavaScript errors."""

    page: object
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def bot_bubbles(self):
        return self.page.locator("#messages li.bot .bubble")

    @property
    def user_bubbles(self):
        return self.page.locator("#messages li.user .bubble")

    @property
    def system_bubbles(self):
        return self.page.locator("#messages li.system .bubble")

    @property
    def cards(self):
        return self.page.locator("#messages li.bot .card")

    @property
    def quick_replies(self):
        return self.page.locator("#quick-replies button")

    def bot_said(self, text: str):
        """The bot's bubbles that contain `text`."""
        return self.bot_bubbles.filter(has_text=text)

    def add_user(self, name: str, language: str) -> None:
        self.page.locator("#new-user input[name=name]").fill(name)
        self.page.locator("#new-user select[name=language]").select_option(language)
        self.page.locator("#add-user").click()
        expect(self.page.locator("#chat")).to_be_visible()
        expect(self.page.locator("#chat-title")).to_have_text(f"{name} ({language})")

    def type(self, text: str) -> None:
        self.page.locator("#text").fill(text)
        self.page.locator("#text").press("Enter")
        expect(self.user_bubbles.last).to_have_text(text)
        expect(self.page.locator("#text")).to_have_value("")

    def tap_quick_reply(self, label: str) -> None:
        self.page.locator("#quick-replies").get_by_role("button", name=label, exact=True).click()

    def check_clean(self) -> None:
        assert self.dialogs == [], f"the page opened dialogs: {self.dialogs}"
        assert self.errors == [], f"JavaScript errors on the page: {self.errors}"


@pytest.fixture
def sim(bot_server, browser, redis_client):
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 960, "height": 900}, locale="ja-JP")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    simulator = Simulator(page)
    page.on("dialog", lambda dialog: (simulator.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: simulator.errors.append(str(error)))
    try:
        page.goto(bot_server.url + "/dev/")
        expect(page.locator("#new-user")).to_be_visible()
        yield simulator
    finally:
        context.close()


def _has_japanese(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
               for ch in text)


def _require_english() -> None:
    for english in (EN_GREETING, EN_PROMPT):
        assert not _has_japanese(english), (
            f"locales/en/LC_MESSAGES/messages.po has no English for {english!r} yet, so the bot "
            "falls back to Japanese: fill in the catalog (then `python -m bot i18n compile`)"
        )


def _greeted_in_english(sim: Simulator, times: int = 1) -> None:
    _require_english()
    greeting = sim.bot_said(EN_GREETING)
    expect(greeting).to_have_count(times)
    expect(greeting.last).to_have_text(f"{EN_GREETING}\n\n{EN_PROMPT}")
    expect(sim.quick_replies).to_have_text(LANGUAGE_NAMES)


def _onboard_in_japanese(sim: Simulator, name: str) -> None:
    """Scenario 1: follow with LINE in English, choose 日本語, agree to the privacy notice."""
    sim.add_user(name, "en")
    expect(sim.system_bubbles.first).to_have_text("(you added the bot as a friend)")
    _greeted_in_english(sim)

    sim.tap_quick_reply("日本語")
    expect(sim.user_bubbles.last).to_have_text("日本語")
    expect(sim.bot_said(JA_LEAD)).to_have_count(1)
    expect(sim.bot_said(JA_NOTICE_START)).to_have_count(1)
    card = sim.cards.last
    expect(card.locator("p")).to_have_text(JA_CONSENT_QUESTION)
    expect(card.get_by_role("button")).to_have_text(["同意する", "同意しない"])
    expect(sim.quick_replies).to_have_count(0)

    card.get_by_role("button", name="同意する", exact=True).click()
    expect(sim.user_bubbles.last).to_have_text("同意する")
    expect(sim.bot_bubbles.last).to_have_text(JA_THANKS_MENU)
    expect(sim.quick_replies).to_have_text(JA_MENU_BUTTONS)


def test_follow_choose_japanese_and_agree(sim, tmp_path):
    _onboard_in_japanese(sim, "Emma")
    # Every reply shown once, in order: greeting, language set, notice (and its card), menu.
    expect(sim.bot_bubbles).to_have_count(4)
    expect(sim.cards).to_have_count(1)
    sim.check_clean()
    shot = sim.page.screenshot(path=str(tmp_path / "simulator.png"))
    # The README's picture: written when missing or asked for, not on every run (a machine
    # without Japanese fonts would draw boxes).
    if not SCREENSHOT.exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot)


def test_typed_menu_and_markup_is_shown_as_text(sim):
    _onboard_in_japanese(sim, "Lucas")

    sim.type("menu")
    expect(sim.bot_bubbles.last).to_have_text(JA_MENU)
    expect(sim.bot_bubbles.filter(has_text=JA_MENU)).to_have_count(2)  # after consent, and now
    expect(sim.quick_replies).to_have_text(JA_MENU_BUTTONS)

    sim.type(XSS)
    mine = sim.user_bubbles.last
    assert mine.evaluate("node => node.textContent") == XSS
    # The bot has answered (so the page has rendered everything it got) ...
    expect(sim.bot_bubbles.last).to_have_text(JA_NOT_FOUND)
    # ... and nothing in the text became markup.
    assert sim.page.locator("#messages script").count() == 0
    assert sim.page.locator("#messages img").count() == 0
    assert mine.evaluate("node => node.childElementCount") == 0
    sim.check_clean()


def test_block_then_follow_greets_again(sim):
    sim.add_user("Noah", "en")
    _greeted_in_english(sim)

    expect(sim.page.locator("#refollow")).to_be_hidden()
    sim.page.locator("#unfollow").click()
    expect(sim.system_bubbles.last).to_have_text("(you blocked the bot)")
    # As in LINE: blocked, the user can only unblock; the bot's buttons are gone.
    expect(sim.page.locator("#unfollow")).to_be_hidden()
    expect(sim.page.locator("#text")).to_be_disabled()
    expect(sim.quick_replies).to_have_count(0)

    sim.page.locator("#refollow").click()
    expect(sim.system_bubbles.last).to_have_text("(you added the bot as a friend)")
    expect(sim.page.locator("#refollow")).to_be_hidden()
    expect(sim.page.locator("#text")).to_be_enabled()
    _greeted_in_english(sim, times=2)
    expect(sim.bot_bubbles).to_have_count(2)
    sim.check_clean()
