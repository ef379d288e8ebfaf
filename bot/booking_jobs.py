"""The scheduler's booking work: end the offers whose time is up (their seats pass to the next
parent), push new waitlist offers and the day-before reminders, and tell parents about a time the
center cancelled.

The store hands each offer and reminder out once, even to racing schedulers; each push carries a
retry key made from the item's id and purpose, so a push retried after a lost answer is refused by
LINE instead of shown twice. The messages are built by dialogs.booking_notices in the parent's
language.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from bot import line_limits, render
from bot.bookings import BookingStore
from bot.line import LineApiError, retry_key_for
from dialogs import booking_notices
from dialogs.centers import Booking, Closure
from dialogs.engine import Context, Inbound, Session
from dialogs.messages import Message

log = logging.getLogger(__name__)


class Outbox:
    """Pushes what a dialogs function says, in the recipient's language.

    `line` needs `push(to, messages, retry_key) -> bool` (bot.line.LineClient); `services` are
    the dialogs' services (with `bookings`, for dates); `language_of(user_id)` is the parent's
    chosen language.
    """

    def __init__(self, line, services, language_of: Callable[[str], str]):
        self.line = line
        self.services = services
        self.language_of = language_of

    def push(self, user_id: str, build: Callable[[Context], list[Message]], retry_key: str, purpose: str) -> bool:
        language = self.language_of(user_id)
        ctx = Context(Inbound(kind="other", user_id=user_id), Session(user_id, language), self.services, language)
        messages = render.messages(build(ctx))
        found = line_limits.problems(messages)
        if found:
            log.error("%s for %s over LINE's limits, clamped: %s", purpose, user_id, "; ".join(found))
            messages = line_limits.clamp(messages)
        try:
            return bool(self.line.push(user_id, messages, retry_key))   # False: sent before (same key)
        except LineApiError as exc:
            log.warning("%s for %s not sent: %s", purpose, user_id, exc)
            return False


def retry_key(store: BookingStore, purpose: str, *parts: str) -> str:
    """Booking and offer ids are counters, which start again if Redis is ever emptied: the key
    also names the store's base, the parent and the slot (and an offer its end), so a new
    booking never reuses an old booking's key."""
    return retry_key_for(":".join((store.base, *parts)), purpose)


def _booking_key(store: BookingStore, purpose: str, booking: Booking) -> str:
    return retry_key(store, purpose, booking.id, booking.user_id, booking.slot_id)


def send_offers(store: BookingStore, outbox: Outbox, now: datetime) -> int:
    """End the offers whose time is up, then push the new ones (accept / decline, and until when)."""
    store.expire_offers(now)
    sent = 0
    for offer in store.offers_to_notify(now):
        slot = store.slot(offer.slot_id, now)
        if slot is None:
            log.warning("offer %s: its slot %s is gone; not pushed", offer.id, offer.slot_id)
            continue
        key = retry_key(store, "booking-offer", offer.id, offer.user_id, offer.slot_id, offer.expires.isoformat())
        sent += outbox.push(offer.user_id, lambda ctx, o=offer, s=slot: booking_notices.offer(ctx, o, s), key,
                            "waitlist offer")
    return sent


def send_reminders(store: BookingStore, outbox: Outbox, now: datetime) -> int:
    """The day-before reminders that are due, each with its cancel button."""
    sent = 0
    for booking in store.due_reminders(now):
        sent += outbox.push(booking.user_id, lambda ctx, b=booking: booking_notices.reminder(ctx, b),
                            _booking_key(store, "booking-reminder", booking), "booking reminder")
    return sent


def run_due(store: BookingStore, outbox: Outbox, now: datetime) -> int:
    """One scheduler tick of booking work; returns how many pushes went out."""
    return send_offers(store, outbox, now) + send_reminders(store, outbox, now)


def tell_closure(store: BookingStore, outbox: Outbox, closure: Closure, now: datetime, *,
                 reason: str = "center", note: str = "") -> int:
    """After BookingStore.close_slot: each parent with a booking, a place on the waitlist or an
    offer for the slot is told it will not take place (why, and staff's `note` if any)."""
    sent = 0
    for booking in closure.bookings:
        sent += outbox.push(booking.user_id,
                            lambda ctx, b=booking: booking_notices.booking_closed(ctx, b, reason, note),
                            _booking_key(store, "booking-closed", booking), "closure notice")
    slot = store.slot(closure.slot_id, now) if closure.waiting_users else None
    for user_id in closure.waiting_users if slot is not None else ():
        sent += outbox.push(user_id, lambda ctx: booking_notices.waitlist_closed(ctx, slot),
                            retry_key(store, "waitlist-closed", closure.slot_id, user_id), "closure notice")
    return sent
