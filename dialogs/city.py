"""The city a deployment serves, as the dialogs see it (loaded from a content pack by bot.content).

Text fields hold the city's Japanese wording; dialogs pass them through the catalogs like any
other string. Facts the city has not given (phone, hours) are empty strings, never shown as
blanks: `Window.contact_lines` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time


@dataclass(frozen=True)
class Window:
    id: str
    name: str
    place: str = ""
    phone: str = ""
    hours: str = ""


@dataclass(frozen=True)
class Category:
    id: str
    title: str


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    label: str                      # a short name for buttons (≤ 20 characters in every language)
    question: str
    answer: str
    phrases: tuple[str, ...] = ()   # how people ask, for matching only (never shown)
    related: tuple[str, ...] = ()
    window: str = ""                # the window whose contact facts follow the answer
    follow_up: bool = False         # a worry sent to that window: the parent is asked later if they got through
    near_risk: bool = False         # asked by people who may be at risk: never taught to the risk check as ordinary


@dataclass(frozen=True)
class StaffHours:
    """When staff read the queue (Asia/Tokyo). Empty when the city has not said: the bot then
    promises no time."""

    weekly: tuple[tuple[tuple[time, time], ...], ...] = ((),) * 7   # Monday first
    closed_dates: tuple[date, ...] = ()
    close_on_national_holidays: bool = True

    @property
    def known(self) -> bool:
        return any(self.weekly)


@dataclass(frozen=True)
class SafetyLine:
    """A number the city adds to a risk category's safety reply (beyond 110, 119, 189, #8000)."""

    category: str
    label: str
    phone: str


@dataclass(frozen=True)
class City:
    id: str
    name: str
    bot_name: str
    windows: tuple[Window, ...]
    categories: tuple[Category, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    staff_hours: StaffHours = field(default_factory=StaffHours)
    safety_lines: tuple[SafetyLine, ...] = ()

    def entry(self, entry_id: str) -> FaqEntry | None:
        for entry in self.faq:
            if entry.id == entry_id:
                return entry
        return None

    def entries_in(self, category_id: str) -> tuple[FaqEntry, ...]:
        return tuple(entry for entry in self.faq if entry.category == category_id)

    @property
    def main_window(self) -> Window:
        return self.windows[0]

    def window(self, window_id: str) -> Window:
        for window in self.windows:
            if window.id == window_id:
                return window
        raise KeyError(window_id)
