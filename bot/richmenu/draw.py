"""The rich menu image: six tiles (3 × 2) on 2500 × 1686, each a pictogram and its label.

The pictograms and cards are the same in every language; they are drawn once per process at
three times the size and scaled down, for smooth edges. The labels are drawn per language at
full size, centred under their pictogram: one size for the whole menu (the largest at which
every label fits on one to three lines), except that a label far longer than the others shrinks
alone. Text is measured by its ink, so the tests can check that nothing leaves its tile.
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

from PIL import Image, ImageDraw

from bot.richmenu import fonts
from dialogs.engine import N_

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 3, 2
MAX_IMAGE_BYTES = 1024 * 1024
# Part of every menu's name, with the image and areas (hashed): bump it to make sync replace
# every menu even though nothing drawn changed (say, after one was edited by hand).
LAYOUT_VERSION = "1"

CANVAS = (236, 241, 238)
CARD = (255, 255, 255)
INK = (36, 52, 61)
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Tile:
    action: str          # the postback action (dialogs' anytime actions and commands)
    msgid: str           # its label in the catalogs; Japanese is the source
    icon: str
    accent: tuple[int, int, int]
    tint: tuple[int, int, int]
    urgent: bool = False


# In reading order: left to right, top to bottom.
TILES: tuple[Tile, ...] = (
    Tile("faq.browse", N_("よくある質問"), "faq", (40, 134, 127), (220, 240, 236)),
    Tile("booking", N_("センターの予約"), "calendar", (206, 122, 38), (252, 235, 214)),
    Tile("booking.mine", N_("予約の確認"), "clipboard", (58, 118, 184), (222, 234, 247)),
    Tile("person", N_("人と話したい"), "person", (189, 83, 118), (248, 227, 234)),
    Tile("language", N_("🌐 言語 Language"), "globe", (104, 90, 178), (232, 229, 246)),
    Tile("safety.numbers", N_("緊急の電話番号"), "phone", (200, 62, 56), (255, 255, 255), urgent=True),
)
EMERGENCY_CARD = (196, 58, 52)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.right, self.bottom)


def _cuts(total: int, parts: int) -> list[int]:
    return [round(total * i / parts) for i in range(parts + 1)]


def tile_boxes() -> list[Box]:
    """The six tappable areas, exactly covering the image (833/834/833 × 843)."""
    xs, ys = _cuts(WIDTH, COLUMNS), _cuts(HEIGHT, ROWS)
    return [Box(xs[c], ys[r], xs[c + 1] - xs[c], ys[r + 1] - ys[r]) for r in range(ROWS) for c in range(COLUMNS)]


# Geometry inside a tile (tile coordinates, at full size).
GUTTER = 14              # around each card: 28 px between cards
CARD_RADIUS = 44
BADGE_DIAMETER = 264
BADGE_TOP = 86
LABEL_TOP = BADGE_TOP + BADGE_DIAMETER + 34
LABEL_SIDE = 44          # from the card's edge
LABEL_BOTTOM = 46        # from the card's bottom
MAX_LABEL_PX, MIN_LABEL_PX = 116, 44
MAX_LINES = 3
_REFERENCE_PX = 100


def label_box(tile: Box) -> Box:
    left = tile.x + GUTTER + LABEL_SIDE
    top = tile.y + LABEL_TOP
    return Box(left, top, tile.width - 2 * (GUTTER + LABEL_SIDE), tile.bottom - GUTTER - LABEL_BOTTOM - top)


# Labels

_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF))


def image_text(label: str) -> str:
    """The label as drawn: without emoji (the fonts have none; the globe is drawn instead)."""
    kept = []
    for char in label:
        code = ord(char)
        if any(lo <= code <= hi for lo, hi in _EMOJI_RANGES) or char in "\ufe0f\u200d":
            continue
        kept.append(char)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def _kind(char: str) -> str:
    if "\u3040" <= char <= "\u309f":
        return "hiragana"
    if "\u30a0" <= char <= "\u30ff":
        return "katakana"
    if unicodedata.name(char, "").startswith("CJK UNIFIED"):
        return "han"
    return "other"


def _no_break_before(char: str) -> bool:
    """Marks, joiners and closing small kana stay with what precedes them."""
    return (unicodedata.category(char).startswith("M") or char in "\u200c\u200d\u094d"
            or char in "ーぁぃぅぇぉっゃゅょァィゥェォッャュョ、。，．・）)」』")


def _tokens(text: str) -> list[str]:
    """The text cut at its line-break opportunities; a token keeps its trailing space.

    Spaces and hyphens everywhere; in Japanese written without spaces, where hiragana meets
    kanji or katakana ("緊急の|電話番号", "よくある|質問"); in Chinese, between any two characters.
    By the script of the text, not the menu's language: an untranslated label is Japanese.
    """
    kinds = {_kind(char) for char in text}
    japanese = bool(kinds & {"hiragana", "katakana"})
    chinese = "han" in kinds and not japanese
    tokens: list[str] = []
    current = ""
    for i, char in enumerate(text):
        if current and i > 0:
            prev = text[i - 1]
            split = prev == " " or (prev == "-" and char != " ")
            if not split and char != " ":
                if chinese:
                    split = _kind(prev) == "han" and _kind(char) == "han"
                elif japanese:
                    split = _kind(prev) == "hiragana" and _kind(char) in ("han", "katakana")
            if split and not _no_break_before(char):
                tokens.append(current)
                current = ""
        current += char
    if current:
        tokens.append(current)
    return tokens


def _graphemes(text: str) -> list[str]:
    """Last resort for a word wider than the tile: break between characters, never inside a
    cluster (a mark or a virama with its consonant)."""
    out: list[str] = []
    for i, char in enumerate(text):
        if out and (_no_break_before(char) or text[i - 1] in "\u094d\u200d"):
            out[-1] += char
        else:
            out.append(char)
    return out


@dataclass(frozen=True)
class LabelLayout:
    lines: tuple[str, ...]
    size: int
    ink: tuple[int, int, int, int]  # the text's ink, from the middle of the first line's baseline
    clipped: bool = False


class LabelSetter:
    """Measures and draws labels in one language, with its fonts and their fallbacks."""

    def __init__(self, language: str):
        self.language = language
        self.chain = fonts.chain_for(language)
        self._ink_cache: dict[tuple[str, int], tuple[int, int, int, int, float]] = {}
        self._preferences: dict[tuple[str, Box], tuple[int, bool]] = {}

    def line_height(self, size: int) -> int:
        # Devanagari stacks marks above the headline and below the letters: more room.
        return round(size * (1.42 if self.language == "ne" else 1.28))

    def _ink(self, text: str, size: int) -> tuple[int, int, int, int, float]:
        """(left, top, right, bottom) of a line's ink from its baseline origin, and its advance."""
        key = (text, size)
        if key not in self._ink_cache:
            x = 0.0
            box = None
            for face, run in fonts.runs(text, self.chain):
                f = fonts.font(face, size)
                left, top, right, bottom = f.getbbox(run, anchor="ls")
                if right > left:
                    run_box = (x + left, top, x + right, bottom)
                    box = run_box if box is None else (min(box[0], run_box[0]), min(box[1], run_box[1]),
                                                       max(box[2], run_box[2]), max(box[3], run_box[3]))
                x += f.getlength(run)
            box = box or (0, 0, 0, 0)
            self._ink_cache[key] = (math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]),
                                    math.ceil(box[3]), x)
        return self._ink_cache[key]

    def measure(self, lines: tuple[str, ...], size: int) -> tuple[int, int, int, int]:
        """The ink box of centred lines, relative to the centre of the first line's baseline."""
        step = self.line_height(size)
        box = None
        for n, line in enumerate(lines):
            left, top, right, bottom, _advance = self._ink(line, size)
            shift = -(left + right) / 2  # each line centred on its ink
            line_box = (left + shift, top + n * step, right + shift, bottom + n * step)
            box = line_box if box is None else (min(box[0], line_box[0]), min(box[1], line_box[1]),
                                                max(box[2], line_box[2]), max(box[3], line_box[3]))
        return tuple(round(v) for v in box) if box else (0, 0, 0, 0)

    def _fits(self, lines: tuple[str, ...], size: int, box: Box) -> bool:
        left, top, right, bottom = self.measure(lines, size)
        return right - left <= box.width and bottom - top <= box.height

    def _splits(self, tokens: list[str], count: int):
        """Every way to put the tokens on `count` lines, in order."""
        n = len(tokens)
        if count == 1:
            yield (("".join(tokens)).strip(),)
            return
        for first in range(1, n - count + 2):
            for rest in self._splits(tokens[first:], count - 1):
                yield (("".join(tokens[:first])).strip(), *rest)

    def _candidates(self, text: str, graphemes: bool = False) -> list[tuple[str, ...]]:
        tokens = _graphemes(text) if graphemes else _tokens(text)
        if graphemes and len(tokens) > 12:
            # Too many ways to cut: greedy lines of even length instead.
            return [tuple("".join(tokens[i * len(tokens) // k:(i + 1) * len(tokens) // k]).strip()
                          for i in range(k)) for k in range(1, MAX_LINES + 1)]
        return [lines for count in range(1, min(MAX_LINES, len(tokens)) + 1)
                for lines in self._splits(tokens, count) if all(lines)]

    def _largest_fitting(self, lines: tuple[str, ...], box: Box, cap: int) -> int | None:
        """The largest size (≤ cap) at which these lines fit; None below the minimum.

        Text grows in proportion to its size, so one measurement gives a close guess, then
        real measurements step down from it."""
        left, top, right, bottom = self.measure(lines, _REFERENCE_PX)
        scale = min(box.width / max(1, right - left), box.height / max(1, bottom - top))
        size = min(cap, int(_REFERENCE_PX * scale) + 1)
        while size >= MIN_LABEL_PX:
            if self._fits(lines, size, box):
                return size
            size -= 1
        return None

    def best_lines(self, text: str, size: int, box: Box, *, graphemes: bool = False) -> tuple[str, ...] | None:
        """The fewest lines that fit at this size, the most even of them; None when nothing fits."""
        fitting = [lines for lines in self._candidates(text, graphemes) if self._fits(lines, size, box)]
        if not fitting:
            return None
        fewest = min(len(lines) for lines in fitting)
        return min((lines for lines in fitting if len(lines) == fewest),
                   key=lambda lines: self.measure(lines, size)[2] - self.measure(lines, size)[0])

    def preferred_size(self, text: str, box: Box) -> int:
        """The size this label would choose alone: the largest, but each more line has to buy
        a good deal more size (one line reads faster; a Chinese line may break anywhere)."""
        return self._preference(text, box)[0]

    def _preference(self, text: str, box: Box) -> tuple[int, bool]:
        """(size, whether it must break between letters because even a single word is too wide)."""
        key = (text, box)
        if key in self._preferences:
            return self._preferences[key]
        penalty = 0.2 if {"han"} & {_kind(char) for char in text} else 0.12
        found = (MIN_LABEL_PX, True)
        for graphemes in (False, True):
            best_score, best_size = -1.0, None
            for lines in self._candidates(text, graphemes):
                size = self._largest_fitting(lines, box, MAX_LABEL_PX)
                if size is None:
                    continue
                score = size * (1 - penalty * (len(lines) - 1))
                if score > best_score:
                    best_score, best_size = score, size
            if best_size is not None:
                found = (best_size, graphemes)
                break
        self._preferences[key] = found
        return found

    def layout(self, text: str, size: int, box: Box) -> LabelLayout:
        """The label at `size`, or smaller until it fits; clipped when nothing fits."""
        _own, graphemes = self._preference(text, box)
        for s in range(size, MIN_LABEL_PX - 1, -1):
            lines = self.best_lines(text, s, box, graphemes=graphemes)
            if lines is not None:
                return LabelLayout(lines, s, self.measure(lines, s))
        return self._clipped(text, box)

    def _clipped(self, text: str, box: Box) -> LabelLayout:
        """Nothing fits even small: as much as fits, then an ellipsis (never past the tile)."""
        size = MIN_LABEL_PX
        units = _graphemes(text)
        for keep in range(len(units) - 1, 0, -1):
            candidate = "".join(units[:keep]).rstrip() + "…"
            lines = self.best_lines(candidate, size, box, graphemes=True)
            if lines is not None:
                log.warning("rich menu label %r (%s) does not fit its tile: clipped", text, self.language)
                return LabelLayout(lines, size, self.measure(lines, size), clipped=True)
        return LabelLayout(("…",), size, self.measure(("…",), size), clipped=True)

    def draw(self, draw: ImageDraw.ImageDraw, layout: LabelLayout, box: Box, fill) -> tuple[int, int, int, int]:
        """Draw the lines centred (by their ink) in the box; returns the ink's box on the image."""
        left, top, right, bottom = layout.ink
        origin_x = box.x + box.width / 2
        origin_y = box.y + (box.height - (bottom - top)) / 2 - top
        step = self.line_height(layout.size)
        for n, line in enumerate(layout.lines):
            ink_left, _t, ink_right, _b, _advance = self._ink(line, layout.size)
            x = origin_x - (ink_left + ink_right) / 2
            y = origin_y + n * step
            for face, run in fonts.runs(line, self.chain):
                f = fonts.font(face, layout.size)
                draw.text((x, y), run, font=f, fill=fill, anchor="ls")
                x += f.getlength(run)
        return (round(origin_x + left), round(origin_y + top), round(origin_x + right), round(origin_y + bottom))


def layout_labels(labels: Mapping[str, str], language: str) -> dict[str, LabelLayout]:
    """Every tile's label laid out in the menu's one size (the smallest any label prefers)."""
    setter = LabelSetter(language)
    boxes = {tile.action: label_box(box) for tile, box in zip(TILES, tile_boxes())}
    texts = {tile.action: image_text(labels.get(tile.action, "")) for tile in TILES}
    texts = {action: text for action, text in texts.items() if text}
    if not texts:
        return {}
    preferred = sorted(setter.preferred_size(text, boxes[action]) for action, text in texts.items())
    # One size for all, so that the menu looks even; but one label far longer than the others
    # (a translation gone wordy) shrinks alone rather than shrinking them all.
    size = max(preferred[0], int(0.85 * preferred[len(preferred) // 2]))
    return {action: setter.layout(text, size, boxes[action]) for action, text in texts.items()}


# Pictograms, drawn in a square of side 2s centred on (cx, cy), at any scale.

def _capsule(d: ImageDraw.ImageDraw, p, q, width: float, fill) -> None:
    """A line with round ends."""
    d.line([p, q], fill=fill, width=round(width))
    r = width / 2
    for x, y in (p, q):
        d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _polyline(d, points, width, fill) -> None:
    d.line(points, fill=fill, width=round(width), joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        d.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _icon_faq(d, cx, cy, s, fg, bg) -> None:
    # A speech bubble with a question mark.
    d.rounded_rectangle((cx - 1.0 * s, cy - 0.86 * s, cx + 1.0 * s, cy + 0.56 * s), radius=0.34 * s, fill=fg)
    d.polygon([(cx - 0.62 * s, cy + 0.44 * s), (cx - 0.12 * s, cy + 0.44 * s), (cx - 0.74 * s, cy + 1.0 * s)], fill=fg)
    # The hook: a circle arc from its left, over the top, to its lower right, then down the middle.
    hx, hy, r = cx, cy - 0.36 * s, 0.25 * s
    hook = [(hx + r * math.cos(math.radians(a)), hy + r * math.sin(math.radians(a))) for a in range(185, 416, 10)]
    _polyline(d, [*hook, (cx, cy - 0.02 * s), (cx, cy + 0.04 * s)], 0.17 * s, bg)
    dot = 0.11 * s
    d.ellipse((cx - dot, cy + 0.28 * s - dot, cx + dot, cy + 0.28 * s + dot), fill=bg)


def _icon_calendar(d, cx, cy, s, fg, bg) -> None:
    # A calendar page with one day marked.
    top, bottom, left, right = cy - 0.72 * s, cy + 0.92 * s, cx - 0.92 * s, cx + 0.92 * s
    d.rounded_rectangle((left, top, right, bottom), radius=0.2 * s, fill=fg)
    d.rounded_rectangle((left + 0.13 * s, top + 0.42 * s, right - 0.13 * s, bottom - 0.13 * s),
                        radius=0.1 * s, fill=WHITE)
    for x in (cx - 0.45 * s, cx + 0.45 * s):
        _capsule(d, (x, top - 0.2 * s), (x, top + 0.18 * s), 0.17 * s, fg)
    cell = 0.28 * s
    gap = 0.14 * s
    x0 = cx - 1.5 * cell - gap
    y0 = top + 0.6 * s
    for row in range(2):
        for col in range(3):
            x, y = x0 + col * (cell + gap), y0 + row * (cell + gap)
            marked = (row, col) == (1, 1)
            d.rounded_rectangle((x, y, x + cell, y + cell), radius=0.06 * s, fill=fg if marked else _mix(fg, WHITE, 0.3))


def _icon_clipboard(d, cx, cy, s, fg, bg) -> None:
    # A clipboard with a tick: the bookings one has.
    d.rounded_rectangle((cx - 0.8 * s, cy - 0.8 * s, cx + 0.8 * s, cy + 0.96 * s), radius=0.18 * s, fill=fg)
    d.rounded_rectangle((cx - 0.66 * s, cy - 0.62 * s, cx + 0.66 * s, cy + 0.82 * s), radius=0.1 * s, fill=WHITE)
    d.rounded_rectangle((cx - 0.38 * s, cy - 1.0 * s, cx + 0.38 * s, cy - 0.6 * s), radius=0.12 * s, fill=fg)
    _polyline(d, [(cx - 0.38 * s, cy + 0.14 * s), (cx - 0.08 * s, cy + 0.44 * s), (cx + 0.42 * s, cy - 0.2 * s)],
              0.17 * s, fg)


def _icon_person(d, cx, cy, s, fg, bg) -> None:
    # A person, with a small speech bubble: someone to talk to.
    hx = cx - 0.2 * s
    r = 0.36 * s
    d.ellipse((hx - r, cy - 0.62 * s - r, hx + r, cy - 0.62 * s + r), fill=fg)
    d.pieslice((hx - 0.72 * s, cy - 0.08 * s, hx + 0.72 * s, cy + 1.84 * s), start=180, end=360, fill=fg)
    bx0, by0, bx1, by1 = cx + 0.3 * s, cy - 1.02 * s, cx + 1.06 * s, cy - 0.42 * s
    d.rounded_rectangle((bx0, by0, bx1, by1), radius=0.2 * s, fill=fg)
    d.polygon([(bx0 + 0.08 * s, by1 - 0.1 * s), (bx0 + 0.3 * s, by1 - 0.1 * s), (bx0 - 0.06 * s, by1 + 0.2 * s)], fill=fg)
    dot = 0.06 * s
    for i in (-1, 0, 1):
        x = (bx0 + bx1) / 2 + i * 0.19 * s
        y = (by0 + by1) / 2
        d.ellipse((x - dot, y - dot, x + dot, y + dot), fill=bg)


def _icon_globe(d, cx, cy, s, fg, bg) -> None:
    # A globe: the circle, two meridians, the equator and two parallels.
    w = round(0.11 * s)
    r = 0.95 * s
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fg, width=w)
    d.ellipse((cx - 0.42 * s, cy - r, cx + 0.42 * s, cy + r), outline=fg, width=w)
    d.line([(cx, cy - r), (cx, cy + r)], fill=fg, width=w)
    d.line([(cx - r, cy), (cx + r, cy)], fill=fg, width=w)
    for dy in (-0.5 * r, 0.5 * r):
        half = math.sqrt(r * r - dy * dy) - w * 0.4
        d.line([(cx - half, cy + dy), (cx + half, cy + dy)], fill=fg, width=w)


def _icon_phone(d, cx, cy, s, fg, bg) -> None:
    # A telephone handset: a thick quarter arc around its upper-right centre, with the ear and
    # mouth pieces turned inwards, and two sound waves.
    ccx, ccy = cx + 0.5 * s, cy - 0.5 * s
    radius = 1.2 * s
    half = 0.15 * s
    for step in range(0, 73):
        a = math.radians(95 + step * (175 - 95) / 72)
        x, y = ccx + radius * math.cos(a), ccy + radius * math.sin(a)
        d.ellipse((x - half, y - half, x + half, y + half), fill=fg)
    for degrees in (92, 178):
        a = math.radians(degrees)
        outer = (ccx + (radius + 0.04 * s) * math.cos(a), ccy + (radius + 0.04 * s) * math.sin(a))
        inner = (ccx + (radius - 0.42 * s) * math.cos(a), ccy + (radius - 0.42 * s) * math.sin(a))
        _capsule(d, outer, inner, 0.48 * s, fg)
    wx, wy = ccx - 0.16 * s, ccy + 0.16 * s
    for rr in (0.34 * s, 0.66 * s):
        d.arc((wx - rr, wy - rr, wx + rr, wy + rr), start=280, end=350, fill=fg, width=round(0.12 * s))


_ICONS: dict[str, Callable] = {
    "faq": _icon_faq, "calendar": _icon_calendar, "clipboard": _icon_clipboard,
    "person": _icon_person, "globe": _icon_globe, "phone": _icon_phone,
}


def _mix(a, b, t: float) -> tuple[int, int, int]:
    """a·t + b·(1 − t)"""
    return tuple(round(x * t + y * (1 - t)) for x, y in zip(a, b))


_SUPERSAMPLE = 3


def _card(tile: Tile, box: Box) -> Image.Image:
    k = _SUPERSAMPLE
    image = Image.new("RGB", (box.width * k, box.height * k), CANVAS)
    d = ImageDraw.Draw(image)
    card_fill = EMERGENCY_CARD if tile.urgent else CARD
    # A soft shadow under the card, then the card.
    g = GUTTER * k
    d.rounded_rectangle((g, g + 6 * k, box.width * k - g, box.height * k - g + 4 * k), radius=CARD_RADIUS * k,
                        fill=_mix(CANVAS, INK, 0.9))
    d.rounded_rectangle((g, g, box.width * k - g, box.height * k - g), radius=CARD_RADIUS * k, fill=card_fill)
    badge_r = BADGE_DIAMETER * k / 2
    cx, cy = box.width * k / 2, (BADGE_TOP + BADGE_DIAMETER / 2) * k
    d.ellipse((cx - badge_r, cy - badge_r, cx + badge_r, cy + badge_r), fill=tile.tint)
    _ICONS[tile.icon](d, cx, cy, badge_r * 0.56, tile.accent, tile.tint)
    return image.resize((box.width, box.height), Image.Resampling.LANCZOS)


@lru_cache(maxsize=1)
def _background() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), CANVAS)
    for tile, box in zip(TILES, tile_boxes()):
        image.paste(_card(tile, box), (box.x, box.y))
    return image


@dataclass(frozen=True)
class Drawn:
    image: Image.Image
    layouts: dict[str, LabelLayout]
    ink: dict[str, tuple[int, int, int, int]]  # where each label's text is, on the image

    def png(self) -> bytes:
        return to_png(self.image)


def render(labels: Mapping[str, str], language: str) -> Drawn:
    """The menu image for these labels (action → translated label, emoji allowed)."""
    fonts.check_installed(fonts.chain_for(language))
    fonts.check_shaping(language)
    image = _background().copy()
    d = ImageDraw.Draw(image)
    layouts = layout_labels(labels, language)
    setter = LabelSetter(language)
    ink = {}
    for tile, box in zip(TILES, tile_boxes()):
        if tile.action in layouts:
            ink[tile.action] = setter.draw(d, layouts[tile.action], label_box(box), WHITE if tile.urgent else INK)
    return Drawn(image, layouts, ink)


def to_png(image: Image.Image) -> bytes:
    # Flat colours compress well: about 200 KB, far under LINE's 1 MB, so no palette tricks.
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = buf.getvalue()
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"rich menu image is {len(data)} bytes, over LINE's {MAX_IMAGE_BYTES}")
    return data
