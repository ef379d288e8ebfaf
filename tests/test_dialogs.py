"""The dialogs: greeting, language, consent, menu, global commands, stale buttons, limits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import line_limits, render
from bot.content import load_city
from bot.conversation import DialogServices, Retention
from bot.i18n import Catalogs
from dialogs import COMMANDS, build_router
from dialogs.engine import Inbound, Postback, Session
from dialogs.languages import LANGUAGES, from_line_tag
from tests.conftest import drain, post_webhook, user_id

ROOT = Path(__file__).resolve().parent.parent
CODES = [language.code for language in LANGUAGES]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from bot.faq.matcher import build_matcher
    from bot.faq.service import Answers

    catalogs = Catalogs()
    city = load_city(ROOT / "content" / "ayase")
    answers = Answers(build_matcher(city, catalogs.translator, index_dir=ROOT / "content" / "ayase" / "index",
                                    cache_dir=tmp_path_factory.mktemp("cache")))
    return DialogServices(catalogs, city, Retention(30, 30), answers)


@pytest.fixture(scope="module")
def router():
    return build_router()


def texts(turn) -> str:
    out = []
    for m in turn.replies:
        out.append(getattr(m, "text", ""))
    return "\n".join(out)


def tap(router, services, session, data):
    return router.route(Inbound("postback", session.user_id, postback=Postback.decode(data)), session, services)


def say(router, services, session, text):
    return router.route(Inbound("text", session.user_id, text=text), session, services)


# Through the whole bot: webhook → queue → worker → fake LINE

def conversation(client, runtime, events, fake_line, user):
    def send(event):
        before = len(fake_line.sent_to(user))
        assert post_webhook(client, [event]).status_code == 200
        drain(runtime)
        return [m for d in fake_line.sent_to(user)[before:] for m in d.messages]
    return send


def quick_reply(messages, label):
    for m in messages:
        for item in (m.get("quickReply") or {}).get("items", []):
            if item["action"]["label"] == label:
                return item["action"]
        for action in (m.get("template") or {}).get("actions", []):
            if action["label"] == label:
                return action
    raise AssertionError(f"no button {label!r} in {messages}")


def test_first_contact_greets_in_the_line_language_then_asks_consent(client, runtime, events, fake_line):
    user = user_id()
    fake_line.set_profile(user, "Ana", "pt-BR")
    send = conversation(client, runtime, events, fake_line, user)
    greeting = send(events.follow(user))
    en = runtime.catalogs.translator("pt-BR")
    assert en("使う言語を選んでください。") in greeting[0]["text"]
    assert len(greeting[0]["quickReply"]["items"]) == 10
    notice = send(events.postback(user, quick_reply(greeting, "English")["data"]))
    t = runtime.catalogs.translator("en")
    assert notice[0]["text"] == t("日本語で話します。") != "日本語で話します。"
    assert notice[2]["type"] == "template" and len(notice[2]["template"]["actions"]) == 2
    profile, _ = runtime.users.load(user)
    assert profile.language == "en" and profile.language_chosen and profile.consent is None
    menu = send(events.postback(user, quick_reply(notice, t("同意する"))["data"]))
    assert t("メニューです。下のボタンから選ぶか、知りたいことを文章で送ってください。") in menu[0]["text"]
    profile, session = runtime.users.load(user)
    assert profile.consent is True and session.state == ""


def test_unsupported_line_language_falls_back_to_japanese(client, runtime, events, fake_line):
    user = user_id()
    fake_line.set_profile(user, "Somchai", "th")
    send = conversation(client, runtime, events, fake_line, user)
    greeting = send(events.follow(user))
    assert "使う言語を選んでください。" in greeting[0]["text"]


def test_line_profile_unavailable_still_greets(client, runtime, events, fake_line):
    user = user_id()
    fake_line.fail("profile", 500, times=10)
    greeting = conversation(client, runtime, events, fake_line, user)(events.follow(user))
    assert "使う言語を選んでください。" in greeting[0]["text"]


def test_unfollow_forgets_the_dialog_and_marks_the_profile(client, runtime, events, fake_line, redis_client):
    user = user_id()
    send = conversation(client, runtime, events, fake_line, user)
    send(events.follow(user))
    assert redis_client.exists(runtime.users.dialog_key(user))
    send(events.unfollow(user))
    assert not redis_client.exists(runtime.users.dialog_key(user))
    profile, _ = runtime.users.load(user)
    assert profile.followed is False
    ttl = redis_client.ttl(runtime.users.profile_key(user))
    assert 29 * 86400 < ttl <= 30 * 86400
    send(events.follow(user))  # back again: kept language, no expiry
    assert redis_client.ttl(runtime.users.profile_key(user)) == -1


def test_dialog_state_expires_after_the_idle_timeout(client, runtime, events, fake_line, redis_client):
    user = user_id()
    conversation(client, runtime, events, fake_line, user)(events.follow(user))
    ttl = redis_client.ttl(runtime.users.dialog_key(user))
    assert 29 * 60 < ttl <= 30 * 60


def test_old_button_after_the_session_expired_says_so_and_shows_the_menu(client, runtime, events, fake_line,
                                                                          redis_client):
    user = user_id()
    send = conversation(client, runtime, events, fake_line, user)
    send(events.follow(user))
    send(events.postback(user, Postback("lang.set", ("ja",)).encode()))
    send(events.postback(user, Postback("consent.yes").encode()))
    shown = send(events.postback(user, Postback("privacy").encode()))
    withdraw = quick_reply(shown, "同意をやめる")
    redis_client.delete(runtime.users.dialog_key(user))  # a week later: the session is long gone
    reply = send(events.postback(user, withdraw["data"]))
    assert "古くなった" in reply[0]["text"] and reply[0]["quickReply"]["items"]
    profile, _ = runtime.users.load(user)
    assert profile.consent is True


@pytest.mark.parametrize("data", ["", "garbage", "0|lang.set||ja", "1|no.such.action|", "1||",
                                  "1|privacy.withdraw.yes|privacy.withdrawing", "x" * 300])
def test_stale_or_tampered_postbacks_get_the_expired_menu(router, services, data):
    session = Session("U1", "en", consent=True, state="")
    turn = tap(router, services, session, data)
    t = services.translator("en")
    assert t("このボタンは古くなったため使えません。もう一度メニューから選んでください。") in texts(turn)
    assert turn.state == ""


def test_state_bound_button_works_in_its_state(router, services):
    session = Session("U1", "ja", consent=True, state="privacy.withdrawing")
    turn = tap(router, services, session, Postback("privacy.withdraw.yes", state="privacy.withdrawing").encode())
    assert turn.profile == {"consent": False}


@pytest.mark.parametrize("code", CODES)
def test_global_commands_work_in_every_language_from_any_state(router, services, code):
    for command in COMMANDS:
        phrases = [p for p in services.translator(code)(command.words).split("|") if p.strip()]
        assert phrases, f"{code} has no words for {command.name}"
        for phrase in phrases:
            for state in ("", "lang.choose", "privacy.consent", "privacy.withdrawing"):
                turn = say(router, services, Session("U1", code, consent=True, state=state), phrase)
                expected = command.handler.__name__
                assert turn is not None, (code, phrase)
                if command.name == "language":
                    assert turn.state == "lang.choose", (code, phrase, expected)
                elif command.name == "delete":
                    assert turn.state == "privacy.deleting" and not turn.forget_user, (code, phrase)
                elif command.name == "person":
                    assert turn.handoff is not None, (code, phrase)
                else:
                    assert turn.state == "", (code, phrase, state)


def test_typing_a_language_name_while_choosing_sets_it(router, services):
    turn = say(router, services, Session("U1", "ja", state="lang.choose"), "english")
    assert turn.profile == {"language": "en"}


@pytest.mark.parametrize("tag,code", [("ja", "ja"), ("en-US", "en"), ("zh-Hant", "zh-Hans"), ("zh-CN", "zh-Hans"),
                                      ("pt", "pt-BR"), ("tl", "fil"), ("ne", "ne"), ("th", "ja"), (None, "ja"),
                                      ("es-419", "es"), ("ko", "ko"), ("vi", "vi")])
def test_line_language_tags(tag, code):
    assert from_line_tag(tag) == code


def every_turn(router, services, code):
    """Every reply this issue's dialogs can give, in one language."""
    s = lambda state="", consent=True: Session("U1", code, consent=consent, state=state)  # noqa: E731
    yield router.route(Inbound("follow", "U1"), s(consent=None), services)
    for lang in CODES:
        yield tap(router, services, s(consent=None), Postback("lang.set", (lang,)).encode())
        yield tap(router, services, s(), Postback("lang.set", (lang,)).encode())
    for action in ("consent.yes", "consent.no", "privacy", "menu", "language", "person", "cancel"):
        yield tap(router, services, s(), Postback(action).encode())
        yield tap(router, services, s(consent=False), Postback(action).encode())
    yield tap(router, services, s("privacy.shown"), Postback("privacy.withdraw", state="privacy.shown").encode())
    for action in ("privacy.withdraw.yes", "privacy.withdraw.no"):
        yield tap(router, services, s("privacy.withdrawing"), Postback(action, state="privacy.withdrawing").encode())
    yield say(router, services, s(), "こんにちは")
    yield say(router, services, s(), "データを削除")
    for action in ("privacy.delete.yes", "privacy.delete.no"):
        yield tap(router, services, s("privacy.deleting"), Postback(action, state="privacy.deleting").encode())
    yield tap(router, services, s(), Postback("handoff.back").encode())
    yield from handoff_turns(services, code)
    yield say(router, services, s("lang.choose"), "???")
    yield say(router, services, s("privacy.consent", None), "???")
    yield tap(router, services, s(), "garbage")


def handoff_turns(services, code):
    """The safety replies and handoff notices, at every hour: unknown hours, open, closed."""
    from dataclasses import replace
    from datetime import datetime, time

    from bot.staff_hours import TOKYO
    from dialogs import handoff, safety
    from dialogs.city import SafetyLine, StaffHours
    from dialogs.engine import Context

    weekly = (((time(8, 30), time(17, 15)),),) * 5 + ((), ())
    lines = tuple(SafetyLine(c, "DV相談", "0120-000-000") for c in safety.ADVICE)
    window = replace(services.city.main_window, phone="0467-00-0000")
    city = replace(services.city, staff_hours=StaffHours(weekly), safety_lines=lines, windows=(window,))
    for moment in (datetime(2026, 11, 27, 21, 0, tzinfo=TOKYO), datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)):
        timed = DialogServices(services.catalogs, city, services.retention, services.answers, clock=lambda: moment)
        for svc in (services, timed):
            ctx = Context(Inbound("text", "U1", "x"), Session("U1", code), svc, code)
            for category in safety.ADVICE:
                yield safety.reply(ctx, category)
            yield handoff.talk_to_person(ctx)
            yield handoff.faq_failed(ctx, "…")
            yield handoff.waiting_notice(ctx, can_withdraw=True)
            yield handoff.cannot_withdraw(ctx)
            yield handoff.released(ctx)


@pytest.mark.parametrize("code", CODES)
def test_every_message_is_within_line_limits_in_every_language(router, services, code):
    for turn in every_turn(router, services, code):
        messages = render.messages(turn.replies)
        assert line_limits.problems(messages) == [], (code, messages)


def test_empty_phone_is_never_shown_as_a_blank(services, router):
    turn = tap(router, services, Session("U1", "en", consent=True), Postback("person").encode())
    text = texts(turn)
    t = services.translator("en")
    assert t("電話: {phone}").split("{phone}")[0] not in text
    assert all(item.uri != "tel:" for m in turn.replies for item in m.quick_replies)


def test_a_city_phone_when_given_is_shown_and_tappable(services, router, tmp_path):
    pack = (ROOT / "content" / "ayase" / "city.toml").read_text().replace('phone = ""', 'phone = "0467-00-0000"', 1)
    (tmp_path / "city.toml").write_text(pack)
    (tmp_path / "faq.toml").write_text((ROOT / "content" / "ayase" / "faq.toml").read_text())
    with_phone = DialogServices(services.catalogs, load_city(tmp_path), services.retention, services.answers)
    turn = tap(router, with_phone, Session("U1", "ja", consent=True), Postback("person").encode())
    assert "電話: 0467-00-0000" in texts(turn)
    assert any(item.uri == "tel:0467-00-0000" for m in turn.replies for item in m.quick_replies)


def test_dialogs_import_no_flask_redis_or_line_sdk():
    for path in (ROOT / "dialogs").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in ("flask", "redis", "linebot", "bot"), (path.name, name)


def test_postback_data_limit_is_enforced():
    with pytest.raises(ValueError):
        Postback("x", ("y" * 300,)).encode()
    with pytest.raises(ValueError):
        Postback("a|b").encode()


def test_a_double_tap_is_answered_once(client, runtime, events, fake_line):
    user = user_id()
    send = conversation(client, runtime, events, fake_line, user)
    send(events.follow(user))
    data = Postback("lang.set", ("en",)).encode()
    first, second = events.postback(user, data), events.postback(user, data)
    assert post_webhook(client, [first, second]).status_code == 200
    drain(runtime)
    replies = fake_line.sent_to(user)[1:]
    assert len(replies) == 1
    # The same event handled again after a crash is not mistaken for a double tap.
    assert not runtime.users.repeated_tap(user, "event-a", "tap", 1000)
    assert not runtime.users.repeated_tap(user, "event-a", "tap", 1000)


def test_the_same_button_later_is_not_a_double_tap(runtime):
    assert not runtime.users.repeated_tap("U1", "e1", "x", 10_000)
    assert runtime.users.repeated_tap("U1", "e2", "x", 11_000)
    # Tapped 5 s after: a deliberate second tap, even if a backlog handles both at once.
    assert not runtime.users.repeated_tap("U1", "e3", "x", 16_000)
    assert not runtime.users.repeated_tap("U1", "e4", "y", 16_500)
