"""A parent's own bookings: what is booked, waited for or offered; and cancelling a booking, from
the list or from the reminder push (the cancel button works in any state, then asks once)."""

from __future__ import annotations

from dialogs.booking_view import (button, center_name, menu_button, new_booking_button, service, summary,
                                  when)
from dialogs.engine import Context, Turn
from dialogs.messages import Buttons, Text

CANCELLING = "booking.cancelling"   # the booking dialog's state while a cancellation is asked
MAX_QUICK_REPLIES = 13


def _indented(text: str) -> str:
    return text.replace("\n", "\n　")


def show(ctx: Context, lead: str | None = None) -> Turn:
    """The upcoming bookings, each with its cancel button; the waitlists and seats offered."""
    _ = ctx._
    svc = service(ctx)
    user = ctx.session.user_id
    bookings = svc.bookings_of(user) if svc else []
    offers = svc.offers_of(user) if svc else []
    waiting = svc.waitlists_of(user) if svc else []
    lines = [lead] if lead else []
    if not (bookings or offers or waiting):
        lines.append(_("今、予約はありません。"))
        return Turn(replies=[Text("\n".join(lines), quick_replies=(new_booking_button(ctx), menu_button(ctx)))])
    actions = []
    if bookings:
        lines.append(_("あなたの予約です。"))
        for number, booking in enumerate(bookings, 1):
            lines.append(f"{number}. " + _indented(summary(ctx, booking.center_id, booking.start, booking.end,
                                                           booking.children)))
            actions.append(button(ctx, _("{number}番をキャンセル").format(number=number), "booking.cancel", booking.id))
    for offer in offers:
        slot = svc.slot(offer.slot_id)
        if slot is None:
            continue
        lines.append(_("キャンセル待ちの時間に空きが出ています。{expires}までに予約してください。").format(
            expires=svc.format_when(offer.expires, ctx.language)))
        lines.append("　" + _indented(summary(ctx, slot.center_id, slot.start, slot.end, offer.children)))
        actions.append(button(ctx, _("{day}の空きを予約").format(day=svc.format_day(slot.start.date(), ctx.language)),
                              "booking.offer.accept", offer.id))
    if waiting:
        lines.append(_("キャンセル待ち:"))
        for slot, position in waiting:
            lines.append("・" + _("{center} {when}（{position}番目）").format(
                center=center_name(ctx, slot.center_id), when=when(ctx, slot.start, slot.end), position=position))
    actions = actions[:MAX_QUICK_REPLIES - 2] + [new_booking_button(ctx), menu_button(ctx)]
    return Turn(replies=[Text("\n".join(lines), quick_replies=tuple(actions))])


def _booking_id(ctx: Context) -> str:
    args = ctx.inbound.postback.args if ctx.inbound.postback else ()
    return args[0] if args else ""


def ask_cancel(ctx: Context) -> Turn:
    """'Cancel' tapped (in the list or in a reminder): which booking, and are you sure."""
    _ = ctx._
    svc = service(ctx)
    booking_id = _booking_id(ctx)
    booking = next((b for b in svc.bookings_of(ctx.session.user_id) if b.id == booking_id), None) if svc else None
    if booking is None:
        return show(ctx, _("この予約は見つかりませんでした。もう終わったか、キャンセルされています。"))
    return Turn(replies=[
        Text(_("この予約をキャンセルしますか？") + "\n"
             + summary(ctx, booking.center_id, booking.start, booking.end, booking.children)),
        Buttons(text=_("キャンセルすると、元にはもどせません。"), alt_text=_("この予約をキャンセルしますか？"), actions=(
            button(ctx, _("キャンセルする"), "booking.cancel.yes", booking.id, state=CANCELLING),
            button(ctx, _("キャンセルしない"), "booking.mine"),
        )),
    ], state=CANCELLING)


def cancel(ctx: Context) -> Turn:
    _ = ctx._
    result = service(ctx).cancel(ctx.session.user_id, _booking_id(ctx))
    if result.ok:
        booking = result.booking
        text = "\n".join((_("予約をキャンセルしました。"),
                          summary(ctx, booking.center_id, booking.start, booking.end, booking.children)))
        return show(ctx, text)
    if result.status == "too_late":
        return show(ctx, _("始まった予約は、キャンセルできません。行けないときは、センターに連絡してください。"))
    return show(ctx, _("この予約は、もうキャンセルされています。"))
