"""Where to reach the city's staff in person."""

from __future__ import annotations

from dialogs.city import Window
from dialogs.engine import Context


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
