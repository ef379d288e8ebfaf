"""Hello, thank you, and a lone emoji, typed outside any conversation.

They get a kind word and the menu, never an FAQ lookup: "こんにちは" alone would find the newborn
visit (こんにちは赤ちゃん), and "ありがとう" would count as a question the bot could not answer,
two of which in a row hand the chat to staff.
"""

from __future__ import annotations

from dialogs.engine import N_, Context, Turn, normalize
from dialogs.menu import main_menu

# Whole messages only (after folding case, width, spaces and punctuation), in every language;
# each translation is a list of phrases separated by "|".
GREETINGS = N_("こんにちは|こんばんは|おはよう|おはようございます|はじめまして|よろしく|よろしくお願いします|hello|hi")
THANKS = N_("ありがとう|ありがとうございます|ありがとうございました|どうも|どうもありがとう|助かりました|"
            "わかりました|分かりました|了解|了解です|了解しました|承知しました|はい|ok|thanks|thank you")

REPLIES = (
    (GREETINGS, N_("こんにちは。子育てのことなら、なんでも聞いてください。")),
    (THANKS, N_("どういたしまして。ほかにも知りたいことがあれば、いつでもどうぞ。")),
)


def _said_in_any_language(ctx: Context, words: str, said: str) -> bool:
    return any(said == normalize(phrase)
               for translation in (words, *ctx.services.translations_of(words))
               for phrase in translation.split("|"))


def reply(ctx: Context) -> Turn | None:
    """The answer to small talk, or None for a message that says something."""
    said = normalize(ctx.inbound.text)
    if not said:  # only emoji, symbols or punctuation: nothing to look up
        return main_menu(ctx)
    for words, answer in REPLIES:
        if _said_in_any_language(ctx, words, said):
            return main_menu(ctx, ctx._(answer))
    return None
