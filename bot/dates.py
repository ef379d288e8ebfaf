"""Days and times as each language says them (Asia/Tokyo; やさしい日本語 as Japanese), with Babel."""

from __future__ import annotations

from datetime import date, datetime, time

from babel.dates import format_skeleton, get_datetime_format

from bot.i18n import babel_locale
from dialogs.centers import TOKYO

MAX_DAY_CHARS = 12


def format_day(day: date, language: str) -> str:
    noon = datetime.combine(day, time(12), TOKYO)   # noon: no time zone can move it to another day
    locale = babel_locale(language)
    spelled = format_skeleton("MMMEd", noon, tzinfo=TOKYO, locale=locale)
    # Days go on 20-character buttons: where the month's name makes it long ("qua., 23 de dez."),
    # the numeric form ("qua., 23/12") leaves room for the seats left.
    return spelled if len(spelled) <= MAX_DAY_CHARS else format_skeleton("MEd", noon, tzinfo=TOKYO, locale=locale)


def format_time(moment: datetime, language: str) -> str:
    return format_skeleton("Hm", moment, tzinfo=TOKYO, locale=babel_locale(language))


def format_when(moment: datetime, language: str) -> str:
    """Day and time joined as the locale joins them (no CLDR skeleton has both with a weekday)."""
    moment = moment.astimezone(TOKYO)
    pattern = str(get_datetime_format("medium", locale=babel_locale(language)))
    return pattern.replace("{1}", format_day(moment.date(), language)).replace("{0}", format_time(moment, language))
