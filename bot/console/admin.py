"""Admin-only pages: the audit log, and the staff accounts."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from bot.console.accounts import AccountError
from bot.console.web import N_, _, admin_only, bp, runtime
from dialogs.centers import TOKYO

ACTIONS = {
    "signed_in": N_("サインイン"),
    "signed_out": N_("サインアウト"),
    "sign_in_failed": N_("サインイン失敗"),
    "read": N_("会話を開いた"),
    "claimed": N_("担当した"),
    "answered": N_("返信した"),
    "noted": N_("メモを残した"),
    "released": N_("ボットに戻した"),
    "opened_media": N_("画像などを開いた"),
    "exported": N_("書き出した"),
    "slot_added": N_("予約枠を追加した"),
    "slot_closed": N_("予約枠を中止した"),
    "booking_cancelled": N_("予約を取り消した"),
    "deleted_on_request": N_("本人の依頼でデータを削除"),
    "account_disabled": N_("アカウントを停止した"),
    "account_enabled": N_("アカウントを再開した"),
}


def _action(action: str) -> str:
    label = ACTIONS.get(action)
    return _(label) if label else action


@bp.get("/audit")
@admin_only
def audit():
    user = request.args.get("user", "").strip()
    staff = request.args.get("staff", "").strip()
    entries = runtime().audit.entries(user_id=user or None, staff=staff or None, limit=500)
    rows = [{**e, "when": datetime.fromtimestamp(e["at"] / 1000, TOKYO).strftime("%Y-%m-%d %H:%M:%S"),
             "what": _action(e.get("action", ""))} for e in entries]
    return render_template("console/audit.html", rows=rows, user=user, staff_filter=staff)


@bp.get("/staff")
@admin_only
def staff_accounts():
    return render_template("console/staff.html", accounts=runtime().staff_accounts.all())


@bp.post("/staff/<name>/disable")
@admin_only
def disable_account(name: str):
    rt = runtime()
    if name == g.staff:
        flash(_("自分のアカウントは停止できません。"), "error")
        return redirect(url_for("console.staff_accounts"))
    disabled = request.form.get("disabled") == "1"
    try:
        rt.staff_accounts.set_disabled(name, disabled)
    except AccountError:
        abort(404)
    if disabled:
        current_app.extensions["console.sessions"].close_all_of(name)
        back = rt.handoff.unclaim_all(name)   # their chats wait again for a colleague
        if back:
            flash(_("%(name)s が担当していた会話%(count)s件を、受付キューに戻しました。", name=name, count=len(back)), "ok")
    rt.audit.record(g.staff, "account_disabled" if disabled else "account_enabled", detail=name)
    flash(_("%(name)s を停止しました。", name=name) if disabled else _("%(name)s を再開しました。", name=name), "ok")
    return redirect(url_for("console.staff_accounts"))
