"""The ten languages the bot speaks, and how LINE's language tags map onto them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str          # what the profile stores and the catalogs are named by
    native_name: str   # shown on the language buttons, always in its own script
    babel_locale: str  # for dates and numbers


LANGUAGES: tuple[Language, ...] = (
    Language("ja", "日本語", "ja"),
    Language("ja-easy", "やさしい にほんご", "ja"),
    Language("en", "English", "en"),
    Language("zh-Hans", "中文(简体)", "zh_Hans_CN"),
    Language("ko", "한국어", "ko"),
    Language("vi", "Tiếng Việt", "vi"),
    Language("fil", "Filipino", "fil"),
    Language("pt-BR", "Português", "pt_BR"),
    Language("es", "Español", "es"),
    Language("ne", "नेपाली", "ne"),
)

BY_CODE = {language.code: language for language in LANGUAGES}
SOURCE = "ja"

# LINE profile `language` values (BCP 47) that are not one of our codes verbatim.
_LINE_TAGS = {
    "zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-hans": "zh-Hans", "zh-sg": "zh-Hans",
    # A reader of Traditional Chinese is better served by Simplified than by Japanese.
    "zh-tw": "zh-Hans", "zh-hant": "zh-Hans", "zh-hk": "zh-Hans",
    "tl": "fil", "fil": "fil",
    "pt": "pt-BR", "pt-br": "pt-BR", "pt-pt": "pt-BR",
}


def from_line_tag(tag: str | None) -> str:
    """The language to greet a new follower in, from LINE's profile; Japanese when unknown."""
    if not tag:
        return SOURCE
    tag = tag.strip().lower().replace("_", "-")
    if tag in _LINE_TAGS:
        return _LINE_TAGS[tag]
    base = tag.split("-")[0]
    for language in LANGUAGES:
        if language.code.lower() == tag or language.code.lower() == base:
            return language.code
    return _LINE_TAGS.get(base, SOURCE)


def is_supported(code: str | None) -> bool:
    return code in BY_CODE
