"""Talking to a person: where to reach the city's staff, and the numbers for an emergency."""

from __future__ import annotations

from dialogs.city import Window
from dialogs.engine import Context, Turn
from dialogs.menu import menu_buttons
from dialogs.messages import Action, Text


def contact_text(ctx: Context, window: Window) -> str:
    """The window's name and place, with only the contact facts the city has given."""
    _ = ctx._
    lines = [_("{window}（{place}）にご相談ください。").format(window=_(window.name), place=_(window.place))
             if window.place else _("{window}にご相談ください。").format(window=_(window.name))]
    if window.phone:
        lines.append(_("電話: {phone}").format(phone=window.phone))
    if window.hours:
        lines.append(_("受付時間: {hours}").format(hours=_(window.hours)))
    return "\n".join(lines)


def talk_to_person(ctx: Context) -> Turn:
    _ = ctx._
    window = ctx.services.city.main_window
    text = "\n\n".join((
        contact_text(ctx, window),
        _("子どもの命や安全が心配なときは、すぐに電話してください。\n"
          "・事件や危険: 110\n・急な病気やけが: 119\n"
          "・虐待かもと思ったら: 189（無料・24時間・名前を言わなくても大丈夫です）"),
    ))
    calls = (
        Action(label=_("110に電話"), uri="tel:110"),
        Action(label=_("119に電話"), uri="tel:119"),
        Action(label=_("189に電話"), uri="tel:189"),
    )
    phone = (Action(label=_("窓口に電話"), uri=f"tel:{window.phone}"),) if window.phone else ()
    return Turn(replies=[Text(text, quick_replies=phone + calls + menu_buttons(ctx))])
