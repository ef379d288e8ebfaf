"""One queued event → one turn of the conversation: load the session, route, answer, save."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from bot import render
from bot.event_queue import QueuedEvent
from bot.i18n import Catalogs
from bot.line import LineClient, Messenger
from bot.sessions import UserStore
from dialogs.city import City
from dialogs.engine import Inbound, Postback, Router

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    session_idle_minutes: int
    unfollowed_profile_days: int


class DialogServices:
    """What dialogs may use (dialogs.engine.Services): the catalogs and the city's content."""

    def __init__(self, catalogs: Catalogs, city: City, retention: Retention, answers=None):
        self.catalogs = catalogs
        self.city = city
        self.retention = retention
        self.answers = answers  # bot.faq.service.Answers

    def translator(self, language: str):
        return self.catalogs.translator(language)

    def translations_of(self, message: str) -> list[str]:
        return self.catalogs.translations_of(message)


def inbound_from(event: QueuedEvent, user_id: str) -> Inbound | None:
    """The dialog's view of a LINE event; None for events that need no answer."""
    raw = event.raw
    if event.type == "follow":
        return Inbound(kind="follow", user_id=user_id)
    if event.type == "message":
        message = raw.get("message") or {}
        if message.get("type") == "text":
            return Inbound(kind="text", user_id=user_id, text=str(message.get("text", "")))
        return Inbound(kind="media", user_id=user_id)
    if event.type == "postback":
        postback = raw.get("postback") or {}
        params = postback.get("params") or {}
        return Inbound(kind="postback", user_id=user_id, postback=Postback.decode(str(postback.get("data", ""))),
                       params={str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {})
    return None


class Conversations:
    def __init__(self, users: UserStore, messenger: Messenger, line: LineClient, router: Router,
                 services: DialogServices):
        self.users = users
        self.messenger = messenger
        self.line = line
        self.router = router
        self.services = services

    def handle(self, event: QueuedEvent) -> None:
        raw = event.raw
        if raw.get("mode") == "standby":
            log.info("event %s in standby mode: another channel answers this chat", event.id)
            return
        source = raw.get("source") or {}
        user_id = source.get("userId")
        if source.get("type") != "user" or not user_id:
            log.info("event %s (%s) from a %s: the bot talks one to one only", event.id, event.type,
                     source.get("type", "unknown source"))
            return
        if event.type == "unfollow":
            self.users.unfollowed(user_id)
            return
        if event.type == "follow":
            self.users.followed(user_id, self.line.profile_language(user_id))
        inbound = inbound_from(event, user_id)
        if inbound is None:
            log.debug("event %s of type %s needs no answer", event.id, event.type)
            return
        if inbound.kind == "postback":
            postback = raw.get("postback") or {}
            tap = json.dumps([postback.get("data"), postback.get("params")], sort_keys=True)
            if self.users.repeated_tap(user_id, event.id, tap, event.timestamp):
                log.info("event %s: a double tap on the same button; answered once", event.id)
                return
        _, session = self.users.load(user_id)
        turn = self.router.route(inbound, session, self.services)
        if not self.messenger.already_answered(event):
            self.messenger.reply_or_push(event, render.messages(turn.replies))
        self.users.save(user_id, state=turn.state, data=turn.data, profile_changes=turn.profile)
