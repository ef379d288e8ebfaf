"""Text normalisation shared by the index and the queries."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


def fold(text: str) -> str:
    """Width, case, katakana→hiragana, spacing: the same words typed differently fold alike."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(KATAKANA_TO_HIRAGANA)
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """'Tiếng Việt' → 'tieng viet', 'vacinação' → 'vacinacao': as people type without diacritics."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


def reading(text: str) -> str:
    """The hiragana reading of Japanese text (kanji included), words separated by spaces."""
    return " ".join(item["hira"] for item in _kakasi().convert(text) if item["hira"].strip())


def has_kana(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" for ch in text)


def has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
