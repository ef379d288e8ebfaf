"""An open-loop load generator for LINE webhooks: one signed event per request, on a schedule.

Request i is due at t0 + i/rate whether or not earlier ones were answered (no coordinated
omission): each is its own asyncio task on its own connection, as LINE's deliveries are.
Latency is measured from just before connecting to the last byte of the response; how late
the generator itself was against the schedule is recorded too, so that a starved generator
shows up instead of passing for a slow server.
"""

from __future__ import annotations

import os
import asyncio
import base64
import hashlib
import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass, field

# What parents type: questions the city's FAQ answers (or offers among three), and the rest of a
# chat (menu words, hello, thanks, an emoji). None of them is unanswerable: two of those in a row
# hand the chat to staff, and a chat in staff's hands gets no more answers from the bot.
QUESTIONS = (
    "保育園の申し込みはいつからですか？",
    "予防接種の予約をしたいです",
    "一時預かりの空きはありますか",
    "母子手帳はどこでもらえますか",
    "乳幼児健診の日程を知りたい",
    "子育て支援センターはどこにありますか",
    "両親学級について教えてください",
    "Where can I get the mother and child handbook?",
    "产后护理怎么申请？",
)
TEXTS = QUESTIONS + (
    "メニュー",
    "こんにちは",
    "ありがとうございます",
    "menu",
    "👶",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A ULID as LINE's webhookEventId: 48-bit ms time, 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def user_ids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["U" + "".join(rng.choice("0123456789abcdef") for _ in range(32)) for _ in range(count)]


class Webhooks:
    """Builds LINE text-message webhook bodies, signed with the channel secret."""

    def __init__(self, channel_secret: str, destination: str = "U" + "b0" * 16, seed: int = 11):
        self.key = channel_secret.encode()
        self.destination = destination
        self.rng = random.Random(seed)

    def sign(self, body: bytes) -> str:
        return base64.b64encode(hmac.new(self.key, body, hashlib.sha256).digest()).decode()

    def text_event(self, user: str, reply_token: str, text: str) -> dict:
        return {
            "type": "message",
            "message": {
                "type": "text",
                "id": str(self.rng.randrange(10**17, 10**18)),
                "quoteToken": secrets.token_urlsafe(64),
                "text": text,
            },
            "webhookEventId": ulid(),
            "deliveryContext": {"isRedelivery": False},
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user},
            "replyToken": reply_token,
            "mode": "active",
        }

    def body(self, events: list[dict]) -> tuple[bytes, str]:
        body = json.dumps({"destination": self.destination, "events": events},
                          ensure_ascii=False, separators=(",", ":")).encode()
        return body, self.sign(body)


@dataclass
class Shot:
    user: str
    token: str
    text: str
    due: float = 0.0          # loop time it was scheduled for
    started: float = 0.0      # loop time just before connecting
    done: float = 0.0         # loop time the whole response was read
    sent_wall: float = 0.0    # time.time() at start, comparable with the fake LINE's clock
    status: int = 0           # HTTP status; 0 when no answer came
    error: str = ""

    @property
    def latency_ms(self) -> float:
        return (self.done - self.started) * 1000

    @property
    def lateness_ms(self) -> float:
        return (self.started - self.due) * 1000


@dataclass
class Run:
    shots: list[Shot]
    rate: float
    first_sent_wall: float = 0.0
    last_sent_wall: float = 0.0
    max_in_flight: int = 0
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> list[Shot]:
        return [s for s in self.shots if s.status == 200]


async def _post(host: str, port: int, path: str, body: bytes, signature: str, timeout_s: float) -> int:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: LineBotWebhook/2.0\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nX-Line-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()

    async def exchange() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(head + body)
            status_line = await reader.readline()
            parts = status_line.split()
            if len(parts) < 2:
                raise ConnectionError(f"no HTTP status line: {status_line[:60]!r}")
            status = int(parts[1])
            length = None
            chunked = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip())
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if length is not None and not chunked:
                await reader.readexactly(length)
            else:
                await reader.read()  # until the server closes: we asked for Connection: close
            return status
        finally:
            writer.close()

    return await asyncio.wait_for(exchange(), timeout_s)


async def _open_loop(host: str, port: int, path: str, rate: float, shots: list[Shot], hooks: Webhooks,
                     timeout_s: float) -> Run:
    loop = asyncio.get_running_loop()
    run = Run(shots=shots, rate=rate)
    in_flight = 0
    tasks = []

    async def fire(shot: Shot) -> None:
        nonlocal in_flight
        body, signature = hooks.body([hooks.text_event(shot.user, shot.token, shot.text)])
        in_flight += 1
        run.max_in_flight = max(run.max_in_flight, in_flight)
        shot.sent_wall = time.time()
        shot.started = loop.time()
        try:
            shot.status = await _post(host, port, path, body, signature, timeout_s)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, ConnectionError) as exc:
            shot.error = type(exc).__name__
            run.errors[shot.error] = run.errors.get(shot.error, 0) + 1
        finally:
            shot.done = loop.time()
            in_flight -= 1

    t0 = loop.time() + 0.05
    for i, shot in enumerate(shots):
        shot.due = t0 + i / rate
        delay = shot.due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(fire(shot)))
    await asyncio.gather(*tasks)
    run.first_sent_wall = min(s.sent_wall for s in shots)
    run.last_sent_wall = max(s.sent_wall for s in shots)
    return run


def open_loop(host: str, port: int, rate: float, shots: list[Shot], hooks: Webhooks, *,
              path: str = "/callback", timeout_s: float = 30.0) -> Run:
    return asyncio.run(_open_loop(host, port, path, rate, shots, hooks, timeout_s))


NEW_TEXT_SHARE = float(os.environ.get("BENCH_NEW_TEXT_SHARE", "0.5"))


def plan(users: list[str], count: int, seed: int) -> list[Shot]:
    """Which user says what, for `count` events (reply tokens are filled in later).

    Half the messages are questions never seen before (a common one with a number added), so the
    bot's cache of question embeddings cannot answer them: the FAQ matcher does its full work.
    """
    rng = random.Random(seed)
    shots = []
    for n in range(count):
        if rng.random() < NEW_TEXT_SHARE:
            text = f"{rng.choice(QUESTIONS)} #{n}"
        else:
            text = rng.choice(TEXTS)
        shots.append(Shot(user=rng.choice(users), token="", text=text))
    return shots


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]
