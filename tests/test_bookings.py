"""Bookings of the 子育て支援センター: rules, seats under concurrency, waitlist offers, reminders,
closures and the operators' CLI, through the real store and a real Redis (time travels by `now`)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import redis

from bot.bookings import BookingStore, Centers, PackError, load_centers, parse_slot_id
from bot.bookings.pack import parse_centers
from dialogs.centers import TOKYO, BookingRules, Center, SlotTemplate

ROOT = Path(__file__).resolve().parent.parent
TUE = date(2025, 6, 3)          # June 2025 has no national holiday
MON = TUE - timedelta(days=1)
MORNING = "c1@20250603T1000"    # Tuesdays 10:00–11:30, 2 families
LATE_MORNING = "c1@20250603T1100"   # 11:00–12:00, overlaps MORNING
AFTERNOON = "c1@20250603T1300"
LATER = "c1@20250603T1400"

CENTERS = Centers(
    centers=(
        Center(id="c1", name="テストセンター", templates=(
            SlotTemplate(1, time(10), time(11, 30), 2),
            SlotTemplate(1, time(11), time(12), 5),
            SlotTemplate(1, time(13), time(14), 5),
            SlotTemplate(1, time(14), time(15), 5),
            SlotTemplate(3, time(10), time(11), 5, age_group="0歳児"),
        )),
        Center(id="c2", templates=(SlotTemplate(1, time(10, 30), time(11, 30), 3),)),
    ),
    rules=BookingRules(),
)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), TOKYO)


NOW = at(MON, 12)


@pytest.fixture
def store(redis_client):
    return BookingStore(redis_client, "kb", CENTERS)


def own_store(redis_url: str, centers: Centers = CENTERS) -> BookingStore:
    """A store on its own connection, as another process would have."""
    return BookingStore(redis.Redis.from_url(redis_url), "kb", centers)


def seats(store: BookingStore, slot_id: str, now: datetime = NOW):
    slot = store.slot(slot_id, now)
    return slot.booked, slot.held, slot.waiting


# The pack

def test_ayase_pack_has_three_centers_and_invents_nothing():
    centers = load_centers(ROOT / "content" / "ayase")
    assert [c.id for c in centers.centers] == ["center-1", "center-2", "center-3"]
    for center in centers.centers:
        assert center.name == "" and center.place == "" and center.templates == ()
        assert len(center.offers) == 4 and "地域の子育て関連情報の提供" in center.offers
    assert centers.rules == BookingRules() and centers.close_on_national_holidays


@pytest.mark.parametrize("data, named", [
    ({"rules": {"same_day_cutoff": "9時"}}, "[rules] same_day_cutoff"),
    ({"rules": {"max_upcoming": 0}}, "[rules] max_upcoming"),
    ({"centers": [{"id": "Center 1"}]}, "[[centers]] #1 id"),
    ({"centers": [{"id": "c1", "templates": [{"weekday": "tue", "start": "11:00", "end": "10:00",
                                              "capacity": 5}]}]}, "c1 templates #1 end"),
    ({"centers": [{"id": "c1", "templates": [{"weekday": "someday", "start": "10:00", "end": "11:00",
                                              "capacity": 5}]}]}, "c1 templates #1 weekday"),
    ({"closures": {"dates": ["2025-13-01"]}}, "[closures] dates"),
])
def test_pack_errors_name_the_file_and_the_field(data, named):
    with pytest.raises(PackError, match="centers.toml") as caught:
        parse_centers(data, "content/x/centers.toml")
    assert named in str(caught.value)


def test_pack_reads_templates_and_rules():
    centers = parse_centers({"rules": {"same_day_cutoff": "", "days_ahead": 7},
                             "centers": [{"id": "c1", "templates": [{"weekday": "tue", "start": "10:00",
                                                                     "end": "11:30", "capacity": 8}]}]}, "x")
    assert centers.rules.same_day_cutoff is None and centers.rules.days_ahead == 7
    assert centers.get("c1").templates == (SlotTemplate(1, time(10), time(11, 30), 8),)


# Slots

def test_template_slots_are_created_once_with_stable_ids(store, redis_url):
    with ThreadPoolExecutor(8) as pool:
        listings = list(pool.map(lambda _: own_store(redis_url).slots("c1", TUE, NOW), range(8)))
    assert all([s.id for s in listing] == [MORNING, LATE_MORNING, AFTERNOON, LATER] for listing in listings)
    assert [s.capacity for s in store.slots("c1", TUE, NOW)] == [2, 5, 5, 5]
    assert store.slots("c1", MON, NOW) == [] and store.slots("c1", TUE + timedelta(days=2), NOW)[0].age_group == "0歳児"
    assert parse_slot_id(MORNING) == ("c1", at(TUE, 10), False)


def test_staff_slots_get_their_own_ids_even_at_a_template_time(store):
    first = store.add_slot("c1", at(TUE, 10), at(TUE, 11), 3, NOW)
    second = store.add_slot("c1", at(TUE, 10), at(TUE, 11), 3, NOW)
    assert first.id != second.id and first.id.startswith(MORNING + "/s") and first.added_by_staff
    assert [s.id for s in store.slots("c1", TUE, NOW)][:3] == [MORNING, first.id, second.id]
    with pytest.raises(ValueError):
        store.add_slot("c1", at(TUE, 11), at(TUE, 10), 3, NOW)


def test_a_booking_is_kept_only_for_a_while_after_its_slot(store, redis_client):
    booking = store.book("U1", MORNING, 1, "山田", NOW).booking
    ttl = redis_client.ttl(store.key("booking", booking.id))
    expected = (at(TUE, 11, 30) - NOW).total_seconds() + 30 * 86400
    assert expected - 5 < ttl <= expected


# Rules

def test_full_slot_offers_the_waitlist(store):
    assert store.book("U1", MORNING, 1, "a", NOW).ok
    assert store.book("U2", MORNING, 3, "b", NOW).ok
    full = store.book("U3", MORNING, 1, "c", NOW)
    assert full.status == "full" and full.can_join_waitlist
    assert store.join_waitlist("U3", MORNING, 1, NOW).status == "waiting"
    assert store.join_waitlist("U3", MORNING, 1, NOW).position == 1
    assert store.join_waitlist("U1", MORNING, 1, NOW).status == "already_booked"
    assert store.join_waitlist("U4", AFTERNOON, 1, NOW).status == "not_full"
    assert store.book("U1", MORNING, 1, "a", NOW).status == "already_booked"


def test_booking_opens_days_ahead_at_midnight_tokyo(store):
    opens = at(TUE - timedelta(days=14), 0)
    assert store.book("U1", MORNING, 1, "a", opens - timedelta(seconds=1)).status == "too_early"
    assert store.book("U1", MORNING, 1, "a", opens).ok


def test_same_day_booking_closes_at_the_cut_off_or_the_start(store):
    assert store.book("U1", MORNING, 1, "a", at(TUE, 8, 59, 59)).ok
    assert store.book("U2", MORNING, 1, "b", at(TUE, 9)).status == "too_late"
    early = store.add_slot("c1", at(TUE, 8, 30), at(TUE, 9, 30), 5, NOW)
    assert store.book("U3", early.id, 1, "c", at(TUE, 8, 29)).ok
    assert store.book("U4", early.id, 1, "d", at(TUE, 8, 30)).status == "too_late"


def test_without_a_cut_off_booking_stays_open_until_the_start(redis_client):
    store = BookingStore(redis_client, "kb", Centers(CENTERS.centers, BookingRules(same_day_cutoff=None)))
    assert store.book("U1", MORNING, 1, "a", at(TUE, 9, 59)).ok
    assert store.book("U2", MORNING, 1, "b", at(TUE, 10)).status == "too_late"


def test_at_most_k_upcoming_bookings(store):
    for user_slot in (MORNING, AFTERNOON, LATER):
        assert store.book("U1", user_slot, 1, "a", NOW).ok
    third_day = "c1@20250605T1000"
    assert store.book("U1", third_day, 1, "a", NOW).status == "too_many"
    assert store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW).status == "cancelled"
    assert store.book("U1", third_day, 1, "a", NOW).ok
    assert store.book("U1", "c1@20250610T1000", 1, "a", at(TUE, 13, 59)).status == "too_many"
    assert store.book("U1", "c1@20250610T1000", 1, "a", at(TUE, 14)).ok   # the 13:00 visit has ended


def test_no_two_bookings_at_the_same_time_even_at_two_centers(store):
    first = store.book("U1", MORNING, 1, "a", NOW).booking
    clash = store.book("U1", LATE_MORNING, 1, "a", NOW)
    assert clash.status == "overlaps" and clash.conflict == first.id
    assert store.book("U1", "c2@20250603T1030", 1, "a", NOW).status == "overlaps"
    assert store.book("U1", AFTERNOON, 1, "a", NOW).ok


def test_back_to_back_slots_do_not_overlap(store):
    back_to_back = store.add_slot("c1", at(TUE, 11, 30), at(TUE, 12), 5, NOW)
    assert store.book("U1", MORNING, 1, "a", NOW).ok
    assert store.book("U1", back_to_back.id, 1, "a", NOW).ok


def test_cancel_until_the_slot_starts(store):
    booking = store.book("U1", MORNING, 1, "a", NOW).booking
    assert store.cancel("U2", booking.id, NOW).status == "no_such_booking"
    assert store.cancel("U1", booking.id, at(TUE, 10)).status == "too_late"
    assert store.cancel("U1", booking.id, at(TUE, 9, 59, 59)).status == "cancelled"
    assert store.cancel("U1", booking.id, at(TUE, 9, 59, 59)).status == "already_cancelled"
    assert store.bookings_of("U1", NOW) == [] and seats(store, MORNING) == (0, 0, 0)


def test_slots_that_do_not_exist(store):
    assert store.book("U1", "nonsense", 1, "a", NOW).status == "no_such_slot"
    assert store.book("U1", "c1@20250602T1000", 1, "a", NOW).status == "no_such_slot"   # no Monday template
    assert store.book("U1", "c9@20250603T1000", 1, "a", NOW).status == "no_such_slot"
    assert store.slot("c1@20250602T1000", NOW) is None
    with pytest.raises(ValueError):
        store.book("U1", MORNING, 0, "a", NOW)
    with pytest.raises(ValueError):
        store.book("U1", MORNING, 1, "a", datetime(2025, 6, 2, 12))


# Date boundaries

def test_tokyo_midnight_not_utc_decides_the_day(store):
    two_weeks = "c1@20250617T1000"
    assert store.book("U1", two_weeks, 1, "a", datetime(2025, 6, 2, 14, 59, tzinfo=timezone.utc)).status == "too_early"
    assert store.book("U1", two_weeks, 1, "a", datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)).ok
    # 23:59 UTC on Monday is 08:59 on Tuesday in Tokyo: a same-day booking, before the cut-off.
    late_monday_utc = datetime(2025, 6, 2, 23, 59, tzinfo=timezone.utc)
    assert store.book("U2", MORNING, 1, "b", late_monday_utc).ok
    assert store.book("U3", AFTERNOON, 1, "c", late_monday_utc + timedelta(minutes=1)).status == "too_late"


def test_a_slot_at_midnight(store):
    midnight = store.add_slot("c1", at(TUE, 0), at(TUE, 1), 5, NOW)
    assert [s.id for s in store.slots("c1", TUE, NOW)][0] == midnight.id
    assert store.slots("c1", MON, NOW) == []
    assert store.book("U1", midnight.id, 1, "a", at(MON, 23, 59)).ok
    assert store.book("U2", midnight.id, 1, "b", at(TUE, 0)).status == "too_late"
    assert store.cancel("U1", store.bookings_of("U1", NOW)[0].id, at(MON, 23, 59, 59)).ok


def test_month_end(store):
    july_first = "c1@20250701T1000"
    assert store.book("U1", july_first, 1, "a", at(date(2025, 6, 16), 23, 59)).status == "too_early"
    assert store.book("U1", july_first, 1, "a", at(date(2025, 6, 17), 0)).ok
    assert store.slots("c1", date(2025, 7, 1), NOW)[0].booked == 1
    assert store.due_reminders(at(date(2025, 6, 30), 17, 59)) == []
    assert [b.slot_id for b in store.due_reminders(at(date(2025, 6, 30), 18))] == [july_first]


# Reminders

def test_reminder_the_day_before_once(store):
    booking = store.book("U1", MORNING, 1, "a", NOW).booking
    cancelled = store.book("U2", AFTERNOON, 1, "b", NOW).booking
    store.cancel("U2", cancelled.id, NOW)
    assert store.due_reminders(at(MON, 17, 59)) == []
    assert [b.id for b in store.due_reminders(at(MON, 18))] == [booking.id]
    assert store.due_reminders(at(MON, 18, 1)) == []
    assert store.book("U3", LATER, 1, "c", at(MON, 19)).ok     # booked after reminder time: no reminder
    assert store.due_reminders(at(MON, 20)) == []


def test_a_reminder_for_a_slot_already_started_is_dropped(store):
    store.book("U1", MORNING, 1, "a", NOW)
    assert store.due_reminders(at(TUE, 10)) == [] and store.due_reminders(at(TUE, 11)) == []


def test_two_schedulers_racing_send_each_reminder_once(store, redis_url):
    users = [f"U{n}" for n in range(40)]
    slots = [store.add_slot("c1", at(TUE, 13), at(TUE, 14), 10, NOW).id for _ in range(4)]
    for n, user in enumerate(users):
        assert store.book(user, slots[n % 4], 1, user, NOW).ok
    barrier = threading.Barrier(2)

    def scheduler(_):
        mine, other = own_store(redis_url), []
        barrier.wait()
        while batch := mine.due_reminders(at(MON, 18, 5), limit=3):
            other += batch
        return other

    with ThreadPoolExecutor(2) as pool:
        sent = [b.user_id for batch in pool.map(scheduler, range(2)) for b in batch]
    assert sorted(sent) == sorted(users)


# Concurrency

def test_200_parents_racing_for_5_seats(store, redis_url):
    slot = store.add_slot("c1", at(TUE, 13), at(TUE, 14), 5, NOW).id
    barrier = threading.Barrier(200)

    def attempt(n):
        mine = own_store(redis_url)
        barrier.wait()
        result = mine.book(f"U{n:03}", slot, 1, f"parent {n}", NOW)
        if result.can_join_waitlist:
            return "full", mine.join_waitlist(f"U{n:03}", slot, 1, NOW).status
        return result.status, None

    with ThreadPoolExecutor(200) as pool:
        outcomes = Counter(pool.map(attempt, range(200)))
    assert outcomes == {("booked", None): 5, ("full", "waiting"): 195}
    assert seats(store, slot) == (5, 0, 195)
    booked = [user for user in (f"U{n:03}" for n in range(200)) if store.bookings_of(user, NOW)]
    assert len(booked) == 5

    # The five cancel at once while newcomers try to book: each freed seat goes to exactly one
    # waiting parent, first in line first; no newcomer slips in.
    waiting_order = [m.decode() for m in store.redis.zrange(store.key("slot", slot, "waiting"), 0, 4)]
    jobs = [("cancel", user) for user in booked] + [("book", f"N{n}") for n in range(20)]
    barrier = threading.Barrier(len(jobs))

    def act(job):
        kind, user = job
        mine = own_store(redis_url)
        barrier.wait()
        if kind == "cancel":
            return mine.cancel(user, mine.bookings_of(user, NOW)[0].id, NOW).status
        return mine.book(user, slot, 1, user, NOW).status

    with ThreadPoolExecutor(len(jobs)) as pool:
        assert Counter(pool.map(act, jobs)) == {"cancelled": 5, "full": 20}
    assert seats(store, slot) == (0, 5, 190)
    offers = store.offers_to_notify(NOW)
    assert sorted(o.user_id for o in offers) == sorted(waiting_order)
    assert store.offers_to_notify(NOW) == []

    # Offered parents accept (twice, as a double tap) while others decline at once.
    accepting, declining = offers[:3], offers[3:]
    jobs = [("accept", o) for o in accepting] * 2 + [("decline", o) for o in declining]
    barrier = threading.Barrier(len(jobs))

    def answer(job):
        kind, offer = job
        mine = own_store(redis_url)
        barrier.wait()
        if kind == "accept":
            return mine.accept_offer(offer.user_id, offer.id, NOW).status
        return "declined" if mine.decline_offer(offer.user_id, offer.id, NOW) else "no"

    with ThreadPoolExecutor(len(jobs)) as pool:
        assert Counter(pool.map(answer, jobs)) == {"booked": 3, "no_such_offer": 3, "declined": 2}
    assert seats(store, slot) == (3, 2, 188)


def test_a_double_tap_books_once(store, redis_url):
    barrier = threading.Barrier(10)

    def tap(_):
        mine = own_store(redis_url)
        barrier.wait()
        return mine.book("U1", AFTERNOON, 2, "a", NOW).status

    with ThreadPoolExecutor(10) as pool:
        assert Counter(pool.map(tap, range(10))) == {"booked": 1, "already_booked": 9}
    assert len(store.bookings_of("U1", NOW)) == 1


# Offers

def test_an_unanswered_offer_passes_the_seat_on_and_then_back(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 2, NOW, name="w1")
    store.join_waitlist("W2", MORNING, 1, NOW, name="w2")
    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW)
    [first] = store.offers_to_notify(NOW)
    assert (first.user_id, first.children, first.expires) == ("W1", 2, NOW + timedelta(minutes=120))
    assert store.book("X", MORNING, 1, "x", NOW).status == "full"
    assert store.expire_offers(NOW + timedelta(minutes=119)) == []
    [ended] = store.expire_offers(NOW + timedelta(minutes=120))
    assert ended.id == first.id and ended.status == "expired"
    assert store.accept_offer("W1", first.id, NOW + timedelta(minutes=121)).status == "expired"
    later = NOW + timedelta(minutes=121)
    [second] = store.offers_to_notify(later)
    assert second.user_id == "W2" and seats(store, MORNING, later) == (1, 1, 0)
    assert store.decline_offer("W2", second.id, later)
    assert seats(store, MORNING, later) == (1, 0, 0)
    assert store.book("X", MORNING, 1, "x", later).ok


def test_an_offer_accepted_in_time_books_with_the_waitlist_details(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 3, NOW, name="佐藤")
    store.cancel("U2", store.bookings_of("U2", NOW)[0].id, NOW)
    [offer] = store.offers_of("W1", NOW)
    result = store.accept_offer("W1", offer.id, NOW + timedelta(minutes=119))
    assert result.ok and (result.booking.children, result.booking.name) == (3, "佐藤")
    assert store.waitlists_of("W1") == [] and store.offers_of("W1", NOW) == []


def test_booking_a_slot_whose_seat_is_held_for_you_takes_that_seat(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    for user in ("W1", "W2", "W3"):
        store.join_waitlist(user, MORNING, 1, NOW)
    assert store.waitlists_of("W3") == [(MORNING, 3)]
    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, NOW)
    assert store.waitlists_of("W3") == [(MORNING, 2)]
    assert store.book("W2", MORNING, 1, "w2", NOW).status == "full"
    assert store.book("W1", MORNING, 1, "w1", NOW).ok      # a stale "book" button, not the offer's
    assert seats(store, MORNING) == (2, 0, 2) and store.offers_of("W1", NOW) == []


def test_an_offer_never_outlives_the_booking_cut_off(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 1, NOW)
    store.join_waitlist("W2", MORNING, 1, NOW)
    store.cancel("U1", store.bookings_of("U1", NOW)[0].id, at(TUE, 8))
    assert store.offers_of("W1", at(TUE, 8))[0].expires == at(TUE, 9)
    store.cancel("U2", store.bookings_of("U2", NOW)[0].id, at(TUE, 9, 30))   # after the cut-off: no offer
    assert store.offers_of("W2", at(TUE, 9, 30)) == []
    assert store.expire_offers(at(TUE, 9))[0].user_id == "W1"
    assert store.offers_of("W2", at(TUE, 9)) == []


# Closures

def test_closing_a_slot_cancels_its_bookings_and_names_whom_to_tell(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 1, NOW)
    store.join_waitlist("W2", MORNING, 1, NOW)
    store.cancel("U2", store.bookings_of("U2", NOW)[0].id, NOW)   # W1 now holds an offer
    closure = store.close_slot(MORNING, "staff illness", NOW)
    assert [b.user_id for b in closure.bookings] == ["U1"] and closure.bookings[0].status == "closed"
    assert sorted(closure.waiting_users) == ["W1", "W2"]
    slot = store.slot(MORNING, NOW)
    assert slot.closed and slot.reason == "staff illness" and (slot.booked, slot.held, slot.waiting) == (0, 0, 0)
    assert store.bookings_of("U1", NOW) == [] and store.waitlists_of("W2") == []
    assert store.book("U3", MORNING, 1, "c", NOW).status == "closed"
    assert store.join_waitlist("U3", MORNING, 1, NOW).status == "closed"
    assert store.due_reminders(at(MON, 18)) == []
    assert store.close_slot(MORNING, "again", NOW).bookings == ()


def test_a_template_slot_can_be_closed_before_anyone_looked_at_it(store):
    assert store.close_slot("c1@20250610T1000", "研修", NOW).slot_id == "c1@20250610T1000"
    assert store.book("U1", "c1@20250610T1000", 1, "a", NOW).status == "closed"


def test_national_holidays_and_closed_dates(redis_client):
    autumn_equinox = date(2025, 9, 23)      # a Tuesday
    centers = Centers(CENTERS.centers[:1] + (Center(id="c2", templates=CENTERS.centers[1].templates,
                                                    closed_dates=(TUE,)),), CENTERS.rules)
    store = BookingStore(redis_client, "kb", centers)
    before = at(date(2025, 9, 22), 12)
    assert store.slots("c1", autumn_equinox, before) == []
    assert store.book("U1", "c1@20250923T1000", 1, "a", before).status == "closed"
    assert store.slots("c2", TUE, NOW) == [] and store.slots("c1", TUE, NOW) != []
    assert store.book("U1", "c2@20250603T1030", 1, "a", NOW).status == "closed"
    staff_slot = store.add_slot("c1", at(autumn_equinox, 10), at(autumn_equinox, 11), 5, before)
    assert store.book("U1", staff_slot.id, 1, "a", before).ok
    open_on_holidays = BookingStore(redis_client, "kb", Centers(centers.centers, centers.rules,
                                                               close_on_national_holidays=False))
    assert open_on_holidays.book("U2", "c1@20250923T1000", 1, "b", before).ok


# Data deletion

def test_forget_user_frees_seats_and_leaves_no_trace(store, redis_client):
    store.book("U1", MORNING, 1, "山田花子", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 1, NOW)
    store.book("U1", AFTERNOON, 1, "山田花子", NOW)
    store.cancel("U1", store.bookings_of("U1", NOW)[1].id, NOW)
    store.book("U3", LATER, 1, "c", NOW)
    store.book("U4", LATER, 1, "d", NOW)
    forgotten = store.forget_user("U1", NOW)
    assert (forgotten.bookings, forgotten.waitlists, forgotten.offers) == (1, 0, 0)
    assert seats(store, MORNING) == (1, 1, 0) and store.offers_of("W1", NOW)[0].slot_id == MORNING
    [offer] = store.offers_of("W1", NOW)
    assert store.forget_user("W1", NOW).offers == 1 and seats(store, MORNING) == (1, 0, 0)
    gone = {b"U1", b"W1", "山田花子".encode()}
    for key in redis_client.scan_iter(match="kb:*"):
        assert b"U1" not in key and b"W1" not in key
        kind = redis_client.type(key)
        if kind == b"hash":
            assert gone.isdisjoint(redis_client.hkeys(key) + redis_client.hvals(key)), key
        elif kind == b"zset":
            assert gone.isdisjoint(redis_client.zrange(key, 0, -1)), key
        elif kind == b"set":
            assert gone.isdisjoint(redis_client.smembers(key)), key
    assert store.offer(offer.id) is None


def test_forget_user_leaves_waitlists(store):
    store.book("U1", MORNING, 1, "a", NOW)
    store.book("U2", MORNING, 1, "b", NOW)
    store.join_waitlist("W1", MORNING, 1, NOW)
    store.join_waitlist("W2", MORNING, 1, NOW)
    assert store.forget_user("W1", NOW).waitlists == 1
    assert store.waitlists_of("W2") == [(MORNING, 1)]


# The CLI

def test_cli_adds_and_lists_slots(redis_url, redis_client, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("CITY_CONTENT_DIR", str(ROOT / "content" / "ayase"))
    day = datetime.now(TOKYO).date() + timedelta(days=3)
    assert main(["slots", "add", "--center", "center-2", "--start", f"{day}T10:00", "--minutes", "90",
                 "--capacity", "8"]) == 0
    slot_id = capsys.readouterr().out.strip()
    assert slot_id == f"center-2@{day:%Y%m%d}T1000/s1"
    assert main(["slots", "add", "--center", "center-2", "--start", f"{day}T13:00+09:00",
                 "--end", f"{day}T14:00+09:00", "--capacity", "4"]) == 0
    capsys.readouterr()
    assert main(["slots", "list", "--center", "center-2", "--date", str(day)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == [slot_id, "10:00-11:30", "8", "0", "0", "open"]
    assert lines[1].split("\t")[1:3] == ["13:00-14:00", "4"]
    assert main(["slots", "list", "--center", "nowhere", "--date", str(day)]) == 2
    assert "center-1, center-2, center-3" in capsys.readouterr().err


def test_cli_says_what_to_set_without_redis(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["slots", "list", "--center", "center-1", "--date", "2025-06-03"]) == 2
    assert "REDIS_URL" in capsys.readouterr().err
