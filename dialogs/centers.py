"""The city's 子育て支援センター and their bookings, as the dialogs see them (no I/O here).

Centers, weekly slot templates and the booking rules come from the city pack
(`centers.toml`, loaded by bot.bookings.pack); slots, bookings and waitlist offers come from
bot.bookings.store. Every time is Asia/Tokyo.

Text fields hold the city's Japanese wording. An empty `name` or `place` means the city has not
given it: the dialog shows the center by its number and leaves the place out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class SlotTemplate:
    """A slot that repeats every week, e.g. Tuesdays 10:00–11:30 for 8 families."""

    weekday: int            # 0 = Monday
    start: time
    end: time
    capacity: int           # families, not children
    age_group: str = ""     # e.g. "0歳児"; empty when the slot is open to all ages


@dataclass(frozen=True)
class Center:
    id: str
    name: str = ""
    place: str = ""
    offers: tuple[str, ...] = ()
    templates: tuple[SlotTemplate, ...] = ()
    closed_dates: tuple[date, ...] = ()

    def templates_on(self, day: date) -> tuple[SlotTemplate, ...]:
        return tuple(t for t in self.templates if t.weekday == day.weekday())


@dataclass(frozen=True)
class BookingRules:
    """When a parent may book, how much, and when they hear from us.

    Booking for a slot opens at 00:00 on the day `days_ahead` days before it, and closes at
    `same_day_cutoff` on the slot's own day (so the center knows in the morning who comes), or
    at the slot's start if that is earlier. `same_day_cutoff = None` keeps booking open until
    the start. A cancellation is accepted until the slot starts.
    """

    days_ahead: int = 14
    same_day_cutoff: time | None = time(9, 0)
    max_upcoming: int = 3
    offer_window_minutes: int = 120
    reminder_hour: time = time(18, 0)           # on the day before the slot

    def opens_at(self, day: date) -> datetime:
        return datetime.combine(day - timedelta(days=self.days_ahead), time(0, 0), TOKYO)

    def closes_at(self, start: datetime) -> datetime:
        start = start.astimezone(TOKYO)
        if self.same_day_cutoff is None:
            return start
        return min(start, datetime.combine(start.date(), self.same_day_cutoff, TOKYO))

    def open_for_booking(self, start: datetime, now: datetime) -> bool:
        return self.opens_at(start.astimezone(TOKYO).date()) <= now < self.closes_at(start)

    def reminder_at(self, start: datetime) -> datetime:
        return datetime.combine(start.astimezone(TOKYO).date() - timedelta(days=1), self.reminder_hour, TOKYO)

    def bookable_days(self, now: datetime) -> list[date]:
        """Today and the `days_ahead` days after it: the days whose booking may be open now."""
        today = now.astimezone(TOKYO).date()
        return [today + timedelta(days=n) for n in range(self.days_ahead + 1)]


@dataclass(frozen=True)
class Slot:
    id: str
    center_id: str
    start: datetime
    end: datetime
    capacity: int
    booked: int = 0                 # families with a booking
    held: int = 0                   # seats held for waiting parents who were offered them
    waiting: int = 0
    closed: bool = False
    reason: str = ""                # why staff closed it (or "holiday")
    age_group: str = ""
    added_by_staff: bool = False

    @property
    def seats_left(self) -> int:
        return 0 if self.closed else max(0, self.capacity - self.booked - self.held)

    @property
    def full(self) -> bool:
        return not self.closed and self.seats_left == 0


@dataclass(frozen=True)
class Booking:
    id: str
    user_id: str
    slot_id: str
    center_id: str
    start: datetime
    end: datetime
    children: int
    name: str = ""
    status: str = "booked"          # booked | cancelled | closed (by staff)


@dataclass(frozen=True)
class Offer:
    """A freed seat held for a waiting parent until `expires`."""

    id: str
    user_id: str
    slot_id: str
    children: int
    expires: datetime
    name: str = ""
    status: str = "pending"         # pending | accepted | declined | expired | closed


BOOKING_OUTCOMES = ("booked", "full", "already_booked", "overlaps", "too_many", "too_late",
                    "too_early", "closed", "no_such_slot", "no_such_offer", "expired")


@dataclass(frozen=True)
class BookingResult:
    """What became of a request for a seat (by booking, or by accepting an offer).

    `conflict` names the parent's booking that overlaps (for "overlaps") or already holds this
    slot (for "already_booked").
    """

    status: str
    booking: Booking | None = None
    conflict: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "booked"

    @property
    def can_join_waitlist(self) -> bool:
        return self.status == "full"


@dataclass(frozen=True)
class WaitlistResult:
    status: str                     # waiting | already_waiting | already_booked | not_full | closed | too_late | too_early | no_such_slot
    position: int = 0               # 1 = next in line

    @property
    def ok(self) -> bool:
        return self.status in ("waiting", "already_waiting")


@dataclass(frozen=True)
class CancelResult:
    status: str                     # cancelled | already_cancelled | too_late | no_such_booking
    booking: Booking | None = None
    offers: tuple[str, ...] = ()    # offers made to waiting parents for the freed seat

    @property
    def ok(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Closure:
    """A slot closed by staff: whom to tell."""

    slot_id: str
    bookings: tuple[Booking, ...] = ()
    waiting_users: tuple[str, ...] = ()     # on its waitlist, or holding an offer
