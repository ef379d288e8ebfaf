"""POST /callback: verify, parse, drop duplicates, queue durably, answer 200. Nothing else.

No LINE API call and no dialog work happens here, so LINE gets its answer in milliseconds
and an event is in Redis before the 200 leaves. GET /healthz says whether Redis answers.
"""

from __future__ import annotations

import hashlib
import json
import logging

import redis
from flask import Blueprint, Response, current_app, jsonify, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError

from bot.event_queue import QueuedEvent, now_ms

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _plain(text: str, status: int) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def chat_of(event: dict) -> str:
    source = event.get("source") or {}
    if not isinstance(source, dict):
        return "_"
    return str(source.get("userId") or source.get("groupId") or source.get("roomId") or "_")


def event_id_of(event: dict) -> str:
    given = event.get("webhookEventId")
    if isinstance(given, str) and given:
        return given
    # Old-style events carry no id: the same event redelivered still hashes the same.
    return "sha-" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:32]


def timestamp_of(event: dict, received: int) -> int:
    ts = event.get("timestamp")
    return ts if isinstance(ts, int) and ts > 0 else received


@bp.post("/callback")
def callback():
    runtime = current_app.extensions["kosodate"]
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return _plain("missing X-Line-Signature", 400)
    body = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: Flask answers 413
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _plain("body is not UTF-8", 400)
    parser: WebhookParser = current_app.extensions["kosodate.parser"]
    try:
        payload = parser.parse(text, signature, as_payload=True)
        destination = str(payload.destination or "")
    except InvalidSignatureError:
        log.warning("webhook with a bad signature from %s", request.remote_addr)
        return _plain("bad signature", 400)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # Signed by LINE but not what this SDK version knows (an event missing fields, a
        # shape from the future): keep every event that has a type rather than lose the batch.
        log.warning("signed webhook the SDK could not parse (%s: %s); queuing it raw", type(exc).__name__, exc)
        destination = None
    if request.mimetype != "application/json":
        return _plain("expected application/json", 415)
    try:
        body_json = json.loads(text)
        raw_events = body_json["events"]
    except (ValueError, KeyError, TypeError):
        return _plain("malformed webhook body", 400)
    if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
        return _plain("malformed webhook body", 400)
    if destination is None:
        destination = str(body_json.get("destination") or "")
    untyped = [e for e in raw_events if not isinstance(e.get("type"), str)]
    if untyped:
        log.warning("dropping %d signed event(s) without a type: %s", len(untyped), untyped[:3])
        raw_events = [e for e in raw_events if isinstance(e.get("type"), str)]
    received = now_ms()
    events = [
        QueuedEvent(id=event_id_of(raw), chat=chat_of(raw), timestamp=timestamp_of(raw, received),
                    received=received, raw=raw, destination=destination)
        for raw in raw_events
    ]
    try:
        accepted = runtime.queue.enqueue(events)
    except redis.exceptions.RedisError as exc:
        log.error("could not queue %d event(s): %s; answering 503 so that LINE redelivers", len(events), exc)
        return _plain("temporarily unavailable", 503)
    duplicates = len(accepted) - sum(accepted)
    if duplicates:
        log.info("dropped %d event(s) already accepted", duplicates)
    return _plain("OK", 200)


@bp.get("/healthz")
def healthz():
    runtime = current_app.extensions["kosodate"]
    try:
        runtime.redis.ping()
    except redis.exceptions.RedisError as exc:
        return jsonify(status="unavailable", redis=str(exc)), 503
    return jsonify(status="ok", redis="ok")
