"""The centers and booking rules of a city pack (`centers.toml`), checked as they are read.

A mistake in the file stops the bot at start-up with the file and the field named, rather than
showing parents a wrong slot.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path

from dialogs.centers import BookingRules, Center, SlotTemplate

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CENTER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class PackError(Exception):
    pass


@dataclass(frozen=True)
class Centers:
    centers: tuple[Center, ...]
    rules: BookingRules
    closed_dates: tuple[date, ...] = ()             # every center
    close_on_national_holidays: bool = True

    def get(self, center_id: str) -> Center | None:
        return next((c for c in self.centers if c.id == center_id), None)

    def number_of(self, center_id: str) -> int:
        """1-based position in the pack: how a center without a name is shown."""
        return next(i for i, c in enumerate(self.centers, 1) if c.id == center_id)

    def is_closed(self, center_id: str, day: date) -> bool:
        center = self.get(center_id)
        if day in self.closed_dates or (center and day in center.closed_dates):
            return True
        return self.close_on_national_holidays and day in _national_holidays(day.year)


@lru_cache(maxsize=8)
def _national_holidays(year: int):
    import holidays

    return holidays.Japan(years=year)


def load_centers(content_dir: Path) -> Centers:
    """The pack's centers; a pack without centers.toml has none (and booking is not offered)."""
    path = Path(content_dir) / "centers.toml"
    if not path.exists():
        return Centers(centers=(), rules=BookingRules())
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: {exc}") from None
    return parse_centers(data, str(path))


def parse_centers(data: dict, where: str) -> Centers:
    closures = _table(data, "closures", where)
    centers = tuple(_center(raw, f"{where} [[centers]] #{n}") for n, raw in enumerate(data.get("centers", []), 1))
    ids = [c.id for c in centers]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PackError(f"{where}: duplicate center ids {duplicates}")
    return Centers(
        centers=centers,
        rules=_rules(_table(data, "rules", where), f"{where} [rules]"),
        closed_dates=_dates(closures.get("dates", []), f"{where} [closures] dates"),
        close_on_national_holidays=_bool(closures.get("close_on_national_holidays", True),
                                         f"{where} [closures] close_on_national_holidays"),
    )


def _table(data: dict, name: str, where: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise PackError(f"{where}: [{name}] must be a table")
    return value


def _rules(raw: dict, where: str) -> BookingRules:
    defaults = BookingRules()
    unknown = set(raw) - {"days_ahead", "same_day_cutoff", "max_upcoming", "offer_window_minutes", "reminder_hour"}
    if unknown:
        raise PackError(f"{where}: unknown fields {sorted(unknown)}")
    cutoff = raw.get("same_day_cutoff", "09:00")
    return BookingRules(
        days_ahead=_count(raw.get("days_ahead", defaults.days_ahead), f"{where} days_ahead", minimum=0),
        same_day_cutoff=None if cutoff == "" else _time(cutoff, f"{where} same_day_cutoff"),
        max_upcoming=_count(raw.get("max_upcoming", defaults.max_upcoming), f"{where} max_upcoming"),
        offer_window_minutes=_count(raw.get("offer_window_minutes", defaults.offer_window_minutes),
                                    f"{where} offer_window_minutes"),
        reminder_hour=_time(raw.get("reminder_hour", "18:00"), f"{where} reminder_hour"),
    )


def _center(raw: dict, where: str) -> Center:
    if not isinstance(raw, dict):
        raise PackError(f"{where}: must be a table")
    center_id = str(raw.get("id", ""))
    if not CENTER_ID.match(center_id):
        raise PackError(f"{where} id: {center_id!r} is not a center id (lower-case letters, digits, '-', '_')")
    where = f"{where.rsplit('#', 1)[0]}{center_id}"
    offers = raw.get("offers", [])
    if not isinstance(offers, list) or not all(isinstance(o, str) for o in offers):
        raise PackError(f"{where} offers: must be a list of texts")
    return Center(
        id=center_id,
        name=_string(raw.get("name", ""), f"{where} name"),
        place=_string(raw.get("place", ""), f"{where} place"),
        offers=tuple(o.strip() for o in offers if o.strip()),
        templates=tuple(_template(t, f"{where} templates #{n}") for n, t in enumerate(raw.get("templates", []), 1)),
        closed_dates=_dates(raw.get("closed_dates", []), f"{where} closed_dates"),
    )


def _template(raw: dict, where: str) -> SlotTemplate:
    if not isinstance(raw, dict):
        raise PackError(f"{where}: must be a table")
    weekday = raw.get("weekday")
    if isinstance(weekday, str) and weekday.lower()[:3] in WEEKDAYS:
        weekday = WEEKDAYS.index(weekday.lower()[:3])
    if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
        raise PackError(f"{where} weekday: {raw.get('weekday')!r} is not a weekday (mon…sun, or 0 = Monday … 6)")
    start = _time(raw.get("start"), f"{where} start")
    end = _time(raw.get("end"), f"{where} end")
    if end <= start:
        raise PackError(f"{where} end: {end:%H:%M} is not after start {start:%H:%M}")
    return SlotTemplate(weekday=weekday, start=start, end=end,
                        capacity=_count(raw.get("capacity"), f"{where} capacity"),
                        age_group=_string(raw.get("age_group", ""), f"{where} age_group"))


def _time(value, where: str) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        try:
            return time.fromisoformat(value.strip().zfill(5))
        except ValueError:
            pass
    raise PackError(f"{where}: {value!r} is not a time (write \"HH:MM\", e.g. \"09:30\")")


def _count(value, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PackError(f"{where}: {value!r} must be a whole number ≥ {minimum}")
    return value


def _bool(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise PackError(f"{where}: {value!r} must be true or false")
    return value


def _string(value, where: str) -> str:
    if not isinstance(value, str):
        raise PackError(f"{where}: {value!r} must be a text")
    return value.strip()


def _dates(values, where: str) -> tuple[date, ...]:
    if not isinstance(values, list):
        raise PackError(f"{where}: must be a list of dates")
    found = []
    for value in values:
        if isinstance(value, date):
            found.append(value)
            continue
        try:
            found.append(date.fromisoformat(str(value)))
        except ValueError:
            raise PackError(f"{where}: {value!r} is not a date (write \"YYYY-MM-DD\")") from None
    return tuple(found)
