"""What every process of the bot shares, built once from the settings: Redis, the queue, the
stores, the catalogs, the city's content, the LINE client. Nothing here runs at import time."""

from __future__ import annotations

from functools import cached_property

import redis

from bot.config import ConfigError, Settings
from bot.content import load_city
from bot.conversation import Conversations, DialogServices, Retention
from bot.event_queue import EventQueue
from bot.booking_jobs import run_due
from bot.outbox import Outbox
from bot.booking_desk import BookingDesk
from bot.booking_service import Bookings
from bot.console.accounts import StaffAccounts
from bot.bookings import BookingStore, load_centers
from bot.faq.matcher import Encoder, build_matcher, load_encoder
from bot.handoff import HandoffQueue
from bot.journeys import JourneyStore, load_plan
from bot.journeys import jobs as journey_jobs
from bot.journeys.service import Journeys
from bot.richmenu.links import RichMenuLinks
from bot.risk import RiskDetector, RiskPhrases, ordinary_questions
from bot.staff_desk import StaffDesk
from bot.transcripts import AuditLog, Transcripts
from bot.faq.service import Answers
from bot.i18n import Catalogs
from bot.line import LineClient, Messenger
from bot.sessions import UserStore
from bot.worker import Job, Scheduler, Worker
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
    def encoder(self) -> Encoder | None:
        """The embedding model, shared by the FAQ and the risk check (None: keywords and n-grams only)."""
        if not self.settings.semantic_matching:
            return None
        return load_encoder(self.settings.content_dir / "index", self.settings.data_dir / "cache",
                            threads=self.settings.faq_model_threads)

    @cached_property
    def answers(self) -> Answers:
        matcher = build_matcher(self.city, self.catalogs.translator, semantic=self.encoder is not None,
                                encoder=self.encoder, content_key=(self.city, self.catalogs.fingerprint))
        return Answers(matcher)

    @cached_property
    def risk(self) -> RiskDetector:
        ordinary = ordinary_questions(self.city, self.answers.matcher.documents) if self.encoder is not None else ()
        return RiskDetector(RiskPhrases.load(self.settings.risk_dir), self.encoder,
                            index_dir=self.settings.risk_dir / "index",
                            ordinary=ordinary, ordinary_index_dir=self.settings.content_dir / "index")

    @cached_property
    def dialog_services(self) -> DialogServices:
        s = self.settings
        return DialogServices(self.catalogs, self.city,
                              Retention(s.session_idle_minutes, s.unfollowed_profile_days, s.transcript_retention_days),
                              self.answers, bookings=self.bookings, journeys=self.journeys)

    @cached_property
    def booking_store(self) -> BookingStore:
        return BookingStore(self.redis, self.settings.key_prefix, load_centers(self.settings.content_dir))

    @cached_property
    def bookings(self) -> Bookings:
        return Bookings(self.booking_store, name_of=self.line.display_name)

    @cached_property
    def outbox(self) -> Outbox:
        """The pushes the bot starts (reminders, offers, closures, referral questions, hand-backs), in
        each parent's language; kept and retried when LINE fails."""
        return Outbox(self.line, self.dialog_services, lambda user_id: self.users.load(user_id)[0].language,
                      self.redis, self.settings.key_prefix)

    @cached_property
    def journey_store(self) -> JourneyStore:
        return JourneyStore(self.redis, self.settings.key_prefix, load_plan(self.settings.content_dir))

    @cached_property
    def journeys(self) -> Journeys:
        return Journeys(self.journey_store, unfollowed_days=self.settings.unfollowed_profile_days)

    def send_journeys(self, now=None):
        """One tick of journey work (the scheduler runs it every minute)."""
        return journey_jobs.run_due(self.journey_store, self.line, self.outbox, self.dialog_services,
                                    self.handoff, lambda user_id: self.users.load(user_id)[0].language,
                                    now or self.journeys.clock())

    @cached_property
    def rich_menu_links(self) -> RichMenuLinks:
        return RichMenuLinks(self.line, self.redis, self.settings.key_prefix)

    @cached_property
    def booking_desk(self) -> BookingDesk:
        return BookingDesk(self.booking_store, self.outbox, self.audit, lambda: self.bookings.clock())

    @cached_property
    def staff_accounts(self) -> StaffAccounts:
        return StaffAccounts(self.redis, self.settings.key_prefix)

    @cached_property
    def handoff(self) -> HandoffQueue:
        return HandoffQueue(self.redis, self.settings.key_prefix)

    @cached_property
    def transcripts(self) -> Transcripts:
        return Transcripts(self.redis, self.settings.key_prefix, retention_days=self.settings.transcript_retention_days)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.redis, self.settings.key_prefix, retention_days=self.settings.audit_retention_days)

    @cached_property
    def staff_desk(self) -> StaffDesk:
        return StaffDesk(self.handoff, self.transcripts, self.audit, self.line, self.users, self.dialog_services,
                         self.outbox, last_messages=self.settings.handoff_last_messages)

    @cached_property
    def line(self) -> LineClient:
        s = self.settings
        return LineClient(s.line_api_base_url, s.access_token, timeout_s=s.line_timeout_s,
                          retries=s.line_retries, backoff_s=s.line_backoff_s, data_base_url=s.line_data_api_base_url)

    @cached_property
    def messenger(self) -> Messenger:
        return Messenger(self.line, self.redis, self.settings.key_prefix,
                         reply_token_max_age_s=self.settings.reply_token_max_age_s)

    @cached_property
    def conversations(self) -> Conversations:
        from dialogs import build_router

        return Conversations(self.users, self.messenger, self.line, build_router(), self.dialog_services,
                             handoff=self.handoff, transcripts=self.transcripts, audit=self.audit, risk=self.risk,
                             forget_hooks=(self.bookings.forget, self.journeys.forget, self.rich_menu_links.forget),
                             rich_menus=self.rich_menu_links)

    def warm_up(self) -> None:
        """Load what the first message would otherwise wait for: the catalogs, the FAQ index, the
        risk examples."""
        self.conversations
        self.answers.rank("warm up")
        self.risk.check("warm up")

    def worker(self, name: str | None = None) -> Worker:
        return Worker(self.queue, self.conversations.handle, max_attempts=self.settings.max_event_attempts,
                      name=name)

    def scheduler(self) -> Scheduler:
        jobs = [Job("transcript retention", 3600, self.transcripts.sweep),
                Job("audit retention", 3600, self.audit.sweep),
                Job("booking offers and reminders", 30,
                    lambda: run_due(self.booking_store, self.outbox, self.bookings.clock())),
                Job("journey messages and referral follow-ups", 60, self.send_journeys, background=True),
                Job("pushes LINE could not take yet", 30, lambda: self.outbox.retry_due())]
        return Scheduler(self.queue, every_s=min(1.0, self.settings.lease_s / 3), jobs=jobs)

    def close(self) -> None:
        if "line" in self.__dict__:
            self.line.close()
        if "redis" in self.__dict__:
            self.redis.close()
