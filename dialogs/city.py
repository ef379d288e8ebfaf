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
class City:
    id: str
    name: str
    bot_name: str
    windows: tuple[Window, ...]

    @property
    def main_window(self) -> Window:
        return self.windows[0]

    def window(self, window_id: str) -> Window:
        for window in self.windows:
            if window.id == window_id:
                return window
        raise KeyError(window_id)
