"""Bookings of the 子育て支援センター in Redis: slots, seats, waitlists, offers and reminders.

Every key of the booking system carries the one hash tag `{bk}` (base B = `<prefix>:{bk}`), so
each Lua script (bot.bookings.scripts) touches a single hash slot and works on Redis Cluster; a
city's bookings fit in one slot many times over. Times are epoch seconds; "day" is a date's
00:00 in Asia/Tokyo.

    B:slot:<slot>            HASH center, start, end, day, capacity, age_group,
                             status open|closed, reason, origin template|staff
    B:slot:<slot>:booked     HASH user → booking id: seats taken
    B:slot:<slot>:offered    HASH user → offer id: seats held for parents from the waitlist
    B:slot:<slot>:waiting    ZSET user, by order of joining: the waitlist
    B:slot:<slot>:who        HASH user → {"children", "name"} of each waiting parent
    B:day:<center>:<date>    ZSET slot ids by start: a center's slots on a date (YYYY-MM-DD)
    B:booking:<id>           HASH user, slot, center, start, end, children, name,
                             status booked|cancelled|closed, created, cancelled, reminded
    B:offer:<id>             HASH user, slot, children, name, expires,
                             status pending|accepted|declined|expired|closed, created
    B:user:<user>:bookings   ZSET booking ids (any status) by slot end
    B:user:<user>:waiting    SET slot ids whose waitlist the parent is on
    B:user:<user>:offers     SET offer ids made to the parent (any status)
    B:offers                 ZSET pending offer ids by expiry
    B:offers:unsent          ZSET offer ids not yet handed out for a push
    B:reminders              ZSET booking ids by reminder time, until claimed
    B:seq                    HASH counters: booking, offer, slot, waiting

Slot ids say what they are: `center-1@20250603T1000` is the weekly template's slot at that
time (created lazily, idempotently, when its day is first looked at or booked);
`center-1@20250603T1000/s4` was added by staff. A slot's records (and its bookings', with the
parents' names) expire `keep_days` after it ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import redis

from bot.bookings import scripts
from bot.bookings.pack import Centers
from dialogs.centers import (TOKYO, Booking, BookingResult, CancelResult, Center, Closure, Offer, Slot,
                             WaitlistResult)
from dialogs.privacy import BOOKING_KEEP_DAYS

SLOT_ID = re.compile(r"^(?P<center>[a-z0-9][a-z0-9_-]*)@(?P<start>\d{8}T\d{4})(?P<staff>/s\d+)?$")
STAMP = "%Y%m%dT%H%M"


class NoSuchCenter(LookupError):
    pass


@dataclass(frozen=True)
class Forgotten:
    bookings: int       # upcoming bookings cancelled (their seats freed)
    waitlists: int
    offers: int


def template_slot_id(center_id: str, start: datetime) -> str:
    return f"{center_id}@{start.astimezone(TOKYO):{STAMP}}"


def parse_slot_id(slot_id: str) -> tuple[str, datetime, bool] | None:
    """(center id, start, added by staff), or None for a string that is no slot id."""
    found = SLOT_ID.match(slot_id or "")
    if not found:
        return None
    try:
        start = datetime.strptime(found["start"], STAMP).replace(tzinfo=TOKYO)
    except ValueError:
        return None
    return found["center"], start, bool(found["staff"])


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: pass an aware datetime (Asia/Tokyo)")
    return int(moment.timestamp())


def _midnight(day: date) -> int:
    return int(datetime.combine(day, time(0, 0), TOKYO).timestamp())


def _moment(epoch: bytes | str | int) -> datetime:
    return datetime.fromtimestamp(int(float(epoch)), TOKYO)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: dict) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


class BookingStore:
    def __init__(self, client: redis.Redis, prefix: str, centers: Centers, *, keep_days: int = BOOKING_KEEP_DAYS):
        self.redis = client
        self.base = f"{prefix}:{{bk}}"
        self.centers = centers
        self.rules = centers.rules
        self.keep_s = keep_days * 86400
        self._scripts = {name: client.register_script(getattr(scripts, name)) for name in (
            "MATERIALISE", "ADD_SLOT", "BOOK", "JOIN_WAITLIST", "CANCEL", "ACCEPT_OFFER", "DECLINE_OFFER",
            "EXPIRE_OFFERS", "CLOSE_SLOT", "DUE_REMINDERS", "OFFERS_TO_NOTIFY", "FORGET_USER")}

    def key(self, *parts: str) -> str:
        return ":".join((self.base,) + parts)

    def _run(self, script: str, now: datetime, *args):
        rules = self.rules
        cutoff = rules.same_day_cutoff
        head = [self.base, _epoch(now), rules.days_ahead * 86400,
                -1 if cutoff is None else cutoff.hour * 3600 + cutoff.minute * 60,
                rules.max_upcoming, rules.offer_window_minutes * 60,
                rules.reminder_hour.hour * 3600 + rules.reminder_hour.minute * 60, self.keep_s]
        return self._scripts[script](keys=[self.key("seq")], args=head + list(args))

    def center(self, center_id: str) -> Center:
        center = self.centers.get(center_id)
        if center is None:
            raise NoSuchCenter(f"no center {center_id!r} in the city pack")
        return center

    # Slots

    def _materialise(self, center: Center, day: date, now: datetime) -> None:
        """Create the day's template slots that do not exist yet (never overwriting one)."""
        if day < now.astimezone(TOKYO).date() or self.centers.is_closed(center.id, day):
            return
        args = []
        for template in center.templates_on(day):
            start = datetime.combine(day, template.start, TOKYO)
            end = datetime.combine(day, template.end, TOKYO)
            args += [template_slot_id(center.id, start), _epoch(start), _epoch(end), template.capacity,
                     template.age_group]
        if args:
            self._run("MATERIALISE", now, center.id, day.isoformat(), _midnight(day), *args)

    def slots(self, center_id: str, day: date, now: datetime) -> list[Slot]:
        """The center's slots on `day` by start, closed ones included, with seats left."""
        self._materialise(self.center(center_id), day, now)
        ids = [_text(i) for i in self.redis.zrange(self.key("day", center_id, day.isoformat()), 0, -1)]
        return [s for s in self._views(ids) if s is not None]

    def slot(self, slot_id: str, now: datetime) -> Slot | None:
        parsed = parse_slot_id(slot_id)
        if parsed and not parsed[2] and self.centers.get(parsed[0]):
            self._materialise(self.centers.get(parsed[0]), parsed[1].date(), now)
        return self._views([slot_id])[0]

    def free_slots(self, center_id: str, day: date, now: datetime) -> list[Slot]:
        """Slots a parent can book right now on `day`."""
        return [s for s in self.slots(center_id, day, now)
                if s.seats_left and self.rules.open_for_booking(s.start, now)]

    def free_days(self, center_id: str, now: datetime) -> list[tuple[date, int]]:
        """(day, seats left) for each day within the booking window that has a free seat."""
        found = []
        for day in self.rules.bookable_days(now):
            seats = sum(s.seats_left for s in self.free_slots(center_id, day, now))
            if seats:
                found.append((day, seats))
        return found

    def _views(self, slot_ids: list[str]) -> list[Slot | None]:
        with self.redis.pipeline(transaction=True) as pipe:
            for slot_id in slot_ids:
                pipe.hgetall(self.key("slot", slot_id))
                pipe.hlen(self.key("slot", slot_id, "booked"))
                pipe.hlen(self.key("slot", slot_id, "offered"))
                pipe.zcard(self.key("slot", slot_id, "waiting"))
            replies = pipe.execute() if slot_ids else []
        views = []
        for n, slot_id in enumerate(slot_ids):
            raw, booked, held, waiting = replies[4 * n:4 * n + 4]
            views.append(self._slot(slot_id, _fields(raw), booked, held, waiting) if raw else None)
        return views

    def _slot(self, slot_id: str, f: dict, booked: int, held: int, waiting: int) -> Slot:
        start = _moment(f["start"])
        staff = f.get("origin") == "staff"
        holiday = not staff and self.centers.is_closed(f["center"], start.date())
        return Slot(id=slot_id, center_id=f["center"], start=start, end=_moment(f["end"]),
                    capacity=int(f["capacity"]), booked=booked, held=held, waiting=waiting,
                    closed=f.get("status") == "closed" or holiday,
                    reason=f.get("reason", "") or ("holiday" if holiday else ""),
                    age_group=f.get("age_group", ""), added_by_staff=staff)

    def add_slot(self, center_id: str, start: datetime, end: datetime, capacity: int, now: datetime) -> Slot:
        """A single slot added by staff (any day, holidays included: staff know best)."""
        self.center(center_id)
        if end <= start:
            raise ValueError(f"the slot ends ({end:%H:%M}) before it starts ({start:%H:%M})")
        if capacity < 1:
            raise ValueError("capacity must be at least 1 family")
        start = start.astimezone(TOKYO).replace(second=0, microsecond=0)
        end = end.astimezone(TOKYO).replace(second=0, microsecond=0)
        slot_id = _text(self._run("ADD_SLOT", now, template_slot_id(center_id, start), center_id,
                                  start.date().isoformat(), _midnight(start.date()), _epoch(start),
                                  _epoch(end), capacity))
        return self._views([slot_id])[0]

    def close_slot(self, slot_id: str, reason: str, now: datetime) -> Closure:
        """Close a slot: its bookings are cancelled and its waitlist emptied; tell the returned parents."""
        reply = self._on_slot("CLOSE_SLOT", now, slot_id, reason)
        if _text(reply[0]) != "closed":
            return Closure(slot_id=slot_id)
        return Closure(slot_id=slot_id, bookings=tuple(self._bookings([_text(b) for b in reply[1]])),
                       waiting_users=tuple(_text(u) for u in reply[2]))

    # A parent's seat

    def book(self, user_id: str, slot_id: str, children: int, name: str, now: datetime) -> BookingResult:
        """Take a seat, if the slot and the parent's other bookings allow. A parent holding an
        offer for this slot gets the held seat."""
        _check_children(children)
        refusal = self._pack_refusal(slot_id)
        if refusal:
            return BookingResult(refusal)
        return self._booking_result(self._on_slot("BOOK", now, slot_id, user_id, children, name))

    def join_waitlist(self, user_id: str, slot_id: str, children: int, now: datetime,
                      name: str = "") -> WaitlistResult:
        _check_children(children)
        refusal = self._pack_refusal(slot_id)
        if refusal:
            return WaitlistResult(refusal)
        reply = self._on_slot("JOIN_WAITLIST", now, slot_id, user_id, children, name)
        return WaitlistResult(_text(reply[0]), int(reply[1]) if len(reply) > 1 else 0)

    def cancel(self, user_id: str, booking_id: str, now: datetime) -> CancelResult:
        """Cancel until the slot starts; a freed seat is offered at once to the first waiting parent."""
        reply = self._run("CANCEL", now, user_id, booking_id)
        status = _text(reply[0])
        if status != "cancelled":
            return CancelResult(status)
        return CancelResult(status, self.booking(booking_id), tuple(_text(o) for o in reply[1]))

    def accept_offer(self, user_id: str, offer_id: str, now: datetime) -> BookingResult:
        return self._booking_result(self._run("ACCEPT_OFFER", now, user_id, offer_id))

    def decline_offer(self, user_id: str, offer_id: str, now: datetime) -> bool:
        """The held seat goes to the next waiting parent (or back to the slot)."""
        return _text(self._run("DECLINE_OFFER", now, user_id, offer_id)[0]) == "declined"

    def _on_slot(self, script: str, now: datetime, slot_id: str, *args):
        """Run a script on a slot, creating it first if it is a template slot not yet looked at."""
        reply = self._run(script, now, slot_id, *args)
        if _text(reply[0]) == "no_such_slot" and self.slot(slot_id, now) is not None:
            reply = self._run(script, now, slot_id, *args)
        return reply

    def _pack_refusal(self, slot_id: str) -> str | None:
        parsed = parse_slot_id(slot_id)
        if parsed is None or self.centers.get(parsed[0]) is None:
            return "no_such_slot"
        center_id, start, staff = parsed
        if not staff and self.centers.is_closed(center_id, start.date()):
            return "closed"
        return None

    def _booking_result(self, reply) -> BookingResult:
        status = _text(reply[0])
        detail = _text(reply[1]) if len(reply) > 1 else ""
        if status == "booked":
            flat = [_text(v) for v in reply[2]]
            return BookingResult(status, booking=_booking(detail, dict(zip(flat[::2], flat[1::2]))))
        return BookingResult(status, conflict=detail)

    # What a parent has

    def booking(self, booking_id: str) -> Booking | None:
        found = self._bookings([booking_id])
        return found[0] if found else None

    def _bookings(self, booking_ids: list[str]) -> list[Booking]:
        with self.redis.pipeline(transaction=False) as pipe:
            for booking_id in booking_ids:
                pipe.hgetall(self.key("booking", booking_id))
            replies = pipe.execute() if booking_ids else []
        return [_booking(booking_id, _fields(raw)) for booking_id, raw in zip(booking_ids, replies) if raw]

    def bookings_of(self, user_id: str, now: datetime) -> list[Booking]:
        """The parent's bookings that have not ended yet, soonest first."""
        ids = self.redis.zrangebyscore(self.key("user", user_id, "bookings"), f"({_epoch(now)}", "+inf")
        found = [b for b in self._bookings([_text(i) for i in ids]) if b.status == "booked"]
        return sorted(found, key=lambda b: b.start)

    # Who is on a slot (for staff)

    def bookings_in(self, slot_id: str) -> list[Booking]:
        """The slot's current bookings, in the order they were made."""
        ids = [_text(b) for b in self.redis.hvals(self.key("slot", slot_id, "booked"))]
        return sorted((b for b in self._bookings(ids) if b.status == "booked"), key=lambda b: (len(b.id), b.id))

    def waiting_in(self, slot_id: str) -> list[tuple[str, int, str]]:
        """(user, children, name) of each parent on the slot's waitlist, first in line first."""
        users = [_text(u) for u in self.redis.zrange(self.key("slot", slot_id, "waiting"), 0, -1)]
        who = self.redis.hmget(self.key("slot", slot_id, "who"), users) if users else []
        found = []
        for user, raw in zip(users, who):
            try:
                d = json.loads(raw) if raw else {}
            except ValueError:
                d = {}
            found.append((user, int(float(d.get("children", 1) or 1)), str(d.get("name", ""))))
        return found

    def offer(self, offer_id: str) -> Offer | None:
        found = self._offers([offer_id])
        return found[0] if found else None

    def _offers(self, offer_ids: list[str]) -> list[Offer]:
        with self.redis.pipeline(transaction=False) as pipe:
            for offer_id in offer_ids:
                pipe.hgetall(self.key("offer", offer_id))
            replies = pipe.execute() if offer_ids else []
        return [_offer(offer_id, _fields(raw)) for offer_id, raw in zip(offer_ids, replies) if raw]

    def offers_of(self, user_id: str, now: datetime) -> list[Offer]:
        """Seats held for the parent right now."""
        ids = sorted(_text(i) for i in self.redis.smembers(self.key("user", user_id, "offers")))
        return [o for o in self._offers(ids) if o.status == "pending" and o.expires > now]

    def waitlists_of(self, user_id: str) -> list[tuple[str, int]]:
        """(slot id, place in line: 1 = next) for each waitlist the parent is on."""
        slot_ids = sorted(_text(s) for s in self.redis.smembers(self.key("user", user_id, "waiting")))
        with self.redis.pipeline(transaction=False) as pipe:
            for slot_id in slot_ids:
                pipe.zrank(self.key("slot", slot_id, "waiting"), user_id)
            ranks = pipe.execute() if slot_ids else []
        return [(slot_id, rank + 1) for slot_id, rank in zip(slot_ids, ranks) if rank is not None]

    def forget_user(self, user_id: str, now: datetime) -> Forgotten:
        """A data-deletion request: every booking, waitlist place and offer of the parent goes;
        their seats are freed and offered on."""
        bookings, waitlists, offers = self._run("FORGET_USER", now, user_id)
        return Forgotten(int(bookings), int(waitlists), int(offers))

    # For the scheduler

    def expire_offers(self, now: datetime, limit: int = 100) -> list[Offer]:
        """End the offers whose time is up, offering each seat to the next parent in line.
        Returns the ended offers (their parents may be told)."""
        return self._offers([_text(o) for o in self._run("EXPIRE_OFFERS", now, limit)])

    def offers_to_notify(self, now: datetime, limit: int = 100) -> list[Offer]:
        """New offers to push to their parents, each handed out once (even to racing schedulers)."""
        return self._offers([_text(o) for o in self._run("OFFERS_TO_NOTIFY", now, limit)])

    def due_reminders(self, now: datetime, limit: int = 100) -> list[Booking]:
        """Bookings whose day-before reminder is due, each handed out once (even to racing
        schedulers). A booking made after its reminder time gets none: the confirmation is fresh."""
        ids = [_text(b) for b in self._run("DUE_REMINDERS", now, limit)]
        return [b for b in self._bookings(ids) if b.status == "booked"]


def _check_children(children: int) -> None:
    if isinstance(children, bool) or not isinstance(children, int) or not 1 <= children <= 20:
        raise ValueError(f"children must be a whole number from 1 to 20, got {children!r}")


def _booking(booking_id: str, f: dict[str, str]) -> Booking:
    return Booking(id=booking_id, user_id=f["user"], slot_id=f["slot"], center_id=f["center"],
                   start=_moment(f["start"]), end=_moment(f["end"]), children=int(f["children"]),
                   name=f.get("name", ""), status=f["status"])


def _offer(offer_id: str, f: dict[str, str]) -> Offer:
    return Offer(id=offer_id, user_id=f["user"], slot_id=f["slot"], children=int(float(f["children"])),
                 expires=_moment(f["expires"]), name=f.get("name", ""), status=f["status"])
