"""The console's blueprint and what every page shares: sign-in, sessions, CSRF, the language of
the pages, security headers.

Sessions live in Redis (bot.console.accounts); the signed cookie carries only the session id and
the CSRF secret. A page the staff member opens counts as activity; the pages' background polls do
not, so an unattended screen signs itself out after CONSOLE_IDLE_MINUTES.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
import redis
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from bot.config import Settings
from bot.console.accounts import ConsoleSessions, LoginThrottle
from bot.i18n import CONSOLE_DOMAIN, Catalogs
from dialogs.centers import TOKYO

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="../templates",
               static_folder="../static", static_url_path="/static")
csrf = CSRFProtect()

PUBLIC = {"console.sign_in", "console.static"}
UI_LANGUAGES = ("ja", "en")


def runtime():
    return current_app.extensions["kosodate"]


def _catalogs() -> Catalogs:
    return current_app.extensions["console.catalogs"]


def N_(message: str) -> str:
    """Marks a console string for the catalog where it is defined; `_` translates it where shown."""
    return message


def _(message: str, **values) -> str:
    """The console's own gettext: Japanese source, the staff member's chosen language."""
    language = session.get("lang", "ja") if request else "ja"
    text = _catalogs().translations(language).gettext(message)
    return text % values if values else text


def passive(view):
    """A background poll: answers without counting as the staff member's activity."""
    view.console_passive = True
    return view


def admin_only(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.staff_role != "admin":
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def install(app: Flask, settings: Settings) -> None:
    rt = app.extensions["kosodate"]
    app.secret_key = settings.console_secret_key or None
    app.config.update(
        SESSION_COOKIE_NAME="kosodate_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.console_cookie_secure,
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # Every POST of the console is checked in its before_request; the webhook is not a form.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_SSL_STRICT=settings.console_cookie_secure,
    )
    csrf.init_app(app)
    app.extensions["console.catalogs"] = Catalogs(domain=CONSOLE_DOMAIN)
    app.extensions["console.sessions"] = ConsoleSessions(rt.redis, settings.key_prefix,
                                                         idle_s=settings.console_idle_minutes * 60)
    app.extensions["console.throttle"] = LoginThrottle(rt.redis, settings.key_prefix,
                                                       max_failures=settings.console_max_failed_logins,
                                                       window_s=settings.console_lockout_minutes * 60)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message, **values: _(message, **values),
        lambda singular, plural, n, **values: _(singular if n == 1 else plural, n=n, **values),
        newstyle=True)
    app.add_template_filter(console_time)
    # Each answer form its own id: a double click on one sends once, two different answers both go.
    app.jinja_env.globals["new_message_id"] = lambda: uuid.uuid4().hex
    from bot.console import admin, bookings, chats  # noqa: F401  (their routes join the blueprint)

    app.register_blueprint(bp)


def console_time(at_ms: int) -> str:
    moment = datetime.fromtimestamp(at_ms / 1000, TOKYO)
    today = datetime.now(TOKYO).date()
    return moment.strftime("%H:%M") if moment.date() == today else moment.strftime("%Y-%m-%d %H:%M")


@bp.before_request
def authenticate():
    g.staff = g.staff_role = None
    if request.endpoint in PUBLIC:
        if request.method == "POST":
            csrf.protect()
        return None
    sessions: ConsoleSessions = current_app.extensions["console.sessions"]
    view = current_app.view_functions.get(request.endpoint or "")
    found = sessions.get(session.get("sid", ""), touch=not getattr(view, "console_passive", False))
    account = runtime().staff_accounts.get(found["staff"]) if found else None
    if account is None or account.disabled:
        if found:
            sessions.close(session["sid"])
        session.pop("sid", None)
        if getattr(view, "console_passive", False):
            return jsonify(error="signed out"), 401   # the page's script shows it loudly
        if request.method == "POST":
            # A form sent after the session ended (a long answer): say so; the page keeps the draft.
            flash(_("一定時間操作がなかったため、サインアウトしました。もう一度サインインしてください。"
                    "入力中の文は、この画面のブラウザに残っています。"), "error")
            back = request.referrer if request.referrer and urlsplit(request.referrer).netloc == request.host else ""
            return redirect(url_for("console.sign_in", next=_safe_next(urlsplit(back).path) if back else ""), 303)
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    g.staff, g.staff_role = account.name, account.role
    if request.method == "POST":
        csrf.protect()
    return None


@bp.after_request
def secure_headers(response):
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"  # transcripts stay out of caches
    return response


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return csrf_refused(exc)
    titles = {400: N_("正しくない送信です"), 403: N_("この操作はできません"), 404: N_("見つかりません"),
              429: N_("しばらく待ってください")}
    details = {400: N_("フォームの内容を確かめて、もう一度送ってください。"),
               403: N_("この画面や操作は管理者だけが使えます。"),
               404: N_("ページか会話が見つかりません。もう削除されたか、アドレスが違います。")}
    title = _(titles.get(exc.code, N_("エラーが起きました")))
    detail = _(details.get(exc.code, N_("もう一度試してください。続くときは管理者に連絡してください。")))
    return render_template("console/error.html", title=title, detail=detail), exc.code


@bp.errorhandler(redis.RedisError)
def storage_down(exc: redis.RedisError):
    current_app.logger.error("console: Redis failed: %s", exc)
    return render_template("console/error.html", title=_("今は使えません"),
                           detail=_("データの保存先（Redis）に接続できません。少し待ってから開き直してください。"
                                    "緊急の相談は電話で対応してください。")), 503


def csrf_refused(exc: CSRFError):
    return render_template("console/error.html", title=_("送信できませんでした"),
                           detail=_("フォームの有効期限が切れたか、正しくない送信です。ページを開き直してから、もう一度送ってください。")), 400


@bp.app_context_processor
def console_globals():
    if not request.path.startswith("/console"):
        return {}
    return {"staff": g.get("staff"), "staff_role": g.get("staff_role"), "ui_language": session.get("lang", "ja")}


def _safe_next(target: str | None) -> str:
    if target and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/") and "\\" not in target:
            return target
    return url_for("console.queue")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        return render_template("console/sign_in.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "?"
    throttle: LoginThrottle = current_app.extensions["console.throttle"]
    rt = runtime()
    wait = throttle.attempt(name, address)   # counted before the password is checked: no racing it
    if wait:
        minutes = max(1, (wait + 59) // 60)
        return render_template("console/sign_in.html", next=request.form.get("next", ""), name=name,
                               error=_("サインインの失敗が続いたため、%(minutes)s分ほど待ってから試してください。",
                                       minutes=minutes)), 429
    account = rt.staff_accounts.verify(name, password)
    if account is None:
        rt.audit.record(name[:40] or "?", "sign_in_failed", detail=address)
        return render_template("console/sign_in.html", next=request.form.get("next", ""), name=name,
                               error=_("名前かパスワードが違います。")), 401
    throttle.succeeded(name, address)
    language = session.get("lang", "ja")
    session.clear()  # a fresh session (and CSRF secret) at every sign-in
    session["sid"] = current_app.extensions["console.sessions"].open(account)
    session["lang"] = language
    rt.audit.record(account.name, "signed_in", detail=address)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/sign-out")
def sign_out():
    current_app.extensions["console.sessions"].close(session.get("sid", ""))
    runtime().audit.record(g.staff, "signed_out")
    session.clear()
    flash(_("サインアウトしました。"))
    return redirect(url_for("console.sign_in"))


@bp.post("/language")
def ui_language():
    language = request.form.get("language", "ja")
    session["lang"] = language if language in UI_LANGUAGES else "ja"
    return redirect(_safe_next(request.form.get("next")))
