"""Fixtures: a real Redis server the tests start themselves, a fake LINE API over real HTTP,
and the bot's app built by its factory against both."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import pytest
import redis

from bot.config import Settings
from bot.fake_line import FakeLineServer
from bot.redis_server import EmbeddedRedis

SECRET = "test-channel-secret"
TOKEN = "test-access-token"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def fake_line_server():
    server = FakeLineServer(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def fake_line(fake_line_server):
    fake_line_server.fake.reset()
    return fake_line_server.fake


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """Shared by all tests, so that the FAQ's embeddings are computed once per run."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def settings(redis_url, redis_client, fake_line_server, data_dir):
    return Settings(
        env="test",
        channel_secret=SECRET,
        access_token=TOKEN,
        line_api_base_url=fake_line_server.url,
        line_data_api_base_url=fake_line_server.url,
        redis_url=redis_url,
        data_dir=data_dir,
        order_window_ms=0,
        line_backoff_s=0.01,
        line_timeout_s=5.0,
        lease_s=30.0,
        content_dir=Path(__file__).resolve().parent.parent / "content" / "ayase",
        risk_dir=Path(__file__).resolve().parent.parent / "content" / "risk",
        console_secret_key="test-console-secret-key",
        console_cookie_secure=False,
    )


@pytest.fixture
def runtime(settings):
    from bot.runtime import Runtime

    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(settings, runtime):
    from bot.app import create_app

    return create_app(settings, runtime)


@pytest.fixture
def client(app):
    return app.test_client()


def sign(body: bytes, secret: str = SECRET) -> str:
    from bot.dev import sign as dev_sign  # LINE's signature, as the simulator makes it

    return dev_sign(secret, body)


class Events:
    """Builds LINE webhook events shaped like the real ones, with reply tokens the fake knows."""

    def __init__(self, fake):
        self.fake = fake

    def base(self, kind: str, user: str, *, ts: int | None = None, redelivery: bool = False,
             mode: str = "active", reply: bool = True) -> dict:
        event = {
            "type": kind,
            "mode": mode,
            "timestamp": ts if ts is not None else int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "webhookEventId": "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": redelivery},
        }
        if reply:
            event["replyToken"] = self.fake.issue_reply_token(user)
        return event

    def text(self, user: str, text: str, **kw) -> dict:
        event = self.base("message", user, **kw)
        event["message"] = {"id": str(secrets.randbelow(10**17)), "type": "text", "text": text,
                            "quoteToken": "q" + secrets.token_hex(8)}
        return event

    def postback(self, user: str, data: str, **kw) -> dict:
        event = self.base("postback", user, **kw)
        event["postback"] = {"data": data}
        return event

    def follow(self, user: str, **kw) -> dict:
        event = self.base("follow", user, **kw)
        event["follow"] = {"isUnblocked": False}
        return event

    def unfollow(self, user: str, **kw) -> dict:
        return self.base("unfollow", user, reply=False, **kw)


@pytest.fixture
def events(fake_line):
    return Events(fake_line)


def webhook_body(events: list[dict]) -> bytes:
    return json.dumps({"destination": "Ubot0000000000000000000000000000", "events": events},
                      ensure_ascii=False).encode()


def post_webhook(client, events: list[dict], *, secret: str = SECRET, body: bytes | None = None, headers=None):
    body = webhook_body(events) if body is None else body
    all_headers = {"X-Line-Signature": sign(body, secret), "Content-Type": "application/json; charset=utf-8"}
    all_headers.update(headers or {})
    return client.post("/callback", data=body, headers=all_headers)


def user_id() -> str:
    return "U" + secrets.token_hex(16)


def drain(runtime, limit: int = 1000) -> int:
    """Run a worker in this thread until nothing is due; returns how many events it handled."""
    worker = runtime.worker("test-worker")
    for _ in range(limit):
        lease, _due = runtime.queue.claim()
        if lease is None:
            break
        worker.work_on(lease)
    return worker.handled
