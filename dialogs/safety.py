"""Safety replies: what to do right now, for a message a bot must not handle alone.

Sent for every risk message, whatever the conversation's state and even while staff hold the
chat. The numbers are tappable; when staff will read the message is said honestly.
"""

from __future__ import annotations

from dialogs.engine import N_, Context, Dialog, Turn
from dialogs.menu import menu_buttons
from dialogs.messages import Action, Buttons, Text

# label, tel: URI ('#' must be escaped in a URI)
CALLS = {
    "110": (N_("110に電話（警察）"), "tel:110"),
    "119": (N_("119に電話（救急）"), "tel:119"),
    "189": (N_("189に電話（児童相談所）"), "tel:189"),
    "8000": (N_("#8000に電話（子どもの医療相談）"), "tel:%238000"),
}

NUMBERS = {
    "child_danger": ("119", "8000"),
    "abuse": ("110", "189"),
    "self_harm": ("119",),
    "harm_child": ("189", "119"),
    "dv": ("110",),
    "postpartum": ("119",),
}

ADVICE = {
    "child_danger": N_(
        "お子さんの命にかかわるときは、すぐに119に電話して救急車を呼んでください。"
        "息をしていない、意識がない、けいれんが止まらないときは、迷わず119です。\n"
        "病院に行くか迷うときは、#8000（子どもの医療電話相談）に相談できます。"),
    "abuse": N_(
        "子どもが今危ない目にあっているときは、すぐに110に電話してください。\n"
        "虐待かもしれないと思ったら、189（児童相談所）に電話できます。"
        "無料で24時間つながり、名前を言わなくても大丈夫です。相談した人の秘密は守られます。"),
    "self_harm": N_(
        "話してくれてありがとうございます。あなたのことがとても大切です。"
        "ひとりで抱えないでください。\n"
        "今すぐ危ないと感じるときは、119に電話してください。"),
    "harm_child": N_(
        "話してくれてありがとうございます。そう感じるほど疲れているのだと思います。\n"
        "まず赤ちゃんをベビーベッドなど安全な場所に寝かせて、少し離れて深呼吸してください。"
        "赤ちゃんを強く揺さぶるのは危険です。\n"
        "189（児童相談所）にも24時間相談できます。"),
    "dv": N_(
        "あなたの安全がいちばん大切です。今危ないときは、すぐに110に電話してください。\n"
        "安全な場所から連絡してください。このトークの画面を見られないように気をつけてください。"),
    "postpartum": N_(
        "出産のあと、気持ちが落ち込んだり涙が止まらなくなったりするのは、めずらしいことではありません。"
        "ひとりでがまんしないでください。保健師に相談できます。\n"
        "今すぐ危ないと感じるときは、119に電話してください。"),
}


def when_staff_read(ctx: Context, *, urgent_numbers: bool = True) -> str:
    """When a person will read this, honestly: now, at the next opening, or 'as soon as we can'."""
    _ = ctx._
    available = ctx.services.availability()
    if available.known and available.open_now:
        return _("市の担当の職員が、このあと読みます。")
    hurry = _("急ぐときは、上の番号に電話してください。") if urgent_numbers else _(
        "命や安全にかかわるときは、110か119に電話してください。")
    if available.known and available.next_open is not None:
        when = ctx.services.format_when(available.next_open, ctx.language)
        return _("今は受付時間外です。市の担当の職員が読むのは{when}からです。").format(when=when) + "\n" + hurry
    return _("市の担当の職員が読みますが、すぐには返事ができないことがあります。") + "\n" + hurry


def call_actions(ctx: Context, category: str) -> tuple[Action, ...]:
    _ = ctx._
    actions = [Action(label=_(CALLS[n][0]), uri=CALLS[n][1]) for n in NUMBERS.get(category, ())]
    for line in ctx.services.city.safety_lines:
        if line.category == category and line.phone:
            actions.append(Action(label=_(line.label), uri=f"tel:{line.phone}"))
    window = ctx.services.city.main_window
    if window.phone:
        actions.append(Action(label=_("窓口に電話"), uri=f"tel:{window.phone}"))
    return tuple(actions[:4])


def reply(ctx: Context, category: str) -> Turn:
    """The safety reply for a risk category; the caller puts the conversation in the queue."""
    _ = ctx._
    text = "\n\n".join((_(ADVICE[category]), _("このメッセージは市の担当の職員に伝えました。") + "\n"
                        + when_staff_read(ctx)))
    replies = [Text(text)]
    actions = call_actions(ctx, category)
    if actions:
        replies.append(Buttons(text=_("タップすると電話がかかります。"), alt_text=_("電話をかける"), actions=actions))
    return Turn(replies=replies)


EMERGENCY_LABEL = N_("緊急の電話番号")


def emergency_numbers(ctx: Context) -> Turn:
    """The numbers to call in an emergency, from the rich menu or the main menu: one tap each."""
    _ = ctx._
    lead = _("緊急のときの電話番号です。押すと電話がかかります。")
    calls = tuple(Action(label=_(CALLS[n][0]), uri=CALLS[n][1]) for n in ("119", "8000", "110", "189"))
    replies: list = [Buttons(text=lead, alt_text=lead, actions=calls)]
    city_lines = []
    for line in ctx.services.city.safety_lines:
        entry = f"{_(line.label)}: {line.phone}"
        if entry not in city_lines:
            city_lines.append(entry)
    replies.append(Text("\n".join(city_lines) if city_lines else _(
        "命や安全にかかわるときは、ためらわずに電話してください。"), quick_replies=menu_buttons(ctx)))
    return Turn(replies=replies)


DIALOG = Dialog(name="safety", entry=emergency_numbers, anytime={"safety.numbers": emergency_numbers})
