"""Whether staff are at their desks now, and when they next will be (Asia/Tokyo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dialogs.centers import TOKYO
from dialogs.city import StaffHours


@dataclass(frozen=True)
class Availability:
    known: bool                      # False: the city has not said when staff read the queue
    open_now: bool = False
    next_open: datetime | None = None


@lru_cache(maxsize=8)
def _national_holidays(year: int):
    import holidays

    return holidays.Japan(years=year)


def is_closed_day(hours: StaffHours, day: date) -> bool:
    if day in hours.closed_dates:
        return True
    return hours.close_on_national_holidays and day in _national_holidays(day.year)


def availability(hours: StaffHours, now: datetime) -> Availability:
    if not hours.known:
        return Availability(known=False)
    now = now.astimezone(TOKYO)
    for offset in range(0, 60):  # the year-end break is the longest closure there is
        day = now.date() + timedelta(days=offset)
        if is_closed_day(hours, day):
            continue
        for start, end in hours.weekly[day.weekday()]:
            opens = datetime.combine(day, start, TOKYO)
            closes = datetime.combine(day, end, TOKYO)
            if offset == 0 and opens <= now < closes:
                return Availability(known=True, open_now=True)
            if opens > now:
                return Availability(known=True, open_now=False, next_open=opens)
    return Availability(known=True, open_now=False)
