"""Choosing the language: on first contact, and from the menu at any time."""

from __future__ import annotations

from dialogs.engine import N_, Context, Dialog, Otherwise, Turn, normalize
from dialogs.languages import BY_CODE, LANGUAGES
from dialogs.menu import main_menu
from dialogs.messages import Action, Text


def language_buttons(ctx: Context) -> tuple[Action, ...]:
    return tuple(
        Action(label=language.native_name, postback=ctx.button("lang.set", language.code),
               display_text=language.native_name)
        for language in LANGUAGES
    )


def ask_language(ctx: Context, lead: str | None = None) -> Turn:
    # Said in the current language and in English, for someone who cannot read the current one.
    text = ctx._("使う言語を選んでください。")
    english = ctx.services.translator("en")(N_("使う言語を選んでください。"))
    if english != text:
        text = f"{text}\n{english}"
    if lead:
        text = f"{lead}\n\n{text}"
    return Turn(replies=[Text(text, quick_replies=language_buttons(ctx))], state=DIALOG.state("choose"))


def open_language(ctx: Context) -> Turn:
    return ask_language(ctx)


def chosen_language(ctx: Context) -> str | None:
    if ctx.inbound.postback and ctx.inbound.postback.args:
        code = ctx.inbound.postback.args[0]
        return code if code in BY_CODE else None
    typed = normalize(ctx.inbound.text)
    for language in LANGUAGES:
        if typed in (normalize(language.native_name), normalize(language.code)):
            return language.code
    return None


def set_language(ctx: Context) -> Turn:
    from dialogs.privacy import ask_consent  # the privacy dialog follows on first contact

    code = chosen_language(ctx)
    if code is None:
        return ask_language(ctx)
    ctx = ctx.in_language(code)
    if ctx.session.consent is None:
        turn = ask_consent(ctx, lead=ctx._("日本語で話します。"))
    else:
        turn = main_menu(ctx, ctx._("日本語で話します。"))
    turn.profile["language"] = code
    return turn


def typed_while_choosing(ctx: Context) -> Turn:
    if ctx.inbound.kind == "text" and chosen_language(ctx):
        return set_language(ctx)
    return ask_language(ctx)


DIALOG = Dialog(
    name="lang",
    entry=open_language,
    states={"choose": (Otherwise(typed_while_choosing),)},
    anytime={"lang.set": set_language},
)
