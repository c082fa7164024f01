"""A synthetic history with known effects, for the staffing forecast's tests: counts per
day, service and hour (``synthetic_history``), and the same as ticket rows in a real
database (``write_history``: the store's own schema, rows inserted by SQL so that months
take a second)."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.forecast import Calendar, DayCounts
from server.store import Store

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOURS = {7: 0.8, 8: 1.6, 9: 1.5, 10: 1.1, 11: 0.3, 13: 0.7, 14: 1.2, 15: 1.0, 16: 0.4}
SATURDAY_HOURS = {7: 0.8, 8: 1.6, 9: 1.5, 10: 1.1}


@dataclass(frozen=True)
class Pattern:
    """Expected tickets on an ordinary Wednesday, and the multipliers the history follows."""

    base: float = 300.0
    services: dict[str, float] = field(default_factory=lambda: {"TP": 3.0, "GPLX": 4.0, "DD": 2.0, "KQ": 1.0})
    weekday: tuple[float, ...] = (1.3, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0)  # Monday .. Sunday
    month_start: float = 1.0  # the first two working days of a month
    holidays: frozenset[date] = frozenset()
    priority_share: float = 0.05

    def first_working_days(self, day: date, count: int) -> list[date]:
        found, probe = [], day.replace(day=1)
        while len(found) < count:
            if self.weekday[probe.weekday()] > 0 and probe not in self.holidays:
                found.append(probe)
            probe += timedelta(days=1)
        return found

    def expected(self, day: date) -> dict[tuple[str, int], float]:
        factor = self.weekday[day.weekday()]
        if factor == 0 or day in self.holidays:
            return {}
        if day in self.first_working_days(day, 2):
            factor *= self.month_start
        hours = SATURDAY_HOURS if day.weekday() == 5 else HOURS
        total = self.base * factor
        weight_hours, weight_services = sum(hours.values()), sum(self.services.values())
        return {(s, h): total * ws / weight_services * wh / weight_hours
                for s, ws in self.services.items() for h, wh in hours.items()}


def poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    u, k, term = rng.random(), 0, math.exp(-mean)
    total = term
    while u > total:
        k += 1
        term *= mean / k
        total += term
    return k


def synthetic_history(pattern: Pattern, start: date, end: date, *, seed: int = 3,
                      scale: float = 1.0) -> dict[date, DayCounts]:
    """Tickets per day (``start`` to ``end`` excluded), service and hour: Poisson draws of
    ``pattern`` (times ``scale``)."""
    rng = random.Random(seed)
    history = {}
    day = start
    while day < end:
        cells = {cell: poisson(rng, mean * scale) for cell, mean in pattern.expected(day).items()}
        cells = {cell: n for cell, n in cells.items() if n}
        if cells:
            history[day] = DayCounts(cells)
        day += timedelta(days=1)
    return history


def calendar(pattern: Pattern) -> Calendar:
    return Calendar(frozenset(range(6)), pattern.holidays)


def write_history(path: Path, site: str, history: dict[date, DayCounts], *, seed: int = 5,
                  handling_minutes: float = 6.0) -> int:
    """The history as ticket rows of ``site`` in the database at ``path`` (created with the
    store's schema if new): every ticket served, ``handling_minutes`` on average."""
    rng = random.Random(seed)
    Store.open(path).close()
    import sqlite3

    conn = sqlite3.connect(path)
    rows = []
    for day, counts in history.items():
        sequence: dict[str, int] = {}
        for (service, hour), n in sorted(counts.cells.items()):
            for _ in range(n):
                sequence[service] = sequence.get(service, 0) + 1
                local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=TZ)
                issued = local.astimezone(UTC)
                called = issued + timedelta(minutes=rng.uniform(0, 20))
                finished = called + timedelta(minutes=rng.expovariate(1 / handling_minutes))
                number = f"{service}{sequence[service]:04d}"
                priority = "elderly" if rng.random() < 0.05 else None
                rows.append((f"{site}-{day}-{number}", site, day.isoformat(), service, service,
                             sequence[service], number, priority, "done", len(rows) + 1,
                             secrets.token_urlsafe(12), issued.isoformat(), called.isoformat(),
                             called.isoformat(), called.isoformat(), finished.isoformat()))
    conn.executemany(
        'insert into tickets (id, site, day, service, origin_service, sequence, number, priority, state, '
        '"order", token, issued_at, called_at, first_called_at, started_at, finished_at) '
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return len(rows)
