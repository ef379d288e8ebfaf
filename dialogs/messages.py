"""What a dialog says, independent of LINE's wire format (bot.render turns these into JSON)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """Something the user can tap. Exactly one of postback, text or uri is set."""

    label: str
    postback: str | None = None
    display_text: str | None = None  # what appears in the chat as the user's words on tap
    text: str | None = None          # sent as a message when tapped
    uri: str | None = None           # tel:, https:
    date_picker: tuple[str, str, str] | None = None  # (initial, min, max) ISO dates: LINE's date picker,
                                                     # whose choice comes back with `postback`

    def __post_init__(self):
        if sum(x is not None for x in (self.postback, self.text, self.uri)) != 1:
            raise ValueError(f"an action needs exactly one of postback, text, uri: {self!r}")
        if self.date_picker is not None and self.postback is None:
            raise ValueError(f"a date picker answers with a postback: {self!r}")


@dataclass(frozen=True)
class Text:
    text: str
    quick_replies: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Buttons:
    """A card with a few buttons (up to 4), for choices that should stay visible in the chat."""

    text: str
    actions: tuple[Action, ...]
    title: str | None = None
    alt_text: str | None = None
    quick_replies: tuple[Action, ...] = ()


Message = Text | Buttons
