"""The answers service the dialogs use: the matcher's ranking plus the message's language."""

from __future__ import annotations

from bot.faq.language import LanguageDetector
from bot.faq.matcher import FaqMatcher, Ranking
from dialogs.faq import Found

CLEAR_LANGUAGE = 0.80   # detector confidence above which a message is "clearly" in a language
MIN_LETTERS = 4          # a word or two of Latin script is too little to switch languages on


class Answers:
    def __init__(self, matcher: FaqMatcher, detector: LanguageDetector | None = None):
        self.matcher = matcher
        self.detector = detector or LanguageDetector()

    def language_of(self, text: str) -> str | None:
        detected = self.detector.detect(text)
        letters = sum(ch.isalpha() for ch in text)
        if detected.language and detected.confidence >= CLEAR_LANGUAGE and letters >= MIN_LETTERS:
            return detected.language
        return None

    def rank(self, text: str) -> Ranking:
        return self.matcher.rank(text)

    def find(self, text: str) -> Found:
        ranking = self.matcher.rank(text)
        return Found(verdict=ranking.verdict, entry_ids=tuple(c.entry_id for c in ranking.candidates),
                     language=self.language_of(text))
