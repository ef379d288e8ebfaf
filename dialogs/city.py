"""The city a deployment serves, as the dialogs see it (loaded from a content pack by bot.content).

Text fields hold the city's Japanese wording; dialogs pass them through the catalogs like any
other string. Facts the city has not given (phone, hours) are empty strings, never shown as
blanks: `Window.contact_lines` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class City:
    id: str
    name: str
    bot_name: str
    windows: tuple[Window, ...]
    categories: tuple[Category, ...] = ()
    faq: tuple[FaqEntry, ...] = ()

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
