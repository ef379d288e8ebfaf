"""Hello, thank you, "ok", goodbye, and a lone emoji, typed outside any conversation.

They get a kind word and the menu (goodbye, a goodbye alone), never an FAQ lookup: "こんにちは" alone would find the newborn
visit (こんにちは赤ちゃん), and "ありがとう" would count as a question the bot could not answer,
two of which in a row hand the chat to staff.
"""

from __future__ import annotations

from dialogs.engine import N_, Context, Turn, normalize, phrases_of
from dialogs.menu import main_menu
from dialogs.messages import Text

# Each translation is a list of phrases separated by "|". A message is small talk when it is made
# of these phrases only, in any language ("ok thank you", "네 알겠습니다"), once case, width,
# spaces and punctuation are folded away.
GREETINGS = N_("こんにちは|こんばんは|おはよう|おはようございます|はじめまして|よろしく|よろしくお願いします|"
               "よろしくお願いいたします|お疲れ様です|すみません|質問があります|質問です|質問してもいいですか|hello|hi")
THANKS = N_("ありがとう|ありがとうございます|ありがとうございました|どうもありがとう|助かりました|助かります|"
            "感謝します|thanks|thank you")
OKAY = N_("わかりました|分かりました|了解|了解です|了解しました|承知しました|はい|はーい|うん|ok|オッケー|"
          "大丈夫です|どうも")
FAREWELLS = N_("さようなら|おやすみ|おやすみなさい|またね|また今度|失礼します|bye|good night")

# The earliest kind here that a message contains decides the answer: "ok, thank you" is thanked,
# "thanks, bye" gets a goodbye.
KINDS = (
    (FAREWELLS, N_("またいつでもメッセージを送ってください。")),
    (THANKS, N_("どういたしまして。ほかにも知りたいことがあれば、いつでもどうぞ。")),
    (GREETINGS, N_("メッセージありがとうございます。子育てのことなら、なんでも聞いてください。")),
    (OKAY, None),
)
LONGEST = 40  # characters, folded: small talk is short


def _kinds_said(said: str, phrases: list[frozenset[str]]) -> set[int] | None:
    """Which kinds of phrase `said` is made of, or None when something else is in it."""
    longest = max((len(p) for kind in phrases for p in kind), default=0)
    # best[i]: the kinds used to cover said[:i] with phrases, or None when it cannot be covered.
    best: list[frozenset[int] | None] = [frozenset()] + [None] * len(said)
    for end in range(1, len(said) + 1):
        for start in range(max(0, end - longest), end):
            if best[start] is None:
                continue
            piece = said[start:end]
            for kind, keys in enumerate(phrases):
                if piece in keys:
                    best[end] = best[start] | {kind}
                    break
            if best[end] is not None:
                break
    return set(best[-1]) if best[-1] is not None else None


def reply(ctx: Context) -> Turn | None:
    """The answer to small talk, or None for a message that says something."""
    said = normalize(ctx.inbound.text)
    if not said:  # only emoji, symbols or punctuation: nothing to look up
        return main_menu(ctx)
    if len(said) > LONGEST:
        return None
    kinds = _kinds_said(said, [phrases_of(ctx, words) for words, _ in KINDS])
    if not kinds:
        return None
    words, lead = KINDS[min(kinds)]
    if words == FAREWELLS:  # no menu for someone saying goodbye
        return Turn(replies=[Text(ctx._(lead))])
    return main_menu(ctx, ctx._(lead) if lead else None)
