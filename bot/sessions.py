"""What the bot remembers about each user, in Redis.

    <p>:u:{<userId>}:profile   HASH language, language_chosen, consent, followed, line_language
                               kept while the user follows; expires N days after unfollow
    <p>:u:{<userId>}:dialog    JSON {state, data}: where the conversation stands; expires after
                               the idle timeout, so a parent back tomorrow starts at the menu

Both keys of a user share one hash slot.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from dialogs.engine import Session
from dialogs.languages import SOURCE, from_line_tag, is_supported


@dataclass(frozen=True)
class Profile:
    user_id: str
    language: str = SOURCE
    language_chosen: bool = False
    consent: bool | None = None
    followed: bool = False
    line_language: str | None = None
    exists: bool = False


class UserStore:
    def __init__(self, client: redis.Redis, prefix: str, *, idle_minutes: int = 30,
                 unfollowed_days: int = 30):
        self.redis = client
        self.prefix = prefix
        self.idle_s = idle_minutes * 60
        self.unfollowed_s = unfollowed_days * 24 * 3600

    def profile_key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{{{user_id}}}:profile"

    def dialog_key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{{{user_id}}}:dialog"

    def tap_key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{{{user_id}}}:tap"

    def repeated_tap(self, user_id: str, event_id: str, tap: str, tapped_at_ms: int, window_ms: int = 3000) -> bool:
        """True for the second of two identical taps made within a few seconds (a double tap).

        Judged by when LINE says the taps happened, not when they are handled, so a backlog
        neither merges two deliberate taps nor splits a double tap. The same event handled
        again (after a worker crash) is not a repeat of itself.
        """
        previous = self.redis.set(self.tap_key(user_id), f"{event_id}\n{tapped_at_ms}\n{tap}", ex=3600, get=True)
        if previous is None:
            return False
        previous_id, previous_at, previous_tap = (previous.decode().split("\n", 2) + ["", ""])[:3]
        try:
            gap = tapped_at_ms - int(previous_at)
        except ValueError:
            return False
        return previous_tap == tap and previous_id != event_id and 0 <= gap < window_ms

    def load(self, user_id: str) -> tuple[Profile, Session]:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.profile_key(user_id))
            pipe.get(self.dialog_key(user_id))
            raw_profile, raw_dialog = pipe.execute()
        fields = {k.decode(): v.decode() for k, v in raw_profile.items()}
        consent = {"yes": True, "no": False}.get(fields.get("consent", ""))
        language = fields.get("language", "")
        profile = Profile(
            user_id=user_id,
            language=language if is_supported(language) else SOURCE,
            language_chosen=fields.get("language_chosen") == "1",
            consent=consent,
            followed=fields.get("followed") == "1",
            line_language=fields.get("line_language") or None,
            exists=bool(fields),
        )
        state, data = "", {}
        if raw_dialog:
            try:
                stored = json.loads(raw_dialog)
                state, data = str(stored.get("state", "")), dict(stored.get("data") or {})
            except (ValueError, AttributeError):
                pass  # unreadable state is treated as idle: the user lands on the menu
        return profile, Session(user_id=user_id, language=profile.language, consent=consent,
                                state=state, data=data)

    def followed(self, user_id: str, line_language: str | None) -> Profile:
        """A follow (first or again): remember it, and greet in the LINE language unless one was chosen."""
        profile, _ = self.load(user_id)
        changes = {"followed": "1", "updated": int(time.time())}
        if line_language:
            changes["line_language"] = line_language
        if not profile.language_chosen:
            changes["language"] = from_line_tag(line_language)
        key = self.profile_key(user_id)
        with self.redis.pipeline() as pipe:
            pipe.hset(key, mapping=changes)
            pipe.persist(key)
            pipe.execute()
        return self.load(user_id)[0]

    def unfollowed(self, user_id: str) -> None:
        key = self.profile_key(user_id)
        with self.redis.pipeline() as pipe:
            pipe.delete(self.dialog_key(user_id), self.tap_key(user_id))
            pipe.hset(key, mapping={"followed": "0", "updated": int(time.time())})
            pipe.expire(key, self.unfollowed_s)
            pipe.execute()

    def save(self, user_id: str, *, state: str, data: dict, profile_changes: dict) -> None:
        """The outcome of one turn: the profile changes and where the conversation now waits."""
        with self.redis.pipeline() as pipe:
            if profile_changes:
                mapping: dict = {"updated": int(time.time())}
                if "language" in profile_changes and is_supported(profile_changes["language"]):
                    mapping["language"] = profile_changes["language"]
                    mapping["language_chosen"] = "1"
                if "consent" in profile_changes:
                    mapping["consent"] = "yes" if profile_changes["consent"] else "no"
                pipe.hset(self.profile_key(user_id), mapping=mapping)
            if state or data:
                pipe.set(self.dialog_key(user_id), json.dumps({"state": state, "data": data}), ex=self.idle_s)
            else:
                pipe.delete(self.dialog_key(user_id))
            pipe.execute()

    def forget(self, user_id: str) -> None:
        self.redis.delete(self.profile_key(user_id), self.dialog_key(user_id), self.tap_key(user_id))
