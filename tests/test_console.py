"""The staff console over HTTP (Flask's test client against the real app, Redis and fake LINE):
who may open what, sign-in and its throttle, CSRF, answering and handing back, bookings, audit."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest

from bot.console.accounts import AccountError
from dialogs.centers import TOKYO
from tests.conftest import drain, post_webhook, user_id

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(runtime):
    runtime.staff_accounts.add("hoken-a", PASSWORD, "staff")
    runtime.staff_accounts.add("hoken-b", PASSWORD, "staff")
    runtime.staff_accounts.add("kanri", PASSWORD, "admin")
    return runtime.staff_accounts


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(app, name: str, password: str = PASSWORD):
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    response = client.post("/console/sign-in", data={"name": name, "password": password,
                                                     "csrf_token": csrf_of(page)})
    return client, response


def token(client, path: str = "/console/") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


@pytest.fixture
def staff_a(app, accounts):
    client, response = sign_in(app, "hoken-a")
    assert response.status_code == 302
    return client


@pytest.fixture
def admin(app, accounts):
    client, response = sign_in(app, "kanri")
    assert response.status_code == 302
    return client


def _console_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/console") and rule.endpoint not in ("console.sign_in", "console.static"):
            yield rule


def _path(rule) -> str:
    values = {arg: "x1" for arg in rule.arguments}
    if "message_id" in values:
        values["message_id"] = "123"
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{arg}>", value, path)
    return path


def test_every_console_route_refuses_anonymous_users(app, client):
    rules = list(_console_rules(app))
    assert len(rules) >= 15
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(_path(rule), method=method)
            assert response.status_code in (302, 303, 401), (method, rule.rule, response.status_code)
            if response.status_code in (302, 303):
                assert "/console/sign-in" in response.headers["Location"]


def test_admin_only_routes_refuse_staff(app, staff_a, admin):
    admin_only = ["/console/audit", "/console/staff"]
    for path in admin_only:
        assert staff_a.get(path).status_code == 403
        assert admin.get(path).status_code == 200
    csrf = token(staff_a)
    assert staff_a.post("/console/staff/hoken-b/disable", data={"disabled": "1", "csrf_token": csrf}).status_code == 403
    assert staff_a.post("/console/chat/U1/release", data={"force": "1", "csrf_token": csrf}).status_code == 403


def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_the_session(app, runtime, accounts):
    client, response = sign_in(app, "hoken-a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert client.get("/console/").status_code == 200
    stolen = client.get_cookie("kosodate_console", path="/console").value
    client.post("/console/sign-out", data={"csrf_token": token(client)})
    assert client.get("/console/").status_code == 302
    # The old cookie is worth nothing after sign-out: the session is gone on the server.
    thief = app.test_client()
    thief.set_cookie("kosodate_console", stolen, path="/console")
    assert thief.get("/console/").status_code == 302


def test_secure_cookie_flag_in_production_settings():
    from bot.config import Settings

    assert Settings.from_env({"BOT_ENV": "production"}).console_cookie_secure
    assert not Settings.from_env({"BOT_ENV": "development"}).console_cookie_secure


def test_production_refuses_to_serve_without_a_console_key(redis_url):
    from bot.app import create_app
    from bot.config import ConfigError, Settings

    settings = Settings.from_env({"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
                                  "REDIS_URL": redis_url})
    with pytest.raises(ConfigError, match="CONSOLE_SECRET_KEY"):
        create_app(settings)


def test_wrong_passwords_are_throttled(app, runtime, accounts):
    for _ in range(5):
        _, response = sign_in(app, "hoken-a", "wrong password!")
        assert response.status_code == 401
    _, response = sign_in(app, "hoken-a")  # the right password, too late
    assert response.status_code == 429
    assert "分ほど待ってから" in response.get_data(as_text=True)
    failures = [e for e in runtime.audit.entries() if e["action"] == "sign_in_failed"]
    assert len(failures) == 5
    # Another account is not locked by it.
    _, response = sign_in(app, "hoken-b")
    assert response.status_code == 302


def test_unknown_and_disabled_accounts_cannot_sign_in(app, admin, accounts):
    assert sign_in(app, "nobody")[1].status_code == 401
    client_b, _ = sign_in(app, "hoken-b")
    assert client_b.get("/console/").status_code == 200
    admin.post("/console/staff/hoken-b/disable", data={"disabled": "1", "csrf_token": token(admin)})
    assert client_b.get("/console/").status_code == 302      # its open session ended
    assert sign_in(app, "hoken-b")[1].status_code == 401


def test_idle_sessions_end_but_background_polls_do_not_keep_them_alive(app, runtime, staff_a, redis_client):
    sid_keys = redis_client.keys(f"{runtime.settings.key_prefix}:console:session:*")
    assert len(sid_keys) == 1
    redis_client.expire(sid_keys[0], 5)
    staff_a.get("/console/queue/state")   # a poll
    assert redis_client.ttl(sid_keys[0]) <= 5
    staff_a.get("/console/")              # a page the staff member opened
    assert redis_client.ttl(sid_keys[0]) > 60
    redis_client.delete(sid_keys[0])      # as when the idle timeout passes
    assert staff_a.get("/console/queue/state").status_code == 401
    assert staff_a.get("/console/").status_code == 302


def test_posts_without_csrf_token_are_refused(app, runtime, staff_a, chat_waiting):
    user = chat_waiting()
    response = staff_a.post(f"/console/chat/{user}/claim")
    assert response.status_code == 400
    assert runtime.handoff.case(user).holder == ""
    response = staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": "forged"})
    assert response.status_code == 400
    # A sign-in form posted from elsewhere is refused too.
    assert app.test_client().post("/console/sign-in", data={"name": "hoken-a", "password": PASSWORD}).status_code == 400


def test_pages_forbid_framing_and_caching(staff_a):
    response = staff_a.get("/console/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def chat_waiting(client, runtime, events, fake_line):
    def make(text: str = "人と話したい", language: str = "ja") -> str:
        user = user_id()
        runtime.users.save(user, state="", data={}, profile_changes={"language": language, "consent": True})
        assert post_webhook(client, [events.text(user, text)]).status_code == 200
        drain(runtime)
        assert runtime.handoff.case(user) is not None
        return user
    return make


def test_claim_answer_with_a_canned_reply_and_release(app, runtime, staff_a, chat_waiting, fake_line, accounts):
    from bot.i18n import Catalogs

    user = chat_waiting("I want to talk to a person", language="vi")
    page = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    assert "Tiếng Việt" in page
    csrf = csrf_of(page)
    assert staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf}).status_code == 302
    assert runtime.handoff.case(user).holder == "hoken-a"
    # A second staff member cannot take it.
    client_b, _ = sign_in(app, "hoken-b")
    client_b.post(f"/console/chat/{user}/claim", data={"csrf_token": token(client_b)})
    assert runtime.handoff.case(user).holder == "hoken-a"
    assert "ほかの職員がすでに担当しています" in client_b.get(f"/console/chat/{user}").get_data(as_text=True)
    # Nor answer in it.
    message_id = uuid.uuid4().hex
    client_b.post(f"/console/chat/{user}/canned", data={"csrf_token": token(client_b), "reply": "checking",
                                                       "message_id": message_id})
    before = len(fake_line.sent_to(user))
    staff_a.post(f"/console/chat/{user}/canned", data={"csrf_token": csrf, "reply": "checking",
                                                     "message_id": message_id})
    staff_a.post(f"/console/chat/{user}/canned", data={"csrf_token": csrf, "reply": "checking",
                                                     "message_id": message_id})   # a double submit
    pushes = fake_line.sent_to(user)[before:]
    vietnamese = Catalogs().translator("vi")("確認してからお返事します。少しお待ちください。")
    assert vietnamese != "確認してからお返事します。少しお待ちください。"
    assert [d.messages[0]["text"] for d in pushes] == [vietnamese]
    # Free text goes as typed, under a note in Vietnamese.
    staff_a.post(f"/console/chat/{user}/send", data={"csrf_token": csrf, "text": "明日お電話します",
                                                   "message_id": uuid.uuid4().hex})
    typed = fake_line.sent_to(user)[-1].messages[0]["text"]
    assert typed.endswith("\n明日お電話します") and typed.startswith(
        Catalogs().translator("vi")("（市の職員が日本語で書いたメッセージです）"))
    staff_a.post(f"/console/chat/{user}/note", data={"csrf_token": csrf, "text": "母は夜勤あり"})
    assert len(fake_line.sent_to(user)) == before + 2          # the note went nowhere
    staff_a.post(f"/console/chat/{user}/release", data={"csrf_token": csrf})
    assert runtime.handoff.case(user) is None
    actions = [e["action"] for e in runtime.audit.entries(user_id=user)]
    assert {"read", "claimed", "answered", "noted", "released"} <= set(actions)
    assert actions.count("answered") == 2


def test_the_bot_answer_is_offered_and_sent_in_the_parents_language(runtime, staff_a, chat_waiting, fake_line):
    user = chat_waiting("人と話したい", language="en")
    runtime.transcripts.append(user, "user", "母子手帳はどこでもらえますか")
    page = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    assert "ボットならこう答えます" in page
    entry = re.search(r'name="entry" value="([^"]+)"', page).group(1)
    csrf = csrf_of(page)
    staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf})
    staff_a.post(f"/console/chat/{user}/faq", data={"csrf_token": csrf, "entry": entry,
                                                  "message_id": uuid.uuid4().hex})
    text = fake_line.sent_to(user)[-1].messages[0]["text"]
    question = runtime.city.entry(entry).question
    assert runtime.catalogs.translator("en")(question) in text


def test_user_messages_are_escaped(runtime, staff_a, chat_waiting):
    user = chat_waiting()
    runtime.transcripts.append(user, "user", "<script>alert(1)</script>")
    page = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = staff_a.get("/console/queue/rows").get_data(as_text=True)
    assert "<script>alert" not in rows


def test_images_come_from_lines_content_endpoint_and_only_from_that_chat(runtime, staff_a, chat_waiting, fake_line):
    user, other = chat_waiting(), chat_waiting()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    fake_line.contents["4711"] = (png, "image/png")
    runtime.transcripts.append(user, "user", "4711", kind="image")
    response = staff_a.get(f"/console/chat/{user}/content/4711")
    assert response.status_code == 200 and response.data == png and response.mimetype == "image/png"
    assert staff_a.get(f"/console/chat/{other}/content/4711").status_code == 404
    runtime.transcripts.append(user, "user", "4712", kind="image")     # LINE no longer has it
    assert staff_a.get(f"/console/chat/{user}/content/4712").status_code == 404
    assert "opened_media" in [e["action"] for e in runtime.audit.entries(user_id=user)]


def test_a_line_failure_is_reported_and_nothing_is_recorded_as_sent(runtime, staff_a, chat_waiting, fake_line):
    user = chat_waiting()
    csrf = token(staff_a, f"/console/chat/{user}")
    staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf})
    fake_line.fail("push", 500, times=10)
    response = staff_a.post(f"/console/chat/{user}/send", data={"csrf_token": csrf, "text": "こんにちは",
                                                              "message_id": uuid.uuid4().hex},
                            follow_redirects=True)
    assert "LINEに送れませんでした" in response.get_data(as_text=True)
    assert not [e for e in runtime.transcripts.read(user) if e.who == "staff"]


def test_queue_state_lists_urgent_cases_for_the_alarm(runtime, staff_a, chat_waiting):
    calm = chat_waiting()
    danger = chat_waiting("子どもが息をしていない")
    state = staff_a.get("/console/queue/state").get_json()
    assert state["urgent"] == [danger] and state["waiting"] == 2
    rows = staff_a.get("/console/queue/rows").get_data(as_text=True)
    assert rows.index(danger) < rows.index(calm)
    assert "緊急" in rows


# Bookings

@pytest.fixture
def booked_slot(runtime, fake_line):
    store = runtime.booking_store
    now = datetime.now(TOKYO)
    day = (now + timedelta(days=3)).date()
    start = datetime.combine(day, datetime.min.time(), TOKYO).replace(hour=10)
    slot = store.add_slot("center-1", start, start + timedelta(minutes=90), 2, now)
    parents = [user_id(), user_id(), user_id()]
    fake_line.set_profile(parents[0], "山田 花子", "ja")
    fake_line.set_profile(parents[1], "Nguyen Lan", "vi")
    for parent, language in zip(parents, ("ja", "vi", "en")):
        runtime.users.save(parent, state="", data={}, profile_changes={"language": language})
    assert runtime.bookings.book(parents[0], slot.id, 2).status == "booked"
    assert runtime.bookings.book(parents[1], slot.id, 1).status == "booked"
    assert runtime.bookings.join_waitlist(parents[2], slot.id, 1).status == "waiting"
    return slot, parents, day


def test_bookings_page_shows_who_booked(staff_a, booked_slot):
    slot, parents, day = booked_slot
    page = staff_a.get(f"/console/bookings?center=center-1&day={day}").get_data(as_text=True)
    assert "山田 花子" in page and "Nguyen Lan" in page
    assert "定員 2組 · 予約 2組" in page


def test_staff_cancel_a_booking_with_a_message_in_the_parents_language(runtime, staff_a, booked_slot, fake_line):
    slot, parents, day = booked_slot
    booking = runtime.bookings.bookings_of(parents[1])[0]
    staff_a.post(f"/console/bookings/{booking.id}/cancel", data={
        "csrf_token": token(staff_a, "/console/bookings"), "reason": "weather", "note": "また来てください",
        "center": "center-1", "day": day.isoformat()})
    assert runtime.bookings.bookings_of(parents[1]) == []
    text = fake_line.sent_to(parents[1])[-1].messages[0]["text"]
    vi = runtime.catalogs.translator("vi")
    assert vi("警報などの天候のため、次の予約が取り消しになりました。") in text
    assert "また来てください" in text
    assert "booking_cancelled" in [e["action"] for e in runtime.audit.entries(user_id=parents[1])]


def test_staff_add_and_close_slots_and_everyone_is_told(runtime, staff_a, booked_slot, fake_line):
    slot, parents, day = booked_slot
    csrf = token(staff_a, "/console/bookings")
    staff_a.post("/console/bookings/slots", data={"csrf_token": csrf, "center": "center-1", "day": day.isoformat(),
                                                  "start": "13:00", "end": "14:00", "capacity": "5"})
    times = [(s.start.hour, s.capacity) for s in runtime.booking_store.slots("center-1", day, datetime.now(TOKYO))]
    assert (13, 5) in times
    response = staff_a.post("/console/bookings/slots", data={"csrf_token": csrf, "center": "center-1",
                                                             "day": day.isoformat(), "start": "15:00", "end": "14:00",
                                                             "capacity": "5"}, follow_redirects=True)
    assert "追加できませんでした" in response.get_data(as_text=True)
    response = staff_a.post(f"/console/bookings/slots/{slot.id}/close",
                            data={"csrf_token": csrf, "reason": "illness", "center": "center-1", "day": day.isoformat()})
    assert response.status_code == 302
    assert runtime.booking_store.slot(slot.id, datetime.now(TOKYO)).closed
    for parent in parents:
        assert fake_line.sent_to(parent), parent


def test_csv_export_is_audited_and_safe_for_spreadsheets(runtime, staff_a, booked_slot, fake_line):
    slot, parents, day = booked_slot
    runtime.bookings.cancel(parents[0], runtime.bookings.bookings_of(parents[0])[0].id)
    sly = user_id()
    fake_line.set_profile(sly, '=HYPERLINK("http://x")', "en")
    other = runtime.booking_store.add_slot("center-1", slot.start + timedelta(hours=3), slot.end + timedelta(hours=3), 1,
                                           datetime.now(TOKYO))
    assert runtime.bookings.book(sly, other.id, 1).status == "booked"
    response = staff_a.get(f"/console/bookings/export.csv?center=center-1&from={day}&to={day}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffdate,start,end,slot")
    assert "Nguyen Lan" in body
    assert """'=HYPERLINK(""http://x"")""" in body and ",=HYPERLINK" not in body
    assert "exported" in [e["action"] for e in runtime.audit.entries()]
    assert staff_a.get(f"/console/bookings/export.csv?center=center-1&from={day}&to=2000-01-01").status_code == 302
    assert staff_a.get("/console/bookings/export.csv?center=center-1&from=9999-12-30&to=9999-12-31").status_code == 400


def test_staff_cli_reads_the_password_from_stdin(settings, runtime):
    import io

    from bot.console import cli

    class Args:
        staff_action = "add"
        name = "tanaka.h"
        role = "admin"

    stdin = io.StringIO("a long enough password\n")
    import sys

    real, sys.stdin = sys.stdin, stdin
    try:
        assert cli.run(Args, settings) == 0
    finally:
        sys.stdin = real
    account = runtime.staff_accounts.verify("tanaka.h", "a long enough password")
    assert account is not None and account.admin
    with pytest.raises(AccountError):
        runtime.staff_accounts.add("tanaka.h", "another long password")
    with pytest.raises(AccountError):
        runtime.staff_accounts.add("short", "short")


def test_pages_switch_to_english_for_staff_who_read_it(staff_a, chat_waiting):
    user = chat_waiting("子どもが息をしていない")
    staff_a.post("/console/language", data={"language": "en", "csrf_token": token(staff_a), "next": "/console/"})
    page = staff_a.get("/console/").get_data(as_text=True)
    assert '<html lang="en">' in page and "受付キュー" not in page
    rows = staff_a.get("/console/queue/rows").get_data(as_text=True)
    assert "A child&#39;s life or body in danger" in rows or "A child's life or body in danger" in rows
    chat = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    assert "Canned replies" in chat


# What goes wrong, and what staff are told

def test_two_different_answers_from_one_page_both_go(runtime, staff_a, chat_waiting, fake_line):
    user = chat_waiting()
    runtime.transcripts.append(user, "user", "母子手帳はどこでもらえますか")
    page = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    csrf = csrf_of(page)
    staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf})
    page = staff_a.get(f"/console/chat/{user}").get_data(as_text=True)
    canned_id = re.search(r'name="message_id" value="([0-9a-f]{32})">\s*<input type="hidden" name="reply" value="greeting"',
                          page).group(1)
    entry, faq_id = re.search(r'name="message_id" value="([0-9a-f]{32})">\s*<input type="hidden" name="entry" '
                              r'value="([^"]+)"', page).group(2, 1)
    assert canned_id != faq_id
    before = len(fake_line.sent_to(user))
    staff_a.post(f"/console/chat/{user}/canned", data={"csrf_token": csrf, "reply": "greeting", "message_id": canned_id})
    staff_a.post(f"/console/chat/{user}/faq", data={"csrf_token": csrf, "entry": entry, "message_id": faq_id})
    assert len(fake_line.sent_to(user)) == before + 2


def test_a_failed_send_keeps_the_text_and_sending_again_goes_once(runtime, staff_a, chat_waiting, fake_line):
    user = chat_waiting()
    csrf = token(staff_a, f"/console/chat/{user}")
    staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf})
    message_id = uuid.uuid4().hex
    fake_line.fail("push", 503, times=10)
    response = staff_a.post(f"/console/chat/{user}/send", data={"csrf_token": csrf, "text": "明日10時にお電話します",
                                                              "message_id": message_id})
    page = response.get_data(as_text=True)
    assert response.status_code == 502 and "LINEに送れませんでした" in page
    assert ">明日10時にお電話します</textarea>" in page and f'value="{message_id}"' in page
    fake_line.reset()
    staff_a.post(f"/console/chat/{user}/send", data={"csrf_token": csrf, "text": "明日10時にお電話します",
                                                   "message_id": message_id})
    assert [d.messages[0]["text"] for d in fake_line.sent_to(user)] == ["明日10時にお電話します"]


def test_a_held_chat_that_turns_urgent_sounds_the_alarm(runtime, staff_a, chat_waiting, client, events):
    user = chat_waiting()
    runtime.staff_desk.claim("hoken-b", user)
    assert staff_a.get("/console/queue/state").get_json()["urgent"] == []
    assert post_webhook(client, [events.text(user, "子どもが息をしていない")]).status_code == 200
    drain(runtime)
    state = staff_a.get("/console/queue/state").get_json()
    assert state["urgent"] == [user] and state["unheld_urgent"] == []


def test_parallel_wrong_passwords_cannot_outrun_the_throttle(app, accounts):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: sign_in(app, "hoken-a", "wrong password!")[1].status_code, range(24)))
    assert codes.count(401) <= 5 and codes.count(429) >= 19


def test_a_form_sent_after_the_session_ended_goes_to_sign_in_and_says_why(runtime, staff_a, chat_waiting, redis_client):
    user = chat_waiting()
    csrf = token(staff_a, f"/console/chat/{user}")
    for key in redis_client.keys(f"{runtime.settings.key_prefix}:console:session:*"):
        redis_client.delete(key)
    response = staff_a.post(f"/console/chat/{user}/send", data={"csrf_token": csrf, "text": "長い返事",
                                                              "message_id": uuid.uuid4().hex})
    assert response.status_code == 303 and "/console/sign-in" in response.headers["Location"]
    page = staff_a.get(response.headers["Location"]).get_data(as_text=True)
    assert "サインアウトしました" in page


def test_transcripts_are_polled_only_for_chats_opened_and_audited(runtime, staff_a, chat_waiting):
    user = chat_waiting()
    assert staff_a.get(f"/console/chat/{user}/entries").status_code == 404
    staff_a.get(f"/console/chat/{user}")
    assert staff_a.get(f"/console/chat/{user}/entries").status_code == 200
    assert "read" in [e["action"] for e in runtime.audit.entries(user_id=user)]


def test_odd_input_gets_a_clear_answer_not_a_500(staff_a, booked_slot):
    slot, parents, day = booked_slot
    csrf = token(staff_a, "/console/bookings")
    for slot_id in ("nope", "x/y/z", "%E2%9C%93", "a" * 3000):
        response = staff_a.post(f"/console/bookings/slots/{slot_id}/close", data={"csrf_token": csrf},
                                follow_redirects=True)
        assert response.status_code == 200 and "見つかりません" in response.get_data(as_text=True), slot_id
    response = staff_a.post("/console/bookings/slots", data={"csrf_token": csrf, "center": "center-1",
                                                             "start": "10:00", "end": "11:00", "capacity": "3"})
    assert response.status_code == 400 and "正しくない送信です" in response.get_data(as_text=True)
    assert staff_a.get("/console/bookings?day=9999-12-31").status_code == 400
    assert staff_a.get("/console/chat/Unobody").status_code == 404
    assert "見つかりません" in staff_a.get("/console/chat/Unobody").get_data(as_text=True)
    response = staff_a.post("/console/bookings/999/cancel", data={"csrf_token": csrf}, follow_redirects=True)
    assert "この予約はもうありません" in response.get_data(as_text=True)


def test_a_cancellation_line_cannot_take_now_is_sent_later_once(runtime, staff_a, booked_slot, fake_line):
    slot, parents, day = booked_slot
    booking = runtime.bookings.bookings_of(parents[0])[0]
    fake_line.fail("push", 500, times=100)
    response = staff_a.post(f"/console/bookings/{booking.id}/cancel", data={
        "csrf_token": token(staff_a, "/console/bookings"), "center": "center-1", "day": day.isoformat()},
        follow_redirects=True)
    assert "自動で送り直します" in response.get_data(as_text=True)
    assert runtime.outbox.waiting() == 1
    fake_line.reset()
    import time as clock

    assert runtime.outbox.retry_due(clock.time() + 3600) == 1
    assert runtime.outbox.retry_due(clock.time() + 7200) == 0
    assert len([d for d in fake_line.sent_to(parents[0]) if d.kind == "push"]) == 1


def test_a_chat_is_handed_back_even_when_line_refuses_the_notice(runtime, staff_a, chat_waiting, fake_line):
    user = chat_waiting()
    csrf = token(staff_a, f"/console/chat/{user}")
    staff_a.post(f"/console/chat/{user}/claim", data={"csrf_token": csrf})
    fake_line.fail("push", 400, times=5)
    response = staff_a.post(f"/console/chat/{user}/release", data={"csrf_token": csrf}, follow_redirects=True)
    assert runtime.handoff.case(user) is None
    assert "届けられませんでした" in response.get_data(as_text=True)


def test_redis_down_gets_a_page_that_says_so(settings, runtime):
    from bot.app import create_app
    from bot.redis_server import free_port
    from bot.runtime import Runtime

    dead = settings.with_(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(dead, Runtime(dead))
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    response = client.post("/console/sign-in", data={"name": "hoken-a", "password": PASSWORD,
                                                     "csrf_token": csrf_of(page)})
    assert response.status_code == 503 and "Redis" in response.get_data(as_text=True)


def test_an_admin_takes_over_a_chat_and_stopping_an_account_frees_its_chats(app, runtime, staff_a, admin, chat_waiting):
    first, second = chat_waiting(), chat_waiting()
    for user in (first, second):
        assert runtime.staff_desk.claim("hoken-a", user).ok
    csrf = token(admin, f"/console/chat/{first}")
    assert staff_a.post(f"/console/chat/{first}/claim", data={"csrf_token": token(staff_a), "take_over": "1"}
                        ).status_code == 403
    admin.post(f"/console/chat/{first}/claim", data={"csrf_token": csrf, "take_over": "1"})
    assert runtime.handoff.case(first).holder == "kanri"
    assert "taken over from hoken-a" in [e["detail"] for e in runtime.audit.entries(user_id=first)
                                         if e["action"] == "claimed"][0]
    admin.post("/console/staff/hoken-a/disable", data={"disabled": "1", "csrf_token": csrf})
    case = runtime.handoff.case(second)
    assert case.holder == "" and not case.held


def test_staff_see_the_parents_line_name(runtime, staff_a, client, events, fake_line):
    user = user_id()
    fake_line.set_profile(user, "Trần Thị Mai", "vi")
    runtime.users.save(user, state="", data={}, profile_changes={"language": "vi", "consent": True})
    assert post_webhook(client, [events.text(user, "con tôi không thở được")]).status_code == 200
    drain(runtime)
    assert runtime.handoff.case(user).name == "Trần Thị Mai"
    assert "Trần Thị Mai" in staff_a.get("/console/queue/rows").get_data(as_text=True)
    assert "Trần Thị Mai" in staff_a.get(f"/console/chat/{user}").get_data(as_text=True)


def test_the_audit_filter_finds_a_staff_members_old_entries(runtime, admin):
    for n in range(2500):
        runtime.audit.record("busy", "read", f"U{n}")
    runtime.audit.record("rare", "exported", detail="bookings")
    for n in range(2500):
        runtime.audit.record("busy", "read", f"U{n}")
    page = admin.get("/console/audit?staff=rare").get_data(as_text=True)
    assert "rare" in page and "書き出した" in page
    assert [e["staff"] for e in runtime.audit.entries(staff="rare")] == ["rare"]
