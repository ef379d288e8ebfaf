"""The main menu, and the replies that lead back to it: cancel, expired buttons, idle text."""

from __future__ import annotations

from dialogs.engine import N_, Context, Turn
from dialogs.messages import Action, Text

# (action, label): the global commands and anytime actions the menu offers, in order.
ENTRIES: tuple[tuple[str, str], ...] = (
    ("faq.browse", N_("よくある質問")),
    ("person", N_("人と話したい")),
    ("booking", N_("センターの予約")),
    ("journey", N_("お知らせの登録")),
    ("privacy", N_("個人情報の扱い")),
    ("safety.numbers", N_("緊急の電話番号")),
    ("language", N_("🌐 言語 Language")),
)


# The rich menu's bar at the bottom of the chat (LINE allows 14 characters).
CHAT_BAR = N_("メニュー")


def menu_buttons(ctx: Context) -> tuple[Action, ...]:
    _ = ctx._
    return tuple(
        Action(label=_(label), postback=ctx.button(action), display_text=_(label))
        for action, label in ENTRIES
    )


def main_menu(ctx: Context, lead: str | None = None) -> Turn:
    _ = ctx._
    text = _("メニューです。下のボタンから選ぶか、知りたいことを文章で送ってください。")
    if lead:
        text = f"{lead}\n\n{text}"
    return Turn(replies=[Text(text, quick_replies=menu_buttons(ctx))])


def show_menu(ctx: Context) -> Turn:
    return main_menu(ctx)


def cancel(ctx: Context) -> Turn:
    if ctx.session.state:
        return main_menu(ctx, ctx._("中止しました。"))
    return main_menu(ctx, ctx._("中止するものはありません。"))


def expired(ctx: Context) -> Turn:
    return main_menu(ctx, ctx._("このボタンは古くなったため使えません。もう一度メニューから選んでください。"))


def idle(ctx: Context) -> Turn:
    """Typed text or a sticker outside any conversation."""
    return main_menu(ctx, ctx._("ごめんなさい、そのメッセージには答えられませんでした。"))
