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
from bot.booking_jobs import Outbox
from bot.handoff import HandoffQueue
from bot.journeys.store import JourneyStore
from bot.line import LineApiError, retry_key_for
from dialogs import journey as journey_dialog
from dialogs.engine import Context, Inbound, Session

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class SendReport:
    claimed: int = 0
    batches: int = 0
    users: int = 0
    failed: int = 0
    calls: list[int] = field(default_factory=list)   # users per multicast


# Items per claim: one Lua call each, short enough to keep Redis responsive (`python -m
# bench.journeys` reports the longest); batches stay open across the tick's claims to fill to 500.
CLAIM_STEP = 1000


def send_journeys(store: JourneyStore, line, services, now: datetime) -> SendReport:
    report = SendReport()
    while True:
        taken, seen = store.claim(now, limit=CLAIM_STEP)
        report.claimed += taken
        if seen < CLAIM_STEP:
            break
    store.seal()
    cache: dict[tuple[str, str], list[dict]] = {}
    for batch in store.pending_batches():
        milestone = store.plan.milestone(batch.milestone)
        if milestone is None:   # taken out of the plan since it was scheduled
            store.done(batch)
            continue
        messages = cache.get((batch.milestone, batch.language))
        if messages is None:
            ctx = Context(Inbound(kind="other", user_id=""), Session("", batch.language), services, batch.language)
            messages = render.messages(journey_dialog.milestone_messages(ctx, milestone))
            found = line_limits.problems(messages)
            if found:
                log.error("journey %s in %s over LINE's limits, clamped: %s", batch.milestone, batch.language,
                          "; ".join(found))
                messages = line_limits.clamp(messages)
            cache[(batch.milestone, batch.language)] = messages
        key = store.retry_key(batch)
        try:
            line.multicast(batch.users, messages, key)
        except LineApiError as exc:
            attempts = store.attempts(batch)
            if exc.retryable and attempts < MAX_ATTEMPTS:
                log.warning("journey batch %s (%d users) not sent (%s); trying again next tick",
                            batch.id, len(batch.users), exc.status)
                continue
            log.error("journey batch %s (%d users) given up after %d attempts: %s", batch.id, len(batch.users),
                      attempts, exc)
            report.failed += len(batch.users)
            store.done(batch)
            continue
        store.done(batch)
        report.batches += 1
        report.users += len(batch.users)
        report.calls.append(len(batch.users))
    return report


def send_referral_questions(store: JourneyStore, outbox: Outbox, now: datetime, *, answer_within_days: int = 2) -> int:
    sent = 0
    for user_id, entry_id in store.claim_referrals(now, now + timedelta(days=answer_within_days)):
        if store.left(user_id):
            continue
        key = retry_key_for(f"{store.base}:{store.epoch()}:refer:{user_id}:{entry_id}:{int(now.timestamp()) // 86400}",
                            "referral")
        sent += outbox.push(user_id, lambda ctx, e=entry_id: journey_dialog.referral_question(ctx, e), key,
                            "referral follow-up")
    return sent


def escalate_unanswered(store: JourneyStore, handoff: HandoffQueue, language_of, now: datetime) -> int:
    """No answer in time: the conversation goes to staff, as a 'not yet' would."""
    opened = 0
    for user_id, entry_id in store.overdue(now):
        handoff.open(user_id, language=language_of(user_id), reason="referral")
        log.info("referral follow-up for %s (%s) unanswered: in the staff queue", user_id, entry_id)
        opened += 1
    return opened


def run_due(store: JourneyStore, line, outbox: Outbox, services, handoff: HandoffQueue, language_of,
            now: datetime) -> SendReport:
    report = send_journeys(store, line, services, now)
    send_referral_questions(store, outbox, now)
    escalate_unanswered(store, handoff, language_of, now)
    return report
