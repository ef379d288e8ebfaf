"""One queued event → one turn of the conversation: load the session, route, answer, save."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable


from bot import dates, render
from bot.event_queue import QueuedEvent
from bot.i18n import Catalogs
from bot.line import LineClient, Messenger
from bot.handoff import Case, HandoffQueue
from bot.risk import Risk, RiskDetector
from bot.sessions import UserStore
from bot.staff_hours import TOKYO, Availability, availability
from bot.transcripts import AuditLog, Transcripts
from dialogs import handoff as handoff_dialog
from dialogs import safety
from dialogs.city import City
from dialogs.engine import Context, Inbound, Postback, Router, Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    session_idle_minutes: int
    unfollowed_profile_days: int
    transcript_days: int = 90


class DialogServices:
    """What dialogs may use (dialogs.engine.Services): the catalogs, the city's content, the
    answers, and when staff are at their desks."""

    def __init__(self, catalogs: Catalogs, city: City, retention: Retention, answers=None,
                 clock: Callable[[], datetime] | None = None, bookings=None, journeys=None):
        self.catalogs = catalogs
        self.bookings = bookings  # bot.booking_service.Bookings; None: booking is not offered
        self.journeys = journeys  # bot.journeys.service.Journeys; None: no journey messages
        self.city = city
        self.retention = retention
        self.answers = answers  # bot.faq.service.Answers
        self.clock = clock or (lambda: datetime.now(TOKYO))

    def translator(self, language: str):
        return self.catalogs.translator(language)

    def translations_of(self, message: str) -> list[str]:
        return self.catalogs.translations_of(message)

    def availability(self) -> Availability:
        return availability(self.city.staff_hours, self.clock())

    def format_when(self, moment: datetime, language: str) -> str:
        return dates.format_when(moment, language)


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


# Taps that reach the dialogs even while staff hold the chat: stopping the journey messages (one
# tap must always work) and answering a referral question (a late answer must not be lost).
ANYTIME_WITH_STAFF = ("journey.stop", "journey.resume", "journey.referral.ok", "journey.referral.no")


class Conversations:
    """One event → one turn: transcript, risk check, human mode, the dialogs, the answer.

    The order is the design's: a risk message always gets its safety reply and reaches the
    staff queue; while staff have the conversation the bot stays silent (the mode is checked
    before a reply is built and again just before it is sent); otherwise the dialogs answer.
    """

    def __init__(self, users: UserStore, messenger: Messenger, line: LineClient, router: Router,
                 services: DialogServices, *, handoff: HandoffQueue, transcripts: Transcripts,
                 audit: AuditLog, risk: RiskDetector | None = None, forget_hooks: tuple = (),
                 rich_menus=None):
        self.users = users
        self.messenger = messenger
        self.line = line
        self.router = router
        self.services = services
        self.handoff = handoff
        self.transcripts = transcripts
        self.audit = audit
        self.risk = risk
        self.forget_hooks = forget_hooks  # more stores to clear on a deletion request (bookings, journeys)
        self.rich_menus = rich_menus      # bot.richmenu.links.RichMenuLinks: each user gets their language's menu
        self.journeys = services.journeys

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
            if self.journeys is not None:
                self.journeys.unfollowed(user_id)
            return
        if event.type == "follow":
            self.users.followed(user_id, self.line.profile_language(user_id))
            if self.journeys is not None:
                self.journeys.followed(user_id)
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
        profile, session = self.users.load(user_id)
        if self.rich_menus is not None and profile.exists:
            self.rich_menus.ensure(user_id, profile.language)
        risk = self.risk.check(inbound.text) if self.risk is not None and inbound.kind == "text" else None
        case = self.handoff.case(user_id)
        # Kept with consent; without it only what staff must read (the design's privacy notice).
        keep = bool(profile.consent) or case is not None or risk is not None
        if keep:
            self._record_inbound(event, inbound)
        if risk is not None:
            self._answer_risk(event, inbound, session, risk)
            return
        if case is not None and not self._may_route_in_human_mode(inbound, session):
            self._stay_silent(event, session, case)
            return
        turn = self.router.route(inbound, session, self.services)
        if turn.withdraw_handoff:
            outcome = self.handoff.withdraw(user_id)
            if outcome in ("held", "risk"):
                turn = handoff_dialog.cannot_withdraw(self._context(inbound, session))
        opened = False
        if turn.handoff is not None:
            opened = self.handoff.open(user_id, language=session.language, reason=turn.handoff.reason,
                                       notified=True) == "opened"
            if not keep:
                self._record_inbound(event, inbound)  # from now on staff read it, with or without consent
                keep = True
        elif not turn.forget_user and case is None and self.handoff.in_human_mode(user_id):
            # Staff took the conversation while this turn was being worked out: they answer it.
            log.info("event %s: staff took over %s meanwhile; the bot's answer is not sent", event.id, user_id)
            return
        self._send(event, turn.replies, keep=keep and not turn.forget_user)
        if turn.forget_user:
            self.forget(user_id)
            return
        self.users.save(user_id, state=turn.state, data=turn.data, profile_changes=turn.profile)
        self._after_turn(user_id, profile, turn)
        if opened:
            self._name_case(user_id)

    # The pieces

    def _name_case(self, user_id: str) -> None:
        """Staff see who is waiting by the name they know from LINE (asked after the answer went out)."""
        self.handoff.set_name(user_id, self.line.display_name(user_id))

    def _after_turn(self, user_id: str, profile, turn) -> None:
        """What a turn changes outside the conversation: the rich menu and the journeys follow the
        language; a referral is followed up (only with consent: it is a push days later)."""
        language = turn.profile.get("language")
        if language and (language != profile.language or not profile.exists):
            if self.journeys is not None:
                self.journeys.set_language(user_id, language)
            if self.rich_menus is not None:
                self.rich_menus.link(user_id, language)
        consent = turn.profile.get("consent", profile.consent)
        if turn.referral and consent is True and self.journeys is not None:
            self.journeys.refer(user_id, turn.referral)
        if turn.profile.get("consent") is False and self.journeys is not None:
            self.journeys.forget(user_id)   # consent withdrawn: the dates it allowed us to keep go

    def _context(self, inbound: Inbound, session: Session, language: str | None = None) -> Context:
        return Context(inbound, session, self.services, language or session.language)

    def _answer_risk(self, event: QueuedEvent, inbound: Inbound, session: Session, risk: Risk) -> None:
        """The safety reply, in any state, even while staff hold the chat; the case goes to the top."""
        language = session.language
        if self.services.answers is not None:
            language = self.services.answers.language_of(inbound.text) or language
        turn = safety.reply(self._context(inbound, session, language), risk.category)
        outcome = self.handoff.open(event.chat, language=language, reason=f"risk:{risk.category}",
                                    urgency=risk.urgency, risk=risk.category, notified=True)
        log.warning("event %s: risk %s (%s); case %s", event.id, risk.category, risk.via, outcome)
        self._send(event, turn.replies, keep=True)
        if outcome == "opened":
            self._name_case(event.chat)

    def _may_route_in_human_mode(self, inbound: Inbound, session: Session) -> bool:
        """With staff, only taking the request back and deleting one's data reach the dialogs."""
        if inbound.kind == "postback" and inbound.postback is not None:
            return inbound.postback.action in (handoff_dialog.BACK_TO_BOT, "privacy.delete.yes", "privacy.delete.no",
                                               *ANYTIME_WITH_STAFF)
        if inbound.kind == "text":
            command = self.router.command_for_text(inbound.text, self.services)
            return command is not None and command.name == "delete"
        return False

    def _stay_silent(self, event: QueuedEvent, session: Session, case: Case) -> None:
        self.handoff.touch(event.chat)
        if self.handoff.notify_once(event.chat):
            ctx = self._context(Inbound(kind="other", user_id=event.chat), session)
            turn = handoff_dialog.waiting_notice(ctx, can_withdraw=not case.held and not case.risk)
            self._send(event, turn.replies, keep=True)

    def _send(self, event: QueuedEvent, replies: list, *, keep: bool) -> None:
        messages = render.messages(replies)
        if not self.messenger.already_answered(event):
            self.messenger.reply_or_push(event, messages)
        if keep and messages:
            self.transcripts.append(event.chat, "bot", render.summary(messages), at_ms=event.timestamp + 1,
                                    entry_id=f"{event.id}:bot")

    def _record_inbound(self, event: QueuedEvent, inbound: Inbound) -> None:
        raw = event.raw
        if inbound.kind == "text":
            kind, text = "text", inbound.text
        elif inbound.kind == "postback":
            postback = raw.get("postback") or {}
            kind, text = "postback", str(postback.get("data", ""))
        else:
            message = raw.get("message") or {}
            kind, text = str(message.get("type") or event.type), str(message.get("id", ""))
        self.transcripts.append(event.chat, "user", text, kind=kind, at_ms=event.timestamp, entry_id=event.id)

    def forget(self, user_id: str) -> None:
        """A user's request to delete their data: everything kept about them goes, at once."""
        self.transcripts.forget(user_id)
        self.handoff.forget(user_id)
        self.users.forget(user_id)
        for hook in self.forget_hooks:
            hook(user_id)
        self.audit.record("user", "deleted_on_request", user_id)
        log.info("deleted the data of %s on their request", user_id)
