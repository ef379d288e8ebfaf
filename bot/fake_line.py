"""A fake Messaging API: enough of LINE for the dev simulator and the tests, over real HTTP.

It checks what real LINE checks (the bearer token, reply tokens spent once, retry keys,
message limits, rich menu objects and images) and records what was sent. Tests can make it
fail on purpose: answer 5xx or 429 a number of times, or hang, to exercise the bot's retries
and crash recovery.

Rich menus: create, list, get, delete, the image (upload and download: LINE serves them from
its data host; a test or the simulator points both hosts here), aliases, the default menu and
per-user links. Deleting a menu unlinks it everywhere, as on LINE: its users see the default.
"""

from __future__ import annotations

import io
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.serving import make_server

from bot import line_limits


@dataclass
class Delivery:
    """One accepted reply or push."""

    kind: str
    to: str
    messages: list
    at: float
    retry_key: str | None = None
    request_id: str = ""
    reply_token: str | None = None
    recipients: tuple[str, ...] = ()    # a multicast's users


@dataclass
class Fault:
    status: int
    times: int
    hang_s: float = 0.0
    retry_after: str | None = None


@dataclass
class FakeLine:
    access_token: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status)
    profiles: dict[str, dict] = field(default_factory=dict)
    contents: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # message id → (bytes, type)
    _reply_tokens: dict[str, str] = field(default_factory=dict)   # token -> user
    _retry_keys: dict[str, float] = field(default_factory=dict)
    _faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    rich_menus: dict[str, dict] = field(default_factory=dict)            # id → the menu, as LINE returns it
    rich_menu_images: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id → (bytes, type)
    rich_menu_aliases: dict[str, str] = field(default_factory=dict)     # alias id → rich menu id
    default_rich_menu: str | None = None
    user_rich_menus: dict[str, str] = field(default_factory=dict)       # user id → linked rich menu id
    _generation: int = 0  # bumped by reset(): a request that hung across a reset is not recorded
    _changed: threading.Condition = field(default=None)

    def __post_init__(self):
        self._changed = threading.Condition(self._lock)

    # Setting the scene

    def issue_reply_token(self, user_id: str) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._reply_tokens[token] = user_id
        return token

    def set_profile(self, user_id: str, display_name: str, language: str | None) -> None:
        with self._lock:
            self.profiles[user_id] = {"userId": user_id, "displayName": display_name,
                                      **({"language": language} if language else {})}

    def fail(self, operation: str, status: int, times: int = 1, *, hang_s: float = 0.0,
             retry_after: str | None = None) -> None:
        """The next `times` calls of `operation` answer `status` (after hanging).

        Operations: reply, push, profile, content, and for rich menus richmenu.create,
        richmenu.list, richmenu.get, richmenu.delete, richmenu.upload, richmenu.download,
        alias.create, alias.update, alias.get, alias.list, alias.delete, default.set,
        default.get, default.cancel, user.link, user.unlink, user.get."""
        with self._lock:
            self._faults[operation].append(Fault(status, times, hang_s, retry_after))

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.requests.clear()
            self.contents.clear()
            self.rich_menus.clear()
            self.rich_menu_images.clear()
            self.rich_menu_aliases.clear()
            self.default_rich_menu = None
            self.user_rich_menus.clear()
            self._faults.clear()
            self._generation += 1

    # Reading what happened

    def sent_to(self, user_id: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.to == user_id or user_id in d.recipients]

    def texts_to(self, user_id: str) -> list[str]:
        return [m.get("text") or m.get("altText", "") for d in self.sent_to(user_id) for m in d.messages]

    def rich_menu_of(self, user_id: str) -> str | None:
        """The rich menu the user sees: the one linked to them, else the default."""
        with self._lock:
            return self.user_rich_menus.get(user_id) or self.default_rich_menu

    def rich_menu_named(self, name: str) -> dict | None:
        with self._lock:
            return next((m for m in self.rich_menus.values() if m["name"] == name), None)

    def rich_menu_image(self, rich_menu_id: str) -> bytes | None:
        with self._lock:
            found = self.rich_menu_images.get(rich_menu_id)
        return found[0] if found else None

    def wait_for(self, predicate, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.2))
            return True

    def wait_for_deliveries(self, count: int, timeout_s: float = 10.0) -> list[Delivery]:
        self.wait_for(lambda: len(self.deliveries) >= count, timeout_s)
        with self._lock:
            return list(self.deliveries)

    # Serving

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(operation) or []
            while queue and queue[0].times <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].times -= 1
            return queue[0]

    def _record(self, delivery: Delivery | None, status: int, generation: int | None = None) -> None:
        with self._changed:
            if generation is not None and generation != self._generation:
                return
            self.requests.append((request.method, request.path, status))
            if delivery is not None:
                self.deliveries.append(delivery)
            self._changed.notify_all()


def _error(status: int, message: str, request_id: str, details: list | None = None, headers=None):
    body = {"message": message}
    if details:  # strings (about the messages), (property, message) pairs, or LINE's own dicts
        body["details"] = [d if isinstance(d, dict) else {"message": d[1], "property": d[0]} if isinstance(d, tuple)
                           else {"message": d, "property": "messages"} for d in details]
    response = jsonify(body)
    response.status_code = status
    response.headers["x-line-request-id"] = request_id
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def _ok(request_id: str, body: dict | None = None):
    response = jsonify(body or {})
    response.headers["x-line-request-id"] = request_id
    return response


def blueprint() -> Blueprint:
    bp = Blueprint("fake_line", __name__)

    def fake() -> FakeLine:
        return current_app.extensions["fake_line"]

    def guard(operation: str):
        """Authorization and injected faults; returns an error response or None."""
        request_id = uuid.uuid4().hex
        line = fake()
        if request.headers.get("Authorization") != f"Bearer {line.access_token}":
            line._record(None, 401)
            return request_id, _error(401, "Authentication failed. Confirm that the access token in the "
                                           "authorization header is valid.", request_id)
        generation = line._generation
        fault = line._take_fault(operation)
        if fault is not None:
            if fault.hang_s:
                time.sleep(fault.hang_s)
            line._record(None, fault.status, generation)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return request_id, _error(fault.status, "injected failure", request_id, headers=headers)
        return request_id, None

    def checked_messages(request_id: str):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return None, None, _error(400, "The request body has 1 error(s)", request_id)
        problems = line_limits.problems(body["messages"])
        if problems:
            fake()._record(None, 400)
            return None, None, _error(400, "The request body has error(s)", request_id, problems)
        return body, body["messages"], None

    @bp.post("/v2/bot/message/reply")
    def reply():
        request_id, failed = guard("reply")
        if failed:
            return failed
        body, messages, bad = checked_messages(request_id)
        if bad:
            return bad
        line = fake()
        with line._lock:
            user = line._reply_tokens.pop(str(body.get("replyToken")), None)
        if user is None:
            line._record(None, 400)
            return _error(400, "Invalid reply token", request_id)
        line._record(Delivery("reply", user, messages, time.time(), request_id=request_id,
                              reply_token=str(body.get("replyToken"))), 200)
        return _ok(request_id, {"sentMessages": [{"id": uuid.uuid4().hex[:18]} for _ in messages]})

    @bp.post("/v2/bot/message/push")
    def push():
        request_id, failed = guard("push")
        if failed:
            return failed
        body, messages, bad = checked_messages(request_id)
        if bad:
            return bad
        line = fake()
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                line._record(None, 400)
                return _error(400, "The retry key is invalid", request_id)
            with line._lock:
                seen = retry_key in line._retry_keys
                line._retry_keys.setdefault(retry_key, time.time())
            if seen:
                line._record(None, 409)
                return _error(409, "The retry key is already accepted", request_id,
                              headers={"x-line-accepted-request-id": request_id})
        line._record(Delivery("push", str(body.get("to")), messages, time.time(), retry_key, request_id), 200)
        return _ok(request_id, {"sentMessages": [{"id": uuid.uuid4().hex[:18]} for _ in messages]})

    @bp.post("/v2/bot/message/multicast")
    def multicast():
        request_id, failed = guard("multicast")
        if failed:
            return failed
        body, messages, bad = checked_messages(request_id)
        if bad:
            return bad
        line = fake()
        to = body.get("to")
        if not isinstance(to, list) or not 1 <= len(to) <= 500 or not all(isinstance(u, str) and u for u in to):
            line._record(None, 400)
            return _error(400, "The request body has 1 error(s)", request_id,
                          [{"message": "Size must be between 1 and 500", "property": "to"}])
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key:
            with line._lock:
                seen = retry_key in line._retry_keys
                line._retry_keys.setdefault(retry_key, time.time())
            if seen:
                line._record(None, 409)
                return _error(409, "The retry key is already accepted", request_id,
                              headers={"x-line-accepted-request-id": request_id})
        line._record(Delivery("multicast", "", messages, time.time(), retry_key, request_id, recipients=tuple(to)), 200)
        return _ok(request_id)

    @bp.get("/v2/bot/profile/<user_id>")
    def profile(user_id: str):
        request_id, failed = guard("profile")
        if failed:
            return failed
        line = fake()
        found = line.profiles.get(user_id)
        line._record(None, 200 if found else 404)
        if not found:
            return _error(404, "Not found", request_id)
        return _ok(request_id, found)

    @bp.get("/v2/bot/message/<message_id>/content")
    def content(message_id: str):
        request_id, failed = guard("content")
        if failed:
            return failed
        line = fake()
        found = line.contents.get(message_id)
        line._record(None, 200 if found else 404)
        if not found:
            return _error(404, "Not found", request_id)
        response = current_app.response_class(found[0], mimetype=found[1])
        response.headers["x-line-request-id"] = request_id
        return response

    _rich_menu_routes(bp, fake, guard)
    return bp


_USER_ID = re.compile(r"U[0-9a-f]{32}")
_MAX_RICH_MENUS = 1000  # per channel


def _rich_menu_routes(bp: Blueprint, fake, guard) -> None:
    """The rich menu endpoints. Every one goes through `guard` (token, injected faults) and is
    recorded in `requests` with its status."""

    def done(request_id: str, body: dict | None = None, status: int = 200):
        fake()._record(None, status)
        return _ok(request_id, body)

    def refused(request_id: str, status: int, message: str, details: list | None = None):
        fake()._record(None, status)
        return _error(status, message, request_id, details)

    def menu_or_404(request_id: str, rich_menu_id: str):
        menu = fake().rich_menus.get(rich_menu_id)
        return menu, (None if menu else refused(request_id, 404, "Not found"))

    def shown(request_id: str, rich_menu_id: str, missing_status: int = 404):
        """A menu may be shown (alias, default, link) once it exists and has its image."""
        line = fake()
        if rich_menu_id not in line.rich_menus:
            return refused(request_id, missing_status, "richmenu not found")
        if rich_menu_id not in line.rich_menu_images:
            return refused(request_id, 400, "must upload richmenu image before applying it to user")
        return None

    @bp.post("/v2/bot/richmenu")
    def create_rich_menu():
        request_id, failed = guard("richmenu.create")
        if failed:
            return failed
        body = request.get_json(silent=True)
        problems = line_limits.rich_menu_problems(body)
        if problems:
            return refused(request_id, 400, f"The request body has {len(problems)} error(s)", problems)
        line = fake()
        with line._lock:
            if len(line.rich_menus) >= _MAX_RICH_MENUS:
                return refused(request_id, 400, "The maximum number of rich menus has been reached")
            rich_menu_id = "richmenu-" + uuid.uuid4().hex
            line.rich_menus[rich_menu_id] = {"richMenuId": rich_menu_id, **body}
        return done(request_id, {"richMenuId": rich_menu_id})

    @bp.get("/v2/bot/richmenu/list")
    def list_rich_menus():
        request_id, failed = guard("richmenu.list")
        if failed:
            return failed
        with fake()._lock:
            menus = list(fake().rich_menus.values())
        return done(request_id, {"richmenus": menus})

    @bp.get("/v2/bot/richmenu/<rich_menu_id>")
    def get_rich_menu(rich_menu_id: str):
        request_id, failed = guard("richmenu.get")
        if failed:
            return failed
        menu, missing = menu_or_404(request_id, rich_menu_id)
        return missing or done(request_id, menu)

    @bp.delete("/v2/bot/richmenu/<rich_menu_id>")
    def delete_rich_menu(rich_menu_id: str):
        request_id, failed = guard("richmenu.delete")
        if failed:
            return failed
        line = fake()
        with line._lock:
            if line.rich_menus.pop(rich_menu_id, None) is None:
                return refused(request_id, 404, "Not found")
            line.rich_menu_images.pop(rich_menu_id, None)
            for alias_id in [a for a, m in line.rich_menu_aliases.items() if m == rich_menu_id]:
                del line.rich_menu_aliases[alias_id]
            for user_id in [u for u, m in line.user_rich_menus.items() if m == rich_menu_id]:
                del line.user_rich_menus[user_id]
            if line.default_rich_menu == rich_menu_id:
                line.default_rich_menu = None
        return done(request_id)

    @bp.post("/v2/bot/richmenu/<rich_menu_id>/content")
    def upload_rich_menu_image(rich_menu_id: str):
        request_id, failed = guard("richmenu.upload")
        if failed:
            return failed
        # Read past the host app's own body limit (the simulator's is 1 MiB), so that the
        # answer to an image over LINE's limit is LINE's 400, not the web server's 413.
        request.max_content_length = 16 * line_limits.MAX_RICH_MENU_IMAGE_BYTES
        data = request.get_data()
        menu, missing = menu_or_404(request_id, rich_menu_id)
        if missing:
            return missing
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type not in ("image/png", "image/jpeg"):
            return refused(request_id, 400, "Content-Type must be image/png or image/jpeg")
        if not data:
            return refused(request_id, 400, "The image is empty")
        if len(data) > line_limits.MAX_RICH_MENU_IMAGE_BYTES:
            return refused(request_id, 400, "The image is over 1 MB")
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                image_format, image_size = image.format, image.size
                image.verify()
        except Exception:  # Pillow raises many kinds for a broken or foreign file
            return refused(request_id, 400, "The image could not be read")
        if {"PNG": "image/png", "JPEG": "image/jpeg"}.get(image_format) != content_type:
            return refused(request_id, 400, f"The image is {image_format}, not {content_type}")
        size = (menu["size"]["width"], menu["size"]["height"])
        if image_size != size:
            return refused(request_id, 400, f"The image is {image_size[0]}x{image_size[1]}; "
                                            f"the rich menu is {size[0]}x{size[1]}")
        line = fake()
        with line._lock:
            if rich_menu_id in line.rich_menu_images:
                return refused(request_id, 400, "An image has already been uploaded to the richmenu")
            line.rich_menu_images[rich_menu_id] = (data, content_type)
        return done(request_id)

    @bp.get("/v2/bot/richmenu/<rich_menu_id>/content")
    def download_rich_menu_image(rich_menu_id: str):
        request_id, failed = guard("richmenu.download")
        if failed:
            return failed
        found = fake().rich_menu_images.get(rich_menu_id)
        if not found:
            return refused(request_id, 404, "Not found")
        fake()._record(None, 200)
        response = current_app.response_class(found[0], mimetype=found[1])
        response.headers["x-line-request-id"] = request_id
        return response

    # Aliases

    @bp.post("/v2/bot/richmenu/alias")
    def create_alias():
        request_id, failed = guard("alias.create")
        if failed:
            return failed
        body = request.get_json(silent=True) or {}
        alias_id, rich_menu_id = body.get("richMenuAliasId"), body.get("richMenuId")
        if not line_limits.is_alias_id(alias_id):
            return refused(request_id, 400, "The request body has 1 error(s)",
                           [("richMenuAliasId", "must match [a-z0-9_-]{1,32}")])
        not_shown = shown(request_id, str(rich_menu_id), 400)
        if not_shown:
            return not_shown
        line = fake()
        with line._lock:
            if alias_id in line.rich_menu_aliases:
                return refused(request_id, 400, "conflict richmenu alias id")
            line.rich_menu_aliases[alias_id] = rich_menu_id
        return done(request_id)

    @bp.get("/v2/bot/richmenu/alias/list")
    def list_aliases():
        request_id, failed = guard("alias.list")
        if failed:
            return failed
        with fake()._lock:
            aliases = [{"richMenuAliasId": a, "richMenuId": m} for a, m in fake().rich_menu_aliases.items()]
        return done(request_id, {"aliases": aliases})

    @bp.get("/v2/bot/richmenu/alias/<alias_id>")
    def get_alias(alias_id: str):
        request_id, failed = guard("alias.get")
        if failed:
            return failed
        rich_menu_id = fake().rich_menu_aliases.get(alias_id)
        if rich_menu_id is None:
            return refused(request_id, 404, "Not found")
        return done(request_id, {"richMenuAliasId": alias_id, "richMenuId": rich_menu_id})

    @bp.post("/v2/bot/richmenu/alias/<alias_id>")
    def update_alias(alias_id: str):
        request_id, failed = guard("alias.update")
        if failed:
            return failed
        rich_menu_id = str((request.get_json(silent=True) or {}).get("richMenuId"))
        line = fake()
        if alias_id not in line.rich_menu_aliases:
            return refused(request_id, 400, "richmenu alias not found")
        not_shown = shown(request_id, rich_menu_id, 400)
        if not_shown:
            return not_shown
        with line._lock:
            line.rich_menu_aliases[alias_id] = rich_menu_id
        return done(request_id)

    @bp.delete("/v2/bot/richmenu/alias/<alias_id>")
    def delete_alias(alias_id: str):
        request_id, failed = guard("alias.delete")
        if failed:
            return failed
        with fake()._lock:
            gone = fake().rich_menu_aliases.pop(alias_id, None)
        return done(request_id) if gone else refused(request_id, 400, "richmenu alias not found")

    # The default menu

    @bp.post("/v2/bot/user/all/richmenu/<rich_menu_id>")
    def set_default(rich_menu_id: str):
        request_id, failed = guard("default.set")
        if failed:
            return failed
        not_shown = shown(request_id, rich_menu_id)
        if not_shown:
            return not_shown
        with fake()._lock:
            fake().default_rich_menu = rich_menu_id
        return done(request_id)

    @bp.get("/v2/bot/user/all/richmenu")
    def get_default():
        request_id, failed = guard("default.get")
        if failed:
            return failed
        current = fake().default_rich_menu
        if current is None:
            return refused(request_id, 404, "no default richmenu")
        return done(request_id, {"richMenuId": current})

    @bp.delete("/v2/bot/user/all/richmenu")
    def cancel_default():
        request_id, failed = guard("default.cancel")
        if failed:
            return failed
        with fake()._lock:
            fake().default_rich_menu = None
        return done(request_id)

    # Per user

    @bp.post("/v2/bot/user/<user_id>/richmenu/<rich_menu_id>")
    def link(user_id: str, rich_menu_id: str):
        request_id, failed = guard("user.link")
        if failed:
            return failed
        if not _USER_ID.fullmatch(user_id):
            return refused(request_id, 400, "The value for the 'userId' parameter is invalid")
        not_shown = shown(request_id, rich_menu_id)
        if not_shown:
            return not_shown
        with fake()._lock:
            fake().user_rich_menus[user_id] = rich_menu_id
        return done(request_id)

    @bp.delete("/v2/bot/user/<user_id>/richmenu")
    def unlink(user_id: str):
        request_id, failed = guard("user.unlink")
        if failed:
            return failed
        if not _USER_ID.fullmatch(user_id):
            return refused(request_id, 400, "The value for the 'userId' parameter is invalid")
        with fake()._lock:
            fake().user_rich_menus.pop(user_id, None)
        return done(request_id)

    @bp.get("/v2/bot/user/<user_id>/richmenu")
    def linked(user_id: str):
        request_id, failed = guard("user.get")
        if failed:
            return failed
        rich_menu_id = fake().user_rich_menus.get(user_id)
        if rich_menu_id is None:
            return refused(request_id, 404, "the user has no richmenu")
        return done(request_id, {"richMenuId": rich_menu_id})


def create_app(fake: FakeLine) -> Flask:
    app = Flask("fake_line")
    app.extensions["fake_line"] = fake
    app.register_blueprint(blueprint())
    return app


class FakeLineServer:
    """The fake on a real port, in a background thread: for tests and benchmarks."""

    def __init__(self, access_token: str, host: str = "127.0.0.1", port: int = 0):
        self.fake = FakeLine(access_token=access_token)
        self._server = make_server(host, port, create_app(self.fake), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-line", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> "FakeLineServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
