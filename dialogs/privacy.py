"""The privacy notice: what is kept, for how long, who sees it; consent given or withdrawn."""

from __future__ import annotations

from dialogs.engine import Context, Dialog, Otherwise, Tap, Turn
from dialogs.menu import main_menu
from dialogs.messages import Action, Buttons, Text


BOOKING_KEEP_DAYS = 30   # bot.bookings.BookingStore's keep_days


def notice(ctx: Context) -> str:
    retention = ctx.services.retention
    return ctx._(
        "個人情報の扱いについて\n"
        "・保存するもの: 選んだ言語、このお知らせへの回答、同意した場合は会話の記録です。\n"
        "・期間: 会話の記録は{transcript_days}日で消します。ブロックすると、設定は{days}日後に消します。"
        "会話の途中の状態は{minutes}分で消えます。\n"
        "・見る人: {city}の担当職員だけです。\n"
        "・職員につないだ会話と、命や安全にかかわるメッセージは、同意がなくても記録して職員が読みます。\n"
        "・「データを削除」と送ると、いつでもすべて消せます。"
    ).format(days=retention.unfollowed_profile_days, minutes=retention.session_idle_minutes,
             transcript_days=retention.transcript_days, city=ctx._(ctx.services.city.name)) + "\n" + "\n".join((
        ctx._("・お知らせに出産予定日や誕生日を登録すると、その日付も保存します。同意をやめると消します。"),
        ctx._("・センターを予約すると、予約とLINEの表示名を、予約の日の{days}日後まで保存します。").format(
            days=BOOKING_KEEP_DAYS),
    ))


def ask_consent(ctx: Context, lead: str | None = None) -> Turn:
    _ = ctx._
    text = notice(ctx)
    replies = []
    if lead:
        replies.append(Text(lead))
    replies.append(Text(text))
    replies.append(Buttons(
        text=_("この内容に同意しますか？"),
        alt_text=_("この内容に同意しますか？"),
        actions=(
            Action(label=_("同意する"), postback=ctx.button("consent.yes"), display_text=_("同意する")),
            Action(label=_("同意しない"), postback=ctx.button("consent.no"), display_text=_("同意しない")),
        ),
    ))
    return Turn(replies=replies, state=DIALOG.state("consent"))


def agree(ctx: Context) -> Turn:
    turn = main_menu(ctx, ctx._("ありがとうございます。"))
    turn.profile["consent"] = True
    return turn


def decline(ctx: Context) -> Turn:
    turn = main_menu(ctx, ctx._(
        "わかりました。選んだ言語だけを保存します。メニューの「個人情報の扱い」から、いつでも同意できます。"
    ))
    turn.profile["consent"] = False
    return turn


def open_privacy(ctx: Context) -> Turn:
    _ = ctx._
    if not ctx.session.consent:
        return ask_consent(ctx)
    withdraw = _("同意をやめる")
    return Turn(
        replies=[Text(notice(ctx), quick_replies=(
            Action(label=withdraw, postback=ctx.button("privacy.withdraw", state=DIALOG.state("shown")),
                   display_text=withdraw),
            Action(label=_("メニュー"), postback=ctx.button("menu"), display_text=_("メニュー")),
        ))],
        state=DIALOG.state("shown"),
    )


def _yes_or_no(ctx: Context, step: str, waiting_in: str, question: str, yes: str,
               alt_text: str | None = None) -> Turn:
    """A card asking to confirm `privacy.<step>`; its buttons work only while waiting for the answer."""
    _ = ctx._
    state = DIALOG.state(waiting_in)
    return Turn(
        replies=[Buttons(
            text=question,
            alt_text=alt_text or question,
            actions=(
                Action(label=yes, postback=ctx.button(f"privacy.{step}.yes", state=state), display_text=yes),
                Action(label=_("いいえ"), postback=ctx.button(f"privacy.{step}.no", state=state),
                       display_text=_("いいえ")),
            ),
        )],
        state=state,
    )


def confirm_withdraw(ctx: Context) -> Turn:
    _ = ctx._
    return _yes_or_no(ctx, "withdraw", "withdrawing", _("同意をやめますか？"), _("はい、やめる"))


def withdraw(ctx: Context) -> Turn:
    turn = main_menu(ctx, ctx._("同意をやめました。選んだ言語だけを保存します。"))
    turn.profile["consent"] = False
    return turn


def keep(ctx: Context) -> Turn:
    return main_menu(ctx, ctx._("同意はそのままです。"))


def confirm_delete(ctx: Context) -> Turn:
    """'Delete my data', in any language: confirmed first, since it cannot be undone."""
    _ = ctx._
    return _yes_or_no(ctx, "delete", "deleting", _("このトークの記録と設定をすべて消します。元にはもどせません。消しますか？"),
                      _("はい、消す"), _("データを削除しますか？"))


def delete(ctx: Context) -> Turn:
    turn = Turn(replies=[Text(ctx._("記録と設定をすべて消しました。また話しかけてくれれば、最初からご案内します。"))])
    turn.forget_user = True
    return turn


def keep_data(ctx: Context) -> Turn:
    return main_menu(ctx, ctx._("何も消していません。"))


def reask(ctx: Context) -> Turn:
    return ask_consent(ctx)


DIALOG = Dialog(
    name="privacy",
    entry=open_privacy,
    states={
        "consent": (Otherwise(reask),),
        "shown": (Tap("privacy.withdraw", confirm_withdraw),),
        "withdrawing": (Tap("privacy.withdraw.yes", withdraw), Tap("privacy.withdraw.no", keep),
                        Otherwise(confirm_withdraw)),
        "deleting": (Tap("privacy.delete.yes", delete), Tap("privacy.delete.no", keep_data),
                     Otherwise(confirm_delete)),
    },
    anytime={"consent.yes": agree, "consent.no": decline, "privacy": open_privacy},
)
