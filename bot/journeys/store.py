"""Journey messages and referral follow-ups in Redis: who registered what, what is due when, and
the batches on their way to LINE.

Every key carries the hash tag `{jy}` (base J = `<prefix>:{jy}`), so each Lua script touches one
hash slot (Redis Cluster works); 50,000 families fit in one slot many times over.

    J:fam:<user>        HASH language, stopped (the parent said stop), unfollowed (blocked the bot),
                        seq, child:<id> → JSON {kind, day, registered}; with J:sent and J:day it
                        expires UNFOLLOWED_PROFILE_DAYS after an unfollow, like the profile
    J:due               ZSET "<user>|<child>|<milestone>" by the epoch second it is due
    J:sent:<user>       SET "<child>|<milestone>" already handed out (never twice)
    J:day:<user>        the date (YYYY-MM-DD, Asia/Tokyo) of the user's last journey message
    J:batch:<id>        HASH milestone, language, users (JSON), created: a multicast not yet
                        confirmed by LINE; sent again with the same retry key after a crash
    J:batches           ZSET batch ids by creation
    J:refer             ZSET "<user>|<entry>" by when to ask whether they got through
    J:await             ZSET "<user>|<entry>" by when an unanswered question goes to staff
    J:open              HASH "<milestone>|<language>" → the batch still being filled in this tick
    J:seq               counter of batch ids
    J:epoch             a random token made when the store is first used: batch ids start again
                        if Redis is ever emptied, and the retry keys must not
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import redis

from bot.line import retry_key_for

from dialogs.centers import TOKYO
from dialogs.families import DUE, MAX_CHILDREN, Child, JourneyPlan, Milestone

# Takes due journey items, at most one per family per day (a second waits for the next day),
# never one already handed out, none for families that stopped or left; groups them by
# (milestone, language) into batches of up to 500 users, all in one step. A batch stays open
# (J:open) for the next claim of the same tick to fill, until `seal`.
CLAIM = """
local base, now, today, tomorrow, limit = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local planned = {}
for i = 6, #ARGV do planned[ARGV[i]] = true end
local due = redis.call('ZRANGEBYSCORE', base .. ':due', '-inf', now, 'LIMIT', 0, limit)
local groups, order, taken = {}, {}, 0
for _, member in ipairs(due) do
  redis.call('ZREM', base .. ':due', member)
  local user, child, milestone = string.match(member, '^([^|]+)|([^|]+)|([^|]+)$')
  if user then
    local fam = base .. ':fam:' .. user
    local language = redis.call('HGET', fam, 'language')
    local live = language and planned[milestone] and not redis.call('HGET', fam, 'stopped')
      and not redis.call('HGET', fam, 'unfollowed') and redis.call('HEXISTS', fam, 'child:' .. child) == 1
    if live and redis.call('SISMEMBER', base .. ':sent:' .. user, child .. '|' .. milestone) == 0 then
      local day_key = base .. ':day:' .. user
      if redis.call('GET', day_key) == today then
        redis.call('ZADD', base .. ':due', tomorrow, member)
      else
        redis.call('SET', day_key, today, 'EX', 172800)
        redis.call('SADD', base .. ':sent:' .. user, child .. '|' .. milestone)
        local group = milestone .. '|' .. language
        if not groups[group] then groups[group] = {}; table.insert(order, group) end
        table.insert(groups[group], user)
        taken = taken + 1
      end
    end
  end
end
for _, group in ipairs(order) do
  local users = groups[group]
  local milestone, language = string.match(group, '^([^|]+)|(.+)$')
  local i = 1
  local open_id = redis.call('HGET', base .. ':open', group)
  local raw = open_id and redis.call('HGET', base .. ':batch:' .. open_id, 'users')
  if raw then
    local existing = cjson.decode(raw)
    while #existing < 500 and i <= #users do table.insert(existing, users[i]); i = i + 1 end
    redis.call('HSET', base .. ':batch:' .. open_id, 'users', cjson.encode(existing))
  end
  while i <= #users do
    local chunk = {}
    while #chunk < 500 and i <= #users do table.insert(chunk, users[i]); i = i + 1 end
    local id = redis.call('INCR', base .. ':seq')
    redis.call('HSET', base .. ':batch:' .. id, 'milestone', milestone, 'language', language,
               'users', cjson.encode(chunk), 'created', now)
    redis.call('ZADD', base .. ':batches', now, id)
    redis.call('HSET', base .. ':open', group, id)
  end
end
return {taken, #due}
"""

# Hands out due referral follow-ups once, moving each to the answers awaited.
CLAIM_REFERRALS = """
local base, now, deadline, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', base .. ':refer', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, member in ipairs(due) do
  redis.call('ZREM', base .. ':refer', member)
  redis.call('ZADD', base .. ':await', deadline, member)
  table.insert(out, member)
end
return out
"""




@dataclass(frozen=True)
class Batch:
    id: str
    milestone: str
    language: str
    users: list[str]
    created: int


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class JourneyStore:
    def __init__(self, client: redis.Redis, prefix: str, plan: JourneyPlan):
        self.redis = client
        self.base = f"{prefix}:{{jy}}"
        self.plan = plan
        self._claim = client.register_script(CLAIM)
        self._claim_referrals = client.register_script(CLAIM_REFERRALS)

    def key(self, *parts: str) -> str:
        return ":".join((self.base, *parts))

    def epoch(self) -> str:
        self.redis.set(self.key("epoch"), secrets.token_hex(8), nx=True)
        return _text(self.redis.get(self.key("epoch")))

    def retry_key(self, batch: "Batch", user_id: str = "") -> str:
        """The batch's multicast key (or, with `user_id`, a push to one of its users)."""
        return retry_key_for(f"{self.base}:{self.epoch()}:batch:{batch.id}:{batch.created}:{user_id}", "journey")

    def send_time(self, day: date) -> datetime:
        return datetime.combine(day, self.plan.send_at, TOKYO)

    # A family

    def children(self, user_id: str) -> list[Child]:
        raw = self.redis.hgetall(self.key("fam", user_id))
        found = []
        for field, value in raw.items():
            name = _text(field)
            if name.startswith("child:"):
                d = json.loads(value)
                found.append(Child(name[6:], d["kind"], date.fromisoformat(d["day"]),
                                   date.fromisoformat(d["registered"])))
        return sorted(found, key=lambda c: (c.day, c.id))

    def stopped(self, user_id: str) -> bool:
        return bool(self.redis.hget(self.key("fam", user_id), "stopped"))

    def left(self, user_id: str) -> bool:
        """The user blocked the bot: nothing is sent to them."""
        return bool(self.redis.hget(self.key("fam", user_id), "unfollowed"))

    def receivers(self, user_ids: list[str]) -> dict[str, str]:
        """Of these users, who may still get a journey message now, and in which language."""
        with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hmget(self.key("fam", user_id), "language", "stopped", "unfollowed")
            replies = pipe.execute() if user_ids else []
        return {u: _text(language) for u, (language, stopped, unfollowed) in zip(user_ids, replies)
                if language and not stopped and not unfollowed}

    def add_child(self, user_id: str, kind: str, day: date, language: str, now: datetime) -> Child | None:
        """Register a child (None: the family already has MAX_CHILDREN) and schedule its moments."""
        fam = self.key("fam", user_id)
        if sum(1 for f in self.redis.hkeys(fam) if _text(f).startswith("child:")) >= MAX_CHILDREN:
            return None
        child = Child("c" + str(self.redis.hincrby(fam, "seq", 1)), kind, day, now.astimezone(TOKYO).date())
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(fam, mapping={"language": language, f"child:{child.id}": json.dumps(
                {"kind": kind, "day": day.isoformat(), "registered": child.registered.isoformat()})})
            for milestone, moment in self.schedule_of(child, now):
                pipe.zadd(self.key("due"), {f"{user_id}|{child.id}|{milestone.id}": _epoch(moment)})
            pipe.execute()
        return child

    def schedule_of(self, child: Child, now: datetime) -> list[tuple[Milestone, datetime]]:
        """When each of the child's moments goes out; long-past ones are skipped, a recent one goes now."""
        today = now.astimezone(TOKYO).date()
        found = []
        for milestone in self.plan.milestones:
            if not milestone.applies_to(child):
                continue
            day = milestone.day_for(child)
            if day < today - timedelta(days=self.plan.late_days):
                continue
            found.append((milestone, max(self.send_time(day), now)))
        return found

    def remove_child(self, user_id: str, child_id: str) -> bool:
        fam = self.key("fam", user_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(fam, f"child:{child_id}")
            for milestone in self.plan.milestones:
                pipe.zrem(self.key("due"), f"{user_id}|{child_id}|{milestone.id}")
            removed = pipe.execute()[0]
        return bool(removed)

    def set_language(self, user_id: str, language: str) -> None:
        fam = self.key("fam", user_id)
        if self.redis.exists(fam):
            self.redis.hset(fam, "language", language)

    def stop(self, user_id: str) -> None:
        """The parent's own stop: only they undo it (a block and unblock does not)."""
        self.redis.hset(self.key("fam", user_id), "stopped", "1")

    def resume(self, user_id: str) -> None:
        self.redis.hdel(self.key("fam", user_id), "stopped")

    def unfollowed(self, user_id: str, keep_days: int) -> None:
        """Blocked: nothing goes out (no referral question either); the family's record goes when
        the profile would."""
        self._drop_members(user_id, ("refer", "await"))
        fam = self.key("fam", user_id)
        if self.redis.exists(fam):
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(fam, "unfollowed", "1")
                for key in (fam, self.key("sent", user_id)):
                    pipe.expire(key, keep_days * 86400)
                pipe.execute()

    def followed(self, user_id: str) -> None:
        fam = self.key("fam", user_id)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(fam, "unfollowed")
            pipe.persist(fam)
            pipe.persist(self.key("sent", user_id))
            pipe.execute()

    def forget(self, user_id: str) -> None:
        """Everything about the user: their family, what is due, batches not yet sent, referrals."""
        self.redis.delete(self.key("fam", user_id), self.key("sent", user_id), self.key("day", user_id))
        self._drop_members(user_id, ("due", "refer", "await"))
        # A claimed batch on its way also names them; send_journeys checks receivers() as well.
        for batch in self.pending_batches():
            if user_id in batch.users:
                self.redis.hset(self.key("batch", batch.id), "users",
                                json.dumps([u for u in batch.users if u != user_id]))

    def _drop_members(self, user_id: str, sets: tuple[str, ...]) -> None:
        prefix = user_id + "|"
        with self.redis.pipeline(transaction=False) as pipe:
            for name in sets:
                for member, _score in self.redis.zscan_iter(self.key(name), match=f"{user_id}|*", count=1000):
                    if _text(member).startswith(prefix):
                        pipe.zrem(self.key(name), member)
            pipe.execute()

    # Sending

    def claim(self, now: datetime, limit: int = 10000) -> tuple[int, int]:
        """Turn due items into batches: (items taken for sending, items looked at)."""
        today = now.astimezone(TOKYO).date()
        tomorrow = self.send_time(today + timedelta(days=1))
        planned = [m.id for m in self.plan.milestones]   # a moment taken out of the plan is dropped
        # The one key named routes the script on Redis Cluster; every key it touches shares its {jy} slot.
        taken, seen = self._claim(keys=[self.key("due")],
                                  args=[self.base, _epoch(now), today.isoformat(), _epoch(tomorrow), limit, *planned])
        return int(taken), int(seen)

    def sender_lock(self, ttl_s: int = 300):
        """One sender at a time across the worker processes (each runs a scheduler): a batch is
        filled, sealed and sent by one of them."""
        return self.redis.lock(self.key("sending"), timeout=ttl_s, blocking=False)

    def seal(self) -> None:
        """The tick's claims are done: its batches are complete and may be sent."""
        self.redis.delete(self.key("open"))

    def pending_batches(self, limit: int = 1000) -> list[Batch]:
        ids = [_text(i) for i in self.redis.zrange(self.key("batches"), 0, limit - 1)]
        with self.redis.pipeline(transaction=False) as pipe:
            for batch_id in ids:
                pipe.hgetall(self.key("batch", batch_id))
            replies = pipe.execute() if ids else []
        batches = []
        for batch_id, raw in zip(ids, replies):
            f = {_text(k): _text(v) for k, v in raw.items()}
            if f:
                batches.append(Batch(batch_id, f["milestone"], f["language"], json.loads(f["users"]),
                                     int(f["created"])))
            else:
                self.redis.zrem(self.key("batches"), batch_id)
        return batches

    def done(self, batch: Batch) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key("batch", batch.id))
            pipe.zrem(self.key("batches"), batch.id)
            pipe.execute()

    def attempts(self, batch: Batch) -> int:
        return int(self.redis.hincrby(self.key("batch", batch.id), "attempts", 1))

    def due_count(self) -> int:
        return int(self.redis.zcard(self.key("due")))

    # Referral follow-ups

    def refer(self, user_id: str, entry_id: str, at: datetime) -> None:
        """Ask later whether they got through to the window; an earlier pending ask is kept."""
        member = f"{user_id}|{entry_id}"
        if self.redis.zscore(self.key("await"), member) is None:
            self.redis.zadd(self.key("refer"), {member: _epoch(at)}, nx=True)

    def claim_referrals(self, now: datetime, answer_by: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """Due referral questions, each handed out once, each already awaiting its answer by `answer_by`."""
        members = self._claim_referrals(keys=[self.key("refer")], args=[self.base, _epoch(now), _epoch(answer_by), limit])
        return [tuple(_text(m).split("|", 1)) for m in members]

    def answered(self, user_id: str, entry_id: str) -> bool:
        return bool(self.redis.zrem(self.key("await"), f"{user_id}|{entry_id}"))

    def overdue(self, now: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """Questions unanswered in time; each is removed with `answered` once staff have it."""
        found = self.redis.zrangebyscore(self.key("await"), "-inf", _epoch(now), start=0, num=limit)
        return [tuple(_text(m).split("|", 1)) for m in found]
