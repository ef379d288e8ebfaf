"""Conversations handed to city staff, in Redis.

    <p>:{ho}:case:<userId>   HASH user, language, reason, reasons, urgency, risk, since (ms),
                             status (waiting | held), holder, claimed_at, notified, updated
    <p>:{ho}:queue           ZSET userId → urgency·10¹³ + since: most urgent first, then the
                             longest waiting
    <p>:{ho}:changes         counter bumped by every change, for the console to poll cheaply

While a user has a case the conversation is in human mode: the bot stays silent except for
safety replies. A case ends when staff release it (or the user withdraws a request no one has
claimed yet, or asks for their data to be deleted). Every script's keys share the `{ho}` hash
tag, so the queue works on Redis Cluster too.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from bot.event_queue import now_ms

URGENCY_NORMAL = 3   # a request for a person, the FAQ failing twice; risk categories are 0–2

_OPEN = """
local now = ARGV[5]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'user', ARGV[1], 'language', ARGV[2], 'reason', ARGV[3], 'reasons', ARGV[3],
             'urgency', ARGV[4], 'risk', ARGV[6], 'since', now, 'status', 'waiting', 'notified', ARGV[7],
             'updated', now)
  redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) * 1e13 + tonumber(now), ARGV[1])
  redis.call('INCR', KEYS[3])
  return 'opened'
end
local urgency = tonumber(redis.call('HGET', KEYS[1], 'urgency'))
local reasons = redis.call('HGET', KEYS[1], 'reasons') or ''
redis.call('HSET', KEYS[1], 'language', ARGV[2], 'updated', now, 'reasons', reasons .. ' ' .. ARGV[3])
if tonumber(ARGV[4]) < urgency then
  redis.call('HSET', KEYS[1], 'urgency', ARGV[4], 'reason', ARGV[3])
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'risk', ARGV[6]) end
  local since = tonumber(redis.call('HGET', KEYS[1], 'since'))
  redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) * 1e13 + since, ARGV[1])
  redis.call('INCR', KEYS[3])
  return 'escalated'
end
redis.call('INCR', KEYS[3])
return 'joined'
"""

# ARGV: staff, now, force ('1' lets an admin take over a case someone else holds)
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder and holder ~= '' and holder ~= ARGV[1] and ARGV[3] ~= '1' then return {'taken', holder} end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'status', 'held', 'claimed_at', ARGV[2], 'updated', ARGV[2])
redis.call('INCR', KEYS[3])
return {'claimed', ARGV[1]}
"""

# A holder who is gone (their account stopped): the case waits again, first in its place.
_UNCLAIM = """
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'holder', '', 'status', 'waiting', 'updated', ARGV[2])
redis.call('INCR', KEYS[3])
return 1
"""

# ARGV: staff, user, force ('1' lets an admin close a case someone else holds)
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if holder ~= ARGV[1] and ARGV[3] ~= '1' then return {'not_holder', holder} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[3])
return {'released', holder}
"""

# The user takes back a request nobody has claimed; a risk case stays for staff to see.
_WITHDRAW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local fields = redis.call('HMGET', KEYS[1], 'holder', 'risk')
if fields[1] and fields[1] ~= '' then return 'held' end
if fields[2] and fields[2] ~= '' then return 'risk' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 'withdrawn'
"""

_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'updated', ARGV[1]) end
redis.call('INCR', KEYS[3])
return 1
"""

_NOTIFY_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'notified') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'notified', '1')
return 1
"""


@dataclass(frozen=True)
class Case:
    user_id: str
    language: str
    reason: str
    urgency: int
    since_ms: int
    status: str
    holder: str = ""
    risk: str = ""
    reasons: tuple[str, ...] = ()
    claimed_at_ms: int = 0
    name: str = ""                 # the parent's LINE display name, for staff (empty if LINE did not say)

    @property
    def held(self) -> bool:
        return self.status == "held"

    @classmethod
    def from_hash(cls, fields: dict[bytes, bytes]) -> "Case":
        f = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(user_id=f["user"], language=f.get("language", "ja"), reason=f.get("reason", ""),
                   urgency=int(f.get("urgency", URGENCY_NORMAL)), since_ms=int(f.get("since", 0)),
                   status=f.get("status", "waiting"), holder=f.get("holder", ""), risk=f.get("risk", ""),
                   reasons=tuple(f.get("reasons", "").split()), claimed_at_ms=int(f.get("claimed_at", 0) or 0),
                   name=f.get("name", ""))



class HandoffQueue:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.prefix = prefix
        self._open = client.register_script(_OPEN)
        self._claim = client.register_script(_CLAIM)
        self._unclaim = client.register_script(_UNCLAIM)
        self._release = client.register_script(_RELEASE)
        self._withdraw = client.register_script(_WITHDRAW)
        self._notify_once = client.register_script(_NOTIFY_ONCE)
        self._touch = client.register_script(_TOUCH)

    def _keys(self, user_id: str) -> list[str]:
        return [f"{self.prefix}:{{ho}}:case:{user_id}", f"{self.prefix}:{{ho}}:queue",
                f"{self.prefix}:{{ho}}:changes"]

    def open(self, user_id: str, *, language: str, reason: str, urgency: int = URGENCY_NORMAL,
             risk: str = "", notified: bool = False, at_ms: int | None = None) -> str:
        """Put the user in the queue, or raise an open case's urgency. 'opened' | 'escalated' | 'joined'."""
        result = self._open(keys=self._keys(user_id), args=[
            user_id, language, reason, urgency, at_ms or now_ms(), risk, "1" if notified else "0"])
        return result.decode()

    def case(self, user_id: str) -> Case | None:
        fields = self.redis.hgetall(self._keys(user_id)[0])
        return Case.from_hash(fields) if fields else None

    def in_human_mode(self, user_id: str) -> bool:
        return bool(self.redis.exists(self._keys(user_id)[0]))

    def claim(self, user_id: str, staff: str, *, at_ms: int | None = None, force: bool = False) -> tuple[str, str]:
        """('claimed', staff) | ('taken', holder) | ('gone', '')."""
        status, holder = self._claim(keys=self._keys(user_id), args=[staff, at_ms or now_ms(), "1" if force else "0"])
        return status.decode(), holder.decode()

    def set_name(self, user_id: str, name: str) -> None:
        """Give an open case the parent's display name (a case closed meanwhile is not recreated)."""
        key = self._keys(user_id)[0]
        if name and self.redis.exists(key):
            self.redis.hsetnx(key, "name", name[:60])

    def unclaim_all(self, staff: str) -> list[str]:
        """Every case `staff` holds goes back to waiting; returns their users."""
        back = []
        for case in self.cases(limit=10000):
            if case.holder == staff and self._unclaim(keys=self._keys(case.user_id), args=[staff, now_ms()]):
                back.append(case.user_id)
        return back

    def release(self, user_id: str, staff: str, *, force: bool = False) -> tuple[str, str]:
        """('released', holder) | ('not_holder', holder) | ('gone', '')."""
        status, holder = self._release(keys=self._keys(user_id), args=[staff, user_id, "1" if force else "0"])
        return status.decode(), holder.decode()

    def withdraw(self, user_id: str) -> str:
        """'withdrawn' | 'held' | 'risk' | 'gone'."""
        return self._withdraw(keys=self._keys(user_id), args=[user_id]).decode()

    def notify_once(self, user_id: str) -> bool:
        """True the first time: the user is told once that a person will answer."""
        return bool(self._notify_once(keys=self._keys(user_id)[:1]))

    def cases(self, limit: int = 200) -> list[Case]:
        """Open cases, most urgent first, then the longest waiting."""
        users = [u.decode() for u in self.redis.zrange(self._keys("")[1], 0, limit - 1)]
        with self.redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.hgetall(self._keys(user)[0])
            found = pipe.execute()
        return [Case.from_hash(fields) for fields in found if fields]

    def touch(self, user_id: str) -> None:
        """A new message in an open case: the console's view changes."""
        self._touch(keys=self._keys(user_id), args=[now_ms()])

    def changes(self) -> int:
        return int(self.redis.get(self._keys("")[2]) or 0)

    def first_time(self, marker: str, ttl_s: int = 7 * 24 * 3600) -> bool:
        """True the first time `marker` is seen: a staff answer submitted twice is recorded once."""
        return bool(self.redis.set(f"{self.prefix}:{{ho}}:seen:{marker}", 1, nx=True, ex=ttl_s))

    def forget(self, user_id: str) -> None:
        keys = self._keys(user_id)
        with self.redis.pipeline() as pipe:
            pipe.delete(keys[0])
            pipe.zrem(keys[1], user_id)
            pipe.incr(keys[2])
            pipe.execute()
