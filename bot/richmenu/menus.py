"""What each language's rich menu is: its image, its six tappable areas and their postbacks, its
chat bar text, and a name that changes whenever any of these does.

Nothing here talks to LINE; `sync.py` makes LINE match these.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from linebot.v3.messaging import PostbackAction, RichMenuArea, RichMenuBounds, RichMenuRequest, RichMenuSize

from bot import line_limits
from bot.richmenu import draw
from dialogs.engine import Postback
from dialogs.languages import LANGUAGES
from dialogs.menu import CHAT_BAR

PREFIX = "kosodate-"  # of our menus' names and aliases: what sync may replace and retire


@dataclass(frozen=True)
class DesiredMenu:
    language: str
    request: RichMenuRequest
    image: bytes  # PNG

    @property
    def name(self) -> str:
        return self.request.name

    @property
    def alias_id(self) -> str:
        return alias_id(self.language)


def alias_id(language: str) -> str:
    """`kosodate-pt-br`: aliases allow only [a-z0-9_-], up to 32 characters."""
    alias = PREFIX + re.sub(r"[^a-z0-9_-]", "-", language.lower())
    if not line_limits.is_alias_id(alias):
        raise ValueError(f"no alias id can be made for language {language!r}")
    return alias


def clip(text: str, units: int) -> str:
    """At most `units` UTF-16 units, ending in … when cut."""
    if line_limits.utf16_units(text) <= units:
        return text
    cut = text.encode("utf-16-le")[: (units - 1) * 2].decode("utf-16-le", errors="ignore")
    return cut.rstrip() + "…"


@lru_cache(maxsize=32)
def _image(language: str, labels: tuple[tuple[str, str], ...]) -> bytes:
    # The drawing is the slow part (a quarter second): a re-run in the same process reuses it.
    return draw.render(dict(labels), language).png()


def build(language: str, translate: Callable[[str], str]) -> DesiredMenu:
    labels = {tile.action: translate(tile.msgid) for tile in draw.TILES}
    image = _image(language, tuple(labels.items()))
    areas = [
        RichMenuArea(
            bounds=RichMenuBounds(x=box.x, y=box.y, width=box.width, height=box.height),
            # No state in the postback: a tap works from wherever the conversation is.
            action=PostbackAction(label=clip(labels[tile.action], line_limits.MAX_ACTION_LABEL),
                                  data=Postback(tile.action).encode(),
                                  display_text=clip(labels[tile.action], line_limits.MAX_DISPLAY_TEXT)),
        )
        for tile, box in zip(draw.TILES, draw.tile_boxes())
    ]
    size = RichMenuSize(width=draw.WIDTH, height=draw.HEIGHT)
    chat_bar = clip(translate(CHAT_BAR), line_limits.MAX_CHAT_BAR_TEXT)
    defining = {
        "layout": draw.LAYOUT_VERSION,
        "size": size.to_dict(),
        "areas": [area.to_dict() for area in areas],
        "chatBarText": chat_bar,
        # What is drawn, not the PNG's bytes: a Pillow or font upgrade redraws a few pixels, which
        # must not replace every menu (LINE would unlink all their users); bump LAYOUT_VERSION
        # when the drawing itself changes.
        "labels": {tile.action: labels[tile.action] for tile in draw.TILES},
    }
    digest = hashlib.sha256(json.dumps(defining, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
    request = RichMenuRequest(size=size, selected=False, name=f"{PREFIX}{language}-{digest}",
                              chat_bar_text=chat_bar, areas=areas)
    problems = line_limits.rich_menu_problems(request.to_dict())
    if problems:  # a bug here, not something LINE should be left to find
        raise ValueError(f"the {language} rich menu is not valid: {problems}")
    return DesiredMenu(language, request, image)


def build_all(catalogs, languages: Iterable[str] | None = None) -> list[DesiredMenu]:
    """One menu per language, from `catalogs.translator(language)` (bot.i18n.Catalogs)."""
    codes = list(languages) if languages is not None else [language.code for language in LANGUAGES]
    return [build(code, catalogs.translator(code)) for code in codes]
