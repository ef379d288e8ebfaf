"""The booking conversation through the whole bot (webhook → queue → worker → fake LINE) in
Japanese, やさしい日本語 and English; the waitlist and its offers, reminders and closure notices
pushed by the scheduler's jobs; every message within LINE's limits in every language.

The app's Runtime and router as they are wired (only the bookings' clock is the test's, for time
travel), so a booking feature unplugged from the menu, the words or the scheduler fails here.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path

import pytest

from bot import line_limits, render
from bot.booking_jobs import retry_key, run_due, tell_closure
from bot.booking_service import Bookings
from bot.bookings import BookingStore
from bot.runtime import Runtime
from dialogs import booking, booking_mine, booking_notices, build_router
from dialogs.centers import TOKYO, BookingResult
from dialogs.engine import Context, Inbound, Postback, Session, Turn
from dialogs.languages import LANGUAGES
from tests.conftest import drain, post_webhook, user_id

ROOT = Path(__file__).resolve().parent.parent
CODES = [language.code for language in LANGUAGES]
MON = date(2025, 6, 2)          # June 2025 has no national holiday
TUE, THU = MON + timedelta(days=1), MON + timedelta(days=3)
NOW = datetime.combine(MON, time(12), TOKYO)
MORNING = "center-1@20250603T1000"      # 2 families
AFTERNOON = "center-1@20250603T1300"    # 5 families
THURSDAY = "center-1@20250605T1000"     # 8 families, 0歳児
OVERLAPPING = "center-2@20250603T1030"  # at another center, during MORNING

CENTERS_TOML = """
[rules]
days_ahead = 14
same_day_cutoff = "09:00"
max_upcoming = 2
offer_window_minutes = 120
reminder_hour = "18:00"

[closures]
dates = []
close_on_national_holidays = true

[[centers]]
id = "center-1"
name = "ひまわり"
place = "中央1-1-1"
offers = ["子育て親子の交流の場の提供と交流を促進する", "地域の子育て関連情報の提供"]

[[centers.templates]]
weekday = "tue"
start = "10:00"
end = "11:30"
capacity = 2

[[centers.templates]]
weekday = "tue"
start = "13:00"
end = "14:30"
capacity = 5

[[centers.templates]]
weekday = "thu"
start = "10:00"
end = "11:30"
capacity = 8
age_group = "0歳児"

[[centers]]
id = "center-2"
name = ""
offers = ["子育て親子の交流の場の提供と交流を促進する"]

[[centers.templates]]
weekday = "tue"
start = "10:30"
end = "11:30"
capacity = 3

[[centers]]
id = "center-3"
name = ""
offers = []
"""


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class BookingRuntime(Runtime):
    """The app's own Runtime, with the bookings' clock under the test's control (time travel)."""

    def __init__(self, settings, clock: Clock):
        super().__init__(settings)
        self.clock = clock

    @cached_property
    def bookings(self) -> Bookings:
        return Bookings(self.booking_store, self.clock)


def make_pack(directory: Path, centers_toml: str | None) -> Path:
    directory.mkdir()
    for path in (ROOT / "content" / "ayase").glob("*.toml"):
        shutil.copy(path, directory / path.name)
    shutil.copytree(ROOT / "content" / "ayase" / "phrases", directory / "phrases")
    if centers_toml is not None:
        (directory / "centers.toml").write_text(centers_toml, encoding="utf-8")
    return directory


@pytest.fixture
def clock():
    return Clock(NOW)


def _runtime(settings, clock, pack):
    return BookingRuntime(replace(settings, content_dir=pack, semantic_matching=False), clock)


@pytest.fixture
def runtime(settings, clock, tmp_path):
    rt = _runtime(settings, clock, make_pack(tmp_path / "city", CENTERS_TOML))
    yield rt
    rt.close()


@pytest.fixture
def client(runtime):
    from bot.app import create_app

    return create_app(runtime.settings, runtime).test_client()


@pytest.fixture
def store(runtime) -> BookingStore:
    return runtime.booking_store


# Talking to the bot

def actions_in(messages: list[dict]) -> list[dict]:
    found = []
    for m in messages:
        found += [item["action"] for item in (m.get("quickReply") or {}).get("items", [])]
        found += (m.get("template") or {}).get("actions", [])
    return found


def button(messages: list[dict], action: str, *args: str) -> str:
    """The postback data of the button doing `action` (with these first args)."""
    for a in actions_in(messages):
        postback = Postback.decode(a.get("data", "")) if a["type"] == "postback" else None
        if postback and postback.action == action and postback.args[:len(args)] == args:
            return a["data"]
    raise AssertionError(f"no {action} {args} button in {messages}")


def labels(messages: list[dict]) -> list[str]:
    return [a["label"] for a in actions_in(messages)]


def text(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or m.get("template", {}).get("text", "") for m in messages)


class Chat:
    """One parent's chat: every answer is checked against LINE's limits as it arrives."""

    def __init__(self, client, runtime, events, fake_line, language="ja"):
        self.client, self.runtime, self.events, self.fake_line = client, runtime, events, fake_line
        self.user = user_id()
        self.send(events.follow(self.user))
        self.tap(Postback("lang.set", (language,)).encode())
        self.tap(Postback("consent.yes").encode())

    def send(self, event) -> list[dict]:
        before = len(self.fake_line.sent_to(self.user))
        assert post_webhook(self.client, [event]).status_code == 200
        drain(self.runtime)
        deliveries = self.fake_line.sent_to(self.user)[before:]
        for delivery in deliveries:
            assert line_limits.problems(delivery.messages) == [], delivery.messages
        return [m for d in deliveries for m in d.messages]

    def say(self, words: str) -> list[dict]:
        return self.send(self.events.text(self.user, words))

    def tap(self, data: str) -> list[dict]:
        return self.send(self.events.postback(self.user, data))

    def pushes(self) -> list:
        return [d for d in self.fake_line.sent_to(self.user) if d.kind == "push"]

    @property
    def state(self) -> str:
        return self.runtime.users.load(self.user)[1].state


@pytest.fixture
def chat(client, runtime, events, fake_line, caplog):
    caplog.set_level(logging.WARNING)
    yield lambda language="ja": Chat(client, runtime, events, fake_line, language)
    assert not [r for r in caplog.records if "over LINE's limits" in r.getMessage()]


def fill(store: BookingStore, slot_id: str, *users: str) -> None:
    for user in users:
        assert store.book(user, slot_id, 1, "", NOW).ok


# The conversation

def test_booking_in_japanese_from_words_to_done_then_cancelled(chat, runtime, store):
    parent = chat("ja")
    centers = parent.say("予約したい")
    assert "どの子育て支援センターに行きますか？" in text(centers)
    assert "【ひまわり】 中央1-1-1" in text(centers) and "【子育て支援センター 2】" in text(centers)
    assert "・子育て親子の交流の場の提供と交流を促進する" in text(centers)
    assert "（今は予約できる日がありません）" in text(centers)   # center 3 has no times
    assert labels(centers) == ["ひまわり", "子育て支援センター 2", "予約の確認", "やめる"]

    days = parent.tap(button(centers, "booking.center", "center-1"))
    assert labels(days)[:4] == ["6月3日(火) 残り7", "6月5日(木) 残り8", "6月10日(火) 残り7", "6月12日(木) 残り8"]
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    assert "・10:00–11:30 残り2" in text(times) and labels(times)[:2] == ["10:00–11:30 残り2", "13:00–14:30 残り5"]
    children = parent.tap(button(times, "booking.slot", MORNING))
    assert "お子さんは何人いっしょに来ますか？" in text(children)
    assert labels(children)[:4] == ["1人", "2人", "3人", "4人"]
    confirm = parent.tap(button(children, "booking.children", MORNING, "book", "2"))
    assert "ひまわり\n中央1-1-1\n6月3日(火) 10:00–11:30\nお子さん 2人" in text(confirm)
    assert labels(confirm) == ["予約する", "もどる", "やめる"] and parent.state == "booking.confirm"

    done = parent.tap(button(confirm, "booking.confirm", MORNING, "2"))
    assert "予約しました。" in text(done) and "前の日に、LINEでお知らせします。" in text(done)
    assert labels(done) == ["予約の確認", "メニュー"] and parent.state == ""
    [made] = runtime.bookings.bookings_of(parent.user)
    assert (made.slot_id, made.children, made.name) == (MORNING, 2, "")

    mine = parent.tap(button(done, "booking.mine"))
    assert "1. ひまわり" in text(mine) and "1番をキャンセル" in labels(mine)
    asked = parent.tap(button(mine, "booking.cancel", made.id))
    assert "この予約をキャンセルしますか？" in text(asked) and parent.state == "booking.cancelling"
    cancelled = parent.tap(button(asked, "booking.cancel.yes", made.id))
    assert "予約をキャンセルしました。" in text(cancelled) and "今、予約はありません。" in text(cancelled)
    assert runtime.bookings.bookings_of(parent.user) == [] and store.slot(MORNING, NOW).booked == 0


@pytest.mark.parametrize("language, words", [("ja", "予約をキャンセルしたい"), ("ja", "予約の変更"),
                                             ("en", "Cancel my booking"), ("vi", "huy lich hen")])
def test_typed_words_about_ones_booking_show_it_with_its_cancel_button(chat, runtime, store, language, words):
    parent = chat(language)
    fill(store, MORNING, parent.user)
    [made] = runtime.bookings.bookings_of(parent.user)
    mine = parent.say(words)
    assert button(mine, "booking.cancel", made.id)
    assert "faq_misses" not in runtime.users.load(parent.user)[1].data


@pytest.mark.parametrize("language, day", [("ja-easy", "6月3日(火)"), ("en", "Tue, Jun 3")])
def test_booking_in_another_language_with_every_back_button(chat, runtime, language, day):
    parent = chat(language)
    t = runtime.catalogs.translator(language)
    centers = parent.say("book" if language == "en" else "よやく")
    assert t("どの子育て支援センターに行きますか？") in text(centers)
    days = parent.tap(button(centers, "booking.center", "center-1"))
    assert any(label.startswith(day) for label in labels(days))
    assert t("どの子育て支援センターに行きますか？") in text(parent.tap(button(days, "booking.centers")))
    assert parent.state == "booking.center"
    days = parent.tap(button(centers, "booking.center", "center-1"))
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    days = parent.tap(button(times, "booking.center", "center-1"))          # back to the days
    assert parent.state == "booking.day"
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    children = parent.tap(button(times, "booking.slot", AFTERNOON))
    times = parent.tap(button(children, "booking.day", "center-1", "2025-06-03"))   # back to the times
    children = parent.tap(button(times, "booking.slot", AFTERNOON))
    confirm = parent.tap(button(children, "booking.children", AFTERNOON, "book", "1"))
    assert f"{day} 13:00–14:30" in text(confirm)
    children = parent.tap(button(confirm, "booking.slot", AFTERNOON))                # back to the children
    assert parent.state == "booking.children"
    confirm = parent.tap(button(children, "booking.children", AFTERNOON, "book", "3"))
    done = parent.tap(button(confirm, "booking.confirm", AFTERNOON, "3"))
    assert t("予約しました。") in text(done) and t("お子さん {children}人").format(children=3) in text(done)
    assert [b.slot_id for b in runtime.bookings.bookings_of(parent.user)] == [AFTERNOON]


def test_stop_and_menu_work_from_every_step(chat, runtime):
    parent = chat("ja")
    centers = parent.tap(Postback("booking").encode())
    days = parent.tap(button(centers, "booking.center", "center-1"))
    stopped = parent.tap(button(days, "cancel"))
    assert "中止しました。" in text(stopped) and parent.state == ""
    days = parent.tap(button(centers, "booking.center", "center-1"))   # an old button: state moved on
    assert "古くなった" in text(days)


def test_the_calendar_picks_a_day(chat):
    """LINE's date picker beside the list of days: a day with times opens them; another says so."""
    parent = chat()
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-1"))
    [picker] = [a for a in actions_in(days) if a["type"] == "datetimepicker"]
    assert picker["mode"] == "date" and picker["min"] <= picker["initial"] <= picker["max"]

    def pick(day: str) -> list[dict]:
        event = parent.events.postback(parent.user, picker["data"])
        event["postback"]["params"] = {"date": day}
        return parent.send(event)

    times = pick("2025-06-03")
    assert parent.state == "booking.time" and button(times, "booking.slot")
    parent.tap(button(times, "booking.center", "center-1"))            # back to the days
    again = pick("2031-01-01")
    assert parent.state == "booking.day"
    assert text(again).startswith(parent.runtime.catalogs.translator("ja")(
        "その日は予約できる時間がありません。ほかの日を選んでください。"))


def test_typed_children_and_unexpected_words(chat):
    parent = chat("ja")
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-1"))
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    again = parent.say("あしたは？")
    assert "下のボタンから選んでください。" in text(again) and "10:00–11:30 残り2" in labels(again)
    parent.tap(button(times, "booking.slot", MORNING))
    confirm = parent.say("２人")
    assert "お子さん 2人" in text(confirm) and parent.state == "booking.confirm"


def test_a_stale_confirm_after_the_slot_filled_offers_the_days_other_times(chat, runtime, store):
    parent = chat("ja")
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-1"))
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    confirm = parent.tap(button(parent.tap(button(times, "booking.slot", MORNING)),
                                "booking.children", MORNING, "book", "1"))
    fill(store, MORNING, "U-other-1", "U-other-2")          # meanwhile, two other parents
    full = parent.tap(button(confirm, "booking.confirm", MORNING, "1"))
    assert "10:00–11:30は、いま満席になりました。" in text(full)
    assert "13:00–14:30 残り5" in labels(full) and "10:00–11:30 満席" not in labels(full)
    waiting = parent.tap(button(full, "booking.wait", MORNING, "1"))
    assert "キャンセル待ちに登録しました。今1番目です。" in text(waiting)
    assert [(s.id, n) for s, n in runtime.bookings.waitlists_of(parent.user)] == [(MORNING, 1)]


def test_rule_failures_are_explained(chat, runtime, store):
    parent = chat("ja")
    assert store.book(parent.user, MORNING, 1, "", NOW).ok
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-2"))
    times = parent.tap(button(days, "booking.day", "center-2", "2025-06-03"))
    confirm = parent.tap(button(parent.tap(button(times, "booking.slot", OVERLAPPING)),
                                "booking.children", OVERLAPPING, "book", "1"))
    overlaps = parent.tap(button(confirm, "booking.confirm", OVERLAPPING, "1"))
    assert "同じ時間に、ほかの予約があります。" in text(overlaps) and "ひまわり" in text(overlaps)
    assert "予約の確認" in labels(overlaps)

    assert store.book(parent.user, THURSDAY, 1, "", NOW).ok
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-1"))
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    confirm = parent.tap(button(parent.tap(button(times, "booking.slot", AFTERNOON)),
                                "booking.children", AFTERNOON, "book", "1"))
    too_many = parent.tap(button(confirm, "booking.confirm", AFTERNOON, "1"))
    assert "予約は2件までです。今の予約をキャンセルすると、新しく予約できます。" in text(too_many)


@pytest.mark.parametrize("status, says", [
    ("too_late", "この時間の予約の受付は終わりました。"),
    ("too_early", "この日の予約は、まだ始まっていません。5月20日(火)から予約できます。"),
    ("closed", "この時間はお休みになりました。"),
    ("already_booked", "この時間は、もう予約しています。"),
    ("no_such_slot", "この時間は予約できなくなりました。"),
    ("full", "いま満席になりました。"),
])
def test_each_refusal_has_its_own_kind_message(runtime, status, says):
    ctx = context(runtime, "ja")
    turn = booking.refused(ctx, BookingResult(status), runtime.bookings.slot(MORNING), 1)
    assert says in texts(turn)
    assert line_limits.problems(render.messages(turn.replies)) == []


# The waitlist and its offers

def test_joining_a_waitlist_twice_or_with_a_seat_held_says_so(runtime, store):
    fill(store, MORNING, "U1", "U2")
    slot = runtime.bookings.slot(MORNING)
    assert "今1番目です。" in texts(booking.join_waitlist(context(runtime, "ja", "W1"), slot, 1))
    again = booking.join_waitlist(context(runtime, "ja", "W1"), slot, 1)
    assert "もうキャンセル待ちに登録しています。今1番目です。" in texts(again)
    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW)
    held = booking.join_waitlist(context(runtime, "ja", "W1"), runtime.bookings.slot(MORNING), 1)
    assert "この時間は、あなたのために席をとってあります。6月2日(月) 14:00までに予約してください。" in texts(held)
    assert held.replies[0].quick_replies[0].postback.startswith("1|booking.offer.accept||o")


def test_waitlist_offer_push_and_accept_from_another_state(chat, runtime, store):
    fill(store, MORNING, "U1", "U2")
    parent = chat("ja")
    days = parent.tap(button(parent.tap(Postback("booking").encode()), "booking.center", "center-1"))
    times = parent.tap(button(days, "booking.day", "center-1", "2025-06-03"))
    assert "10:00–11:30 満席" in labels(times) and "・10:00–11:30 満席（キャンセル待ちできます）" in text(times)
    ask = parent.tap(button(times, "booking.slot", MORNING))
    assert "キャンセル待ちに登録しますか？" in text(ask) and parent.state == "booking.waitlist"
    children = parent.tap(button(ask, "booking.wait", MORNING))
    joined = parent.tap(button(children, "booking.children", MORNING, "wait", "2"))
    assert "キャンセル待ちに登録しました。今1番目です。" in text(joined)
    assert "キャンセル待ち:" in text(parent.tap(Postback("booking.mine").encode()))

    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW)
    assert run_due(store, runtime.outbox, NOW) == 1
    [push] = parent.pushes()
    [offer] = store.offers_of(parent.user, NOW)
    assert push.retry_key == retry_key(store, "booking-offer", offer.id, offer.user_id, MORNING,
                                             offer.expires.isoformat())
    assert "キャンセル待ちをしていた時間に、空きが出ました。" in text(push.messages)
    assert "6月2日(月) 14:00までに「予約する」を押すと、予約できます。" in text(push.messages)
    assert line_limits.problems(push.messages) == []
    assert run_due(store, runtime.outbox, NOW) == 0            # each offer is pushed once

    parent.tap(Postback("language").encode())                          # the parent is elsewhere
    done = parent.tap(button(push.messages, "booking.offer.accept", offer.id))
    assert "予約しました。" in text(done) and "お子さん 2人" in text(done)
    assert [b.slot_id for b in runtime.bookings.bookings_of(parent.user)] == [MORNING]


def test_a_stale_offer_says_it_expired_and_offers_the_next_free_times(chat, runtime, store, clock):
    fill(store, MORNING, "U1", "U2")
    parent, other = chat("ja"), chat("ja")
    store.join_waitlist(parent.user, MORNING, 1, NOW)
    store.join_waitlist(other.user, MORNING, 1, NOW)
    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW)
    run_due(store, runtime.outbox, NOW)
    [push] = parent.pushes()
    clock.now = NOW + timedelta(minutes=121)
    assert run_due(store, runtime.outbox, clock.now) == 1       # the seat goes on to the next parent
    late = parent.tap(button(push.messages, "booking.offer.accept"))
    assert "このご案内は期限が過ぎたか、もう使えません。" in text(late)
    assert "ひまわりの、次に空いている時間です。" in text(late)
    assert Postback.decode(button(late, "booking.slot")).args[0] == AFTERNOON
    [offered] = other.pushes()
    declined = other.tap(button(offered.messages, "booking.offer.decline"))
    assert "次に待っている方にご案内します。" in text(declined)
    assert store.slot(MORNING, clock.now).seats_left == 1


# Scheduled pushes

def test_the_reminder_is_pushed_once_the_day_before_with_a_cancel_button(chat, runtime, store, clock):
    parent = chat("en")
    assert store.book(parent.user, MORNING, 1, "", NOW).ok
    outbox = runtime.outbox
    assert run_due(store, outbox, datetime.combine(MON, time(17, 59), TOKYO)) == 0
    clock.now = datetime.combine(MON, time(18), TOKYO)
    assert run_due(store, outbox, clock.now) == 1
    assert run_due(store, outbox, clock.now + timedelta(minutes=1)) == 0
    [push] = parent.pushes()
    t = runtime.catalogs.translator("en")
    assert t("明日は、子育て支援センターの予約の日です。") in text(push.messages) and "Tue, Jun 3" in text(push.messages)
    [booked] = store.bookings_of(parent.user, NOW)
    assert push.retry_key == retry_key(store, "booking-reminder", booked.id, parent.user, MORNING)
    # A retried push with the same key is refused by LINE, not shown twice.
    assert not runtime.line.push(parent.user, push.messages, push.retry_key)
    assert len(parent.pushes()) == 1

    asked = parent.tap(button(push.messages, "booking.cancel", booked.id))
    assert parent.state == "booking.cancelling"
    cancelled = parent.tap(button(asked, "booking.cancel.yes", booked.id))
    assert t("予約をキャンセルしました。") in text(cancelled) and store.bookings_of(parent.user, NOW) == []


def test_a_time_cancelled_by_staff_is_explained_to_everyone_concerned(chat, runtime, store):
    booked, waiting = chat("ja"), chat("ja-easy")
    fill(store, MORNING, booked.user, "U2")
    store.join_waitlist(waiting.user, MORNING, 1, NOW)
    closure = store.close_slot(MORNING, "職員の研修", NOW)
    outbox = runtime.outbox
    assert tell_closure(store, outbox, closure, NOW) == {"sent": 3}
    assert tell_closure(store, outbox, closure, NOW) == {"sent_before": 3}   # the same notices again: refused by LINE
    [notice] = booked.pushes()
    assert "センターの都合で、次の予約が取り消しになりました。" in text(notice.messages)
    assert "6月3日(火) 10:00–11:30" in text(notice.messages)
    assert Postback.decode(button(notice.messages, "booking")).action == "booking"
    [notice] = waiting.pushes()
    t = runtime.catalogs.translator("ja-easy")
    assert t("ごめんなさい。キャンセル待ちをしていた次の時間は、センターの都合で中止になりました。") in text(notice.messages)


# Around the edges

def test_without_times_to_book_the_bot_says_so_and_names_the_window(settings, clock, tmp_path, events,
                                                                    fake_line):
    from bot.app import create_app

    rt = _runtime(settings, clock, make_pack(tmp_path / "ayase", None))    # Ayase's pack as it is
    try:
        client = create_app(rt.settings, rt).test_client()
        parent = Chat(client, rt, events, fake_line, "ja")
        for answer in (parent.say("予約"), parent.tap(Postback("booking").encode())):
            assert "今は、このLINEでは子育て支援センターの予約を受け付けていません。" in text(answer)
            assert "健康づくり推進課" in text(answer) and parent.state == ""
    finally:
        rt.close()


def test_deleting_ones_data_frees_the_seat(chat, runtime, store):
    parent = chat("ja")
    assert store.book(parent.user, MORNING, 1, "", NOW).ok
    asked = parent.say("データを削除")
    parent.tap(button(asked, "privacy.delete.yes"))
    assert store.bookings_of(parent.user, NOW) == [] and store.slot(MORNING, NOW).booked == 0


def test_days_come_nine_at_a_time_beside_the_calendar(tmp_path, settings, clock):
    daily = CENTERS_TOML.replace(
        "[[centers]]\nid = \"center-2\"", "\n".join(
            f'[[centers.templates]]\nweekday = "{d}"\nstart = "15:00"\nend = "16:00"\ncapacity = 4\n'
            for d in ("mon", "wed", "fri", "sat", "sun")) + "\n[[centers]]\nid = \"center-2\"")
    rt = _runtime(settings, clock, make_pack(tmp_path / "daily", daily))
    try:
        ctx = context(rt, "ja")
        first = booking.days(ctx, "center-1")
        assert len(first.replies[0].quick_replies) == 13
        more = [a for a in first.replies[0].quick_replies if a.label == "もっと先の日"]
        later = booking.days(ctx, "center-1", int(Postback.decode(more[0].postback).args[1]))
        # Today's times closed at 09:00: the first page is 6月3日…6月11日.
        assert first.replies[0].quick_replies[0].label.startswith("6月3日")
        assert later.replies[0].quick_replies[0].label.startswith("6月12日")
        assert [a.date_picker is not None for a in first.replies[0].quick_replies].count(True) == 1
    finally:
        rt.close()


@pytest.mark.parametrize("state, action, args", [
    ("booking.confirm", "booking.confirm", (MORNING, "0")),
    ("booking.confirm", "booking.confirm", (MORNING, "999")),
    ("booking.confirm", "booking.confirm", (MORNING, "²")),
    ("booking.confirm", "booking.confirm", ("nonsense", "1")),
    ("booking.children", "booking.children", (MORNING, "book")),
    ("booking.children", "booking.children", ("center-9@20250603T1000", "book", "1")),
    ("booking.day", "booking.day", ("center-1", "2025-02-30")),
    ("booking.center", "booking.center", ("center-9", "7")),
    ("booking.time", "booking.slot", ("center-1@20250602T1000",)),
    ("booking.time", "booking.wait", (MORNING, "-1")),
    ("", "booking.offer.accept", ("o999",)),
    ("", "booking.offer.decline", ()),
    ("", "booking.cancel", ("b999",)),
])
def test_tampered_or_stale_buttons_do_no_harm(runtime, store, state, action, args):
    turn = build_router().route(Inbound("postback", "U1", postback=Postback(action, args, state)),
                                       Session("U1", "ja", True, state), runtime.dialog_services)
    assert turn.replies and line_limits.problems(render.messages(turn.replies)) == []
    assert store.bookings_of("U1", NOW) == []


# Every message, in every language, within LINE's limits

def context(runtime, language: str, user: str = "U-limits", state: str = "", data=None, postback=None) -> Context:
    inbound = Inbound("postback", user, postback=postback) if postback else Inbound("other", user)
    return Context(inbound, Session(user, language, True, state, data or {}), runtime.dialog_services, language)


def texts(turn) -> str:
    return "\n".join(getattr(m, "text", "") for m in turn.replies)


def every_booking_turn(runtime, store, code):
    """Each step, refusal, list and notice, with a parent holding two bookings, a waitlist place
    and an offer (the longest lists)."""
    user = f"U-{code}"
    fill(store, MORNING, f"A-{code}", f"B-{code}")
    store.join_waitlist(user, MORNING, 4, NOW)
    assert store.book(user, AFTERNOON, 4, "", NOW).ok
    assert store.book(user, THURSDAY, 4, "", NOW).ok
    slot = runtime.bookings.slot(MORNING)
    ctx = lambda **kw: context(runtime, code, user, **kw)  # noqa: E731
    yield booking.start(ctx())
    yield booking.not_open(ctx())
    for center in ("center-1", "center-2", "center-3"):
        yield booking.days(ctx(), center)
    yield booking.times(ctx(), "center-1", TUE)
    yield booking.times(ctx(), "center-1", THU)
    yield booking.ask_children(ctx(), runtime.bookings.slot(AFTERNOON), "book")
    yield booking.ask_waitlist(ctx(), slot)
    yield booking.confirm(ctx(), runtime.bookings.slot(THURSDAY), 4)
    for status in ("full", "too_many", "overlaps", "already_booked", "too_late", "too_early", "closed",
                   "no_such_slot"):
        yield booking.refused(ctx(), BookingResult(status, conflict=""), slot, 4)
    yield booking.offer_gone(ctx(), slot)
    yield booking.reprompt(ctx(state="booking.confirm", data={"slot": THURSDAY, "children": 4}))
    yield booking.on_decline_offer(ctx(postback=Postback("booking.offer.decline", ("o0",))))
    store.cancel(f"A-{code}", store.bookings_of(f"A-{code}", NOW)[0].id, NOW)
    [offer] = store.offers_of(user, NOW)
    yield booking_mine.show(ctx())
    mine = store.bookings_of(user, NOW)
    yield booking_mine.ask_cancel(ctx(postback=Postback("booking.cancel", (mine[0].id,))))
    yield booking_mine.ask_cancel(ctx(postback=Postback("booking.cancel", ("b0",))))
    yield booking.booked(ctx(), mine[0])
    yield booking.join_waitlist(ctx(), runtime.bookings.slot(MORNING), 4)
    for build in (lambda c: booking_notices.reminder(c, mine[0]), lambda c: booking_notices.offer(c, offer, slot),
                  lambda c: booking_notices.booking_closed(c, mine[0]),
                  lambda c: booking_notices.waitlist_closed(c, slot)):
        yield Turn(replies=build(ctx()))
    yield booking_mine.cancel(ctx(postback=Postback("booking.cancel.yes", (mine[0].id,))))
    yield booking.on_accept_offer(ctx(postback=Postback("booking.offer.accept", (offer.id,))))


@pytest.mark.parametrize("code", CODES)
def test_every_booking_message_is_within_line_limits(runtime, store, code):
    count = 0
    for turn in every_booking_turn(runtime, store, code):
        messages = render.messages(turn.replies)
        assert line_limits.problems(messages) == [], (code, messages)
        count += 1
    assert count > 30


def test_the_cancelling_state_is_the_dialogs():
    assert booking.DIALOG.state("cancelling") == booking_mine.CANCELLING
