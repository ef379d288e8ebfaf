"""The fonts the rich menu images are drawn with: Debian's Noto packages, one face per script.

The CJK fonts are .ttc collections (JP, KR, SC, TC… in one file): the face is picked by its
family name, not by a fixed index, so another build of the package still gives the right one.
A character the language's own face lacks (a Japanese label not yet translated, in the English
menu) is drawn with the next face that has it, so no label ever shows a tofu box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont, features

FONT_ROOT = Path("/usr/share/fonts")


class FontsMissing(RuntimeError):
    """A font file is not installed; the message names the Debian package to install."""


@dataclass(frozen=True)
class Face:
    file: str       # file name, looked up anywhere under FONT_ROOT
    family: str     # the face to take from a collection
    package: str    # the Debian package that ships it


LATIN = Face("NotoSans-Bold.ttf", "Noto Sans", "fonts-noto-core")
DEVANAGARI = Face("NotoSansDevanagari-Bold.ttf", "Noto Sans Devanagari", "fonts-noto-core")
CJK_JP = Face("NotoSansCJK-Bold.ttc", "Noto Sans CJK JP", "fonts-noto-cjk")
CJK_SC = Face("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "fonts-noto-cjk")
CJK_KR = Face("NotoSansCJK-Bold.ttc", "Noto Sans CJK KR", "fonts-noto-cjk")
ALL_FACES = (LATIN, DEVANAGARI, CJK_JP, CJK_SC, CJK_KR)

# The language's own face first (its glyph shapes: 骨 differs in JP and SC), then fallbacks.
_CHAINS: dict[str, tuple[Face, ...]] = {
    "ja": (CJK_JP, LATIN),
    "ja-easy": (CJK_JP, LATIN),
    "zh-Hans": (CJK_SC, LATIN, CJK_JP),
    "ko": (CJK_KR, LATIN, CJK_JP),
    "ne": (DEVANAGARI, LATIN, CJK_JP),
}
_LATIN_CHAIN = (LATIN, CJK_JP, DEVANAGARI)


def chain_for(language: str) -> tuple[Face, ...]:
    return _CHAINS.get(language, _LATIN_CHAIN)


def install_hint(faces=ALL_FACES) -> str:
    packages = sorted({face.package for face in faces})
    return "apt-get install -y " + " ".join(packages)


@lru_cache(maxsize=None)
def _path(file: str, root: Path) -> Path | None:
    direct = [root / sub / "noto" / file for sub in ("truetype", "opentype")]
    for candidate in direct:
        if candidate.is_file():
            return candidate
    return next((p for p in root.rglob(file) if p.is_file()), None) if root.is_dir() else None


def check_installed(faces=ALL_FACES, root: Path | None = None) -> None:
    """Raise FontsMissing naming every missing file and its package."""
    root = root or FONT_ROOT
    by_file = {face.file: face for face in faces}  # the CJK faces share one file
    missing = [face for face in by_file.values() if _path(face.file, root) is None]
    if missing:
        names = ", ".join(f"{face.file} ({face.package})" for face in missing)
        raise FontsMissing(f"rich menu fonts not found under {root}: {names}. "
                           f"Install them with: {install_hint(missing)}")


@lru_cache(maxsize=None)
def _face_index(path: Path, family: str) -> int:
    for index in range(32):
        try:
            name = ImageFont.truetype(str(path), 12, index=index).getname()[0]
        except OSError:  # past the last face of the collection
            break
        if name == family:
            return index
    raise FontsMissing(f"{path} has no face {family!r}; reinstall its package")


def _layout_engine() -> ImageFont.Layout:
    # Devanagari needs shaping (conjuncts, the vowel sign ि before its consonant): raqm does it.
    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@lru_cache(maxsize=256)
def font(face: Face, size: int, root: Path | None = None) -> ImageFont.FreeTypeFont:
    root = root or FONT_ROOT
    path = _path(face.file, root)
    if path is None:
        check_installed((face,), root)
    index = _face_index(path, face.family) if path.suffix == ".ttc" else 0
    return ImageFont.truetype(str(path), size, index=index, layout_engine=_layout_engine())


def shapes_complex_scripts() -> bool:
    return features.check("raqm")


# Scripts whose letters change shape and order with their neighbours: unshaped, they are wrong.
NEEDS_SHAPING = frozenset({"ne"})


def check_shaping(language: str) -> None:
    """Pillow's wheels shape text with raqm, which needs the system's FriBiDi library."""
    if language in NEEDS_SHAPING and not shapes_complex_scripts():
        raise FontsMissing(f"drawing {language} needs Pillow's raqm text layout, which loads libfribidi: "
                           "apt-get install -y libfribidi0")


_PROBE_SIZE = 48
_NOT_A_CHARACTER = "\U0010fffd"  # private use, in no font: what the face draws for a missing glyph


@lru_cache(maxsize=None)
def _notdef(face: Face) -> bytes:
    mask = font(face, _PROBE_SIZE).getmask(_NOT_A_CHARACTER)
    return bytes(mask) + repr(mask.size).encode()


@lru_cache(maxsize=None)
def covers(face: Face, char: str) -> bool:
    """Whether the face has a glyph for the character (it does not draw its .notdef box)."""
    if char.isspace() or _is_joiner(char):
        return True
    mask = font(face, _PROBE_SIZE).getmask(char)
    return bytes(mask) + repr(mask.size).encode() != _notdef(face)


def _is_joiner(char: str) -> bool:
    return char in "\u200c\u200d\ufe0e\ufe0f"


def face_for(char: str, chain: tuple[Face, ...]) -> Face | None:
    return next((face for face in chain if covers(face, char)), None)


def runs(text: str, chain: tuple[Face, ...]) -> list[tuple[Face, str]]:
    """The text cut where the face changes. Spaces, marks and joiners stay with the run they are
    in, so that a run is shaped whole (a Devanagari vowel sign with its consonant)."""
    out: list[tuple[Face, str]] = []
    for char in text:
        face = None
        if out and (char.isspace() or _is_joiner(char) or covers(out[-1][0], char) and _joins(char)):
            face = out[-1][0]
        if face is None:
            face = face_for(char, chain) or chain[0]
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


def _joins(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def missing(text: str, language: str) -> list[str]:
    """The characters of `text` that no face of the language's chain can draw (tofu)."""
    chain = chain_for(language)
    return [char for char in dict.fromkeys(text) if face_for(char, chain) is None]
