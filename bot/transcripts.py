"""Every message in and out, per user, for staff; and the audit log of what staff did.

    <p>:u:{<userId>}:transcript   ZSET of JSON entries scored by time (ms); expires with the
                                  retention period after the last message
    <p>:transcripts               ZSET userId → time of that user's oldest entry, so a sweep
                                  visits only transcripts holding something due to go
    <p>:audit                     ZSET of JSON entries scored by time (ms)

Entries older than the retention period (TRANSCRIPT_RETENTION_DAYS, 90 by default) are removed
by the scheduler's sweep; a user's request to delete their data removes them at once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis

from bot.event_queue import now_ms

DAY_MS = 24 * 3600 * 1000



@dataclass(frozen=True)
class Entry:
    at_ms: int
    who: str          # user | bot | staff | note | system
    text: str
    kind: str = "text"  # text | postback | media | safety | …
    staff: str = ""
    id: str = ""

    def as_dict(self) -> dict:
        return {"at": self.at_ms, "who": self.who, "text": self.text, "kind": self.kind,
                "staff": self.staff, "id": self.id}


class Transcripts:
    def __init__(self, client: redis.Redis, prefix: str, *, retention_days: int = 90):
        self.redis = client
        self.prefix = prefix
        self.retention_ms = retention_days * DAY_MS

    def key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{{{user_id}}}:transcript"

    @property
    def index_key(self) -> str:
        return f"{self.prefix}:transcripts"

    def append(self, user_id: str, who: str, text: str, *, kind: str = "text", staff: str = "",
               at_ms: int | None = None, entry_id: str | None = None) -> Entry:
        """Add an entry. With an `entry_id` derived from the event, handling the event again
        (after a worker crash) writes the same entry, not a second one."""
        at = at_ms if at_ms is not None else now_ms()
        entry = Entry(at, who, text, kind, staff, entry_id or secrets.token_hex(6))
        key = self.key(user_id)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {json.dumps(entry.as_dict(), ensure_ascii=False): at})
            pipe.pexpireat(key, at + self.retention_ms)
            pipe.zadd(self.index_key, {user_id: at}, nx=True)
            pipe.execute()
        return entry

    def read(self, user_id: str, *, last: int | None = None) -> list[Entry]:
        key = self.key(user_id)
        raw = self.redis.zrange(key, -last, -1) if last else self.redis.zrange(key, 0, -1)
        entries = []
        for item in raw:
            try:
                d = json.loads(item)
                entries.append(Entry(int(d["at"]), d["who"], d.get("text", ""), d.get("kind", "text"),
                                     d.get("staff", ""), d.get("id", "")))
            except (ValueError, KeyError, TypeError):
                continue
        return entries

    def sweep(self, at_ms: int | None = None, batch: int = 500) -> int:
        """Remove entries past the retention period; returns how many transcripts were touched."""
        cutoff = (at_ms if at_ms is not None else now_ms()) - self.retention_ms
        touched = 0
        while True:
            due = [u.decode() for u in self.redis.zrangebyscore(self.index_key, "-inf", f"({cutoff}",
                                                                start=0, num=batch)]
            if not due:
                return touched
            for user_id in due:
                key = self.key(user_id)
                with self.redis.pipeline(transaction=False) as pipe:
                    pipe.zremrangebyscore(key, "-inf", f"({cutoff}")
                    pipe.zrange(key, 0, 0, withscores=True)
                    _, oldest = pipe.execute()
                if oldest:
                    self.redis.zadd(self.index_key, {user_id: int(oldest[0][1])})
                else:
                    self.redis.zrem(self.index_key, user_id)
                touched += 1

    def forget(self, user_id: str) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.key(user_id))
            pipe.zrem(self.index_key, user_id)
            pipe.execute()


class AuditLog:
    """Who read, claimed, answered, released or exported which conversation, and when."""

    def __init__(self, client: redis.Redis, prefix: str, *, retention_days: int = 365):
        self.redis = client
        self.key = f"{prefix}:audit"
        self.retention_ms = retention_days * DAY_MS

    def record(self, staff: str, action: str, user_id: str = "", detail: str = "", *,
               at_ms: int | None = None) -> None:
        at = at_ms if at_ms is not None else now_ms()
        entry = {"at": at, "staff": staff, "action": action, "user": user_id, "detail": detail,
                 "id": secrets.token_hex(6)}
        self.redis.zadd(self.key, {json.dumps(entry, ensure_ascii=False): at})

    def entries(self, *, user_id: str | None = None, staff: str | None = None, limit: int = 500,
                chunk: int = 2000) -> list[dict]:
        """The newest first, those of a user and/or a staff member; read in chunks, so a filter
        finds old entries too without loading the whole year at once."""
        out: list[dict] = []
        start = 0
        while len(out) < limit:
            items = self.redis.zrevrange(self.key, start, start + chunk - 1)
            if not items:
                break
            for item in items:
                entry = json.loads(item)
                if (user_id is None or entry.get("user") == user_id) and (staff is None or entry.get("staff") == staff):
                    out.append(entry)
                    if len(out) >= limit:
                        break
            start += chunk
        return out

    def sweep(self, at_ms: int | None = None) -> int:
        cutoff = (at_ms if at_ms is not None else now_ms()) - self.retention_ms
        return int(self.redis.zremrangebyscore(self.key, "-inf", f"({cutoff}"))
