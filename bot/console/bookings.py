"""The centers' bookings for staff: a day's slots with who booked, add and close slots, cancel a
booking with a message to the parent, export CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from bot.bookings.store import NoSuchCenter
from bot.console.web import N_, _, bp, runtime
from dialogs.centers import TOKYO
from dialogs.staff_replies import CANCEL_REASONS

REASONS = {"center": N_("センターの都合"), "weather": N_("天候（警報など）"), "illness": N_("感染症の予防")}


def center_label(desk, center_id: str) -> str:
    center = desk.store.centers.get(center_id)
    if center and center.name:
        return center.name
    return _("子育て支援センター %(number)s", number=desk.store.centers.number_of(center_id))


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        abort(400)


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
        slot = desk.add_slot(g.staff, center_id, start, end, capacity)
    except (ValueError, NoSuchCenter) as exc:
        flash(_("予約枠を追加できませんでした: %(reason)s", reason=str(exc)), "error")
        return _back()
    flash(_("%(start)s–%(end)s の予約枠（%(capacity)s組）を追加しました。", start=f"{slot.start:%H:%M}",
            end=f"{slot.end:%H:%M}", capacity=slot.capacity), "ok")
    return _back()


@bp.post("/bookings/slots/<path:slot_id>/close")
def close_slot(slot_id: str):
    desk = runtime().booking_desk
    told = desk.close_slot(g.staff, slot_id, request.form.get("reason", "center"), request.form.get("note", "")[:500])
    flash(_("予約枠を中止しました。%(count)s人に知らせました。", count=told), "ok")
    return _back()


@bp.post("/bookings/<booking_id>/cancel")
def cancel_booking(booking_id: str):
    desk = runtime().booking_desk
    status = desk.cancel_booking(g.staff, booking_id, request.form.get("reason", "center"),
                                 request.form.get("note", "")[:500])
    if status == "cancelled":
        flash(_("予約を取り消し、保護者に知らせました。"), "ok")
    else:
        flash(_("この予約は取り消せません（%(status)s）。", status=status), "error")
    return _back()


@bp.get("/bookings/export.csv")
def export_bookings():
    desk = runtime().booking_desk
    center_id = _center(desk, request.args.get("center"))
    today = desk.clock().astimezone(TOKYO).date()
    first = _day(request.args.get("from"), today)
    last = _day(request.args.get("to"), first)
    if last < first or (last - first).days > 92:
        abort(400)
    body = desk.export_csv(g.staff, center_id, first, last)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=bookings-{center_id}-{first}-{last}.csv"})
