"""The queue of handed-over conversations, and one conversation: read, claim, answer, hand back."""

from __future__ import annotations

import time
import uuid

from flask import Response, abort, flash, g, jsonify, redirect, render_template, request, session, url_for

from bot.console.web import N_, _, admin_only, bp, passive, runtime
from bot.line import LineApiError
from dialogs.languages import BY_CODE

URGENT = 1    # urgency 0–1 (a child in danger, self-harm, abuse, DV) sounds the alarm

RISKS = {
    "child_danger": N_("子どもの命や体の危険"),
    "self_harm": N_("自殺・自傷のおそれ"),
    "harm_child": N_("子どもを傷つけてしまいそう"),
    "abuse": N_("虐待の疑い"),
    "dv": N_("DV（配偶者などからの暴力）"),
    "postpartum": N_("産後の不調・気分の落ち込み"),
}


def reason_label(reason: str) -> str:
    if reason.startswith("risk:"):
        return _(RISKS.get(reason[5:], "危険のおそれ"))
    return {"asked": _("本人が職員との会話を希望"), "faq_failed": _("ボットが答えられなかった"),
            "referral": _("紹介した相談先につながっていない（事後フォロー）")}.get(reason, reason)


def waited(seconds: int) -> str:
    if seconds < 60:
        return _("1分未満")
    if seconds < 3600:
        return _("%(minutes)s分", minutes=seconds // 60)
    if seconds < 86400:
        return _("%(hours)s時間%(minutes)s分", hours=seconds // 3600, minutes=seconds % 3600 // 60)
    return _("%(days)s日以上", days=seconds // 86400)


def language_label(code: str) -> str:
    language = BY_CODE.get(code)
    return language.native_name if language else code


def _queue_view():
    desk = runtime().staff_desk
    return [{"case": item.case, "waited": waited(item.waiting_s), "reason": reason_label(item.case.reason),
             "language": language_label(item.case.language), "urgent": item.case.urgency <= URGENT,
             "last": next((e for e in reversed(item.last) if e.who == "user"), None)}
            for item in desk.queue()]


@bp.get("/")
def queue():
    return render_template("console/queue.html", items=_queue_view(), changes=runtime().handoff.changes())


@bp.get("/queue/rows")
@passive
def queue_rows():
    return render_template("console/_queue_rows.html", items=_queue_view())


@bp.get("/queue/state")
@passive
def queue_state():
    cases = runtime().handoff.cases()
    # Held ones too: a chat a colleague holds that turns urgent must still sound the alarm.
    return jsonify(changes=runtime().handoff.changes(),
                   urgent=[c.user_id for c in cases if c.urgency <= URGENT],
                   unheld_urgent=[c.user_id for c in cases if c.urgency <= URGENT and not c.held],
                   waiting=sum(1 for c in cases if not c.held))


def _chat_or_404(user_id: str):
    rt = runtime()
    case = rt.handoff.case(user_id)
    if case is None and not rt.transcripts.read(user_id, last=1):
        abort(404)
    return case


MAX_OPENED = 30   # chats whose transcript this session may poll (opened, and audited, first)


@bp.get("/chat/<user_id>")
def chat(user_id: str):
    return _chat_page(user_id)


def _chat_page(user_id: str, *, draft: str = "", draft_id: str = "", status: int = 200):
    """The conversation page; after a failed send, with the typed text and its id kept, so that
    sending again is the same message (LINE drops it if the first try did arrive)."""
    rt = runtime()
    case = _chat_or_404(user_id)
    desk = rt.staff_desk
    entries = desk.transcript(g.staff, user_id)   # recorded in the audit log as read
    opened = [u for u in session.get("opened", []) if u != user_id][-(MAX_OPENED - 1):]
    session["opened"] = opened + [user_id]
    language = desk.language_of(user_id, case)
    last_text, entry, choices = desk.bot_answer(user_id)
    return render_template(
        "console/chat.html", user_id=user_id, case=case, entries=entries, language=language,
        language_name=language_label(language), reason=reason_label(case.reason) if case else "",
        waited=waited(int(time.time() - case.since_ms / 1000)) if case else "",
        mine=bool(case and case.holder == g.staff), canned=desk.canned_previews(user_id),
        last_text=last_text, faq_entry=entry, faq_choices=choices, draft=draft,
        draft_id=draft_id or uuid.uuid4().hex, notes=[e for e in entries if e.who == "note"]), status


@bp.get("/chat/<user_id>/entries")
@passive
def chat_entries(user_id: str):
    if user_id not in session.get("opened", []):
        abort(404)   # open the conversation first: that is what the audit log records
    entries = runtime().transcripts.read(user_id)
    return render_template("console/_entries.html", user_id=user_id, entries=entries)


_OUTCOMES = {
    "claimed": N_("この会話を担当します。"),
    "taken": N_("ほかの職員がすでに担当しています。"),
    "gone": N_("この会話はもうキューにありません。"),
    "sent": N_("送りました。"),
    "noted": N_("メモを残しました。"),
    "released": N_("会話をボットに戻しました。"),
    "not_holder": N_("この会話を担当していないため、できません。先に「担当する」を押してください。"),
    "empty": N_("内容が空です。"),
    "too_long": N_("長すぎるため送れません。"),
    "line_error": N_("LINEに送れませんでした。少し待ってからもう一度送ってください。"),
}


def _tell(outcome) -> None:
    message = _(_OUTCOMES.get(outcome.status, outcome.status))
    if outcome.status in ("taken", "not_holder") and outcome.holder:
        message += " " + _("（担当: %(holder)s）", holder=outcome.holder)
    flash(message, "sent" if outcome.status == "sent" else "ok" if outcome.ok else "error")


def _back(user_id: str):
    return redirect(url_for("console.chat", user_id=user_id))


@bp.post("/chat/<user_id>/claim")
def claim(user_id: str):
    take_over = request.form.get("take_over") == "1"
    if take_over and g.staff_role != "admin":
        abort(403)
    outcome = runtime().staff_desk.claim(g.staff, user_id, take_over=take_over)
    _tell(outcome)
    return _back(user_id)


@bp.post("/chat/<user_id>/release")
def release(user_id: str):
    force = request.form.get("force") == "1"
    if force and g.staff_role != "admin":
        abort(403)
    outcome = runtime().staff_desk.release(g.staff, user_id, force=force)
    _tell(outcome)
    if outcome.ok and outcome.detail == "queued":
        flash(_("LINEの不調で、保護者への「ボットに戻った」お知らせはまだ届いていません。自動で送り直します。"), "error")
    elif outcome.ok and outcome.detail == "refused":
        flash(_("保護者にLINEで届けられませんでした（ブロックなど）。必要なら電話などで連絡してください。"), "error")
    return redirect(url_for("console.queue")) if outcome.ok else _back(user_id)


def _message_id() -> str:
    """The form's own id: a double submit (or a retry) sends once."""
    value = request.form.get("message_id", "")
    try:
        return uuid.UUID(value).hex
    except ValueError:
        abort(400)


@bp.post("/chat/<user_id>/send")
def send(user_id: str):
    message_id, text = _message_id(), request.form.get("text", "")
    outcome = runtime().staff_desk.send(g.staff, user_id, text, message_id=message_id)
    _tell(outcome)
    if outcome.ok:
        return _back(user_id)
    return _chat_page(user_id, draft=text, draft_id=message_id, status=409 if outcome.status == "not_holder" else 400
                      if outcome.status in ("empty", "too_long") else 502 if outcome.status == "line_error" else 404)


@bp.post("/chat/<user_id>/canned")
def send_canned(user_id: str):
    _tell(runtime().staff_desk.send_canned(g.staff, user_id, request.form.get("reply", ""),
                                           message_id=_message_id()))
    return _back(user_id)


@bp.post("/chat/<user_id>/faq")
def send_faq(user_id: str):
    _tell(runtime().staff_desk.send_faq(g.staff, user_id, request.form.get("entry", ""), message_id=_message_id()))
    return _back(user_id)


@bp.post("/chat/<user_id>/note")
def note(user_id: str):
    _chat_or_404(user_id)
    _tell(runtime().staff_desk.note(g.staff, user_id, request.form.get("text", "")))
    return _back(user_id)


@bp.get("/chat/<user_id>/content/<message_id>")
def content(user_id: str, message_id: str):
    """An image or file the parent sent, fetched from LINE for staff (only one from this chat)."""
    rt = runtime()
    if not message_id.isdigit() or not any(e.who == "user" and e.kind in ("image", "video", "audio", "file")
                                           and e.text == message_id for e in rt.transcripts.read(user_id)):
        abort(404)
    try:
        body, content_type = rt.line.content(message_id)
    except LineApiError as exc:
        abort(404 if exc.status in (404, 410) else 502)
    rt.audit.record(g.staff, "opened_media", user_id, message_id)
    safe_type = content_type if content_type.split(";")[0] in ("image/jpeg", "image/png", "image/gif",
                                                              "image/webp") else "application/octet-stream"
    response = Response(body, mimetype=safe_type)
    if safe_type == "application/octet-stream":
        response.headers["Content-Disposition"] = f"attachment; filename={message_id}"
    return response


@bp.get("/users/<user_id>/audit")
@admin_only
def user_audit(user_id: str):
    return redirect(url_for("console.audit", user=user_id))
