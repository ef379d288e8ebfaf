"""The durable inbound queue: webhook events, per chat, in timestamp order, at least once.

Every key lives under the `{ev}` hash tag, so each script touches one hash slot and the
queue works unchanged on Redis Cluster.

    <p>:{ev}:seen:<eventId>   dedup marker (TTL): the event was accepted once
    <p>:{ev}:q:<chat>         ZSET of queued events for one chat, scored by LINE timestamp
    <p>:{ev}:ready            ZSET chat -> time from which a worker may take it
    <p>:{ev}:leases           ZSET chat -> lease expiry (ms) while a worker holds it
    <p>:{ev}:holders          HASH chat -> lease token of the worker holding it
    <p>:{ev}:attempts         HASH eventId -> attempts started
    <p>:{ev}:dead             LIST of events given up on after too many attempts
    <p>:{ev}:wake             LIST poked on new work, so idle workers block instead of polling
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import redis

_ENQUEUE = """
local ready, leases, wake = KEYS[1], KEYS[2], KEYS[3]
local now, ttl, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = (#KEYS - 3) / 2
local accepted = {}
local queued = 0
for i = 1, n do
  local seen, q = KEYS[2 * i + 2], KEYS[2 * i + 3]
  local chat, ts, payload = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  if redis.call('SET', seen, '1', 'NX', 'EX', ttl) then
    redis.call('ZADD', q, ts, payload)
    if not redis.call('ZSCORE', leases, chat) then
      redis.call('ZADD', ready, 'NX', now + window, chat)
    end
    queued = queued + 1
    accepted[i] = 1
  else
    accepted[i] = 0
  end
end
if queued > 0 and redis.call('LLEN', wake) < 64 then
  redis.call('RPUSH', wake, queued)
end
return accepted
"""

_CLAIM = """
local ready, leases, holders = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then
  local nxt = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
  if #nxt == 0 then return {'', '-1'} end
  return {'', nxt[2]}
end
local chat = due[1]
redis.call('ZREM', ready, chat)
redis.call('ZADD', leases, now + tonumber(ARGV[2]), chat)
redis.call('HSET', holders, chat, ARGV[3])
return {chat, ''}
"""

_RENEW = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[1])
return 1
"""

_RELEASE = """
local holders, leases, ready, q, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local chat = ARGV[1]
if redis.call('HGET', holders, chat) ~= ARGV[2] then return 0 end
redis.call('HDEL', holders, chat)
redis.call('ZREM', leases, chat)
if redis.call('ZCARD', q) > 0 then
  redis.call('ZADD', ready, ARGV[3], chat)
  if redis.call('LLEN', wake) < 64 then redis.call('RPUSH', wake, 1) end
end
return 1
"""

_RECLAIM = """
local leases, holders, ready, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = ARGV[1]
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
for _, chat in ipairs(expired) do
  redis.call('ZREM', leases, chat)
  redis.call('HDEL', holders, chat)
  redis.call('ZADD', ready, 'NX', now, chat)
end
if #expired > 0 and redis.call('LLEN', wake) < 64 then redis.call('RPUSH', wake, #expired) end
return expired
"""

_ACK = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
"""

_BURY = """
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
if removed == 1 then redis.call('RPUSH', KEYS[3], ARGV[3]) end
return removed
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class QueuedEvent:
    """One webhook event as accepted: LINE's own JSON plus what the webhook learnt on arrival."""

    id: str
    chat: str
    timestamp: int
    received: int
    raw: dict
    destination: str = ""

    @property
    def redelivery(self) -> bool:
        return bool((self.raw.get("deliveryContext") or {}).get("isRedelivery"))

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "chat": self.chat, "ts": self.timestamp, "recv": self.received,
             "dest": self.destination, "event": self.raw},
            ensure_ascii=False, separators=(",", ":"), sort_keys=True,
        )

    @classmethod
    def from_json(cls, payload: str | bytes) -> "QueuedEvent":
        data = json.loads(payload)
        return cls(id=data["id"], chat=data["chat"], timestamp=int(data["ts"]),
                   received=int(data["recv"]), raw=data["event"], destination=data.get("dest", ""))


@dataclass(frozen=True)
class Lease:
    chat: str
    token: str


class EventQueue:
    def __init__(self, client: redis.Redis, prefix: str = "kb", *, dedup_ttl_s: int = 7 * 24 * 3600,
                 order_window_ms: int = 100, lease_ms: int = 30_000):
        self.redis = client
        self.prefix = prefix
        self.dedup_ttl_s = dedup_ttl_s
        self.order_window_ms = order_window_ms
        self.lease_ms = lease_ms
        self._enqueue = client.register_script(_ENQUEUE)
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._reclaim = client.register_script(_RECLAIM)
        self._ack = client.register_script(_ACK)
        self._bury = client.register_script(_BURY)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, "{ev}") + parts)

    def queue_key(self, chat: str) -> str:
        return self.key("q", chat)

    # The webhook's side

    def enqueue(self, events: list[QueuedEvent]) -> list[bool]:
        """Queue events not seen before, atomically; returns which ones were new."""
        if not events:
            return []
        keys = [self.key("ready"), self.key("leases"), self.key("wake")]
        args: list = [now_ms(), self.dedup_ttl_s, self.order_window_ms]
        for event in events:
            keys += [self.key("seen", event.id), self.queue_key(event.chat)]
            args += [event.chat, event.timestamp, event.to_json()]
        return [bool(flag) for flag in self._enqueue(keys=keys, args=args)]

    # The worker's side

    def claim(self) -> tuple[Lease | None, float | None]:
        """Take the chat that has waited longest, or say when the next one will be due (s)."""
        token = uuid.uuid4().hex
        now = now_ms()
        chat, next_due = self._claim(
            keys=[self.key("ready"), self.key("leases"), self.key("holders")],
            args=[now, self.lease_ms, token],
        )
        if chat:
            return Lease(chat.decode(), token), None
        due = float(next_due)
        return None, (None if due < 0 else max(0.0, (due - now) / 1000))

    def head(self, chat: str) -> tuple[bytes, QueuedEvent] | None:
        found = self.redis.zrange(self.queue_key(chat), 0, 0)
        if not found:
            return None
        return found[0], QueuedEvent.from_json(found[0])

    def renew(self, lease: Lease) -> bool:
        return bool(self._renew(keys=[self.key("holders"), self.key("leases")],
                                args=[lease.chat, lease.token, now_ms() + self.lease_ms]))

    def release(self, lease: Lease, due_ms: int | None = None) -> bool:
        return bool(self._release(
            keys=[self.key("holders"), self.key("leases"), self.key("ready"),
                  self.queue_key(lease.chat), self.key("wake")],
            args=[lease.chat, lease.token, due_ms if due_ms is not None else now_ms()],
        ))

    def begin_attempt(self, event: QueuedEvent) -> int:
        return int(self.redis.hincrby(self.key("attempts"), event.id, 1))

    def ack(self, chat: str, member: bytes, event: QueuedEvent) -> None:
        self._ack(keys=[self.queue_key(chat), self.key("attempts")], args=[member, event.id])

    def bury(self, chat: str, member: bytes, event: QueuedEvent, reason: str) -> None:
        record = json.dumps({"event": json.loads(member), "reason": reason, "at": now_ms()},
                            ensure_ascii=False)
        self._bury(keys=[self.queue_key(chat), self.key("attempts"), self.key("dead")],
                   args=[member, event.id, record])

    def reclaim_expired(self) -> list[str]:
        """Hand the chats of workers that stopped renewing (crashed, hung) back to the pool."""
        expired = self._reclaim(
            keys=[self.key("leases"), self.key("holders"), self.key("ready"), self.key("wake")],
            args=[now_ms()],
        )
        return [chat.decode() for chat in expired]

    def wait_for_work(self, timeout_s: float) -> None:
        self.redis.blpop([self.key("wake")], timeout=max(0.01, min(timeout_s, 1.0)))

    # For operators and tests

    def pending(self) -> int:
        ready = self.redis.zrange(self.key("ready"), 0, -1)
        held = self.redis.zrange(self.key("leases"), 0, -1)
        return sum(self.redis.zcard(self.queue_key(c.decode())) for c in set(ready) | set(held))

    def dead_letters(self) -> list[dict]:
        return [json.loads(item) for item in self.redis.lrange(self.key("dead"), 0, -1)]
