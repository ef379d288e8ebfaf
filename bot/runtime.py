"""What every process of the bot shares, built once from the settings: Redis, the queue, the
stores, the catalogs, the city's content, the LINE client. Nothing here runs at import time."""

from __future__ import annotations

from functools import cached_property

import redis

from bot.config import ConfigError, Settings
from bot.content import load_city
from bot.conversation import Conversations, DialogServices, Retention
from bot.event_queue import EventQueue
from bot.faq.matcher import build_matcher
from bot.faq.service import Answers
from bot.i18n import Catalogs
from bot.line import LineClient, Messenger
from bot.sessions import UserStore
from bot.worker import Scheduler, Worker
from dialogs.city import City


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def redis(self) -> redis.Redis:
        if not self.settings.redis_url:
            raise ConfigError("REDIS_URL is not set (python -m bot run starts a private Redis when it is unset)")
        return redis.Redis.from_url(self.settings.redis_url, socket_timeout=5, socket_connect_timeout=2,
                                    health_check_interval=30)

    @cached_property
    def queue(self) -> EventQueue:
        s = self.settings
        return EventQueue(self.redis, s.key_prefix, dedup_ttl_s=s.dedup_ttl_s,
                          order_window_ms=s.order_window_ms, lease_ms=int(s.lease_s * 1000))

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.redis, self.settings.key_prefix, idle_minutes=self.settings.session_idle_minutes,
                         unfollowed_days=self.settings.unfollowed_profile_days)

    @cached_property
    def catalogs(self) -> Catalogs:
        return Catalogs()

    @cached_property
    def city(self) -> City:
        return load_city(self.settings.content_dir)

    @cached_property
    def answers(self) -> Answers:
        matcher = build_matcher(self.city, self.catalogs.translator, index_dir=self.settings.content_dir / "index",
                                cache_dir=self.settings.data_dir / "cache", semantic=self.settings.semantic_matching,
                                threads=self.settings.faq_model_threads)
        return Answers(matcher)

    @cached_property
    def dialog_services(self) -> DialogServices:
        s = self.settings
        return DialogServices(self.catalogs, self.city, Retention(s.session_idle_minutes, s.unfollowed_profile_days),
                              self.answers)

    @cached_property
    def line(self) -> LineClient:
        s = self.settings
        return LineClient(s.line_api_base_url, s.access_token, timeout_s=s.line_timeout_s,
                          retries=s.line_retries, backoff_s=s.line_backoff_s)

    @cached_property
    def messenger(self) -> Messenger:
        return Messenger(self.line, self.redis, self.settings.key_prefix,
                         reply_token_max_age_s=self.settings.reply_token_max_age_s)

    @cached_property
    def conversations(self) -> Conversations:
        from dialogs import build_router

        return Conversations(self.users, self.messenger, self.line, build_router(), self.dialog_services)

    def warm_up(self) -> None:
        """Load what the first message would otherwise wait for: the catalogs and the FAQ index."""
        self.conversations
        self.answers.rank("warm up")

    def worker(self, name: str | None = None) -> Worker:
        return Worker(self.queue, self.conversations.handle, max_attempts=self.settings.max_event_attempts,
                      name=name)

    def scheduler(self) -> Scheduler:
        return Scheduler(self.queue, every_s=min(1.0, self.settings.lease_s / 3))

    def close(self) -> None:
        if "line" in self.__dict__:
            self.line.close()
        if "redis" in self.__dict__:
            self.redis.close()
