"""The journeys as the dialogs and the conversation use them (dialogs.families.JourneyService)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

from bot import dates
from bot.journeys.store import JourneyStore
from dialogs.centers import TOKYO
from dialogs.families import BIRTH, DUE, Child, JourneyPlan, Registration

# A birthday this close to a registered due date is that baby (born up to 20 weeks early or 6
# weeks late): the due date is replaced.
EARLIEST_BIRTH_DAYS, LATEST_BIRTH_DAYS = 140, 42


class Journeys:
    def __init__(self, store: JourneyStore, clock: Callable[[], datetime] | None = None, *,
                 ask_after_days: int = 3, answer_within_days: int = 2, unfollowed_days: int = 30):
        self.store = store
        self.unfollowed_days = unfollowed_days
        self.clock = clock or (lambda: datetime.now(TOKYO))
        self.ask_after_days = ask_after_days
        self.answer_within_days = answer_within_days

    @property
    def plan(self) -> JourneyPlan:
        return self.store.plan

    def today(self) -> date:
        return self.clock().astimezone(TOKYO).date()

    def children(self, user_id: str) -> list[Child]:
        return self.store.children(user_id)

    def register(self, user_id: str, kind: str, day: date, language: str) -> Registration:
        now = self.clock()
        replaced = False
        if kind == BIRTH:
            for child in self.store.children(user_id):
                if child.kind == DUE and -EARLIEST_BIRTH_DAYS <= (day - child.day).days <= LATEST_BIRTH_DAYS:
                    replaced = self.store.remove_child(user_id, child.id) or replaced
        child = self.store.add_child(user_id, kind, day, language, now)
        if child is None:
            return Registration("too_many")
        times = [moment for _, moment in self.store.schedule_of(child, now)]
        return Registration("replaced_due" if replaced else "registered", child, min(times, default=None))

    def remove(self, user_id: str, child_id: str) -> bool:
        return self.store.remove_child(user_id, child_id)

    def stopped(self, user_id: str) -> bool:
        return self.store.stopped(user_id)

    def stop(self, user_id: str) -> None:
        self.store.stop(user_id)

    def resume(self, user_id: str) -> None:
        self.store.resume(user_id)

    def format_day(self, day: date, language: str) -> str:
        return dates.format_day(day, language)

    # From the conversation

    def set_language(self, user_id: str, language: str) -> None:
        self.store.set_language(user_id, language)

    def unfollowed(self, user_id: str) -> None:
        self.store.unfollowed(user_id, self.unfollowed_days)

    def followed(self, user_id: str) -> None:
        self.store.followed(user_id)

    def forget(self, user_id: str) -> None:
        self.store.forget(user_id)

    # Referral follow-up

    def refer(self, user_id: str, entry_id: str) -> None:
        self.store.refer(user_id, entry_id, self.store.send_time(self.today() + timedelta(days=self.ask_after_days)))

    def referral_answered(self, user_id: str, entry_id: str) -> bool:
        return self.store.answered(user_id, entry_id)
