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
from collections import Counter
from datetime import datetime

from bot.bookings import BookingStore
from bot.line import retry_key_for
from bot.outbox import SENT, Outbox
from dialogs import booking_notices
from dialogs.centers import Booking, Closure

log = logging.getLogger(__name__)


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
                            "waitlist offer") == SENT
    return sent


def send_reminders(store: BookingStore, outbox: Outbox, now: datetime) -> int:
    """The day-before reminders that are due, each with its cancel button."""
    sent = 0
    for booking in store.due_reminders(now):
        sent += outbox.push(booking.user_id, lambda ctx, b=booking: booking_notices.reminder(ctx, b),
                            _booking_key(store, "booking-reminder", booking), "booking reminder") == SENT
    return sent


def run_due(store: BookingStore, outbox: Outbox, now: datetime) -> int:
    """One scheduler tick of booking work; returns how many pushes went out."""
    return send_offers(store, outbox, now) + send_reminders(store, outbox, now)


def tell_closure(store: BookingStore, outbox: Outbox, closure: Closure, now: datetime, *,
                 reason: str = "center", note: str = "") -> Counter:
    """After BookingStore.close_slot: each parent with a booking, a place on the waitlist or an
    offer for the slot is told it will not take place (why, and staff's `note` if any).
    Returns how it went: sent, sent_before, queued (LINE failed: retried later), refused."""
    outcomes: Counter = Counter()
    for booking in closure.bookings:
        outcomes[outbox.push(booking.user_id,
                             lambda ctx, b=booking: booking_notices.booking_closed(ctx, b, reason, note),
                             _booking_key(store, "booking-closed", booking), "closure notice")] += 1
    slot = store.slot(closure.slot_id, now) if closure.waiting_users else None
    for user_id in closure.waiting_users if slot is not None else ():
        outcomes[outbox.push(user_id, lambda ctx: booking_notices.waitlist_closed(ctx, slot),
                             retry_key(store, "waitlist-closed", closure.slot_id, user_id), "closure notice")] += 1
    return outcomes
