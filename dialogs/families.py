"""The family a parent registers for journey messages, and the plan of those messages, as the
dialogs see them (the plan is loaded from the city's content pack by bot.journeys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

DUE, BIRTH, REGISTERED = "due", "birth", "registered"


@dataclass(frozen=True)
class Child:
    id: str                 # "c1", "c2"… per family
    kind: str               # due | birth
    day: date               # 出産予定日 or 誕生日
    registered: date


@dataclass(frozen=True)
class Milestone:
    id: str
    anchor: str             # due | birth | registered
    days: int
    text: str               # Japanese; translated through the catalogs
    faq: tuple[str, ...] = ()
    booking: bool = False
    ask_birth: bool = False

    def applies_to(self, child: Child) -> bool:
        return self.anchor == child.kind or (self.anchor == REGISTERED and child.kind == DUE)

    def day_for(self, child: Child) -> date:
        base = child.registered if self.anchor == REGISTERED else child.day
        return base + timedelta(days=self.days)


@dataclass(frozen=True)
class JourneyPlan:
    milestones: tuple[Milestone, ...] = ()
    send_at: time = time(10, 0)
    late_days: int = 7

    def milestone(self, milestone_id: str) -> Milestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)


@dataclass(frozen=True)
class Registration:
    status: str             # registered | invalid_date | too_many | replaced_due
    child: Child | None = None
    first: datetime | None = None   # when the first message will go, if any


MAX_CHILDREN = 6


class JourneyService(Protocol):
    """What the journey dialogs need (bot.journeys.service implements it)."""

    plan: JourneyPlan

    def today(self) -> date: ...
    def children(self, user_id: str) -> list[Child]: ...
    def register(self, user_id: str, kind: str, day: date, language: str) -> Registration: ...
    def remove(self, user_id: str, child_id: str) -> bool: ...
    def stopped(self, user_id: str) -> bool: ...
    def stop(self, user_id: str) -> None: ...
    def resume(self, user_id: str) -> None: ...
    def referral_answered(self, user_id: str, entry_id: str) -> bool: ...  # True: it was awaited
    def format_day(self, day: date, language: str) -> str: ...


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date


def allowed_days(kind: str, today: date) -> DateRange:
    """Due dates from today to about ten months ahead; birthdays up to six years back."""
    if kind == DUE:
        return DateRange(today, today + timedelta(days=300))
    return DateRange(today - timedelta(days=6 * 366), today)

