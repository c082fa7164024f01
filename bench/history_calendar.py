"""The calendar and the demand of a generated province-year (``bench.history``).

What a staffing forecast should be able to learn from the history: when a site is open
(Vietnamese public holidays closed, Sundays closed, Saturday mornings at the provincial
centre and at every other commune), how many citizens come on a day (Monday busiest, the
first and last days of a month busier, the weeks before Tết busier still, the day after a
holiday busy) and when in the day they come (a morning peak 8-10h, a lunch dip
11:30-13:30, a smaller afternoon wave). All of it is data here, so the generator is one
loop over these tables.

The bench centre's configuration keeps 00:00-24:00 hours and no holidays (its load phases
must never be refused); the history follows this calendar instead, as a real centre's
configured hours would.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from common.errors import BenchError

# Tết Nguyên Đán (1 tháng Giêng âm lịch) and the government's days off around it, and Giỗ Tổ
# Hùng Vương (10 tháng 3 âm lịch), for the years a history may cover. Lunar dates do not
# follow from the solar calendar by a formula; a year missing here is refused.
TET_BREAKS = {
    2025: (date(2025, 1, 25), date(2025, 2, 2)),  # Tết 2025-01-29
    2026: (date(2026, 2, 14), date(2026, 2, 22)),  # Tết 2026-02-17
    2027: (date(2027, 2, 4), date(2027, 2, 10)),  # Tết 2027-02-06
}
GIO_TO = {2025: date(2025, 4, 7), 2026: date(2026, 4, 26), 2027: date(2027, 4, 16)}
FIRST_YEAR, LAST_YEAR = min(TET_BREAKS), max(TET_BREAKS)

# Half-hour slots from 07:00 (slot 0) to 17:00 (slot 19): relative arrivals. A crowd at
# opening, the peak 8-10h, the lunch dip 11:30-13:30 (a few still come to be first in the
# afternoon), a second, smaller wave 13:30-15:00, little after 16:00.
SLOT_WEIGHTS = (0.6, 1.3, 1.9, 2.1, 2.0, 1.8, 1.5, 1.2, 0.9, 0.25,
                0.08, 0.12, 0.35, 1.0, 1.3, 1.3, 1.05, 0.85, 0.55, 0.2)
FIRST_SLOT_HOUR = 7
MORNING_SLOTS = 9  # 07:00-11:30: a Saturday's opening
WEEKDAY_FACTORS = (1.25, 1.05, 1.0, 0.95, 0.9, 0.8, 0.0)  # Monday .. Sunday (per slot)

# Counters: opened before the doors, paused for lunch, closed after the last arrivals.
COUNTERS_OPEN = 6.9  # hours, local
LUNCH = (11.6, 13.0)
COUNTERS_CLOSE = 17.0
SATURDAY_CLOSE = 11.6


def check_range(start: date, end: date) -> None:
    """The range a history may cover: the years whose lunar holidays are known."""
    if start > end:
        raise BenchError(f"the history's start {start} is after its end {end}")
    if start.year < FIRST_YEAR or end.year > LAST_YEAR:
        raise BenchError(f"the history calendar knows the years {FIRST_YEAR}-{LAST_YEAR} "
                         f"(Tết and Giỗ Tổ dates); {start}..{end} is outside them")


def holidays(year: int) -> set[date]:
    """Public holidays of ``year`` with their days off (Bộ luật Lao động 2019, art. 112)."""
    days = {date(year, 1, 1), date(year, 4, 30), date(year, 5, 1), date(year, 9, 1), date(year, 9, 2)}
    first, last = TET_BREAKS[year]
    days |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    gio_to = GIO_TO[year]
    days.add(gio_to)
    if gio_to.weekday() == 6:  # on a Sunday: the Monday after is off instead
        days.add(gio_to + timedelta(days=1))
    return days


def is_holiday(day: date) -> bool:
    return day in holidays(day.year)


def open_slots(day: date, *, provincial: bool, commune_index: int = 0) -> int:
    """How many half-hour slots from 07:00 the site issues numbers: 0 when closed, the morning
    on Saturdays (the provincial centre and even-numbered communes; odd ones stay closed)."""
    if is_holiday(day) or day.weekday() == 6:
        return 0
    if day.weekday() == 5:
        return MORNING_SLOTS if provincial or commune_index % 2 == 0 else 0
    return len(SLOT_WEIGHTS)


def _next_tet(day: date) -> date | None:
    starts = [first for first, _ in TET_BREAKS.values() if first >= day]
    return min(starts) if starts else None


def day_factor(day: date) -> float:
    """How busy an open day is against an ordinary Wednesday (before randomness)."""
    factor = WEEKDAY_FACTORS[day.weekday()]
    if day.day <= 5:
        factor *= 1.15  # month start: salaries, social-insurance and tax deadlines
    following = day.replace(day=28) + timedelta(days=4)
    if (following.replace(day=1) - day).days <= 3:
        factor *= 1.1  # the last days of a month
    tet = _next_tet(day)
    if tet is not None and (tet - day).days <= 21:
        factor *= 1.0 + 0.5 * (1 - (tet - day).days / 21)  # the weeks before Tết
    yesterday = day - timedelta(days=1)
    if is_holiday(yesterday) or (yesterday.weekday() == 6 and is_holiday(yesterday - timedelta(days=1))):
        factor *= 1.2  # the first working day after a holiday
    return factor


def slot_start_hours(slot: int) -> float:
    return FIRST_SLOT_HOUR + slot / 2


def expected_arrivals(base: float, day: date, slots: int) -> list[float]:
    """Expected arrivals in each open slot of ``day`` at a site whose ordinary Wednesday
    brings ``base`` citizens."""
    scale = base * day_factor(day) / sum(SLOT_WEIGHTS)
    return [w * scale for w in SLOT_WEIGHTS[:slots]]


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: by inversion for small means, by the normal approximation above 30."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    u, k = rng.random(), 0
    term = total = math.exp(-mean)
    while u > total and k < 200:
        k += 1
        term *= mean / k
        total += term
    return k
