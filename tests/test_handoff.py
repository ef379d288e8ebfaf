"""Safety and handoff through the real webhook, worker, Redis and fake LINE API."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest

from bot.redis_server import EmbeddedRedis
from bot.staff_hours import TOKYO
from bot.transcripts import DAY_MS
from dialogs.engine import Postback
from tests.conftest import drain, post_webhook, user_id


@pytest.fixture
def chat(client, runtime, events, fake_line):
    """Say something as a user and let the worker answer; returns what the user received."""

    def say(user: str, text: str | None = None, *, postback: str | None = None) -> list[str]:
        before = len(fake_line.sent_to(user))
        event = events.postback(user, postback) if postback else events.text(user, text)
        assert post_webhook(client, [event]).status_code == 200
        drain(runtime)
        return [t for d in fake_line.sent_to(user)[before:] for t in _texts(d.messages)]

    return say


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or m.get("template", {}).get("text", "") for m in messages]


def _uris(fake_line, user) -> list[str]:
    uris = []
    for d in fake_line.sent_to(user):
        for m in d.messages:
            uris += [a.get("uri") for a in m.get("template", {}).get("actions", [])]
            uris += [i["action"].get("uri") for i in (m.get("quickReply") or {}).get("items", [])]
    return [u for u in uris if u]


def consented(runtime, user, language="ja"):
    runtime.users.save(user, state="", data={}, profile_changes={"language": language, "consent": True})


def test_a_risk_message_gets_the_safety_reply_and_the_top_of_the_queue(runtime, chat, fake_line):
    calm, danger = user_id(), user_id()
    chat(calm, "人と話したい")
    said = chat(danger, "子どもが息をしていない")
    assert any("119" in t for t in said)
    assert {"tel:119", "tel:%238000"} <= set(_uris(fake_line, danger))
    assert [c.user_id for c in runtime.handoff.cases()] == [danger, calm]
    case = runtime.handoff.case(danger)
    assert (case.risk, case.urgency, case.reason) == ("child_danger", 0, "risk:child_danger")
    # Without consent, a risk message is still kept for staff.
    assert [e.text for e in runtime.transcripts.read(danger) if e.who == "user"] == ["子どもが息をしていない"]


def test_near_misses_do_not_fire(runtime, chat):
    for text in ("虐待防止の講座はありますか", "死ぬほど眠い", "the kids are killing me lol"):
        user = user_id()
        said = chat(user, text)
        assert runtime.handoff.case(user) is None
        assert not any("119" in t or "110" in t for t in said)


def test_the_bot_is_silent_while_staff_hold_the_chat_and_says_so_once(runtime, chat, fake_line):
    user = user_id()
    consented(runtime, user)
    chat(user, "人と話したい")
    assert runtime.staff_desk.claim("hoken-a", user).ok
    # Already told when the request was made: from now on the bot says nothing.
    assert chat(user, "母子手帳はどこでもらえますか") == []
    assert chat(user, "メニュー") == []
    assert chat(user, "予防接種について") == []
    kept = [e.text for e in runtime.transcripts.read(user) if e.who == "user"]
    assert kept[-3:] == ["母子手帳はどこでもらえますか", "メニュー", "予防接種について"]


def test_a_risk_message_during_takeover_still_gets_the_safety_reply(runtime, chat):
    user = user_id()
    chat(user, "人と話したい")
    runtime.staff_desk.claim("hoken-a", user)
    chat(user, "ありがとうございます")
    said = chat(user, "もう死にたい")
    assert any("119" in t for t in said)
    case = runtime.handoff.case(user)
    assert case.holder == "hoken-a" and case.urgency == 0 and case.risk == "self_harm"


def test_a_reply_worked_out_before_staff_took_over_is_not_sent(runtime, events, client, fake_line):
    """The mode is checked again just before sending."""
    user = user_id()
    router = runtime.conversations.router
    route = router.route

    def route_while_staff_take_over(inbound, session, services):
        turn = route(inbound, session, services)
        runtime.handoff.open(user, language="ja", reason="asked")
        runtime.handoff.claim(user, "hoken-a")
        return turn

    router.route = route_while_staff_take_over
    post_webhook(client, [events.text(user, "メニュー")])
    drain(runtime)
    assert fake_line.sent_to(user) == []


def test_two_staff_claiming_at_once_one_wins(runtime, chat):
    user = user_id()
    chat(user, "人と話したい")
    results, start = [], threading.Barrier(8)

    def claim(name):
        start.wait()
        results.append((name, runtime.staff_desk.claim(name, user)))

    threads = [threading.Thread(target=claim, args=(f"staff-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [name for name, outcome in results if outcome.ok]
    assert len(winners) == 1
    assert {o.status for _, o in results if not o.ok} == {"taken"}
    assert {o.holder for _, o in results} == {winners[0]}
    assert runtime.staff_desk.send("staff-x", user, "こんにちは", message_id="m1").status == "not_holder"


def test_the_queue_is_ordered_by_urgency_then_waiting_time(runtime):
    q = runtime.handoff
    now = int(time.time() * 1000)
    q.open("U-asked-early", language="ja", reason="asked", at_ms=now - 60_000)
    q.open("U-postpartum", language="vi", reason="risk:postpartum", urgency=2, risk="postpartum", at_ms=now - 1000)
    q.open("U-asked-late", language="en", reason="asked", at_ms=now - 30_000)
    q.open("U-danger", language="ja", reason="risk:child_danger", urgency=0, risk="child_danger", at_ms=now)
    q.open("U-abuse", language="ko", reason="risk:abuse", urgency=1, risk="abuse", at_ms=now - 5000)
    order = [c.user_id for c in q.cases()]
    assert order == ["U-danger", "U-abuse", "U-postpartum", "U-asked-early", "U-asked-late"]
    # A waiting request that turns into a risk keeps its place in time but jumps the urgency.
    assert q.open("U-asked-late", language="en", reason="risk:dv", urgency=1, risk="dv") == "escalated"
    assert [c.user_id for c in q.cases()][:3] == ["U-danger", "U-asked-late", "U-abuse"]


def test_staff_answer_release_and_the_menu_returns(runtime, chat, fake_line):
    user = user_id()
    consented(runtime, user, "vi")
    chat(user, "I want to talk to a person")
    desk = runtime.staff_desk
    assert desk.claim("hoken-a", user).ok
    assert desk.send("hoken-a", user, "こんにちは。保健師の山田です。", message_id="msg-1").ok
    assert desk.send("hoken-a", user, "こんにちは。保健師の山田です。", message_id="msg-1").ok  # a double submit
    pushes = [d for d in fake_line.sent_to(user) if d.kind == "push"]
    # Sent once, as typed, under a line in Vietnamese saying it was written in Japanese.
    note = runtime.catalogs.translator("vi")("（市の職員が日本語で書いたメッセージです）")
    assert [m["text"] for d in pushes for m in d.messages] == [f"{note}\nこんにちは。保健師の山田です。"]
    assert desk.note("hoken-a", user, "来週電話する").ok
    assert desk.release("hoken-a", user).ok
    released = fake_line.sent_to(user)[-1]
    assert released.kind == "push"
    vi = runtime.catalogs.translator("vi")
    assert released.messages[0]["text"] == vi("職員との相談が終わりました。ここからはまたボットがお答えします。")
    assert runtime.handoff.case(user) is None
    assert chat(user, "メニュー")  # the bot answers again
    whos = [e.who for e in runtime.transcripts.read(user)]
    assert "staff" in whos and "note" in whos and whos.count("staff") == 1
    actions = [e["action"] for e in runtime.audit.entries(user_id=user)]
    assert {"claimed", "answered", "noted", "released"} <= set(actions)
    assert [n for n in fake_line.texts_to(user) if "来週電話する" in n] == []  # notes stay private


def test_the_user_can_take_back_a_request_until_staff_claim_it(runtime, chat):
    user, other = user_id(), user_id()
    chat(user, "人と話したい")
    back = Postback("handoff.back").encode()
    chat(user, postback=back)
    assert runtime.handoff.case(user) is None
    chat(other, "人と話したい")
    runtime.staff_desk.claim("hoken-a", other)
    said = chat(other, postback=back)
    assert runtime.handoff.case(other) is not None and "職員" in said[0]


def test_the_faq_failing_twice_puts_the_conversation_in_the_queue(runtime, chat):
    user = user_id()
    chat(user, "火星に引っ越すときの手続きを教えてください")
    assert runtime.handoff.case(user) is None
    chat(user, "宇宙飛行士の訓練はどこで受けられますか")
    case = runtime.handoff.case(user)
    assert case is not None and case.reason == "faq_failed"
    texts = [e.text for e in runtime.transcripts.read(user) if e.who == "user"]
    assert "宇宙飛行士の訓練はどこで受けられますか" in texts


def test_transcripts_expire_after_the_retention_period(runtime):
    transcripts = runtime.transcripts
    now = int(time.time() * 1000)
    transcripts.append("U-old", "user", "old question", at_ms=now - 80 * DAY_MS)
    transcripts.append("U-old", "user", "new question", at_ms=now)
    transcripts.append("U-gone", "user", "very old", at_ms=now - 85 * DAY_MS)
    transcripts.sweep(now + 15 * DAY_MS)
    assert [e.text for e in transcripts.read("U-old")] == ["new question"]
    assert transcripts.read("U-gone") == []
    assert runtime.redis.ttl(transcripts.key("U-old")) > 80 * 24 * 3600


def test_delete_my_data_asks_first_then_deletes_everything(runtime, chat, fake_line):
    user = user_id()
    consented(runtime, user)
    chat(user, "人と話したい")
    chat(user, "相談です")
    assert runtime.transcripts.read(user)
    asked = chat(user, "データを削除")
    assert any("消しますか" in t for t in asked)
    assert runtime.transcripts.read(user)  # nothing gone before the confirmation
    done = chat(user, postback=Postback("privacy.delete.yes", state="privacy.deleting").encode())
    assert any("消しました" in t for t in done)
    assert runtime.transcripts.read(user) == []
    assert runtime.handoff.case(user) is None
    assert not runtime.users.load(user)[0].exists
    assert [e["action"] for e in runtime.audit.entries(user_id=user)][0] == "deleted_on_request"


def test_delete_in_another_language(runtime, chat):
    user = user_id()
    consented(runtime, user, "en")
    chat(user, "hello")
    asked = chat(user, "delete my data")
    en = runtime.catalogs.translator("en")
    assert asked == [en("このトークの記録と設定をすべて消します。元にはもどせません。消しますか？")]


def _services_at(runtime, moment, hours="08:30-17:15"):
    from dataclasses import replace

    from bot.conversation import DialogServices
    from dialogs.city import StaffHours
    from datetime import time as clock_time

    span = tuple(clock_time.fromisoformat(p) for p in hours.split("-"))
    weekly = ((span,),) * 5 + ((), ())
    city = replace(runtime.city, staff_hours=StaffHours(weekly))
    s = runtime.dialog_services
    return DialogServices(s.catalogs, city, s.retention, s.answers, clock=lambda: moment)


def _safety_text(services, language, category="abuse"):
    from dialogs import safety
    from dialogs.engine import Context, Inbound, Session

    ctx = Context(Inbound("text", "U1", "x"), Session("U1", language), services, language)
    return safety.reply(ctx, category).replies[0].text


def test_out_of_hours_the_reply_says_when_a_person_will_read_it(runtime):
    friday_night = datetime(2026, 11, 27, 21, 0, tzinfo=TOKYO)
    text = _safety_text(_services_at(runtime, friday_night), "ja")
    assert "受付時間外" in text and "11月30日(月) 8:30" in text
    en = _safety_text(_services_at(runtime, friday_night), "en")
    assert "Nov 30" in en and "8:30" in en
    monday_morning = datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)
    assert "このあと読みます" in _safety_text(_services_at(runtime, monday_morning), "ja")
    # Labour Thanksgiving Day (a national holiday): the next reading is the day after.
    holiday_eve = datetime(2026, 11, 20, 18, 0, tzinfo=TOKYO)
    assert "11月24日(火)" in _safety_text(_services_at(runtime, datetime(2026, 11, 22, 12, 0, tzinfo=TOKYO)), "ja")
    assert "11月23日" not in _safety_text(_services_at(runtime, holiday_eve), "ja")


def test_hours_the_city_has_not_given_promise_no_time(runtime):
    text = _safety_text(runtime.dialog_services, "ja")
    assert "すぐには返事ができないことがあります" in text and "受付時間外" not in text


def test_a_redis_restart_loses_no_queue_entry_or_transcript(tmp_path, settings):
    from bot.runtime import Runtime

    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        runtime = Runtime(settings.with_(redis_url=server.url))
        for n in range(10):
            runtime.handoff.open(f"U{n}", language="ja", reason="asked", urgency=n % 3)
            runtime.transcripts.append(f"U{n}", "user", f"message {n}")
        runtime.handoff.claim("U3", "hoken-a")
        runtime.audit.record("hoken-a", "claimed", "U3")
        before = [(c.user_id, c.holder) for c in runtime.handoff.cases()]
        runtime.close()
        server.kill()
        server.start()
        runtime = Runtime(settings.with_(redis_url=server.url))
        assert [(c.user_id, c.holder) for c in runtime.handoff.cases()] == before
        assert [e.text for e in runtime.transcripts.read("U7")] == ["message 7"]
        assert runtime.audit.entries()[0]["action"] == "claimed"
        runtime.close()
    finally:
        server.stop()


def test_a_message_while_waiting_is_kept_and_answered_by_one_notice(runtime, chat):
    """Queued by the FAQ failing twice, then writing again: told once, then silence."""
    user = user_id()
    runtime.handoff.open(user, language="ja", reason="asked")
    first = chat(user, "母子手帳はどこでもらえますか")
    assert len(first) == 1 and "職員" in first[0]
    assert chat(user, "まだですか") == []
    assert [e.text for e in runtime.transcripts.read(user) if e.who == "user"] == [
        "母子手帳はどこでもらえますか", "まだですか"]
