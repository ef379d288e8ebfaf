"""A small engine for conversations declared as tables of states.

A dialog is a name, an entry handler and a table `state -> [matchers]`; a handler takes a
Context (the inbound event, the session, the services) and returns a Turn (the replies and
the next state). Global commands (menu, language, a person, cancel) are tried first, in
every state and in every language. Buttons carry a compact versioned Postback; one that no
longer fits the conversation gets a polite "that menu has expired" and the menu.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Protocol

from dialogs.messages import Message

POSTBACK_VERSION = "1"
_SEP = "|"
MAX_POSTBACK_DATA = 300
MAX_COMMAND_SENTENCE = 40  # a longer message is a question to answer, not a command


def N_(message: str) -> str:
    """Mark a string for the catalogs where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Postback:
    """What a button carries: `1|action|state|arg|arg…`.

    `state` is the dialog state the button was made for; empty means the button works from
    any state (menu entries, language choice).
    """

    action: str
    args: tuple[str, ...] = ()
    state: str = ""

    def encode(self) -> str:
        parts = (POSTBACK_VERSION, self.action, self.state, *self.args)
        if any(_SEP in part for part in parts[1:]):
            raise ValueError(f"postback parts may not contain {_SEP!r}: {parts!r}")
        data = _SEP.join(parts)
        if len(data) > MAX_POSTBACK_DATA:
            raise ValueError(f"postback data over {MAX_POSTBACK_DATA} characters: {data[:40]}…")
        return data

    @classmethod
    def decode(cls, data: str) -> "Postback | None":
        """The postback, or None for anything we did not make in this version."""
        parts = (data or "").split(_SEP)
        if len(parts) < 3 or parts[0] != POSTBACK_VERSION or not parts[1]:
            return None
        return cls(action=parts[1], state=parts[2], args=tuple(parts[3:]))


@dataclass(frozen=True)
class Inbound:
    """An event as a dialog sees it."""

    kind: str                      # follow | text | postback | media | other
    user_id: str
    text: str = ""
    postback: Postback | None = None
    params: Mapping[str, str] = field(default_factory=dict)  # date picker results
    line_language: str | None = None


@dataclass(frozen=True)
class Session:
    user_id: str
    language: str
    consent: bool | None = None    # None: not asked yet
    state: str = ""                # "dialog.state"; empty when idle
    data: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class HandoffRequest:
    """Put this conversation in front of staff (bot.handoff does it after the turn)."""

    reason: str                    # asked | faq_failed | risk:<category>


@dataclass
class Turn:
    replies: list[Message] = field(default_factory=list)
    state: str = ""                # the state to wait in; empty returns to idle
    data: dict = field(default_factory=dict)
    profile: dict = field(default_factory=dict)  # changes to keep: language, consent
    handoff: HandoffRequest | None = None
    withdraw_handoff: bool = False  # the user takes back a request no one has claimed
    forget_user: bool = False       # delete everything kept about the user (confirmed by them)
    referral: str = ""              # an FAQ entry that sent the parent to a window: ask later if they got through


class Services(Protocol):
    """What the service around the dialogs hands them (implemented in bot/)."""

    def translator(self, language: str) -> Callable[[str], str]: ...

    def translations_of(self, message: str) -> Iterable[str]: ...

    @property
    def city(self): ...  # dialogs.city.City

    @property
    def retention(self): ...  # .session_idle_minutes, .unfollowed_profile_days

    @property
    def answers(self): ...  # .find(text) -> dialogs.faq.Found

    def availability(self): ...  # when staff read messages: .known, .open_now, .next_open

    def format_when(self, moment, language: str) -> str: ...  # a date and time, as said in `language`


@dataclass(frozen=True)
class Context:
    inbound: Inbound
    session: Session
    services: Services
    language: str

    @property
    def _(self) -> Callable[[str], str]:
        return self.services.translator(self.language)

    def in_language(self, language: str) -> "Context":
        return replace(self, language=language)

    def button(self, action: str, *args: str, state: str = "") -> str:
        return Postback(action, tuple(args), state).encode()


Handler = Callable[[Context], Turn]


@dataclass(frozen=True)
class Tap:
    """A tap on a button made for this state."""

    action: str
    handler: Handler


@dataclass(frozen=True)
class Otherwise:
    """Anything else that arrives while waiting in this state: typed text, a sticker…"""

    handler: Handler


@dataclass(frozen=True)
class Dialog:
    name: str
    entry: Handler
    states: Mapping[str, tuple[Tap | Otherwise, ...]] = field(default_factory=dict)
    anytime: Mapping[str, Handler] = field(default_factory=dict)  # buttons valid from any state

    def state(self, name: str) -> str:
        if name not in self.states:
            raise KeyError(f"{self.name} has no state {name!r}")
        return f"{self.name}.{name}"


@dataclass(frozen=True)
class Command:
    """A global command: a button action and the words that say it, in every language.

    `words` is a catalog message whose translations are lists of phrases separated by "|".
    """

    name: str
    words: str
    handler: Handler
    within: bool = False  # also when said inside a longer message ("I want to talk to a person")


def normalize(text: str) -> str:
    """Fold width, case and spacing so that 'ＭＥＮＵ ' and 'menu' are the same command."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PS"))


def phrases_of(ctx: "Context", words: str) -> frozenset[str]:
    """Every phrase of a catalog message of phrases separated by "|", in every language, folded."""
    return _folded_phrases((words, *ctx.services.translations_of(words)))


@lru_cache(maxsize=64)
def _folded_phrases(translations: tuple[str, ...]) -> frozenset[str]:
    return frozenset(key for translation in translations for key in map(normalize, translation.split("|")) if key)


def says(ctx: "Context", words: str) -> bool:
    """Whether the typed message is one of those phrases, whole."""
    return ctx.inbound.kind == "text" and normalize(ctx.inbound.text) in phrases_of(ctx, words)


class Router:
    def __init__(self, dialogs: Iterable[Dialog], commands: Iterable[Command], *,
                 on_follow: Handler, idle: Handler, expired: Handler):
        self.dialogs = {dialog.name: dialog for dialog in dialogs}
        self.commands = {command.name: command for command in commands}
        self.on_follow = on_follow
        self.idle = idle
        self.expired = expired
        self.anytime: dict[str, Handler] = {}
        for dialog in self.dialogs.values():
            for action, handler in dialog.anytime.items():
                if action in self.anytime or action in self.commands:
                    raise ValueError(f"postback action {action!r} is declared twice")
                self.anytime[action] = handler
        self._phrases: dict[str, str] | None = None

    def phrases(self, services: Services) -> dict[str, str]:
        """Every spelling of every command, in every language, normalized → command name."""
        if self._phrases is None:
            phrases: dict[str, str] = {}
            for command in self.commands.values():
                for translation in (command.words, *services.translations_of(command.words)):
                    for phrase in translation.split("|"):
                        key = normalize(phrase)
                        if key:
                            phrases.setdefault(key, command.name)
            self._phrases = phrases
        return self._phrases

    def command_for_text(self, text: str, services: Services) -> Command | None:
        said = normalize(text)
        phrases = self.phrases(services)
        name = phrases.get(said)
        if name is None and len(said) <= MAX_COMMAND_SENTENCE:
            name = next((name for phrase, name in phrases.items()
                         if len(phrase) >= 4 and self.commands[name].within and phrase in said), None)
        return self.commands.get(name) if name else None

    def waiting_in(self, session: Session) -> tuple[Dialog, tuple[Tap | Otherwise, ...]] | None:
        dialog_name, _, state = session.state.partition(".")
        dialog = self.dialogs.get(dialog_name)
        if dialog is None or state not in dialog.states:
            return None
        return dialog, dialog.states[state]

    def route(self, inbound: Inbound, session: Session, services: Services) -> Turn:
        ctx = Context(inbound, session, services, session.language)
        if inbound.kind == "follow":
            return self.on_follow(ctx)
        waiting = self.waiting_in(session)
        matchers = waiting[1] if waiting else ()
        if inbound.kind == "postback":
            postback = inbound.postback
            if postback is None:
                return self.expired(ctx)
            if postback.action in self.commands:
                return self.commands[postback.action].handler(ctx)
            if postback.action in self.anytime:
                return self.anytime[postback.action](ctx)
            if postback.state and postback.state == session.state:
                for matcher in matchers:
                    if isinstance(matcher, Tap) and matcher.action == postback.action:
                        return matcher.handler(ctx)
            return self.expired(ctx)
        if inbound.kind == "text":
            command = self.command_for_text(inbound.text, services)
            if command is not None:
                return command.handler(ctx)
        for matcher in matchers:
            if isinstance(matcher, Otherwise):
                return matcher.handler(ctx)
        return self.idle(ctx)
