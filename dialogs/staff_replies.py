"""What staff send from the console, in the parent's language.

Canned replies are common answers already translated in every catalog, so a staff member who
reads only Japanese can answer a Vietnamese parent correctly. Free text goes out as typed, with a
line in the parent's language saying it was written in Japanese. A booking cancelled by staff
says why, from a short list of reasons that are translated too.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.engine import Context, N_
from dialogs.messages import Text


@dataclass(frozen=True)
class CannedReply:
    id: str
    text: str       # Japanese source; {window} is the city's main window


CANNED_REPLIES: tuple[CannedReply, ...] = (
    CannedReply("greeting", N_("市の担当者です。メッセージを読みました。このトークでお返事します。")),
    CannedReply("thanks", N_("話してくださって、ありがとうございます。ひとりで抱えなくて大丈夫です。一緒に考えましょう。")),
    CannedReply("checking", N_("確認してからお返事します。少しお待ちください。")),
    CannedReply("more", N_("よろしければ、もう少しくわしく教えてください。")),
    CannedReply("child_age", N_("お子さんは何歳（何か月）ですか。")),
    CannedReply("safe_now", N_("今、あなたとお子さんは安全な場所にいますか。")),
    CannedReply("call_119", N_("命の危険があるときや、大きなけがをしているときは、すぐに119番に電話してください。")),
    CannedReply("call_110", N_("危険を感じたら、すぐに110番に電話してください。")),
    CannedReply("ways", N_("電話や面談、家庭訪問で相談することもできます。どの方法がよいか教えてください。")),
    CannedReply("window", N_("くわしいことは、{window}で相談できます。")),
    CannedReply("next_day", N_("今日の受付は終わりました。次の開庁日にお返事します。")),
    CannedReply("anytime", N_("また困ったときは、いつでもこのトークに送ってください。")),
)

BY_ID = {reply.id: reply for reply in CANNED_REPLIES}

# Why staff cancelled a booking or closed a time; "center" is the default.
CANCEL_REASONS: dict[str, str] = {
    "center": N_("センターの都合で、次の予約が取り消しになりました。"),
    "weather": N_("警報などの天候のため、次の予約が取り消しになりました。"),
    "illness": N_("感染症を防ぐため、次の予約が取り消しになりました。"),
}

WRITTEN_IN_JAPANESE = N_("（市の職員が日本語で書いたメッセージです）")


def canned_text(ctx: Context, reply: CannedReply) -> str:
    _ = ctx._
    return _(reply.text).format(window=_(ctx.services.city.windows[0].name))


def canned(ctx: Context, reply: CannedReply) -> list[Text]:
    return [Text(canned_text(ctx, reply))]


def typed(ctx: Context, text: str) -> list[Text]:
    """Staff's own words: as typed, under a note when the parent reads another language."""
    if ctx.language in ("ja", "ja-easy"):
        return [Text(text)]
    return [Text(f"{ctx._(WRITTEN_IN_JAPANESE)}\n{text}")]


def cancel_reason(ctx: Context, reason: str) -> str:
    return ctx._(CANCEL_REASONS.get(reason, CANCEL_REASONS["center"]))
