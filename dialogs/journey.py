"""Journey messages: a parent registers a due date or a child's birthday (several children) and
hears from the city at the right moments; one tap stops them. And the referral follow-up: a few
days after the bot pointed a parent to a window, it asks whether they got through; "not yet"
puts the conversation in front of staff.

Every button works from any state (the messages arrive by push, days later).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from dialogs import handoff
from dialogs.booking_view import new_booking_button
from dialogs.engine import N_, Context, Dialog, HandoffRequest, Turn
from dialogs.faq import entry_button
from dialogs.families import BIRTH, DUE, Child, Milestone, allowed_days
from dialogs.menu import main_menu, menu_buttons
from dialogs.messages import Action, Buttons, Message, Text

MENU_LABEL = N_("お知らせの登録")


def service(ctx: Context):
    return ctx.services.journeys


def _button(ctx: Context, label: str, action: str, *args: str) -> Action:
    return Action(label=label, postback=ctx.button(action, *args), display_text=label)


def _picker(ctx: Context, kind: str) -> Action:
    today = service(ctx).today()
    allowed = allowed_days(kind, today)
    if kind == DUE:
        label, initial = ctx._("出産予定日を登録"), min(today + timedelta(days=180), allowed.last)
    else:
        label, initial = ctx._("誕生日を登録"), today
    return Action(label=label, postback=ctx.button(f"journey.{kind}"),
                  date_picker=(initial.isoformat(), allowed.first.isoformat(), allowed.last.isoformat()))


def stop_button(ctx: Context) -> Action:
    return _button(ctx, ctx._("お知らせを止める"), "journey.stop")


def _describe(ctx: Context, child: Child) -> str:
    day = service(ctx).format_day(child.day, ctx.language)
    return (ctx._("出産予定日: {day}") if child.kind == DUE else ctx._("誕生日: {day}")).format(day=day)


def show(ctx: Context, lead: str | None = None) -> Turn:
    _ = ctx._
    svc = service(ctx)
    if svc is None or not svc.plan.milestones:
        return main_menu(ctx, _("ごめんなさい。今はお知らせの登録ができません。"))
    if ctx.session.consent is not True:
        text = _("お知らせを送るには、日付を記録するため、個人情報の扱いへの同意が必要です。")
        return Turn(replies=[Buttons(text=text, alt_text=text, actions=(
            _button(ctx, _("個人情報の扱い"), "privacy"),)), Text(_("メニューに戻ります。"), quick_replies=menu_buttons(ctx))])
    children = svc.children(ctx.session.user_id)
    lines = [lead] if lead else []
    lines.append(_("妊娠・出産・子育ての時期に合わせて、市からのお知らせを送ります（1日に1回まで）。"))
    if children:
        lines.append(_("登録している日:"))
        lines += [f"{n}. {_describe(ctx, child)}" for n, child in enumerate(children, 1)]
    if svc.stopped(ctx.session.user_id):
        lines.append(_("今は、お知らせを止めています。"))
    quick = [_button(ctx, _("{number}番を削除").format(number=n), "journey.remove", child.id)
             for n, child in enumerate(children, 1)]
    quick.append(_button(ctx, _("お知らせを再開"), "journey.resume") if svc.stopped(ctx.session.user_id) else stop_button(ctx))
    prompt = _("登録する日を選んでください。")
    return Turn(replies=[
        Text("\n".join(lines)),
        Buttons(text=prompt, alt_text=prompt, actions=(_picker(ctx, DUE), _picker(ctx, BIRTH)),
                quick_replies=tuple(quick) + menu_buttons(ctx)[:13 - len(quick)]),
    ])


def _picked(ctx: Context, kind: str) -> Turn:
    _ = ctx._
    svc = service(ctx)
    if ctx.session.consent is not True:
        return show(ctx)
    try:
        day = date.fromisoformat(ctx.inbound.params.get("date", ""))
    except ValueError:
        return show(ctx, _("日付を受け取れませんでした。もう一度選んでください。"))
    allowed = allowed_days(kind, svc.today())
    if not allowed.first <= day <= allowed.last:
        return show(ctx, _("その日は登録できません。もう一度選んでください。"))
    result = svc.register(ctx.session.user_id, kind, day, ctx.language)
    if result.status == "too_many":
        return show(ctx, _("登録できるのは6人までです。使わない日を削除してから登録してください。"))
    lead = _("登録しました。") + " " + _describe(ctx, result.child)
    if result.status == "replaced_due":
        lead += "\n" + _("出産予定日の登録は、誕生日に切り替えました。")
    return show(ctx, lead)


def on_due(ctx: Context) -> Turn:
    return _picked(ctx, DUE)


def on_birth(ctx: Context) -> Turn:
    return _picked(ctx, BIRTH)


def remove(ctx: Context) -> Turn:
    postback = ctx.inbound.postback
    child_id = postback.args[0] if postback and postback.args else ""
    if service(ctx).remove(ctx.session.user_id, child_id):
        return show(ctx, ctx._("削除しました。"))
    return show(ctx, ctx._("その登録は、もうありません。"))


def stop(ctx: Context) -> Turn:
    service(ctx).stop(ctx.session.user_id)
    return main_menu(ctx, ctx._("お知らせを止めました。再開するときは、メニューの「お知らせの登録」から選んでください。"))


def resume(ctx: Context) -> Turn:
    service(ctx).resume(ctx.session.user_id)
    return show(ctx, ctx._("お知らせを再開しました。"))


def milestone_messages(ctx: Context, milestone: Milestone) -> list[Message]:
    """A journey message: the moment's text, the FAQ entries about it, and a way to stop."""
    city = ctx.services.city
    quick: list[Action] = [entry_button(ctx, e) for e in (city.entry(i) for i in milestone.faq) if e is not None]
    if milestone.booking and getattr(ctx.services, "bookings", None) is not None:
        quick.append(new_booking_button(ctx))
    if milestone.ask_birth:
        quick.insert(0, _picker(ctx, BIRTH))
    quick.append(stop_button(ctx))
    return [Text(ctx._(milestone.text), quick_replies=tuple(quick))]


# Referral follow-up

def referral_question(ctx: Context, entry_id: str) -> list[Message]:
    """Asked a few days after the bot pointed the parent to a window."""
    _ = ctx._
    city = ctx.services.city
    entry = city.entry(entry_id)
    window = city.window(entry.window) if entry and entry.window else city.main_window
    text = _("前にご案内した「{topic}」の相談先（{window}）に、連絡できましたか？").format(
        topic=_(entry.label) if entry else "", window=_(window.name))
    return [Buttons(text=text, alt_text=text, actions=(
        _button(ctx, _("連絡できた"), "journey.referral.ok", entry_id),
        _button(ctx, _("まだ・できなかった"), "journey.referral.no", entry_id),
    ))]


def _entry_of(ctx: Context) -> str:
    postback = ctx.inbound.postback
    return postback.args[0] if postback and postback.args else ""


def referral_ok(ctx: Context) -> Turn:
    service(ctx).referral_answered(ctx.session.user_id, _entry_of(ctx))
    return main_menu(ctx, ctx._("よかったです。また困ったときは、いつでもこのトークに送ってください。"))


def referral_not_yet(ctx: Context) -> Turn:
    """Not reached: a person takes it from here."""
    service(ctx).referral_answered(ctx.session.user_id, _entry_of(ctx))
    turn = handoff.talk_to_person(ctx)
    return replace(turn, handoff=HandoffRequest("referral"))


DIALOG = Dialog(
    name="journey",
    entry=show,
    anytime={
        "journey": show,
        "journey.due": on_due,
        "journey.birth": on_birth,
        "journey.remove": remove,
        "journey.stop": stop,
        "journey.resume": resume,
        "journey.referral.ok": referral_ok,
        "journey.referral.no": referral_not_yet,
    },
)
