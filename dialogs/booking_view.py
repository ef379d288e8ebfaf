"""How the booking dialogs reach the bookings (the BookingService protocol, implemented in bot/)
and how a center, a time or a booking is shown, the same way in every step and every push."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from dialogs.centers import (Booking, BookingResult, BookingRules, CancelResult, Center, Offer, Slot,
                             WaitlistResult)
from dialogs.engine import Context
from dialogs.messages import Action

MAX_LABEL_UTF16 = 20       # LINE's limit on a button label


class BookingService(Protocol):
    """What the booking dialogs may ask (bot.booking_service.Bookings). The service owns the
    clock: a dialog never decides what time it is."""

    rules: BookingRules
    centers: tuple[Center, ...]

    def center(self, center_id: str) -> Center | None: ...
    def number_of(self, center_id: str) -> int: ...
    def open_days(self, center_id: str) -> list[tuple[date, int]]: ...  # (day, seats left; 0 = all full)
    def open_slots(self, center_id: str, day: date) -> list[Slot]: ...  # bookable now, full ones too
    def slot(self, slot_id: str) -> Slot | None: ...
    def next_free_slots(self, center_id: str, limit: int) -> list[Slot]: ...
    def book(self, user_id: str, slot_id: str, children: int) -> BookingResult: ...
    def join_waitlist(self, user_id: str, slot_id: str, children: int) -> WaitlistResult: ...
    def bookings_of(self, user_id: str) -> list[Booking]: ...
    def waitlists_of(self, user_id: str) -> list[tuple[Slot, int]]: ...  # (slot, place in line: 1 = next)
    def offers_of(self, user_id: str) -> list[Offer]: ...
    def offer(self, offer_id: str) -> Offer | None: ...
    def cancel(self, user_id: str, booking_id: str) -> CancelResult: ...
    def accept_offer(self, user_id: str, offer_id: str) -> BookingResult: ...
    def decline_offer(self, user_id: str, offer_id: str) -> bool: ...
    def will_remind(self, start: datetime) -> bool: ...  # the day-before reminder is still to come
    def format_day(self, day: date, language: str) -> str: ...
    def format_time(self, moment: datetime, language: str) -> str: ...
    def format_when(self, moment: datetime, language: str) -> str: ...


def service(ctx: Context) -> BookingService | None:
    """None where the bot runs without bookings (then booking is 'not open')."""
    return getattr(ctx.services, "bookings", None)


def clip(label: str) -> str:
    """A label cut to LINE's 20 UTF-16 units (a long center name, a long translation)."""
    units = label.encode("utf-16-le")
    if len(units) // 2 <= MAX_LABEL_UTF16:
        return label
    return units[:(MAX_LABEL_UTF16 - 1) * 2].decode("utf-16-le", errors="ignore") + "…"


def button(ctx: Context, label: str, action: str, *args: str, state: str = "") -> Action:
    return Action(label=clip(label), postback=ctx.button(action, *args, state=state), display_text=label)


def center_name(ctx: Context, center_id: str) -> str:
    """The city's name for the center, or '子育て支援センター 2' while it has given none."""
    center = service(ctx).center(center_id)
    if center is not None and center.name:
        return ctx._(center.name)
    return ctx._("子育て支援センター {number}").format(number=service(ctx).number_of(center_id))


def hours(ctx: Context, start: datetime, end: datetime) -> str:
    svc = service(ctx)
    return f"{svc.format_time(start, ctx.language)}–{svc.format_time(end, ctx.language)}"


def when(ctx: Context, start: datetime, end: datetime) -> str:
    """'6月3日(火) 10:00–11:30', in the parent's language."""
    return f"{service(ctx).format_day(start.date(), ctx.language)} {hours(ctx, start, end)}"


def starts(ctx: Context, start: datetime) -> str:
    """'6月10日(火) 13:00': short enough for a button."""
    svc = service(ctx)
    return f"{svc.format_day(start.date(), ctx.language)} {svc.format_time(start, ctx.language)}"


def summary(ctx: Context, center_id: str, start: datetime, end: datetime, children: int | None = None) -> str:
    """Center, place, day and time (and children): what a confirmation, a reminder or a notice says."""
    lines = [center_name(ctx, center_id)]
    center = service(ctx).center(center_id)
    if center is not None and center.place:
        lines.append(ctx._(center.place))
    lines.append(when(ctx, start, end))
    if children:
        lines.append(ctx._("お子さん {children}人").format(children=children))
    return "\n".join(lines)


def seats_text(ctx: Context, seats: int) -> str:
    return ctx._("残り{seats}").format(seats=seats) if seats else ctx._("満席")


def slot_line(ctx: Context, slot: Slot) -> str:
    """'10:00–11:30 残り3（0歳児）' for the list above the buttons."""
    if slot.seats_left:
        line = ctx._("{hours} 残り{seats}").format(hours=hours(ctx, slot.start, slot.end), seats=slot.seats_left)
    else:
        line = ctx._("{hours} 満席（キャンセル待ちできます）").format(hours=hours(ctx, slot.start, slot.end))
    if slot.age_group:
        line += ctx._("（{age_group}）").format(age_group=ctx._(slot.age_group))
    return line


def slot_label(ctx: Context, slot: Slot) -> str:
    if slot.seats_left:
        return ctx._("{hours} 残り{seats}").format(hours=hours(ctx, slot.start, slot.end), seats=slot.seats_left)
    return ctx._("{hours} 満席").format(hours=hours(ctx, slot.start, slot.end))


def stop_button(ctx: Context) -> Action:
    return button(ctx, ctx._("やめる"), "cancel")


def menu_button(ctx: Context) -> Action:
    return button(ctx, ctx._("メニュー"), "menu")


def mine_button(ctx: Context) -> Action:
    return button(ctx, ctx._("予約の確認"), "booking.mine")


def new_booking_button(ctx: Context) -> Action:
    return button(ctx, ctx._("センターを予約する"), "booking")
