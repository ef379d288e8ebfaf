"""A fake Messaging API: enough of LINE for the dev simulator and the tests, over real HTTP.

It checks what real LINE checks (the bearer token, reply tokens spent once, retry keys,
message limits) and records what was sent. Tests can make it fail on purpose: answer 5xx or
429 a number of times, or hang, to exercise the bot's retries and crash recovery.
"""

from __future__ import annotations

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
        """The next `times` calls of `operation` (reply, push, profile) answer `status` (after hanging)."""
        with self._lock:
            self._faults[operation].append(Fault(status, times, hang_s, retry_after))

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.requests.clear()
            self.contents.clear()
            self._faults.clear()
            self._generation += 1

    # Reading what happened

    def sent_to(self, user_id: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.to == user_id]

    def texts_to(self, user_id: str) -> list[str]:
        return [m.get("text") or m.get("altText", "") for d in self.sent_to(user_id) for m in d.messages]

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
    if details:
        body["details"] = [{"message": d, "property": "messages"} for d in details]
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

    return bp


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
