"""What staff do with the centers' bookings: the service the console's bookings page calls.

A day's slots per center with who booked them, adding and closing slots, cancelling one
booking, and exporting bookings as CSV. Parents are told in their own language (closures and
cancellations go through bot.outbox, with retry keys, retried when LINE fails); every change and every
export is in the audit log.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from bot.booking_jobs import retry_key, tell_closure
from bot.outbox import Outbox
from bot.bookings import BookingStore
from bot.transcripts import AuditLog
from dialogs import booking_notices
from dialogs.centers import TOKYO, Booking, Slot
from dialogs.staff_replies import CANCEL_REASONS


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    bookings: list[Booking]
    waiting: list[tuple[str, int, str]]     # (user, children, name) in order of joining


class BookingDesk:
    def __init__(self, store: BookingStore, outbox: Outbox, audit: AuditLog, clock: Callable[[], datetime]):
        self.store = store
        self.outbox = outbox
        self.audit = audit
        self.clock = clock

    @property
    def centers(self):
        return self.store.centers.centers

    def day(self, center_id: str, day: date) -> list[SlotView]:
        return [SlotView(slot, self.store.bookings_in(slot.id), self.store.waiting_in(slot.id))
                for slot in self.store.slots(center_id, day, self.clock())]

    def add_slot(self, staff: str, center_id: str, start: datetime, end: datetime, capacity: int) -> Slot:
        slot = self.store.add_slot(center_id, start, end, capacity, self.clock())
        self.audit.record(staff, "slot_added", detail=f"{slot.id} capacity {capacity}")
        return slot

    def close_slot(self, staff: str, slot_id: str, reason: str, note: str = "") -> tuple[str, Counter]:
        """Close a slot that has not started: (closed | no_such_slot | already_closed | started,
        how telling each parent went)."""
        reason = reason if reason in CANCEL_REASONS else "center"
        now = self.clock()
        slot = self.store.slot(slot_id, now)
        if slot is None:
            return "no_such_slot", Counter()
        if slot.closed:
            return "already_closed", Counter()
        if slot.start <= now:
            return "started", Counter()
        closure = self.store.close_slot(slot_id, reason, now)
        told = tell_closure(self.store, self.outbox, closure, now, reason=reason, note=note)
        self.audit.record(staff, "slot_closed", detail=f"{slot_id} ({reason}); {len(closure.bookings)} booked, "
                                                       f"{len(closure.waiting_users)} waiting; told: {dict(told)}")
        return "closed", told

    def cancel_booking(self, staff: str, booking_id: str, reason: str, note: str = "") -> tuple[str, str]:
        """Cancel one parent's booking and tell them why: (cancelled | gone | started | …, how
        telling them went: sent | queued | refused)."""
        reason = reason if reason in CANCEL_REASONS else "center"
        booking = self.store.booking(booking_id)
        if booking is None or booking.status != "booked":
            return "gone", ""
        result = self.store.cancel(booking.user_id, booking_id, self.clock())
        if result.status != "cancelled":
            return result.status, ""
        key = retry_key(self.store, "booking-cancelled-by-staff", booking.id, booking.user_id, booking.slot_id)
        told = self.outbox.push(booking.user_id, lambda ctx: booking_notices.booking_closed(ctx, booking, reason, note),
                                key, "cancellation by staff")
        self.audit.record(staff, "booking_cancelled", booking.user_id,
                          f"{booking.id} {booking.slot_id} ({reason}); told: {told}")
        return "cancelled", told

    def export_csv(self, staff: str, center_id: str, first: date, last: date) -> str:
        """The bookings of a center from `first` to `last`, one row per booking (UTF-8 with BOM,
        so that Excel in Japan opens it right)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(["date", "start", "end", "slot", "capacity", "status", "booking", "name", "children"])
        rows = 0
        day = first
        while day <= last:
            for view in self.day(center_id, day):
                s = view.slot
                status = "closed" if s.closed else "open"
                base = [day.isoformat(), f"{s.start.astimezone(TOKYO):%H:%M}", f"{s.end.astimezone(TOKYO):%H:%M}",
                        s.id, s.capacity, status]
                for b in view.bookings:
                    writer.writerow(base + [b.id, _safe_cell(b.name), b.children])
                    rows += 1
                if not view.bookings:
                    writer.writerow(base + ["", "", ""])
            day += timedelta(days=1)
        self.audit.record(staff, "exported", detail=f"bookings {center_id} {first}..{last} ({rows} bookings)")
        return out.getvalue()


def _safe_cell(text: str) -> str:
    """A name as the parent gave it, never read by a spreadsheet as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
