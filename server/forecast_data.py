"""The staffing forecast's inputs from the database, and the whole forecast as one job.

``staffing_forecast(conn, ...)`` is a module-level function of a read-only connection and
picklable arguments, so the pages run it in the report process (``Service.compute``) and
``xephang forecast`` on its own connection. It reads:

- tickets per local day, service (the one chosen at the kiosk, ``origin_service``) and
  local hour of issue, with how many had priority, over the year and 8 weeks before the
  day the forecast is made (grouped in SQL by the quarter-hour of the stored UTC time, so
  no row goes through Python; every real time zone is whole quarter-hours from UTC);
- handling times (call to release: finished or marked absent, as the wait estimate counts
  them) per service over the last ``HANDLING_DAYS`` days.
"""

from __future__ import annotations

import sqlite3
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from common.config import WEEKDAYS, QueueRules, Site, parse_hours
from server.forecast import (
    HISTORY_DAYS,
    Accuracy,
    Calendar,
    DayCounts,
    DayForecast,
    Method,
    backtest,
    forecast_day,
)
from server.staffing import Demand, Plan, plan

ACCURACY_WEEKS = 8
HANDLING_DAYS = 56
MAX_HANDLING_SAMPLES = 2000  # per service, the latest
MAX_AHEAD_DAYS = 14  # the pages forecast from tomorrow to this many days ahead

_COUNTS = """
select day, origin_service,
       cast(substr(issued_at, 12, 2) as integer) * 4 + cast(substr(issued_at, 15, 2) as integer) / 15,
       count(*), sum(priority is not null)
from tickets where site = ? and day >= ? and day < ?
group by 1, 2, 3
"""
_HANDLING = """
select service, (julianday(coalesce(finished_at, absent_at)) - julianday(called_at)) * 1440
from tickets
where site = ? and day >= ? and day < ? and state in ('done', 'absent') and called_at is not null
  and coalesce(finished_at, absent_at) is not null
order by day desc
"""


def read_history(conn: sqlite3.Connection, site: str, tz: zoneinfo.ZoneInfo, start: date,
                 end: date) -> dict[date, DayCounts]:
    """Tickets per local day (``start`` included, ``end`` excluded), service and local hour."""
    cells: dict[date, dict[tuple[str, int], int]] = {}
    priority: dict[date, dict[str, int]] = {}
    offsets: dict[str, int] = {}
    for day_text, service, quarter, count, prioritised in conn.execute(
            _COUNTS, (site, start.isoformat(), end.isoformat())):
        offset = offsets.get(day_text)
        if offset is None:
            noon = datetime.combine(date.fromisoformat(day_text), time(12), tzinfo=tz)
            delta = noon.utcoffset()
            offset = offsets[day_text] = int(delta.total_seconds() // 60) if delta is not None else 0
        hour = ((quarter * 15 + offset) % 1440) // 60
        day = date.fromisoformat(day_text)
        day_cells = cells.setdefault(day, {})
        day_cells[(service, hour)] = day_cells.get((service, hour), 0) + count
        if prioritised:
            day_priority = priority.setdefault(day, {})
            day_priority[service] = day_priority.get(service, 0) + prioritised
    return {day: DayCounts(c, priority.get(day, {})) for day, c in sorted(cells.items())}


def read_handling(conn: sqlite3.Connection, site: str, start: date, end: date) -> dict[str, list[float]]:
    """Handling minutes per service of the tickets released from ``start`` to ``end``."""
    found: dict[str, list[float]] = {}
    for service, minutes in conn.execute(_HANDLING, (site, start.isoformat(), end.isoformat())):
        samples = found.setdefault(service, [])
        if minutes is not None and minutes >= 0 and len(samples) < MAX_HANDLING_SAMPLES:
            samples.append(float(minutes))
    return found


def site_calendar(site: Site) -> Calendar:
    """Open weekdays (any service issuing) and the configured holidays."""
    weekdays = {i for i, name in enumerate(WEEKDAYS)
                if any(parse_hours(site.hours_for(s).get(name, [])) for s in site.services)}
    return Calendar(frozenset(weekdays), frozenset(site.holidays))


def next_working_day(site: Site, today: date) -> date:
    """The first day after ``today`` the site is open (tomorrow if none within the range)."""
    calendar = site_calendar(site)
    for ahead in range(1, MAX_AHEAD_DAYS + 1):
        day = today + timedelta(days=ahead)
        if calendar.is_open(day):
            return day
    return today + timedelta(days=1)


def priority_shares(history: dict[date, DayCounts], since: date) -> dict[str, float]:
    tickets: dict[str, int] = {}
    prioritised: dict[str, int] = {}
    for day, counts in history.items():
        if day < since:
            continue
        for (service, _), n in counts.cells.items():
            tickets[service] = tickets.get(service, 0) + n
        for service, n in counts.priority.items():
            prioritised[service] = prioritised.get(service, 0) + n
    return {s: prioritised.get(s, 0) / n for s, n in tickets.items() if n}


@dataclass(frozen=True)
class HandlingSummary:
    samples: int
    mean: float | None
    p90: float | None


@dataclass(frozen=True)
class StaffingForecast:
    """Everything the forecast page and its exports show."""

    site: str
    day: date
    made_on: date
    forecast: DayForecast
    plan: Plan
    accuracy: Accuracy  # the forecast method on the last ACCURACY_WEEKS weeks
    plain_accuracy: Accuracy  # the plain same-weekday mean, for comparison
    handling: dict[str, HandlingSummary]
    history_days: int  # days with tickets in the history read


def _summary(values: list[float]) -> HandlingSummary:
    if not values:
        return HandlingSummary(0, None, None)
    ordered = sorted(values)
    rank = (len(ordered) - 1) * 0.9
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    p90 = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return HandlingSummary(len(values), sum(values) / len(values), p90)


def staffing_forecast(conn: sqlite3.Connection, site: Site, rules: QueueRules, tz_name: str, day: date,
                      today: date, *, weeks: int = ACCURACY_WEEKS, seed: int = 1) -> StaffingForecast:
    """The forecast of ``day`` made on ``today`` (history before ``today``), the counters it
    needs, and how accurate the method was on the ``weeks`` weeks before ``today``."""
    tz = zoneinfo.ZoneInfo(tz_name)
    start = today - timedelta(days=HISTORY_DAYS + 7 * (weeks + 1))
    history = read_history(conn, site.code, tz, start, today)
    handling = read_handling(conn, site.code, today - timedelta(days=HANDLING_DAYS), today)
    calendar = site_calendar(site)
    forecast = forecast_day(history, calendar, day, today)
    demand = Demand(site=site, rules=rules, day=day, arrivals=dict(forecast.cells), handling=handling,
                    priority_share=priority_shares(history, today - timedelta(days=HANDLING_DAYS)), seed=seed)
    staffing = plan(demand)
    accuracy = backtest(history, calendar, today, weeks=weeks, method=Method.EFFECTS)
    plain = backtest(history, calendar, today, weeks=weeks, method=Method.PLAIN)
    return StaffingForecast(
        site=site.code, day=day, made_on=today, forecast=forecast, plan=staffing, accuracy=accuracy,
        plain_accuracy=plain, handling={s: _summary(v) for s, v in handling.items()},
        history_days=len(history))
