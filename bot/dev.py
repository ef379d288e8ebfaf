"""The dev simulator at /dev/ (BOT_ENV=development only): a LINE-like chat in the browser.

The page asks this blueprint to send an event; it builds a LINE webhook event, signs it with
the channel secret and POSTs it to /callback over real HTTP, exactly as LINE would. The bot
answers through its usual LINE client, pointed at the fake Messaging API mounted at
/dev/line, and the page shows what that fake received for the user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request

from bot.config import Settings
from bot.fake_line import FakeLine
from bot.fake_line import blueprint as fake_line_blueprint
from dialogs.languages import LANGUAGES

bp = Blueprint("dev", __name__, url_prefix="/dev", template_folder="templates", static_folder="static")


class SimulatedUsers:
    def __init__(self):
        self._lock = threading.Lock()
        self.users: dict[str, dict] = {}

    def add(self, name: str, language: str) -> dict:
        user = {"id": "U" + uuid.uuid4().hex, "name": name, "language": language,
                "following": False, "blocked": False}
        with self._lock:
            self.users[user["id"]] = user
        return user

    def followed(self, user_id: str) -> bool:
        """Mark the user as following; True when this follow unblocks the bot (as LINE says it)."""
        with self._lock:
            user = self.users[user_id]
            unblocked = user["blocked"]
            user.update(following=True, blocked=False)
        return unblocked

    def snapshot(self, user_id: str | None = None):
        """Copies, for answering over HTTP while other requests change them: one user, or all."""
        with self._lock:
            if user_id is not None:
                return dict(self.users[user_id])
            return [dict(user) for user in self.users.values()]

    def unfollowed(self, user_id: str) -> None:
        with self._lock:
            self.users[user_id].update(following=False, blocked=True)


def install(app: Flask, settings: Settings) -> None:
    if not settings.development:
        raise RuntimeError("the simulator is for BOT_ENV=development only")
    app.extensions["fake_line"] = FakeLine(access_token=settings.access_token)
    app.extensions["dev.users"] = SimulatedUsers()
    app.register_blueprint(fake_line_blueprint(), url_prefix="/dev/line")
    app.register_blueprint(bp)


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _event(kind: str, user_id: str, fake: FakeLine, payload: dict, *, unblocked: bool = False) -> dict:
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
    }
    if kind != "unfollow":
        event["replyToken"] = fake.issue_reply_token(user_id)
    if kind == "message":
        event["message"] = {"id": str(secrets.randbelow(10**17)), "type": "text", "text": payload["text"],
                            "quoteToken": secrets.token_urlsafe(16)}
    elif kind == "postback":
        event["postback"] = {"data": payload["data"]}
    elif kind == "follow":
        event["follow"] = {"isUnblocked": unblocked}
    return event


@bp.get("/")
def page():
    return render_template("dev/index.html", languages=LANGUAGES)


@bp.get("/api/users")
def list_users():
    return jsonify(current_app.extensions["dev.users"].snapshot())


@bp.post("/api/users")
def create_user():
    body = request.get_json(silent=True) or {}
    name = str(body.get("name") or "").strip()[:40] or "テストユーザー"
    language = str(body.get("language") or "ja")
    user = current_app.extensions["dev.users"].add(name, language)
    current_app.extensions["fake_line"].set_profile(user["id"], name, language)
    return jsonify(user), 201


@bp.post("/api/send")
def send():
    """Send one event for a simulated user: {user, type: message|postback|follow|unfollow, text, data}.

    Answers the webhook's HTTP status, the event sent, and the user (following or not).
    """
    body = request.get_json(silent=True) or {}
    users = current_app.extensions["dev.users"].users
    user_id = str(body.get("user", ""))
    kind = str(body.get("type", "message"))
    if user_id not in users or kind not in ("message", "postback", "follow", "unfollow"):
        abort(400)
    if kind == "message" and not str(body.get("text", "")).strip():
        abort(400)
    fake: FakeLine = current_app.extensions["fake_line"]
    simulated: SimulatedUsers = current_app.extensions["dev.users"]
    unblocked = False
    if kind == "follow":
        unblocked = simulated.followed(user_id)
    elif kind == "unfollow":
        simulated.unfollowed(user_id)
    event = _event(kind, user_id, fake, {"text": str(body.get("text", ""))[:5000], "data": str(body.get("data", ""))},
                   unblocked=unblocked)
    raw = json.dumps({"destination": "Udevbot", "events": [event]}, ensure_ascii=False).encode()
    settings: Settings = current_app.extensions["kosodate"].settings
    port = request.host.rsplit(":", 1)[-1] if ":" in request.host else str(settings.port)
    webhook = urllib.request.Request(
        f"http://127.0.0.1:{port}/callback", data=raw, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "X-Line-Signature": sign(settings.channel_secret, raw)},
    )
    try:
        with urllib.request.urlopen(webhook, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return jsonify(status=status, event=event, user=simulated.snapshot(user_id))


@bp.get("/api/messages")
def messages():
    """What the bot has sent the user: every reply and push the fake LINE accepted."""
    user_id = request.args.get("user", "")
    after = request.args.get("after", 0, type=int)
    fake: FakeLine = current_app.extensions["fake_line"]
    sent = fake.sent_to(user_id)
    return jsonify([
        {"n": n, "kind": d.kind, "at": d.at, "messages": d.messages}
        for n, d in enumerate(sent, 1) if n > after
    ])
