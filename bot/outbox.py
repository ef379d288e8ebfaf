"""Pushes the bot starts itself (reminders, waitlist offers, closures, referral questions, the
notice that staff handed a chat back), in each parent's language, that are not lost when LINE
fails.

A push LINE could not take for a passing reason (429, 5xx, no connection) is kept in Redis with
its rendered messages and retry key, and pushed again by the scheduler with backoff: the same
key, so a push that did reach LINE the first time is refused (409), not shown twice. A push LINE
refuses outright (the parent blocked the bot, a bad request) is not retried; the caller is told.

    <p>:outbox:retry    ZSET of JSON {user, messages, key, purpose, attempts} by next attempt (epoch s)
"""

from __future__ import annotations

import json
import logging
import time
from typing import Callable

import redis

from bot import line_limits, render
from bot.line import LineApiError
from dialogs.engine import Context, Inbound, Session
from dialogs.messages import Message

log = logging.getLogger(__name__)

SENT, SENT_BEFORE, QUEUED, REFUSED = "sent", "sent_before", "queued", "refused"
MAX_ATTEMPTS = 12          # about a day with the backoff below
BACKOFF_S = (60, 120, 300, 600, 1800, 3600)


class Outbox:
    """`line` needs `push(to, messages, retry_key) -> bool` (bot.line.LineClient); `services` are
    the dialogs' services; `language_of(user_id)` is the parent's chosen language."""

    def __init__(self, line, services, language_of: Callable[[str], str], redis_client: redis.Redis | None = None,
                 prefix: str = "kb"):
        self.line = line
        self.services = services
        self.language_of = language_of
        self.redis = redis_client
        self.key = f"{prefix}:outbox:retry"

    def messages_for(self, user_id: str, build: Callable[[Context], list[Message]], purpose: str) -> list[dict]:
        language = self.language_of(user_id)
        ctx = Context(Inbound(kind="other", user_id=user_id), Session(user_id, language), self.services, language)
        messages = render.messages(build(ctx))
        found = line_limits.problems(messages)
        if found:
            log.error("%s for %s over LINE's limits, clamped: %s", purpose, user_id, "; ".join(found))
            messages = line_limits.clamp(messages)
        return messages

    def push(self, user_id: str, build: Callable[[Context], list[Message]], retry_key: str, purpose: str) -> str:
        """sent | sent_before (this key went out already) | queued (LINE failed; retried later) | refused"""
        return self.push_messages(user_id, self.messages_for(user_id, build, purpose), retry_key, purpose)

    def push_messages(self, user_id: str, messages: list[dict], retry_key: str, purpose: str) -> str:
        return self._push(user_id, messages, retry_key, purpose, attempts=0)

    def _push(self, user_id: str, messages: list[dict], retry_key: str, purpose: str, *, attempts: int) -> str:
        try:
            return SENT if self.line.push(user_id, messages, retry_key) else SENT_BEFORE
        except LineApiError as exc:
            if not exc.retryable or self.redis is None or attempts + 1 >= MAX_ATTEMPTS:
                log.error("%s for %s not sent (%s attempts): %s", purpose, user_id, attempts + 1, exc)
                return REFUSED
            delay = BACKOFF_S[min(attempts, len(BACKOFF_S) - 1)]
            item = {"user": user_id, "messages": messages, "key": retry_key, "purpose": purpose,
                    "attempts": attempts + 1}
            self.redis.zadd(self.key, {json.dumps(item, ensure_ascii=False, sort_keys=True): time.time() + delay})
            log.warning("%s for %s not sent (%s); trying again in %d s", purpose, user_id, exc.status, delay)
            return QUEUED

    def retry_due(self, now_s: float | None = None, limit: int = 100) -> int:
        """Push again what is due; each item is taken by one scheduler only. Returns pushes made."""
        now_s = time.time() if now_s is None else now_s
        done = 0
        for raw in self.redis.zrangebyscore(self.key, "-inf", now_s, start=0, num=limit):
            if not self.redis.zrem(self.key, raw):
                continue  # another scheduler took it
            item = json.loads(raw)
            outcome = self._push(item["user"], item["messages"], item["key"], item["purpose"],
                                 attempts=int(item["attempts"]))
            done += outcome in (SENT, SENT_BEFORE)
        return done

    def waiting(self) -> int:
        return int(self.redis.zcard(self.key)) if self.redis is not None else 0
