"""The bookings as the dialogs see them (dialogs.booking_view.BookingService): the store, with the
time taken from a clock (so that tests can travel in time) and dates said in the parent's language.

The parent's name is not asked for: a booking is made with name "" and the center knows the
family by the LINE chat. (The store keeps a name for bookings made by staff or other channels.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from bot.bookings import BookingStore, Forgotten, parse_slot_id
from bot import dates
from dialogs.centers import (TOKYO, Booking, BookingResult, BookingRules, CancelResult, Center, Offer, Slot,
                             WaitlistResult)



class Bookings:
    def __init__(self, store: BookingStore, clock: Callable[[], datetime] | None = None,
                 name_of: Callable[[str], str] | None = None):
        self.store = store
        self.clock = clock or (lambda: datetime.now(TOKYO))
        # The parent's LINE display name, so that staff see who booked (the flow asks for no name).
        self.name_of = name_of or (lambda user_id: "")

    @property
    def rules(self) -> BookingRules:
        return self.store.rules

    @property
    def centers(self) -> tuple[Center, ...]:
        return self.store.centers.centers

    def center(self, center_id: str) -> Center | None:
        return self.store.centers.get(center_id)

    def number_of(self, center_id: str) -> int:
        return self.store.centers.number_of(center_id) if self.center(center_id) else 0

    # Seats

    def _open_slots(self, center_id: str, day: date, now: datetime) -> list[Slot]:
        if self.center(center_id) is None:
            return []
        return [s for s in self.store.slots(center_id, day, now)
                if not s.closed and self.rules.open_for_booking(s.start, now)]

    def open_slots(self, center_id: str, day: date) -> list[Slot]:
        return self._open_slots(center_id, day, self.clock())

    def open_days(self, center_id: str) -> list[tuple[date, int]]:
        now = self.clock()
        found = []
        for day in self.rules.bookable_days(now):
            slots = self._open_slots(center_id, day, now)
            if slots:
                found.append((day, sum(s.seats_left for s in slots)))
        return found

    def next_free_slots(self, center_id: str, limit: int) -> list[Slot]:
        now = self.clock()
        found: list[Slot] = []
        for day in self.rules.bookable_days(now):
            found += [s for s in self._open_slots(center_id, day, now) if s.seats_left]
            if len(found) >= limit:
                break
        return found[:limit]

    def slot(self, slot_id: str) -> Slot | None:
        parsed = parse_slot_id(slot_id)
        if parsed is None or self.center(parsed[0]) is None:
            return None
        return self.store.slot(slot_id, self.clock())

    def book(self, user_id: str, slot_id: str, children: int) -> BookingResult:
        return self.store.book(user_id, slot_id, children, self.name_of(user_id)[:50], self.clock())

    def join_waitlist(self, user_id: str, slot_id: str, children: int) -> WaitlistResult:
        return self.store.join_waitlist(user_id, slot_id, children, self.clock(),
                                        name=self.name_of(user_id)[:50])

    def cancel(self, user_id: str, booking_id: str) -> CancelResult:
        return self.store.cancel(user_id, booking_id, self.clock())

    # What a parent has

    def bookings_of(self, user_id: str) -> list[Booking]:
        return self.store.bookings_of(user_id, self.clock())

    def waitlists_of(self, user_id: str) -> list[tuple[Slot, int]]:
        found = []
        for slot_id, position in self.store.waitlists_of(user_id):
            slot = self.slot(slot_id)
            if slot is not None and slot.end > self.clock():
                found.append((slot, position))
        return sorted(found, key=lambda pair: pair[0].start)

    def offers_of(self, user_id: str) -> list[Offer]:
        return self.store.offers_of(user_id, self.clock())

    def offer(self, offer_id: str) -> Offer | None:
        return self.store.offer(offer_id) if offer_id else None

    def accept_offer(self, user_id: str, offer_id: str) -> BookingResult:
        return self.store.accept_offer(user_id, offer_id, self.clock())

    def decline_offer(self, user_id: str, offer_id: str) -> bool:
        return self.store.decline_offer(user_id, offer_id, self.clock())

    def will_remind(self, start: datetime) -> bool:
        """The store sends no reminder for a booking made after its reminder time."""
        return self.clock() < self.rules.reminder_at(start)

    def forget(self, user_id: str) -> Forgotten:
        """For a deletion request (Conversations.forget_hooks): seats freed, waitlists left."""
        return self.store.forget_user(user_id, self.clock())

    # Said in the parent's language (やさしい日本語 as Japanese)

    def format_day(self, day: date, language: str) -> str:
        return dates.format_day(day, language)

    def format_time(self, moment: datetime, language: str) -> str:
        return dates.format_time(moment, language)

    def format_when(self, moment: datetime, language: str) -> str:
        return dates.format_when(moment, language)
