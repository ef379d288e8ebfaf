"""The centers' bookings for staff: a day's slots with who booked, add and close slots, cancel a
booking with a message to the parent, export CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from bot.bookings.store import NoSuchCenter
from bot.console.web import N_, _, bp, runtime
from dialogs.centers import TOKYO
from dialogs.staff_replies import CANCEL_REASONS

MAX_CAPACITY = 200
REASONS = {"center": N_("センターの都合"), "weather": N_("天候（警報など）"), "illness": N_("感染症の予防")}


def center_label(desk, center_id: str) -> str:
    center = desk.store.centers.get(center_id)
    if center and center.name:
        return center.name
    return _("子育て支援センター %(number)s", number=desk.store.centers.number_of(center_id))


def _day(value: str | None, default: date | None) -> date:
    """A date from a form or the address; a missing one is the default (400 without one)."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        day = None
    if day is None or not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        abort(400)
    return day


def _center(desk, value: str | None) -> str:
    centers = desk.centers
    if not centers:
        abort(404)
    center_id = value or centers[0].id
    if desk.store.centers.get(center_id) is None:
        abort(404)
    return center_id


@bp.get("/bookings")
def bookings():
    desk = runtime().booking_desk
    center_id = _center(desk, request.args.get("center"))
    today = desk.clock().astimezone(TOKYO).date()
    day = _day(request.args.get("day"), today)
    return render_template(
        "console/bookings.html", centers=[(c.id, center_label(desk, c.id)) for c in desk.centers],
        center_id=center_id, center_name=center_label(desk, center_id), day=day, today=today,
        previous=day - timedelta(days=1), following=day + timedelta(days=1), views=desk.day(center_id, day),
        reasons=[(key, _(REASONS[key])) for key in CANCEL_REASONS], closed_day=desk.store.centers.is_closed(center_id, day))


def _back():
    return redirect(url_for("console.bookings", center=request.form.get("center"), day=request.form.get("day")))


@bp.post("/bookings/slots")
def add_slot():
    desk = runtime().booking_desk
    center_id = _center(desk, request.form.get("center"))
    day = _day(request.form.get("day"), None)
    try:
        start = datetime.combine(day, time.fromisoformat(request.form.get("start", "")), TOKYO)
        end = datetime.combine(day, time.fromisoformat(request.form.get("end", "")), TOKYO)
        capacity = int(request.form.get("capacity", ""))
    except ValueError:
        flash(_("予約枠を追加できませんでした。日付・時刻・定員を確かめてください。"), "error")
        return _back()
    if end <= start or not 1 <= capacity <= MAX_CAPACITY or start < desk.clock():
        flash(_("予約枠を追加できませんでした。終了は開始より後、定員は1〜%(max)s組、過ぎた時刻には追加できません。",
                max=MAX_CAPACITY), "error")
        return _back()
    try:
        slot = desk.add_slot(g.staff, center_id, start, end, capacity)
    except (ValueError, NoSuchCenter):
        flash(_("予約枠を追加できませんでした。日付・時刻・定員を確かめてください。"), "error")
        return _back()
    flash(_("%(start)s–%(end)s の予約枠（%(capacity)s組）を追加しました。", start=f"{slot.start:%H:%M}",
            end=f"{slot.end:%H:%M}", capacity=slot.capacity), "ok")
    return _back()


NOT_CLOSED = {
    "no_such_slot": N_("その予約枠は見つかりません。"),
    "already_closed": N_("その予約枠はすでに中止されています。"),
    "started": N_("始まった予約枠は中止できません。"),
}
NOT_CANCELLED = {
    "gone": N_("この予約はもうありません（取り消し済みなど）。"),
    "started": N_("始まった予約は取り消せません。"),
}


def _told(outcomes: dict) -> str:
    """What telling the parents came to, for staff: who knows, who will, who cannot be reached."""
    parts = [_("%(count)s人に知らせました。", count=outcomes.get("sent", 0) + outcomes.get("sent_before", 0))]
    if outcomes.get("queued"):
        parts.append(_("%(count)s人にはLINEの不調で届いていません。自動で送り直します。", count=outcomes["queued"]))
    if outcomes.get("refused"):
        parts.append(_("%(count)s人にはLINEで届けられません（ブロックなど）。電話などで連絡してください。",
                       count=outcomes["refused"]))
    return " ".join(parts)


@bp.post("/bookings/slots/<path:slot_id>/close")
def close_slot(slot_id: str):
    desk = runtime().booking_desk
    status, outcomes = desk.close_slot(g.staff, slot_id[:100], request.form.get("reason", "center"),
                                       request.form.get("note", "")[:500])
    if status != "closed":
        flash(_(NOT_CLOSED.get(status, NOT_CLOSED["no_such_slot"])), "error")
    else:
        flash(_("予約枠を中止しました。") + " " + _told(outcomes), "error" if outcomes.get("refused") else "ok")
    return _back()


@bp.post("/bookings/<booking_id>/cancel")
def cancel_booking(booking_id: str):
    desk = runtime().booking_desk
    status, told = desk.cancel_booking(g.staff, booking_id[:40], request.form.get("reason", "center"),
                                       request.form.get("note", "")[:500])
    if status != "cancelled":
        flash(_(NOT_CANCELLED.get(status, NOT_CANCELLED["gone"])), "error")
    else:
        flash(_("予約を取り消しました。") + " " + _told({told: 1}), "error" if told == "refused" else "ok")
    return _back()


@bp.get("/bookings/export.csv")
def export_bookings():
    desk = runtime().booking_desk
    center_id = _center(desk, request.args.get("center"))
    today = desk.clock().astimezone(TOKYO).date()
    first = _day(request.args.get("from"), today)
    last = _day(request.args.get("to"), first)
    if last < first or (last - first).days > 92:
        flash(_("書き出せるのは、開始日から92日分までです。終了日を開始日以降にしてください。"), "error")
        return redirect(url_for("console.bookings", center=center_id, day=first.isoformat()))
    body = desk.export_csv(g.staff, center_id, first, last)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=bookings-{center_id}-{first}-{last}.csv"})
