"""Answers from the city's FAQ: typed questions in any language, or browsing by topic."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dialogs import handoff
from dialogs.city import FaqEntry
from dialogs.engine import Context, Dialog, Turn
from dialogs.languages import BY_CODE
from dialogs.menu import main_menu, menu_buttons
from dialogs.messages import Action, Text
from dialogs.person import contact_text

MAX_LISTED = 12  # quick replies: leave room for "menu"
MISSES_BEFORE_HANDOFF = 2  # questions in a row the FAQ could not answer before a person takes over


@dataclass(frozen=True)
class Found:
    """What the answers service made of a message."""

    verdict: str                     # answer | choose | none
    entry_ids: tuple[str, ...] = ()  # best first
    language: str | None = None      # the message's language, when it is clear


def entry_button(ctx: Context, entry: FaqEntry) -> Action:
    label = ctx._(entry.label)
    return Action(label=label, postback=ctx.button("faq.show", entry.id), display_text=label)


def answer_text(ctx: Context, entry: FaqEntry) -> str:
    _ = ctx._
    parts = [f"【{_(entry.question)}】", _(entry.answer)]
    if entry.window:
        parts.append(contact_text(ctx, ctx.services.city.window(entry.window)))
    return "\n\n".join(parts)


def show_entry(ctx: Context, entry: FaqEntry, lead: Text | None = None) -> Turn:
    city = ctx.services.city
    related = [city.entry(r) for r in entry.related]
    buttons = tuple(entry_button(ctx, r) for r in related if r is not None)[:MAX_LISTED - 4]
    replies = [lead] if lead else []
    replies.append(Text(answer_text(ctx, entry), quick_replies=buttons + menu_buttons(ctx)))
    return Turn(replies=replies, referral=entry.id if entry.follow_up and entry.window else "")


def show(ctx: Context) -> Turn:
    args = ctx.inbound.postback.args if ctx.inbound.postback else ()
    entry = ctx.services.city.entry(args[0]) if args else None
    if entry is None:  # an entry the city has since removed
        return main_menu(ctx, ctx._("このボタンは古くなったため使えません。もう一度メニューから選んでください。"))
    return show_entry(ctx, entry)


def browse(ctx: Context) -> Turn:
    _ = ctx._
    buttons = tuple(
        Action(label=_(c.title), postback=ctx.button("faq.topic", c.id), display_text=_(c.title))
        for c in ctx.services.city.categories
    )[:MAX_LISTED]
    menu = _("メニュー")
    return Turn(replies=[Text(_("知りたいことを選んでください。質問を文章で送ることもできます。"),
                              quick_replies=buttons + (Action(label=menu, postback=ctx.button("menu"),
                                                              display_text=menu),))])


def topic(ctx: Context) -> Turn:
    _ = ctx._
    args = ctx.inbound.postback.args if ctx.inbound.postback else ()
    city = ctx.services.city
    category = next((c for c in city.categories if args and c.id == args[0]), None)
    if category is None:
        return browse(ctx)
    entries = city.entries_in(category.id)[:MAX_LISTED]
    lines = [_("「{topic}」の質問です。").format(topic=_(category.title))]
    lines += [f"・{_(entry.question)}" for entry in entries]
    back = _("ほかの話題")
    return Turn(replies=[Text("\n".join(lines), quick_replies=tuple(entry_button(ctx, e) for e in entries) + (
        Action(label=back, postback=ctx.button("faq.browse"), display_text=back),))])


def switch_offer(ctx: Context, language: str) -> Action:
    name = BY_CODE[language].native_name
    return Action(label=name, postback=ctx.button("lang.set", language), display_text=name)


def answer(ctx: Context) -> Turn:
    """Typed text outside any other conversation: look for the answer."""
    found: Found = ctx.services.answers.find(ctx.inbound.text)
    city = ctx.services.city
    # The user's chosen language wins, unless the message is clearly in another one we speak.
    switched = found.language and found.language in BY_CODE and found.language != ctx.language \
        and not (found.language == "ja" and ctx.language == "ja-easy")
    if switched:
        ctx = ctx.in_language(found.language)
    _ = ctx._
    entries = [e for e in (city.entry(i) for i in found.entry_ids) if e is not None]
    if found.verdict == "answer" and entries:
        turn = show_entry(ctx, entries[0])
    elif found.verdict == "choose" and entries:
        lines = [_("お探しの答えはこの中にありますか？")] + [f"・{_(e.question)}" for e in entries[:3]]
        person = _("人と話したい")
        turn = Turn(replies=[Text("\n".join(lines), quick_replies=tuple(entry_button(ctx, e) for e in entries[:3]) + (
            Action(label=person, postback=ctx.button("person"), display_text=person),
            *menu_buttons(ctx)[2:]))])
    elif int(ctx.session.data.get("faq_misses", 0)) + 1 >= MISSES_BEFORE_HANDOFF:
        turn = handoff.faq_failed(ctx, _("ごめんなさい、今度も答えが見つかりませんでした。"))
    else:
        topics = _("よくある質問")
        person = _("人と話したい")
        turn = Turn(replies=[Text(
            _("ごめんなさい、その質問の答えが見つかりませんでした。話題から選ぶか、担当の職員に相談してください。"),
            quick_replies=(Action(label=topics, postback=ctx.button("faq.browse"), display_text=topics),
                           Action(label=person, postback=ctx.button("person"), display_text=person),
                           *menu_buttons(ctx)[2:]))])
        # Kept across turns (saved with the idle state) so two misses in a row hand over.
        turn.data["faq_misses"] = int(ctx.session.data.get("faq_misses", 0)) + 1
    if switched:
        # Offer to keep this language, on the last message so that its buttons stay visible.
        offer = _("{language}で話しますか？").format(language=BY_CODE[found.language].native_name)
        last = turn.replies[-1]
        turn.replies[-1] = replace(last, text=f"{last.text}\n\n{offer}",
                                   quick_replies=(switch_offer(ctx, found.language), *last.quick_replies)[:13])
    return turn


DIALOG = Dialog(
    name="faq",
    entry=browse,
    anytime={"faq.show": show, "faq.browse": browse, "faq.topic": topic},
)
