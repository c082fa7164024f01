"""Expected arrivals per service and hour for a coming day, from a site's history (pure).

History in (tickets per local day, service and hour), forecast out. Two methods, both
measured on held-back weeks (``backtest``; docs/statistics.md has the figures):

- ``PLAIN`` — the mean of the last ``RECENT_DAYS`` open days of the same weekday, per
  service and hour. What a manager would do by hand.
- ``EFFECTS`` (the one the pages use) — a baseline per weekday: the last ``RECENT_DAYS``
  open days of that weekday, each first divided by its own calendar effects; times the
  target day's calendar effects; spread over services and hours by the share each
  (service, hour) had on those days. The calendar effects are multipliers estimated from the
  last year of history: each of the first ``MONTH_START_DAYS`` working days of a month and
  of its last ``MONTH_END_DAYS`` (one multiplier each), the ``BEFORE_HOLIDAY_DAYS``
  working days before a long closure (Tết, 30/4: ``LONG_CLOSURE_DAYS`` closed days in a
  row or more, not only a weekend), the working days before those up to
  ``WEEKS_BEFORE_BREAK_DAYS`` before a break of ``BREAK_DAYS`` days or more (in practice
  Tết: the weeks when everyone settles their papers first), and the first working day
  after a holiday. Each effect is the mean ratio of such days to the plain days of the same
  weekday around them (``AROUND_DAYS``), shrunk towards 1 by ``SHRINK`` pseudo-days so two
  odd days cannot make a rule.

A closed day (a weekday with no issuing hours, a configured holiday, or a day that the
history shows closed) is forecast as zero.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

RECENT_DAYS = 8  # same-weekday days in a baseline
HISTORY_DAYS = 364  # the effects are estimated over this many days before the cut-off
AROUND_DAYS = 28  # a flagged day is compared with plain same-weekday days this close
MONTH_START_DAYS, MONTH_END_DAYS = 5, 3  # working days at each end of a month with an effect each
BEFORE_HOLIDAY_DAYS = 3
AFTER_HOLIDAY_DAYS = 1
LONG_CLOSURE_DAYS = 3
WEEKS_BEFORE_BREAK_DAYS = 15  # working days
BREAK_DAYS = 5
SHRINK = 2.0
CLOSED_SHARE = 0.1  # a day under this share of a usual day's tickets was closed


class Method(enum.StrEnum):
    PLAIN = "plain"
    EFFECTS = "effects"


# The calendar effects: ``month_start_1`` .. ``month_start_5`` (the n-th working day of a
# month), ``month_end_1`` .. ``month_end_3`` (the n-th from its end), and the three below.
MONTH_START, MONTH_END = "month_start_", "month_end_"
BEFORE_HOLIDAY = "before_holiday"
WEEKS_BEFORE_BREAK = "weeks_before_break"
AFTER_HOLIDAY = "after_holiday"
EFFECTS = (*(f"{MONTH_START}{n}" for n in range(1, 6)), *(f"{MONTH_END}{n}" for n in range(1, 4)),
           BEFORE_HOLIDAY, WEEKS_BEFORE_BREAK, AFTER_HOLIDAY)


Cell = tuple[str, int]  # (service code, local hour)


@dataclass(frozen=True)
class DayCounts:
    """One local day's tickets: per (service, hour), their total, and how many had priority."""

    cells: Mapping[Cell, int]
    priority: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class Calendar:
    """Which days a site is open: weekdays with issuing hours, minus closed days."""

    open_weekdays: frozenset[int]  # 0 = Monday
    closed: frozenset[date]

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_weekdays and day not in self.closed

    def with_closed(self, days: Iterable[date]) -> Calendar:
        return Calendar(self.open_weekdays, self.closed | frozenset(days))


def learned_calendar(history: Mapping[date, DayCounts], calendar: Calendar, start: date,
                     end: date) -> Calendar:
    """The configured calendar corrected by what the history from ``start`` to ``end``
    (excluded) shows: a weekday the site was closed on more often than not is closed, and so
    is a day with under ``CLOSED_SHARE`` of a usual day's tickets (a holiday missing from the
    configuration, a closure). Only from the first day with tickets on (a new site is not
    closed before it starts)."""
    totals = sorted(c.total for d, c in history.items() if start <= d < end and calendar.is_open(d))
    if not totals:
        return calendar
    usual = totals[len(totals) // 2]
    seen: dict[int, list[tuple[date, bool]]] = {}
    day = max(start, min(history))
    while day < end:
        if calendar.is_open(day):
            counts = history.get(day)
            was_open = (counts.total if counts else 0) >= CLOSED_SHARE * usual
            seen.setdefault(day.weekday(), []).append((day, was_open))
        day += timedelta(days=1)
    weekdays = frozenset(w for w in calendar.open_weekdays
                         if w not in seen or 2 * sum(1 for _, o in seen[w] if o) >= len(seen[w]))
    closed = {d for w in weekdays for d, was_open in seen.get(w, ()) if not was_open}
    return Calendar(weekdays, calendar.closed | frozenset(closed))


def _working_days(calendar: Calendar, day: date, step: int, limit: int) -> list[date]:
    """Up to ``limit`` open days from ``day`` (included) in direction ``step``, within its month."""
    found: list[date] = []
    month = day.month
    while day.month == month and len(found) < limit:
        if calendar.is_open(day):
            found.append(day)
        day += timedelta(days=step)
    return found


def effects_of(day: date, calendar: Calendar) -> frozenset[str]:
    """The calendar effects that apply to an open ``day``."""
    found: set[str] = set()
    first = day.replace(day=1)
    starts = _working_days(calendar, first, 1, MONTH_START_DAYS)
    if day in starts:
        found.add(f"{MONTH_START}{starts.index(day) + 1}")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    ends = _working_days(calendar, last, -1, MONTH_END_DAYS)
    if day in ends and not found:
        found.add(f"{MONTH_END}{ends.index(day) + 1}")
    if _closure_near(day, calendar, 1, BEFORE_HOLIDAY_DAYS, LONG_CLOSURE_DAYS):
        found.add(BEFORE_HOLIDAY)
    elif _closure_near(day, calendar, 1, WEEKS_BEFORE_BREAK_DAYS, BREAK_DAYS):
        found.add(WEEKS_BEFORE_BREAK)
    if _closure_near(day, calendar, -1, AFTER_HOLIDAY_DAYS, 1):
        found.add(AFTER_HOLIDAY)
    return frozenset(found)


def _closure_near(day: date, calendar: Calendar, step: int, within: int, length: int) -> bool:
    """Whether a closure of ``length`` days or more that is not only a weekend (it closes a
    weekday the site opens on) starts within ``within`` open days after ``day`` (step 1), or
    ended within them before it (step -1)."""
    probe, seen = day + timedelta(days=step), 1
    while seen <= within:
        if calendar.is_open(probe):
            seen += 1
            probe += timedelta(days=step)
            continue
        run, holiday = 0, False
        while not calendar.is_open(probe) and run < 60:
            holiday = holiday or probe.weekday() in calendar.open_weekdays
            run += 1
            probe += timedelta(days=step)
        if run >= length and holiday:
            return True
    return False


# -- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayForecast:
    """Expected tickets of one day: per (service, hour), in all, and why."""

    day: date
    closed: bool
    cells: Mapping[Cell, float]
    effects: Mapping[str, float]  # the effects applied to this day and their multipliers
    baseline: float  # the plain day's expected total for this weekday
    basis_days: int  # how many past days the baseline stands on

    @property
    def total(self) -> float:
        return sum(self.cells.values())

    def per_hour(self) -> dict[int, float]:
        hours: dict[int, float] = {}
        for (_, hour), value in self.cells.items():
            hours[hour] = hours.get(hour, 0.0) + value
        return dict(sorted(hours.items()))

    def per_service(self) -> dict[str, float]:
        services: dict[str, float] = {}
        for (service, _), value in self.cells.items():
            services[service] = services.get(service, 0.0) + value
        return services


@dataclass(frozen=True)
class Model:
    """A forecast fitted on the history before ``cutoff``."""

    method: Method
    cutoff: date
    calendar: Calendar
    effects: Mapping[str, float]
    baselines: Mapping[int, tuple[float, int]]  # weekday → (plain total, days it stands on)
    profiles: Mapping[int, Mapping[Cell, float]]  # weekday → share (or, PLAIN, mean) per cell

    def forecast(self, day: date) -> DayForecast:
        weekday = day.weekday()
        if not self.calendar.is_open(day) or weekday not in self.baselines:
            return DayForecast(day, True, {}, {}, 0.0, 0)
        baseline, basis = self.baselines[weekday]
        if self.method is Method.PLAIN:
            return DayForecast(day, False, dict(self.profiles[weekday]), {}, baseline, basis)
        applied = {e: self.effects.get(e, 1.0) for e in sorted(effects_of(day, self.calendar))}
        total = baseline * math.prod(applied.values())
        cells = {cell: total * share for cell, share in self.profiles[weekday].items()}
        return DayForecast(day, False, cells, applied, baseline, basis)


def fit(history: Mapping[date, DayCounts], calendar: Calendar, cutoff: date,
        method: Method = Method.EFFECTS) -> Model:
    """The model from the days before ``cutoff`` only. ``calendar`` should already hold the
    closed days the history shows (``learned_calendar``)."""
    past = {d: c for d, c in history.items()
            if cutoff - timedelta(days=HISTORY_DAYS) <= d < cutoff and calendar.is_open(d)}
    flags = {d: effects_of(d, calendar) for d in past} if method is Method.EFFECTS else {}
    effects = _estimate_effects(past, flags) if method is Method.EFFECTS else {}
    baselines: dict[int, tuple[float, int]] = {}
    profiles: dict[int, dict[Cell, float]] = {}
    for weekday in sorted(calendar.open_weekdays):
        days = sorted((d for d in past if d.weekday() == weekday), reverse=True)[:RECENT_DAYS]
        if not days:
            continue
        summed: dict[Cell, float] = {}
        for d in days:
            for cell, n in past[d].cells.items():
                summed[cell] = summed.get(cell, 0.0) + n
        if method is Method.PLAIN:
            profiles[weekday] = {cell: n / len(days) for cell, n in summed.items()}
            baselines[weekday] = (sum(summed.values()) / len(days), len(days))
            continue
        plain = [past[d].total / math.prod(effects.get(e, 1.0) for e in flags[d]) for d in days]
        grand = sum(summed.values())
        profiles[weekday] = {cell: n / grand for cell, n in summed.items()} if grand else {}
        baselines[weekday] = (sum(plain) / len(plain), len(days))
    return Model(method, cutoff, calendar, effects, baselines, profiles)


def _estimate_effects(past: Mapping[date, DayCounts],
                      flags: Mapping[date, frozenset[str]]) -> dict[str, float]:
    """Each effect: the mean ratio of its days to the plain same-weekday days around them
    (other effects of the same day divided out; three rounds), shrunk towards 1."""
    plain_by_weekday: dict[int, list[tuple[date, int]]] = {}
    for d in sorted(past):
        if not flags[d]:
            plain_by_weekday.setdefault(d.weekday(), []).append((d, past[d].total))
    ratios: dict[date, float] = {}
    for d, effects in flags.items():
        if not effects:
            continue
        around = [n for other, n in plain_by_weekday.get(d.weekday(), ())
                  if abs((other - d).days) <= AROUND_DAYS]
        if len(around) >= 2 and sum(around) > 0:
            ratios[d] = past[d].total / (sum(around) / len(around))
    estimate = dict.fromkeys(EFFECTS, 1.0)
    for _ in range(3):
        for effect in EFFECTS:
            values = [r / math.prod(estimate[o] for o in flags[d] if o is not effect)
                      for d, r in ratios.items() if effect in flags[d]]
            estimate[effect] = (sum(values) + SHRINK) / (len(values) + SHRINK)
    return estimate


def forecast_day(history: Mapping[date, DayCounts], calendar: Calendar, day: date, today: date,
                 method: Method = Method.EFFECTS) -> DayForecast:
    """The forecast of ``day`` made with the history before ``today``."""
    calendar = learned_calendar(history, calendar, today - timedelta(days=HISTORY_DAYS), today)
    return fit(history, calendar, today, method).forecast(day)


# -- accuracy on held-back weeks -----------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """How far the forecasts of held-back days were from what came.

    Day totals: ``day_wape`` = Σ|forecast − actual| / Σ actual, ``day_mape`` the mean of
    |forecast − actual| / actual over the days, ``day_bias`` = Σ(forecast − actual) / Σ actual.
    The same over every (day, service, hour) cell: ``cell_wape`` and ``cell_bias``.
    """

    method: Method
    weeks: int
    days: int
    actual: int
    day_wape: float | None
    day_mape: float | None
    day_bias: float | None
    cell_wape: float | None
    cell_bias: float | None
    per_week: tuple[tuple[date, float | None], ...] = ()  # (first day, day WAPE)


def backtest(history: Mapping[date, DayCounts], calendar: Calendar, end: date, *, weeks: int = 8,
             method: Method = Method.EFFECTS) -> Accuracy:
    """Fit on the history up to each of the ``weeks`` Mondays before ``end``, forecast every
    open day of that week (before ``end``) and compare with what came. Closed days (the
    calendar's and those the history shows, taken as known in advance, as configured
    holidays are) are left out."""
    first_monday = end - timedelta(days=end.weekday()) - timedelta(weeks=weeks)
    start = first_monday - timedelta(days=HISTORY_DAYS)
    calendar = learned_calendar(history, calendar, start, end)
    day_pairs: list[tuple[float, int]] = []
    abs_cells = signed_cells = 0.0
    per_week: list[tuple[date, float | None]] = []
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        model = fit(history, calendar, monday, method)
        pairs = []
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if day >= end or not calendar.is_open(day) or day not in history:
                continue
            predicted, actual = model.forecast(day), history[day]
            if predicted.closed:
                continue
            pairs.append((predicted.total, actual.total))
            for cell in set(predicted.cells) | set(actual.cells):
                diff = predicted.cells.get(cell, 0.0) - actual.cells.get(cell, 0)
                abs_cells += abs(diff)
                signed_cells += diff
        day_pairs += pairs
        per_week.append((monday, _wape(pairs)))
    actual_sum = sum(a for _, a in day_pairs)
    mapes = [abs(f - a) / a for f, a in day_pairs if a > 0]
    return Accuracy(
        method=method, weeks=weeks, days=len(day_pairs), actual=actual_sum,
        day_wape=_wape(day_pairs),
        day_mape=sum(mapes) / len(mapes) if mapes else None,
        day_bias=sum(f - a for f, a in day_pairs) / actual_sum if actual_sum else None,
        cell_wape=abs_cells / actual_sum if actual_sum else None,
        cell_bias=signed_cells / actual_sum if actual_sum else None,
        per_week=tuple(per_week),
    )


def _wape(pairs: list[tuple[float, int]]) -> float | None:
    actual = sum(a for _, a in pairs)
    return sum(abs(f - a) for f, a in pairs) / actual if actual else None
