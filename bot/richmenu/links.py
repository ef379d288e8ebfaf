"""Show a user the rich menu of their language (a per-user link, over the Japanese default).

The ids come from Redis (`<prefix>:richmenu:ids`, written by `python -m bot richmenu sync`), so
the worker needs no call to LINE to find them. Linking never stops a conversation: when LINE
or Redis fails, it is logged and the user keeps the menu they had.
"""

from __future__ import annotations

import logging

import redis

from bot.line import LineApiError
from bot.richmenu.sync import ids_key

log = logging.getLogger(__name__)


class RichMenuLinks:
    def __init__(self, line, redis_client: redis.Redis, prefix: str):
        """`line`: anything with `link_rich_menu(user_id, rich_menu_id)` (bot.line.LineClient)."""
        self.line = line
        self.redis = redis_client
        self.key = ids_key(prefix)
        self.prefix = prefix

    def _linked_key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{{{user_id}}}:richmenu"

    def ensure(self, user_id: str, language: str) -> bool:
        """Link again when the user's menu is not their language's current one: after a sync
        retired the old menu (LINE then unlinks its users), or a link that failed. Two reads
        when nothing is to do."""
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.hget(self.key, language)
                pipe.get(self._linked_key(user_id))
                current, linked = pipe.execute()
        except redis.RedisError as exc:
            log.warning("rich menu for %s: Redis failed (%s); menu left as it was", user_id, exc)
            return False
        if current is None or current == linked:
            return False
        return self.link(user_id, language)

    def menu_for(self, language: str) -> str | None:
        found = self.redis.hget(self.key, language)
        return found.decode() if found else None

    def link(self, user_id: str, language: str) -> bool:
        """Link the language's menu to the user; False when none is known or linking failed."""
        try:
            rich_menu_id = self.menu_for(language)
        except redis.RedisError as exc:
            log.warning("rich menu for %s: Redis failed (%s); menu left as it was", user_id, exc)
            return False
        if rich_menu_id is None:
            log.debug("no rich menu known for %r (python -m bot richmenu sync not run?)", language)
            return False
        try:
            self.line.link_rich_menu(user_id, rich_menu_id)
        except LineApiError as exc:
            log.warning("linking rich menu %s (%s) to %s failed: %s", rich_menu_id, language, user_id, exc)
            return False
        try:
            self.redis.set(self._linked_key(user_id), rich_menu_id, ex=90 * 24 * 3600)
        except redis.RedisError:
            pass  # linked at LINE; the next event links once more
        return True

    def forget(self, user_id: str) -> None:
        self.redis.delete(self._linked_key(user_id))
