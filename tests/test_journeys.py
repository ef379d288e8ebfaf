"""Journey messages and referral follow-ups, with time travel: the real webhook, worker, Redis
and fake LINE API; only the journeys' clock is moved."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from bot import line_limits, render
from bot.journeys import jobs
from dialogs import journey as journey_dialog
from dialogs.centers import TOKYO
from dialogs.engine import Context, Inbound, Postback, Session
from dialogs.languages import LANGUAGES
from tests.conftest import drain, post_webhook, user_id

TODAY = date(2027, 1, 11)


class Clock:
    def __init__(self, moment: datetime):
        self.now = moment

    def __call__(self) -> datetime:
        return self.now

    def morning(self, day: date) -> datetime:
        self.now = datetime.combine(day, time(10, 5), TOKYO)
        return self.now


@pytest.fixture
def clock(runtime):
    c = Clock(datetime.combine(TODAY, time(9, 0), TOKYO))
    runtime.journeys.clock = c
    return c


@pytest.fixture
def parent(runtime):
    def make(language: str = "ja", consent: bool = True) -> str:
        user = user_id()
        runtime.users.save(user, state="", data={}, profile_changes={
            "language": language, "consent": consent, "followed": "1"})
        return user
    return make


@pytest.fixture
def tap(client, runtime, events):
    def do(user: str, action: str, *args: str, params: dict | None = None, state: str = "") -> None:
        event = events.postback(user, Postback(action, tuple(args), state).encode())
        if params:
            event["postback"]["params"] = params
        assert post_webhook(client, [event]).status_code == 200
        drain(runtime)
    return do


def journey_texts(fake_line, user: str) -> list[str]:
    return [m["text"] for d in fake_line.sent_to(user) if d.kind == "multicast" for m in d.messages]


def travel(runtime, clock, first: date, last: date, fake_line, user: str) -> dict[date, list[str]]:
    """Each morning from `first` to `last`, the scheduler's journey tick; what the user got, by day."""
    got: dict[date, list[str]] = {}
    day = first
    while day <= last:
        before = len(journey_texts(fake_line, user))
        runtime.send_journeys(clock.morning(day))
        new = journey_texts(fake_line, user)[before:]
        if new:
            got[day] = new
        day += timedelta(days=1)
    return got


def text_of(runtime, milestone_id: str, language: str) -> str:
    return runtime.catalogs.translator(language)(runtime.journey_store.plan.milestone(milestone_id).text)


def test_a_due_date_then_a_birthday_give_each_message_once_on_its_day_in_the_parents_language(
        runtime, clock, parent, tap, fake_line):
    user = parent("vi")
    due = TODAY + timedelta(days=150)
    tap(user, "journey.due", params={"date": due.isoformat()})
    assert [c.kind for c in runtime.journeys.children(user)] == ["due"]
    got = travel(runtime, clock, TODAY, due + timedelta(days=8), fake_line, user)
    assert got == {
        TODAY + timedelta(days=1): [text_of(runtime, "welcome", "vi")],
        due - timedelta(days=84): [text_of(runtime, "eighth-month", "vi")],
        due - timedelta(days=28): [text_of(runtime, "before-birth", "vi")],
        due + timedelta(days=7): [text_of(runtime, "due-passed", "vi")],
    }
    # The baby came three days late: the birthday replaces the due date.
    birth = due + timedelta(days=3)
    tap(user, "journey.birth", params={"date": birth.isoformat()})
    assert [(c.kind, c.day) for c in runtime.journeys.children(user)] == [("birth", birth)]
    got = travel(runtime, clock, due + timedelta(days=8), birth + timedelta(days=245), fake_line, user)
    assert got == {
        due + timedelta(days=8): [text_of(runtime, "after-birth", "vi")],   # already due: sent at once
        birth + timedelta(days=14): [text_of(runtime, "postpartum", "vi")],
        birth + timedelta(days=42): [text_of(runtime, "vaccinations", "vi")],
        birth + timedelta(days=100): [text_of(runtime, "infant-checkup", "vi")],
        birth + timedelta(days=150): [text_of(runtime, "support-center", "vi")],
        birth + timedelta(days=240): [text_of(runtime, "nursery", "vi")],
    }
    assert text_of(runtime, "after-birth", "vi") != runtime.journey_store.plan.milestone("after-birth").text


def test_a_worker_dying_mid_send_loses_nothing_and_sends_nothing_twice(runtime, clock, parent, tap, fake_line):
    users = [parent("en") for _ in range(3)]
    for user in users:
        tap(user, "journey.birth", params={"date": (TODAY - timedelta(days=1)).isoformat()})
    store = runtime.journey_store

    # Dies after taking the due messages, before sending: the batch waits in Redis.
    assert store.claim(clock.morning(TODAY + timedelta(days=2))) == (3, 3)
    assert len(store.pending_batches()) == 1 and all(journey_texts(fake_line, u) == [] for u in users)

    # The next worker sends it, but dies after LINE took it and before noting so.
    class DiesAfterSending:
        def multicast(self, to, messages, retry_key):
            runtime.line.multicast(to, messages, retry_key)
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        jobs.send_journeys(store, DiesAfterSending(), runtime.dialog_services, clock.now)
    assert all(journey_texts(fake_line, u) == [text_of(runtime, "after-birth", "en")] for u in users)

    # The one after that sends it again with the same retry key: LINE refuses, nobody gets it twice.
    report = runtime.send_journeys(clock.now)
    assert store.pending_batches() == [] and report.batches == 1
    assert all(journey_texts(fake_line, u) == [text_of(runtime, "after-birth", "en")] for u in users)
    assert [r[2] for r in fake_line.requests if r[1].endswith("/multicast")] == [200, 409]


def test_line_failing_is_retried_next_tick(runtime, clock, parent, tap, fake_line):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    fake_line.fail("multicast", 500, times=20)
    runtime.send_journeys(clock.morning(TODAY + timedelta(days=3)))
    assert journey_texts(fake_line, user) == [] and len(runtime.journey_store.pending_batches()) == 1
    fake_line.reset()
    runtime.send_journeys(clock.now)
    assert journey_texts(fake_line, user) == [text_of(runtime, "after-birth", "ja")]


def test_at_most_one_journey_message_a_day(runtime, clock, parent, tap, fake_line):
    user = parent()
    twins = TODAY - timedelta(days=2)
    tap(user, "journey.birth", params={"date": twins.isoformat()})
    # (The same tap again at once would be taken for a double tap: the second twin is added later.)
    assert runtime.journeys.register(user, "birth", twins, "ja").status == "registered"
    got = travel(runtime, clock, TODAY, TODAY + timedelta(days=6), fake_line, user)
    # Both children's after-birth messages are due tomorrow: one then, one the day after.
    assert got == {TODAY + timedelta(days=1): [text_of(runtime, "after-birth", "ja")],
                   TODAY + timedelta(days=2): [text_of(runtime, "after-birth", "ja")]}


def test_one_tap_stops_them_and_another_resumes(runtime, clock, parent, tap, fake_line):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    tap(user, "journey.stop")
    assert travel(runtime, clock, TODAY, TODAY + timedelta(days=20), fake_line, user) == {}
    tap(user, "journey.resume")
    got = travel(runtime, clock, TODAY + timedelta(days=21), TODAY + timedelta(days=45), fake_line, user)
    assert list(got.values()) == [[text_of(runtime, "vaccinations", "ja")]]


def test_nothing_goes_to_users_who_unfollowed(client, runtime, clock, parent, tap, events, fake_line):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    assert post_webhook(client, [events.unfollow(user)]).status_code == 200
    drain(runtime)
    assert travel(runtime, clock, TODAY, TODAY + timedelta(days=20), fake_line, user) == {}


def test_registration_needs_consent_and_a_sensible_date(runtime, clock, parent, tap, fake_line):
    user = parent(consent=False)
    tap(user, "journey.due", params={"date": (TODAY + timedelta(days=100)).isoformat()})
    assert runtime.journeys.children(user) == []
    other = parent()
    tap(other, "journey.due", params={"date": (TODAY + timedelta(days=400)).isoformat()})
    tap(other, "journey.birth", params={"date": (TODAY + timedelta(days=1)).isoformat()})
    assert runtime.journeys.children(other) == []
    assert any(t.startswith("その日は登録できません。") for t in fake_line.texts_to(other))


def test_deleting_ones_data_removes_the_registration(runtime, clock, parent, tap):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    runtime.conversations.forget(user)
    assert runtime.journeys.children(user) == [] and runtime.journey_store.due_count() == 0


# Referral follow-up

def ask(client, runtime, events, user: str, text: str) -> None:
    assert post_webhook(client, [events.text(user, text)]).status_code == 200
    drain(runtime)


def referral_questions(fake_line, user: str) -> list[dict]:
    return [m for d in fake_line.sent_to(user) if d.kind == "push" for m in d.messages
            if m.get("type") == "template"]


def test_a_parent_pointed_to_a_window_is_asked_later_and_not_yet_goes_to_staff(
        client, runtime, clock, parent, tap, events, fake_line):
    question = runtime.city.entry("development-worries").question
    reached, not_yet, silent = parent("en"), parent(), parent()
    for user in (reached, not_yet, silent):
        ask(client, runtime, events, user, question)
    for day in range(1, 3):
        runtime.send_journeys(clock.morning(TODAY + timedelta(days=day)))
    assert all(referral_questions(fake_line, u) == [] for u in (reached, not_yet, silent))
    runtime.send_journeys(clock.morning(TODAY + timedelta(days=3)))
    asked = referral_questions(fake_line, reached)
    en = runtime.catalogs.translator("en")
    assert len(asked) == 1 and en(runtime.city.entry("development-worries").label) in asked[0]["template"]["text"]
    tap(reached, "journey.referral.ok", "development-worries")
    tap(not_yet, "journey.referral.no", "development-worries")
    assert runtime.handoff.case(reached) is None
    assert runtime.handoff.case(not_yet).reason == "referral"
    assert runtime.handoff.case(silent) is None
    runtime.send_journeys(clock.morning(TODAY + timedelta(days=5)))
    assert runtime.handoff.case(silent).reason == "referral"
    assert runtime.handoff.case(reached) is None
    assert len(referral_questions(fake_line, reached)) == 1     # asked once


def test_no_follow_up_without_consent(client, runtime, clock, parent, events, fake_line):
    user = parent(consent=False)
    ask(client, runtime, events, user, runtime.city.entry("development-worries").question)
    runtime.send_journeys(clock.morning(TODAY + timedelta(days=6)))
    assert referral_questions(fake_line, user) == [] and runtime.handoff.case(user) is None


@pytest.mark.parametrize("language", [lang.code for lang in LANGUAGES])
def test_every_journey_message_is_within_line_limits(runtime, language, clock):
    ctx = Context(Inbound(kind="other", user_id="U1"), Session("U1", language, consent=True),
                  runtime.dialog_services, language)
    for milestone in runtime.journey_store.plan.milestones:
        messages = render.messages(journey_dialog.milestone_messages(ctx, milestone))
        assert line_limits.problems(messages) == [], (milestone.id, messages)
    for entry in runtime.city.faq:
        if entry.follow_up:
            messages = render.messages(journey_dialog.referral_question(ctx, entry.id))
            assert line_limits.problems(messages) == [], (entry.id, messages)
    turn = journey_dialog.show(ctx)
    assert line_limits.problems(render.messages(turn.replies)) == []


# What the review found could go wrong

def test_two_schedulers_at_once_send_each_message_once(runtime, clock, parent, fake_line):
    import threading

    from bot.journeys import jobs as journey_jobs

    users = [parent(["ja", "en", "vi"][n % 3]) for n in range(60)]
    for user in users:
        runtime.journeys.register(user, "birth", TODAY - timedelta(days=2), runtime.users.load(user)[0].language)
    old_step, journey_jobs.CLAIM_STEP = journey_jobs.CLAIM_STEP, 7   # many claims per tick, to interleave
    try:
        now = clock.morning(TODAY + timedelta(days=1))
        threads = [threading.Thread(target=runtime.send_journeys, args=(now,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runtime.send_journeys(now)
    finally:
        journey_jobs.CLAIM_STEP = old_step
    assert [len(journey_texts(fake_line, u)) for u in users] == [1] * len(users)


def test_a_stop_survives_blocking_and_unblocking(client, runtime, clock, parent, tap, events, fake_line):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    tap(user, "journey.stop")
    for event in (events.unfollow(user), events.follow(user)):
        assert post_webhook(client, [event]).status_code == 200
        drain(runtime)
    assert travel(runtime, clock, TODAY, TODAY + timedelta(days=50), fake_line, user) == {}


def test_withdrawing_consent_forgets_the_dates(runtime, clock, parent, tap):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    tap(user, "privacy")
    tap(user, "privacy.withdraw", state="privacy.shown")
    tap(user, "privacy.withdraw.yes", state="privacy.withdrawing")
    assert runtime.users.load(user)[0].consent is False
    assert runtime.journeys.children(user) == [] and runtime.journey_store.due_count() == 0


def test_stop_and_referral_answers_work_while_staff_hold_the_chat(runtime, clock, parent, tap):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    runtime.handoff.open(user, language="ja", reason="asked", notified=True)
    runtime.staff_desk.claim("hoken-a", user)
    tap(user, "journey.stop")
    assert runtime.journeys.stopped(user)
    runtime.journey_store.refer(user, "development-worries", clock.now)
    runtime.journey_store.claim_referrals(clock.now + timedelta(minutes=1), clock.now + timedelta(days=2))
    tap(user, "journey.referral.ok", "development-worries")
    assert runtime.journey_store.overdue(clock.now + timedelta(days=3)) == []


def test_deletion_reaches_a_batch_already_on_its_way(runtime, clock, parent, tap, fake_line):
    stays, leaves = parent(), parent()
    for user in (stays, leaves):
        tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    store = runtime.journey_store
    store.claim(clock.morning(TODAY + timedelta(days=3)))
    runtime.conversations.forget(leaves)
    runtime.send_journeys(clock.now)
    assert journey_texts(fake_line, stays) == [text_of(runtime, "after-birth", "ja")]
    assert journey_texts(fake_line, leaves) == []


def test_a_language_changed_after_the_batch_was_made_is_respected(runtime, clock, parent, tap, fake_line):
    user = parent("en")
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    runtime.journey_store.claim(clock.morning(TODAY + timedelta(days=3)))
    tap(user, "lang.set", "vi")
    runtime.send_journeys(clock.now)
    texts = [m["text"] for d in fake_line.sent_to(user) if d.kind in ("push", "multicast") for m in d.messages
             if m.get("text") == text_of(runtime, "after-birth", "vi")]
    assert len(texts) == 1


def test_no_referral_question_or_staff_case_for_a_parent_who_left(client, runtime, clock, parent, events, fake_line):
    user = parent()
    ask(client, runtime, events, user, runtime.city.entry("development-worries").question)
    assert post_webhook(client, [events.unfollow(user)]).status_code == 200
    drain(runtime)
    for day in (3, 6):
        runtime.send_journeys(clock.morning(TODAY + timedelta(days=day)))
    assert referral_questions(fake_line, user) == [] and runtime.handoff.case(user) is None


def test_a_baby_born_very_early_replaces_the_due_date(runtime, clock, parent, tap):
    user = parent()
    due = TODAY + timedelta(days=100)
    tap(user, "journey.due", params={"date": due.isoformat()})
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})   # 14 weeks early
    assert [c.kind for c in runtime.journeys.children(user)] == ["birth"]


def test_a_moment_taken_out_of_the_plan_does_not_take_the_days_message(runtime, clock, parent, tap, fake_line):
    user = parent()
    tap(user, "journey.birth", params={"date": TODAY.isoformat()})
    store = runtime.journey_store
    store.redis.zadd(store.key("due"), {f"{user}|c1|retired-moment": int(clock.morning(TODAY).timestamp())})
    got = travel(runtime, clock, TODAY, TODAY + timedelta(days=3), fake_line, user)
    assert got == {TODAY + timedelta(days=3): [text_of(runtime, "after-birth", "ja")]}
