"""The conversations. Nothing here imports Flask, redis or the LINE SDK."""

from __future__ import annotations

from dialogs import booking, booking_mine, faq, handoff, journey, language, menu, privacy, safety, small_talk
from dialogs.engine import N_, Command, Context, Router, Turn


def greet(ctx: Context) -> Turn:
    """A new (or returning) follower: hello in their LINE language, then the language choice."""
    lead = ctx._("{bot}です。友だち追加ありがとうございます。子育ての相談や手続きのご案内をします。").format(
        bot=ctx._(ctx.services.city.bot_name))
    return language.ask_language(ctx, lead=lead)


def idle(ctx: Context) -> Turn:
    """A message outside any conversation: a typed question gets looked up in the FAQ."""
    if ctx.inbound.kind == "text":
        if booking.wants_booking(ctx):
            return booking.start(ctx)
        if booking.wants_own_bookings(ctx):
            return booking_mine.show(ctx)
        return small_talk.reply(ctx) or faq.answer(ctx)
    return menu.idle(ctx)


COMMANDS = (
    Command("menu", N_("メニュー|めにゅー|menu|もどる|最初から"), menu.show_menu),
    Command("language", N_("言語|げんご|language|言葉|ことば"), language.open_language),
    Command("person", N_("人と話したい|ひとと話したい|担当者|相談員|職員と話したい|talk to a person"),
            handoff.talk_to_person, within=True),
    Command("delete", N_("データを削除|データを消して|わたしのデータを消して|記録を消して|delete my data"),
            privacy.confirm_delete),
    Command("cancel", N_("キャンセル|きゃんせる|やめる|中止|cancel|stop"), menu.cancel),
)


def build_router() -> Router:
    return Router(
        dialogs=(language.DIALOG, privacy.DIALOG, faq.DIALOG, handoff.DIALOG, booking.DIALOG, safety.DIALOG,
                 journey.DIALOG),
        commands=COMMANDS,
        on_follow=greet,
        idle=idle,
        expired=menu.expired,
    )
