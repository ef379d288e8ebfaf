"""What staff do with handed-over conversations: the service the console calls.

List the queue (most urgent, then longest waiting), claim a conversation (one staff member at
a time), read its transcript, answer, keep private notes, and hand it back to the bot. Every
step is in the audit log. Answers go out as pushes with retry keys, so a retried or
double-submitted answer reaches the parent once.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from bot import line_limits, render
from bot.conversation import DialogServices
from bot.handoff import Case, HandoffQueue
from bot.line import LineApiError, LineClient
from bot.outbox import Outbox
from bot.sessions import UserStore
from bot.transcripts import AuditLog, Entry, Transcripts
from dialogs import faq as faq_dialog
from dialogs import handoff as handoff_dialog
from dialogs import staff_replies
from dialogs.city import FaqEntry
from dialogs.engine import Context, Inbound, Session
from dialogs.messages import Text

log = logging.getLogger(__name__)

_STAFF_NAMESPACE = uuid.UUID("1f0a7c4e-5b7d-4d0e-9a51-6d1c2f3b8e90")
MAX_TEXT = 5000


@dataclass(frozen=True)
class QueueItem:
    case: Case
    waiting_s: int
    last: list[Entry]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: str          # claimed | taken | gone | sent | not_holder | empty | too_long | line_error | released | noted
    holder: str = ""
    detail: str = ""


class StaffDesk:
    def __init__(self, handoff: HandoffQueue, transcripts: Transcripts, audit: AuditLog, line: LineClient,
                 users: UserStore, services: DialogServices, outbox: Outbox, *, last_messages: int = 5):
        self.handoff = handoff
        self.transcripts = transcripts
        self.audit = audit
        self.line = line
        self.users = users
        self.services = services
        self.outbox = outbox
        self.last_messages = last_messages

    def queue(self) -> list[QueueItem]:
        now = time.time()
        return [QueueItem(case, int(now - case.since_ms / 1000),
                          self.transcripts.read(case.user_id, last=self.last_messages))
                for case in self.handoff.cases()]

    def claim(self, staff: str, user_id: str, *, take_over: bool = False) -> Outcome:
        """Take a conversation; `take_over` (admins) takes it from a colleague who is away."""
        before = self.handoff.case(user_id) if take_over else None
        status, holder = self.handoff.claim(user_id, staff, force=take_over)
        if status == "claimed":
            taken_from = before.holder if before and before.holder not in ("", staff) else ""
            self.audit.record(staff, "claimed", user_id, f"taken over from {taken_from}" if taken_from else "")
        return Outcome(status == "claimed", status, holder)

    def transcript(self, staff: str, user_id: str) -> list[Entry]:
        self.audit.record(staff, "read", user_id)
        return self.transcripts.read(user_id)

    def language_of(self, user_id: str, case: Case | None = None) -> str:
        profile, _ = self.users.load(user_id)
        if profile.exists:
            return profile.language
        case = case or self.handoff.case(user_id)
        return case.language if case else "ja"

    def _context(self, user_id: str, language: str) -> Context:
        return Context(Inbound(kind="other", user_id=user_id), Session(user_id, language), self.services, language)

    def send(self, staff: str, user_id: str, text: str, *, message_id: str) -> Outcome:
        """Staff's own words, as typed (with a note in the parent's language that they are in Japanese)."""
        text = text.strip()
        if not text:
            return Outcome(False, "empty")
        if line_limits.utf16_units(text) > MAX_TEXT:
            return Outcome(False, "too_long", detail=f"≤ {MAX_TEXT}")
        return self._answer(staff, user_id, lambda ctx: staff_replies.typed(ctx, text), message_id=message_id,
                            kept=text)

    def send_canned(self, staff: str, user_id: str, reply_id: str, *, message_id: str) -> Outcome:
        """A common answer, in the parent's language from the catalogs."""
        reply = staff_replies.BY_ID.get(reply_id)
        if reply is None:
            return Outcome(False, "empty")
        return self._answer(staff, user_id, lambda ctx: staff_replies.canned(ctx, reply), message_id=message_id)

    def send_faq(self, staff: str, user_id: str, entry_id: str, *, message_id: str) -> Outcome:
        """The city's answer to a question, as the bot would give it, in the parent's language."""
        entry = self.services.city.entry(entry_id)
        if entry is None:
            return Outcome(False, "empty")
        return self._answer(staff, user_id, lambda ctx: [Text(faq_dialog.answer_text(ctx, entry))],
                            message_id=message_id)

    def canned_previews(self, user_id: str) -> list[tuple[str, str, str]]:
        """(id, Japanese, what the parent will read) for each canned reply."""
        ctx = self._context(user_id, self.language_of(user_id))
        ja = ctx.in_language("ja")
        return [(r.id, staff_replies.canned_text(ja, r), staff_replies.canned_text(ctx, r))
                for r in staff_replies.CANNED_REPLIES]

    def bot_answer(self, user_id: str) -> tuple[str, FaqEntry | None, list[FaqEntry]]:
        """What the bot would have answered to the parent's last typed message: (that message,
        the entry it would show, the entries it would offer to choose from)."""
        last = next((e.text for e in reversed(self.transcripts.read(user_id, last=30))
                     if e.who == "user" and e.kind == "text"), "")
        if not last:
            return "", None, []
        found = self.services.answers.find(last)
        entries = [self.services.city.entry(i) for i in found.entry_ids]
        entries = [e for e in entries if e is not None]
        if found.verdict == "answer" and entries:
            return last, entries[0], entries[1:3]
        return last, None, entries[:3]

    def _answer(self, staff: str, user_id: str, build, *, message_id: str, kept: str | None = None) -> Outcome:
        case = self.handoff.case(user_id)
        if case is None:
            return Outcome(False, "gone")
        if case.holder != staff:
            return Outcome(False, "not_holder", case.holder)
        messages = render.messages(build(self._context(user_id, self.language_of(user_id, case))))
        found = line_limits.problems(messages)
        if found:
            return Outcome(False, "too_long", detail="; ".join(found))
        retry_key = str(uuid.uuid5(_STAFF_NAMESPACE, f"staff:{user_id}:{message_id}"))
        try:
            self.line.push(user_id, messages, retry_key)
        except LineApiError as exc:
            log.warning("staff answer to %s not sent: %s", user_id, exc)
            return Outcome(False, "line_error", detail=str(exc.status or exc))
        # The push above is idempotent by its retry key; recording is made so by this marker.
        if self.handoff.first_time(retry_key):
            self.transcripts.append(user_id, "staff", kept if kept is not None else render.summary(messages),
                                    staff=staff, entry_id=f"staff:{message_id}")
            self.handoff.touch(user_id)
            self.audit.record(staff, "answered", user_id)
        return Outcome(True, "sent", staff)

    def note(self, staff: str, user_id: str, text: str) -> Outcome:
        """A private note for colleagues; never sent to the parent."""
        text = text.strip()
        if not text:
            return Outcome(False, "empty")
        self.transcripts.append(user_id, "note", text, staff=staff)
        self.audit.record(staff, "noted", user_id)
        return Outcome(True, "noted", staff)

    def release(self, staff: str, user_id: str, *, force: bool = False) -> Outcome:
        """Hand the conversation back to the bot; the parent is told so in their language. The chat
        is handed back even when LINE cannot take the notice now: it is retried (bot.outbox), or,
        when LINE refuses it (the parent blocked the bot), staff are told in `detail`."""
        case = self.handoff.case(user_id)
        if case is None:
            return Outcome(False, "gone")
        if case.holder != staff and not force:
            return Outcome(False, "not_holder", case.holder)
        status, holder = self.handoff.release(user_id, staff, force=force)
        if status != "released":
            return Outcome(False, status, holder)
        language = self.language_of(user_id, case)
        retry_key = str(uuid.uuid5(_STAFF_NAMESPACE, f"release:{user_id}:{case.since_ms}"))
        messages = self.outbox.messages_for(
            user_id, lambda ctx: handoff_dialog.released(ctx.in_language(language)).replies, "hand-back notice")
        told = self.outbox.push_messages(user_id, messages, retry_key, "hand-back notice")
        self.transcripts.append(user_id, "bot", render.summary(messages), kind="released", staff=staff)
        self.users.save(user_id, state="", data={}, profile_changes={})
        self.audit.record(staff, "released", user_id,
                          ("forced; " if force and holder != staff else "") + f"told: {told}")
        return Outcome(True, "released", holder, told)
