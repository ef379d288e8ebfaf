"""The scheduler's journey work: send the day's journey messages as multicasts, ask about
referrals, and hand unanswered referrals to staff.

A multicast goes to at most 500 users who get the same message (one milestone, one language).
Each batch is stored in Redis before it is sent and carries a retry key made from its id, so a
worker that dies mid-send leaves the batch for the next tick, and LINE refuses the repeat (409)
if the first send went through: each family gets each message once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import line_limits, render
from bot.outbox import REFUSED, Outbox
from bot.handoff import HandoffQueue
from bot.journeys.store import JourneyStore
from bot.line import LineApiError, retry_key_for
from dialogs import journey as journey_dialog
from dialogs.engine import Context, Inbound, Session

log = logging.getLogger(__name__)

# A batch LINE keeps failing is tried at every tick for this long (well within the 24 hours LINE
# remembers a retry key), then given up and logged.
GIVE_UP_AFTER_S = 20 * 3600


@dataclass
class SendReport:
    claimed: int = 0
    batches: int = 0
    users: int = 0
    failed: int = 0
    calls: list[int] = field(default_factory=list)   # users per multicast
    busy: bool = False                               # another process was sending


# Items per claim: one Lua call each, short enough to keep Redis responsive (`python -m
# bench.journeys` reports the longest); batches stay open across the tick's claims to fill to 500.
CLAIM_STEP = 1000


def send_journeys(store: JourneyStore, line, services, now: datetime) -> SendReport:
    lock = store.sender_lock()
    if not lock.acquire():
        return SendReport(busy=True)
    try:
        return _send_journeys(store, line, services, now)
    finally:
        try:
            lock.release()
        except Exception:  # it timed out and another process holds it now: nothing to undo
            log.warning("the journey sender lock expired while sending")


def _send_journeys(store: JourneyStore, line, services, now: datetime) -> SendReport:
    report = SendReport()
    while True:
        taken, seen = store.claim(now, limit=CLAIM_STEP)
        report.claimed += taken
        if seen < CLAIM_STEP:
            break
    store.seal()
    cache: dict[tuple[str, str], list[dict]] = {}

    def messages_in(milestone, language: str) -> list[dict]:
        if (milestone.id, language) not in cache:
            ctx = Context(Inbound(kind="other", user_id=""), Session("", language), services, language)
            messages = render.messages(journey_dialog.milestone_messages(ctx, milestone))
            found = line_limits.problems(messages)
            if found:
                log.error("journey %s in %s over LINE's limits, clamped: %s", milestone.id, language, "; ".join(found))
                messages = line_limits.clamp(messages)
            cache[(milestone.id, language)] = messages
        return cache[(milestone.id, language)]

    for batch in store.pending_batches():
        milestone = store.plan.milestone(batch.milestone)
        # Checked again now: a parent may have stopped, blocked the bot, asked for deletion or
        # changed language since the batch was made.
        receivers = store.receivers(batch.users)
        same = [u for u in batch.users if receivers.get(u) == batch.language]
        moved = {u: lang for u, lang in receivers.items() if lang != batch.language}
        if milestone is None or not (same or moved):
            store.done(batch)
            continue
        try:
            if same:
                line.multicast(same, messages_in(milestone, batch.language), store.retry_key(batch))
        except LineApiError as exc:
            if exc.retryable and now.timestamp() - batch.created < GIVE_UP_AFTER_S:
                store.attempts(batch)
                log.warning("journey batch %s (%d users) not sent (%s); trying again next tick",
                            batch.id, len(same), exc.status)
                continue
            log.error("journey batch %s (%d users) given up: %s", batch.id, len(same), exc)
            report.failed += len(same)
            store.done(batch)
            continue
        for user_id, language in moved.items():   # rare: one push each, in the language they now read
            try:
                line.push(user_id, messages_in(milestone, language), store.retry_key(batch, user_id))
            except LineApiError as exc:
                log.warning("journey %s to %s (language changed) not sent: %s", milestone.id, user_id, exc)
        store.done(batch)
        report.batches += 1
        report.users += len(same) + len(moved)
        if same:
            report.calls.append(len(same))
    return report


def send_referral_questions(store: JourneyStore, outbox: Outbox, handoff: HandoffQueue, now: datetime, *,
                            answer_within_days: int = 2) -> int:
    """Ask whether they got through. Not asked (and not sent to staff later): parents who left,
    who are talking with staff already, or whom LINE refuses."""
    asked = 0
    for user_id, entry_id in store.claim_referrals(now, now + timedelta(days=answer_within_days)):
        if store.left(user_id) or handoff.case(user_id) is not None:
            store.answered(user_id, entry_id)
            continue
        key = retry_key_for(f"{store.base}:{store.epoch()}:refer:{user_id}:{entry_id}:{now.date().isoformat()}",
                            "referral")
        outcome = outbox.push(user_id, lambda ctx, e=entry_id: journey_dialog.referral_question(ctx, e), key,
                              "referral follow-up")
        if outcome == REFUSED:
            store.answered(user_id, entry_id)
        else:
            asked += 1
    return asked


def escalate_unanswered(store: JourneyStore, handoff: HandoffQueue, language_of, now: datetime) -> int:
    """No answer in time: the conversation goes to staff, as a 'not yet' would (then it is taken
    off the list: a crash in between opens the same case again, which changes nothing)."""
    opened = 0
    for user_id, entry_id in store.overdue(now):
        handoff.open(user_id, language=language_of(user_id), reason="referral")
        store.answered(user_id, entry_id)
        log.info("referral follow-up for %s (%s) unanswered: in the staff queue", user_id, entry_id)
        opened += 1
    return opened


def run_due(store: JourneyStore, line, outbox: Outbox, services, handoff: HandoffQueue, language_of,
            now: datetime) -> SendReport:
    report = send_journeys(store, line, services, now)
    send_referral_questions(store, outbox, handoff, now)
    escalate_unanswered(store, handoff, language_of, now)
    return report
