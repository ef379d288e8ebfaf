"""Handing the conversation to city staff, and back.

A request (from the menu, in words, or after the FAQ failed twice) puts the conversation in the
staff queue; from then on the bot stays silent until staff release it, except for safety
replies. The user is told once, with an honest idea of when a person will read it, and can take
back a request nobody has picked up yet.
"""

from __future__ import annotations

from dialogs import safety
from dialogs.engine import Context, Dialog, HandoffRequest, Turn
from dialogs.menu import main_menu, menu_buttons
from dialogs.messages import Action, Text
from dialogs.person import contact_text

BACK_TO_BOT = "handoff.back"


def back_button(ctx: Context) -> Action:
    label = ctx._("ボットにもどる")
    return Action(label=label, postback=ctx.button(BACK_TO_BOT), display_text=label)


def emergency_calls(ctx: Context) -> tuple[Action, ...]:
    _ = ctx._
    return (Action(label=_("110に電話"), uri="tel:110"), Action(label=_("119に電話"), uri="tel:119"),
            Action(label=_("189に電話"), uri="tel:189"))


def _waiting_text(ctx: Context) -> str:
    return ctx._("ここに書いたメッセージは、職員が読みます。職員が返事をするまで、ボットは答えません。")


def talk_to_person(ctx: Context) -> Turn:
    """'Talk to a person', from the menu or in words."""
    _ = ctx._
    text = "\n\n".join((
        _("担当の職員につなぎます。相談したいことを、このトークに書いてください。") + "\n"
        + safety.when_staff_read(ctx, urgent_numbers=False),
        _waiting_text(ctx),
        contact_text(ctx, ctx.services.city.main_window),
    ))
    window = ctx.services.city.main_window
    call_window = (Action(label=_("窓口に電話"), uri=f"tel:{window.phone}"),) if window.phone else ()
    return Turn(replies=[Text(text, quick_replies=(back_button(ctx), *call_window, *emergency_calls(ctx)))],
                handoff=HandoffRequest("asked"))


def faq_failed(ctx: Context, lead: str) -> Turn:
    """The second question in a row the FAQ could not answer: a person takes over."""
    _ = ctx._
    text = "\n\n".join((
        lead,
        _("担当の職員に、この質問を伝えました。") + "\n" + safety.when_staff_read(ctx, urgent_numbers=False),
        _waiting_text(ctx),
    ))
    return Turn(replies=[Text(text, quick_replies=(back_button(ctx), *emergency_calls(ctx)))],
                handoff=HandoffRequest("faq_failed"))


def waiting_notice(ctx: Context, *, can_withdraw: bool) -> Turn:
    """Told once while the conversation is with staff: a person will answer."""
    _ = ctx._
    text = _("メッセージを受け取りました。担当の職員が返事をします。") + "\n" \
        + safety.when_staff_read(ctx, urgent_numbers=False)
    quick = (back_button(ctx),) if can_withdraw else ()
    return Turn(replies=[Text(text, quick_replies=quick + emergency_calls(ctx))])


def withdraw(ctx: Context) -> Turn:
    turn = main_menu(ctx, ctx._("職員への相談の依頼を取り消しました。ボットがお答えします。"))
    turn.withdraw_handoff = True
    return turn


def cannot_withdraw(ctx: Context) -> Turn:
    """A staff member already has the conversation (or it concerns safety): it stays with them."""
    _ = ctx._
    return Turn(replies=[Text(_("担当の職員がこの相談を受け持っています。職員の返事を待ってください。"),
                              quick_replies=emergency_calls(ctx))])


def released(ctx: Context) -> Turn:
    """Pushed when staff hand the conversation back."""
    return Turn(replies=[Text(ctx._("職員との相談が終わりました。ここからはまたボットがお答えします。"),
                              quick_replies=menu_buttons(ctx))])


DIALOG = Dialog(name="handoff", entry=talk_to_person, anytime={BACK_TO_BOT: withdraw})
