"""Booking a visit to a 子育て支援センター: center → day → time → children → confirm → done;
the waitlist of a full time; and answers to a seat offered from the waitlist.

Every choice travels in the button that makes it (a slot id names its center and day), so any
step can be entered from any list of times: a stale confirm, an expired offer, a push. Every step
reads the seats again, since another parent may have taken them meanwhile. The parent's own
bookings and their cancellation are in dialogs.booking_mine; the pushes in dialogs.booking_notices.
"""

from __future__ import annotations

import re
from datetime import date

from dialogs import booking_mine
from dialogs.booking_view import (button, center_name, hours, menu_button, mine_button, new_booking_button,
                                  seats_text, service, slot_label, slot_line, starts, stop_button, summary,
                                  when)
from dialogs.centers import Booking, BookingResult, Slot
from dialogs.engine import N_, Context, Dialog, Otherwise, Tap, Turn, normalize, says
from dialogs.menu import main_menu
from dialogs.messages import Action, Buttons, Text
from dialogs.person import contact_text

MAX_QUICK_REPLIES = 13
DAYS_PER_PAGE = 9          # + calendar, "later days", back, stop = 13 quick replies
MAX_CHILDREN_BUTTONS = 4
MAX_CHILDREN = 20          # what the store accepts
TYPED_CHILDREN = re.compile(r"(\d)(?:人|にん|children|child|kids|kid)?")

START_WORDS = N_("予約したい|予約する|予約|よやく|よやくしたい|よやくする|センターの予約|支援センターの予約|"
                 "book|booking|reserve|book a visit|book the support center")
MINE_WORDS = N_("予約の確認|予約を確認したい|予約をキャンセルしたい|予約をキャンセル|予約のキャンセル|予約を取り消したい|"
                "予約の取り消し|予約を変更したい|予約の変更|予約をやめたい|わたしの予約|私の予約|よやく の キャンセル|"
                "my booking|my bookings|cancel my booking|cancel booking|change my booking")


# The steps

def wants_booking(ctx: Context) -> bool:
    """Typed words asking to book (a whole message, in any language), for the idle handler."""
    return says(ctx, START_WORDS)


def wants_own_bookings(ctx: Context) -> bool:
    """Typed words asking to see, cancel or change one's bookings (a whole message, any language)."""
    return says(ctx, MINE_WORDS)


def not_open(ctx: Context) -> Turn:
    """No center has a time to book (Ayase today): say so, and where to ask instead."""
    lead = "\n\n".join((ctx._("今は、このLINEでは子育て支援センターの予約を受け付けていません。"
                              "予約やセンターのことは、次の窓口にお問い合わせください。"),
                        contact_text(ctx, ctx.services.city.main_window)))
    return main_menu(ctx, lead)


def start(ctx: Context, lead: str | None = None) -> Turn:
    """Which center: each with its place and what it offers; only those with times to book."""
    svc = service(ctx)
    if svc is None:
        return not_open(ctx)
    opening = [(center, bool(svc.open_days(center.id))) for center in svc.centers]
    if not any(open_ for _, open_ in opening):
        return not_open(ctx)
    _ = ctx._
    lines = [lead] if lead else []
    lines.append(_("どの子育て支援センターに行きますか？"))
    same_offers = len({c.offers for c, _open in opening}) == 1
    for center, open_ in opening:
        lines.append(f"【{center_name(ctx, center.id)}】" + (f" {_(center.place)}" if center.place else ""))
        if not same_offers:
            lines += [f"・{_(offer)}" for offer in center.offers]
        if not open_:
            lines.append(_("（今は予約できる日がありません）"))
    if same_offers and opening[0][0].offers:
        lines.append(_("どのセンターでも、次のことをしています。"))
        lines += [f"・{_(offer)}" for offer in opening[0][0].offers]
    state = DIALOG.state("center")
    choices = [button(ctx, center_name(ctx, c.id), "booking.center", c.id, state=state)
               for c, open_ in opening if open_]
    extras = [mine_button(ctx), stop_button(ctx)]
    return Turn(replies=[Text("\n".join(lines), quick_replies=tuple(choices[:MAX_QUICK_REPLIES - 2] + extras))],
                state=state)


def days(ctx: Context, center_id: str, page: int = 0, lead: str | None = None) -> Turn:
    """The center's days with times to book (full days too: their waitlists), ten at a time."""
    svc, _ = service(ctx), ctx._
    center = svc.center(center_id)
    found = svc.open_days(center_id) if center else []
    if not found:
        return start(ctx, _("ごめんなさい、{center}は今、予約できる日がありません。").format(
            center=center_name(ctx, center_id)))
    page = max(0, min(page, (len(found) - 1) // DAYS_PER_PAGE))
    shown = found[page * DAYS_PER_PAGE:(page + 1) * DAYS_PER_PAGE]
    state = DIALOG.state("day")
    lines = [lead] if lead else []
    lines.append(_("{center}の予約できる日です。日にちを選んでください。").format(center=center_name(ctx, center_id)))
    choices = []
    for day, seats in shown:
        label = svc.format_day(day, ctx.language)
        line = _("{day} {seats}").format(day=label, seats=seats_text(ctx, seats))
        lines.append(f"・{line}")
        choices.append(button(ctx, line, "booking.day", center_id, day.isoformat(), state=state))
    if len(found) > (page + 1) * DAYS_PER_PAGE:
        choices.append(button(ctx, _("もっと先の日"), "booking.center", center_id, str(page + 1), state=state))
    first, last = found[0][0].isoformat(), found[-1][0].isoformat()
    choices.append(Action(label=_("カレンダーで選ぶ"), postback=ctx.button("booking.pick", center_id, state=state),
                          date_picker=(shown[0][0].isoformat(), first, last)))
    choices += [button(ctx, _("センターを選びなおす"), "booking.centers", state=state), stop_button(ctx)]
    return Turn(replies=[Text("\n".join(lines), quick_replies=tuple(choices))], state=state,
                data={"center": center_id})


def times(ctx: Context, center_id: str, day: date, lead: str | None = None, *, extras: tuple[Action, ...] = (),
          leave_out: str = "") -> Turn:
    """The day's times with seats left ('10:00–11:30 残り3'), and the full ones for the waitlist."""
    svc, _ = service(ctx), ctx._
    slots = [s for s in svc.open_slots(center_id, day) if s.id != leave_out]
    if not slots and not extras:
        return days(ctx, center_id, lead=" ".join(filter(None, (lead, _("この日は、予約できる時間がなくなりました。")))))
    state = DIALOG.state("time")
    lines = [lead] if lead else []
    if slots:
        lines.append(_("{center} {day}の時間を選んでください。").format(
            center=center_name(ctx, center_id), day=svc.format_day(day, ctx.language)))
        lines += [f"・{slot_line(ctx, s)}" for s in slots]
    back = button(ctx, _("日にちを選びなおす"), "booking.center", center_id, state=state)
    room = MAX_QUICK_REPLIES - len(extras) - 2
    choices = [button(ctx, slot_label(ctx, s), "booking.slot", s.id, state=state) for s in slots[:room]]
    return Turn(replies=[Text("\n".join(lines), quick_replies=(*extras, *choices, back, stop_button(ctx)))],
                state=state, data={"center": center_id, "day": day.isoformat()})


def ask_children(ctx: Context, slot: Slot, mode: str, lead: str | None = None) -> Turn:
    """How many children come (a seat is one family; the center wants to know the children)."""
    _ = ctx._
    state = DIALOG.state("children")
    text = "\n".join(filter(None, (lead, _("お子さんは何人いっしょに来ますか？"))))
    choices = [button(ctx, _("{children}人").format(children=n), "booking.children", slot.id, mode, str(n),
                      state=state) for n in range(1, MAX_CHILDREN_BUTTONS + 1)]
    back = button(ctx, _("時間を選びなおす"), "booking.day", slot.center_id, slot.start.date().isoformat(), state=state)
    return Turn(replies=[Text(text, quick_replies=(*choices, back, stop_button(ctx)))], state=state,
                data={"slot": slot.id, "mode": mode})


def confirm(ctx: Context, slot: Slot, children: int) -> Turn:
    _ = ctx._
    state = DIALOG.state("confirm")
    return Turn(replies=[
        Text(_("予約の内容です。") + "\n" + summary(ctx, slot.center_id, slot.start, slot.end, children)),
        Buttons(text=_("この内容で予約しますか？"), alt_text=_("この内容で予約しますか？"), actions=(
            button(ctx, _("予約する"), "booking.confirm", slot.id, str(children), state=state),
            button(ctx, _("もどる"), "booking.slot", slot.id, state=state),
            stop_button(ctx),
        )),
    ], state=state, data={"slot": slot.id, "children": children})


def booked(ctx: Context, booking: Booking, lead: str | None = None) -> Turn:
    _ = ctx._
    lines = [lead] if lead else []
    lines += [_("予約しました。"), summary(ctx, booking.center_id, booking.start, booking.end, booking.children)]
    if service(ctx).will_remind(booking.start):
        lines.append(_("前の日に、LINEでお知らせします。"))
    lines.append(_("行けなくなったときは、「予約の確認」からキャンセルしてください。"))
    return Turn(replies=[
        Text("\n".join(lines)),
        Buttons(text=_("予約の確認やキャンセルは、ここからできます。"), alt_text=_("予約しました。"),
                actions=(mine_button(ctx), menu_button(ctx))),
    ])


def ask_waitlist(ctx: Context, slot: Slot) -> Turn:
    _ = ctx._
    state = DIALOG.state("waitlist")
    return Turn(replies=[
        Text(_("{when}は満席です。キャンセル待ちに登録すると、空きが出たときにLINEでお知らせします。").format(
            when=when(ctx, slot.start, slot.end))),
        Buttons(text=_("キャンセル待ちに登録しますか？"), alt_text=_("キャンセル待ちに登録しますか？"), actions=(
            button(ctx, _("登録する"), "booking.wait", slot.id, state=state),
            button(ctx, _("ほかの時間を見る"), "booking.day", slot.center_id, slot.start.date().isoformat(),
                   state=state),
            stop_button(ctx),
        )),
    ], state=state, data={"slot": slot.id})


# What a parent's tap or words lead to

def args(ctx: Context) -> tuple[str, ...]:
    return ctx.inbound.postback.args if ctx.inbound.postback else ()


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _children(text: str) -> int | None:
    """A number of children from a button (1–20, as the store allows); None for a tampered one."""
    return int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_CHILDREN else None


def on_center(ctx: Context) -> Turn:
    a = args(ctx)
    page = int(a[1]) if len(a) > 1 and a[1].isascii() and a[1].isdigit() else 0
    return days(ctx, a[0], page) if a else start(ctx)


def on_day(ctx: Context) -> Turn:
    a = args(ctx)
    day = _day(a[1]) if len(a) > 1 else None
    return times(ctx, a[0], day) if day else start(ctx)


def on_pick(ctx: Context) -> Turn:
    """A day from LINE's date picker: its times, or the list of days if it has none."""
    a = args(ctx)
    day = _day(ctx.inbound.params.get("date", ""))
    if not a:
        return start(ctx)
    if day is None or day not in {d for d, _seats in service(ctx).open_days(a[0])}:
        return days(ctx, a[0], lead=ctx._("その日は予約できる時間がありません。ほかの日を選んでください。"))
    return times(ctx, a[0], day)


def on_slot(ctx: Context) -> Turn:
    """A time: on to the children, to the waitlist if it is full, or back to the day if it is gone."""
    slot = service(ctx).slot(args(ctx)[0]) if args(ctx) else None
    open_now = slot is not None and any(s.id == slot.id for s in service(ctx).open_slots(slot.center_id,
                                                                                        slot.start.date()))
    if not open_now:
        return gone(ctx, slot)
    return ask_waitlist(ctx, slot) if slot.full else ask_children(ctx, slot, "book")


def gone(ctx: Context, slot: Slot | None, lead: str | None = None) -> Turn:
    text = lead or ctx._("ごめんなさい、この時間は予約できなくなりました。")
    if slot is None:
        return start(ctx, text)
    return times(ctx, slot.center_id, slot.start.date(), text, leave_out=slot.id)


def on_children(ctx: Context) -> Turn:
    a = args(ctx)
    children = _children(a[2]) if len(a) > 2 else None
    return with_children(ctx, a[0], a[1], children) if children else start(ctx)


def with_children(ctx: Context, slot_id: str, mode: str, children: int) -> Turn:
    slot = service(ctx).slot(slot_id)
    if slot is None:
        return gone(ctx, None)
    if mode == "wait":
        return join_waitlist(ctx, slot, children)
    return confirm(ctx, slot, children)


def typed_children(ctx: Context) -> Turn:
    """'2', '２人' or '2 kids' typed instead of tapped."""
    said = TYPED_CHILDREN.fullmatch(normalize(ctx.inbound.text))
    slot_id, mode = ctx.session.data.get("slot", ""), ctx.session.data.get("mode", "book")
    if said and 1 <= int(said[1]) <= 9 and slot_id:
        return with_children(ctx, slot_id, mode, int(said[1]))
    slot = service(ctx).slot(slot_id) if slot_id else None
    return ask_children(ctx, slot, mode, ctx._("人数をボタンで選んでください。")) if slot else start(ctx)


def on_confirm(ctx: Context) -> Turn:
    a = args(ctx)
    children = _children(a[1]) if len(a) > 1 else None
    if children is None:
        return start(ctx)
    slot_id = a[0]
    result = service(ctx).book(ctx.session.user_id, slot_id, children)
    if result.ok:
        return booked(ctx, result.booking)
    return refused(ctx, result, service(ctx).slot(slot_id), children)


def refused(ctx: Context, result: BookingResult, slot: Slot | None, children: int) -> Turn:
    """A rule said no: say which, kindly, and offer what can be done instead."""
    _ = ctx._
    svc = service(ctx)
    status = result.status
    if status == "full" and slot is not None:
        wait = button(ctx, _("キャンセル待ちする"), "booking.wait", slot.id, str(children), state=DIALOG.state("time"))
        return times(ctx, slot.center_id, slot.start.date(),
                     _("ごめんなさい、{hours}は、いま満席になりました。同じ日のほかの時間か、キャンセル待ちを選べます。").format(
                         hours=hours(ctx, slot.start, slot.end)), extras=(wait,), leave_out=slot.id)
    if status in ("too_many", "overlaps", "already_booked"):
        if status == "too_many":
            text = _("予約は{count}件までです。今の予約をキャンセルすると、新しく予約できます。").format(
                count=svc.rules.max_upcoming)
        elif status == "overlaps":
            other = next((b for b in svc.bookings_of(ctx.session.user_id) if b.id == result.conflict), None)
            text = _("同じ時間に、ほかの予約があります。同じ時間に2つは予約できません。")
            if other is not None:
                text += "\n" + summary(ctx, other.center_id, other.start, other.end)
        else:
            text = _("この時間は、もう予約しています。")
        return Turn(replies=[Text(text, quick_replies=(mine_button(ctx), new_booking_button(ctx), menu_button(ctx)))])
    if status == "too_early" and slot is not None:
        opens = svc.format_day(svc.rules.opens_at(slot.start.date()).date(), ctx.language)
        return days(ctx, slot.center_id, lead=_("この日の予約は、まだ始まっていません。{day}から予約できます。").format(day=opens))
    if status == "too_late":
        return gone(ctx, slot, _("ごめんなさい、この時間の予約の受付は終わりました。"))
    if status == "closed":
        return gone(ctx, slot, _("ごめんなさい、この時間はお休みになりました。"))
    return gone(ctx, slot)


def on_wait(ctx: Context) -> Turn:
    a = args(ctx)
    slot = service(ctx).slot(a[0]) if a else None
    if slot is None:
        return gone(ctx, None)
    if len(a) > 1 and _children(a[1]):
        return join_waitlist(ctx, slot, _children(a[1]))
    return ask_children(ctx, slot, "wait")


def join_waitlist(ctx: Context, slot: Slot, children: int) -> Turn:
    _ = ctx._
    svc = service(ctx)
    result = svc.join_waitlist(ctx.session.user_id, slot.id, children)
    held = next((o for o in svc.offers_of(ctx.session.user_id) if o.slot_id == slot.id), None)
    if result.status == "already_waiting" and held is not None:     # a seat is already held for them
        return Turn(replies=[Text(_("この時間は、あなたのために席をとってあります。{expires}までに予約してください。").format(
            expires=svc.format_when(held.expires, ctx.language)), quick_replies=(
            button(ctx, _("予約する"), "booking.offer.accept", held.id), mine_button(ctx), menu_button(ctx)))])
    if result.ok:
        first = (_("キャンセル待ちに登録しました。今{position}番目です。") if result.status == "waiting"
                 else _("もうキャンセル待ちに登録しています。今{position}番目です。"))
        text = "\n".join((
            first.format(position=result.position),
            summary(ctx, slot.center_id, slot.start, slot.end, children),
            _("空きが出たら、LINEでお知らせします。お知らせから決められた時間までに予約してください。"),
        ))
        return Turn(replies=[Text(text, quick_replies=(mine_button(ctx), menu_button(ctx)))])
    if result.status == "not_full":
        return ask_children(ctx, slot, "book", _("空きが出ました。このまま予約できます。"))
    return refused(ctx, BookingResult(result.status), slot, children)


# A seat offered from the waitlist, answered from the push (any state)

def on_accept_offer(ctx: Context) -> Turn:
    _ = ctx._
    svc = service(ctx)
    offer_id = args(ctx)[0] if args(ctx) else ""
    if svc is None:
        return not_open(ctx)
    result = svc.accept_offer(ctx.session.user_id, offer_id)
    if result.ok:
        return booked(ctx, result.booking)
    offer = svc.offer(offer_id)
    slot = svc.slot(offer.slot_id) if offer else None
    if result.status in ("expired", "no_such_offer"):
        return offer_gone(ctx, slot)
    turn = refused(ctx, result, slot, offer.children if offer else 1)
    if offer is not None:
        turn.replies.insert(0, Text(_("空いた席は{when}までとっておきます。").format(
            when=svc.format_when(offer.expires, ctx.language))))
    return turn


def offer_gone(ctx: Context, slot: Slot | None) -> Turn:
    """A stale offer: it expired, or was answered. The center's next free times instead."""
    _ = ctx._
    lead = _("ごめんなさい、このご案内は期限が過ぎたか、もう使えません。")
    if slot is None:
        return start(ctx, lead)
    svc = service(ctx)
    found = svc.next_free_slots(slot.center_id, MAX_QUICK_REPLIES - 2)
    if not found:
        return start(ctx, lead)
    state = DIALOG.state("time")
    lines = [lead, _("{center}の、次に空いている時間です。").format(center=center_name(ctx, slot.center_id))]
    lines += [f"・{when(ctx, s.start, s.end)} {seats_text(ctx, s.seats_left)}" for s in found]
    choices = [button(ctx, starts(ctx, s.start), "booking.slot", s.id, state=state) for s in found]
    return Turn(replies=[Text("\n".join(lines), quick_replies=(*choices, mine_button(ctx), stop_button(ctx)))],
                state=state, data={"center": slot.center_id})


def on_decline_offer(ctx: Context) -> Turn:
    svc = service(ctx)
    offer_id = args(ctx)[0] if args(ctx) else ""
    if svc is not None and svc.decline_offer(ctx.session.user_id, offer_id):
        return main_menu(ctx, ctx._("わかりました。次に待っている方にご案内します。"))
    return main_menu(ctx, ctx._("このご案内は、もう終わっています。"))


# Anything typed while a step waits for a tap

def reprompt(ctx: Context) -> Turn:
    if wants_booking(ctx):
        return start(ctx)
    data = ctx.session.data
    lead = ctx._("下のボタンから選んでください。やめるときは「やめる」を押してください。")
    svc = service(ctx)
    step = ctx.session.state.partition(".")[2]
    slot = svc.slot(data["slot"]) if svc and data.get("slot") else None
    if step == "confirm" and slot is not None:
        turn = confirm(ctx, slot, _children(str(data.get("children", 1))) or 1)
        turn.replies.insert(0, Text(lead))
        return turn
    if step == "waitlist" and slot is not None:
        turn = ask_waitlist(ctx, slot)
        turn.replies.insert(0, Text(lead))
        return turn
    day = _day(str(data.get("day", "")))
    if step == "time" and data.get("center") and day:
        return times(ctx, data["center"], day, lead)
    if step == "day" and data.get("center"):
        return days(ctx, data["center"], lead=lead)
    return start(ctx, lead)


DIALOG = Dialog(
    name="booking",
    entry=start,
    states={
        "center": (Tap("booking.center", on_center), Otherwise(reprompt)),
        "day": (Tap("booking.day", on_day), Tap("booking.pick", on_pick), Tap("booking.center", on_center), Tap("booking.centers", start),
                Otherwise(reprompt)),
        "time": (Tap("booking.slot", on_slot), Tap("booking.center", on_center), Tap("booking.wait", on_wait),
                 Otherwise(reprompt)),
        "waitlist": (Tap("booking.wait", on_wait), Tap("booking.day", on_day), Otherwise(reprompt)),
        "children": (Tap("booking.children", on_children), Tap("booking.day", on_day), Otherwise(typed_children)),
        "confirm": (Tap("booking.confirm", on_confirm), Tap("booking.slot", on_slot), Otherwise(reprompt)),
        "cancelling": (Tap("booking.cancel.yes", booking_mine.cancel), Otherwise(booking_mine.show)),
    },
    anytime={
        "booking": start,
        "booking.mine": booking_mine.show,
        "booking.cancel": booking_mine.ask_cancel,
        "booking.offer.accept": on_accept_offer,
        "booking.offer.decline": on_decline_offer,
    },
)
