"""What the scheduler pushes about bookings (bot.booking_jobs): the day-before reminder, a seat
offered from the waitlist, and a time the center cancelled. Built here, like any reply, so that
they go through the catalogs; their buttons work from any state of the conversation."""

from __future__ import annotations

from dialogs.booking_view import button, menu_button, mine_button, new_booking_button, service, summary
from dialogs.centers import Booking, Offer, Slot
from dialogs.engine import Context
from dialogs.messages import Buttons, Message, Text
from dialogs.staff_replies import cancel_reason, typed


def reminder(ctx: Context, booking: Booking) -> list[Message]:
    _ = ctx._
    lead = _("明日は、子育て支援センターの予約の日です。")
    return [
        Text("\n".join((lead, summary(ctx, booking.center_id, booking.start, booking.end, booking.children)))),
        Buttons(text=_("行けなくなったときは、キャンセルしてください。待っているほかの方が予約できます。"), alt_text=lead,
                actions=(button(ctx, _("キャンセルする"), "booking.cancel", booking.id), mine_button(ctx))),
    ]


def offer(ctx: Context, offer: Offer, slot: Slot) -> list[Message]:
    """A seat freed for a parent on the waitlist, held until the offer's end."""
    _ = ctx._
    lead = _("キャンセル待ちをしていた時間に、空きが出ました。")
    until = _("{expires}までに「予約する」を押すと、予約できます。").format(
        expires=service(ctx).format_when(offer.expires, ctx.language))
    return [
        Text("\n".join((lead, summary(ctx, slot.center_id, slot.start, slot.end, offer.children), until))),
        Buttons(text=_("予約しますか？"), alt_text=lead, actions=(
            button(ctx, _("予約する"), "booking.offer.accept", offer.id),
            button(ctx, _("予約しない"), "booking.offer.decline", offer.id),
        )),
    ]


def booking_closed(ctx: Context, booking: Booking, reason: str = "center", note: str = "") -> list[Message]:
    """Staff cancelled a parent's booking, or closed its time; `note` is staff's own words."""
    _ = ctx._
    lead = _("ごめんなさい。") + cancel_reason(ctx, reason)
    lines = [lead, summary(ctx, booking.center_id, booking.start, booking.end, booking.children)]
    if note.strip():
        lines += ["", typed(ctx, note.strip())[0].text]
    return [
        Text("\n".join(lines)),
        Buttons(text=_("ほかの日を予約できます。"), alt_text=lead, actions=(new_booking_button(ctx), menu_button(ctx))),
    ]


def waitlist_closed(ctx: Context, slot: Slot) -> list[Message]:
    """Staff closed a slot whose waitlist the parent was on (or whose freed seat they were offered)."""
    _ = ctx._
    lead = _("ごめんなさい。キャンセル待ちをしていた次の時間は、センターの都合で中止になりました。")
    return [
        Text("\n".join((lead, summary(ctx, slot.center_id, slot.start, slot.end)))),
        Buttons(text=_("ほかの日を予約できます。"), alt_text=lead, actions=(new_booking_button(ctx), menu_button(ctx))),
    ]
