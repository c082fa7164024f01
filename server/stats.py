"""Statistics from the recorded ticket times: SQL over the store.

A report answers "how did site S do from day A to day B, per G". ``ReportJob`` copies the
site's tickets of the range, with every derived time, into a temporary table (a month per
statement), then counts and averages over it with grouped SQL. The SQL never contains
anything from the request: the grouping picks one of a fixed set of expressions. Two
helpers are registered on the connection: the local hour of a time (``zoneinfo``, the
configured time zone) and a service's waiting target. Medians and p90s, which SQLite lacks,
are computed afterwards in Python as Excel's PERCENTILE.INC, so a manager checking an
export in Excel gets the same figure. Definitions: docs/statistics.md.

SQL must run on the server's single database thread, which also commits the queue's
changes; so a job is a list of short steps (``job.steps()``) that the server runs one
database call at a time, letting commits in between, and a final pure ``job.build()``
that can run anywhere. ``report``/``figures``/``all_groups`` run a whole job at once
(tests, ``xephang report``).
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from common.config import Config, Site

Group = Literal["service", "counter", "clerk", "hour", "day"]
GROUPS: tuple[Group, ...] = ("service", "counter", "clerk", "hour", "day")
MAX_RANGE_DAYS = 366
CHUNK_DAYS = 31  # tickets copied per statement
COUNTS = (
    "issued", "served", "absent", "transferred", "cancelled", "expired", "in_progress", "called",
    "timed", "within_target", "gave_up_late", "rated", "satisfied",
)
# Waiting-time histogram: bucket i holds waits in [EDGES[i], EDGES[i+1]) minutes.
WAIT_EDGES = (0, 5, 10, 15, 20, 30, 45, 60)

# The only SQL fragments chosen by a request: the grouping, from this fixed table.
_KEYS: dict[str, str] = {
    "service": "origin_service",
    "counter": "counter",
    "clerk": "clerk",
    "hour": "issue_hour",
    "day": "day",
    "total": "'*'",
}
_SAMPLE_COLUMNS = {"service": 0, "counter": 1, "clerk": 2, "hour": 3, "day": 4}

# Seconds since the epoch of an ISO-8601 time: unixepoch() where SQLite has it (3.38+, several
# times faster), else strftime('%s', ...). Both drop the fraction of a second.
_EPOCHS = {"unixepoch": "unixepoch(", "strftime": "strftime('%s', "}
_EPOCH = "unixepoch" if sqlite3.sqlite_version_info >= (3, 38) else "strftime"

# The site's tickets in the range with every derived value the figures need, copied into a
# temporary table once (parsing the times once, not per query). {epoch} is one of _EPOCHS.
_COPY = """
select id, origin_service, counter, clerk, day, state, transfers, rating,
    absent_at is not null as was_absent,
    case when first_called_at is not null
        then ({epoch}first_called_at) - {epoch}issued_at)) / 60.0 end as wait,
    case when state = 'done' and started_at is not null and finished_at is not null
        then ({epoch}finished_at) - {epoch}started_at)) / 60.0 end as service_time,
    case when first_called_at is null and state in ('cancelled', 'expired')
        then ({epoch}finished_at) - {epoch}issued_at)) / 60.0 end as gave_up_after,
    xephang_wait_target(origin_service) as target,
    xephang_local_hour(issued_at) as issue_hour,
    case when state = 'done' then xephang_local_hour(finished_at) end as finish_hour
from tickets where site = :site and day >= :start and day <= :end
"""
# One report at a time uses the table (the server runs report jobs one after another).
_CREATE = "create temp table xephang_report as " + _COPY + " and 0"
_FILL = "insert into temp.xephang_report " + _COPY
_DROP = "drop table if exists temp.xephang_report"

_FIGURES = """
select {key} as key,
    count(*) as issued,
    coalesce(sum(state = 'done'), 0) as served,
    coalesce(sum(was_absent and state in ('absent', 'expired')), 0) as absent,
    coalesce(sum(transfers > 0), 0) as transferred,
    coalesce(sum(state = 'cancelled'), 0) as cancelled,
    coalesce(sum(state = 'expired' and not was_absent), 0) as expired,
    coalesce(sum(state in ('waiting', 'called', 'serving', 'held')), 0) as in_progress,
    count(wait) as called,
    avg(wait) as wait_mean,
    max(wait) as wait_max,
    count(service_time) as timed,
    avg(service_time) as service_mean,
    max(service_time) as service_max,
    coalesce(sum(wait <= target), 0) as within_target,
    coalesce(sum(gave_up_after > target), 0) as gave_up_late,
    count(rating) as rated,
    avg(rating) as rating_mean,
    coalesce(sum(rating > :satisfied_above), 0) as satisfied
from temp.xephang_report group by key
"""

_RATINGS = """
select {key} as key, rating, count(*) as n from temp.xephang_report
where rating is not null group by key, rating
"""

# The times themselves, for the medians and p90s.
_SAMPLES = """
select origin_service, counter, clerk, issue_hour, day, wait, service_time from temp.xephang_report
where wait is not null or service_time is not null
"""

_ARRIVALS = "select issue_hour, count(*), avg(wait) from temp.xephang_report group by issue_hour"

_SERVED_BY_HOUR = """
select finish_hour, count(*) from temp.xephang_report where finish_hour is not null group by finish_hour
"""

_HISTOGRAM = """
select case
    when wait < 5 then 0 when wait < 10 then 1 when wait < 15 then 2 when wait < 20 then 3
    when wait < 30 then 4 when wait < 45 then 5 when wait < 60 then 6 else 7 end as bucket,
    count(*) as n
from temp.xephang_report where wait is not null group by bucket
"""

_CHANNELS = """
select case when e.actor = 'watcher' then 'phone' else 'counter' end as channel, count(*) as n
from temp.xephang_report t cross join events e on e.ticket_id = t.id and e.type = 'ticket_rated'
where t.rating is not null group by channel
"""

_DAYS = "select count(distinct day) from temp.xephang_report"


def percentile(values: Iterable[float], q: float) -> float | None:
    """Excel's PERCENTILE.INC: linear between the closest ranks, at rank (n - 1) * q of the
    sorted values; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def satisfied_above(config: Config) -> float:
    """Ratings above the middle of the configured scale count as satisfied (4-level scale:
    3 and 4; 3-level: 3)."""
    values = [r.value for r in config.rating] or [1, 2, 3, 4]
    return (min(values) + max(values)) / 2


@dataclass
class Report:
    site: str
    start: date
    end: date
    group: str
    days: int = 0  # days in the range that have tickets
    summary: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    hourly: list[dict[str, Any]] = field(default_factory=list)  # hour, arrivals, served, wait_mean
    histogram: list[dict[str, Any]] = field(default_factory=list)  # low, high, count
    channels: dict[str, int] = field(default_factory=dict)  # phone/counter → ratings

    @property
    def busiest_hours(self) -> list[dict[str, Any]]:
        """Up to three hours with the most arrivals, busiest first."""
        ranked = sorted((h for h in self.hourly if h["arrivals"]), key=lambda h: (-h["arrivals"], h["hour"]))
        return ranked[:3]


Step = Callable[[sqlite3.Connection], None]


class ReportJob:
    """One report computed in short database steps, then assembled by ``build``."""

    def __init__(self, config: Config, site: str, start: date, end: date,
                 groups: Iterable[str] = ("service",)) -> None:
        site_config = config.site(site)
        if site_config is None:
            raise ValueError(f"unknown site {site!r}")
        self.groups = tuple(groups)
        for group in self.groups:
            _KEYS[group]  # a KeyError for anything but the fixed groupings
        self.config, self.site, self.start, self.end = config, site_config, start, end
        self.params = {"site": site, "start": start.isoformat(), "end": end.isoformat(),
                       "satisfied_above": satisfied_above(config)}
        self.raw: dict[str, Any] = {}

    def _prepare(self, conn: sqlite3.Connection) -> None:
        tz = self.config.tz
        targets = {s.code: s.wait_target_minutes for s in self.site.services}

        def local_hour(text: str | None) -> int | None:
            return datetime.fromisoformat(text).astimezone(tz).hour if text else None

        conn.create_function("xephang_local_hour", 1, local_hour, deterministic=True)
        conn.create_function("xephang_wait_target", 1, lambda code: targets.get(code, 30),
                             deterministic=True)

    def steps(self) -> Iterator[Step]:
        """Database steps, in order; each a fraction of a second on a year of a big centre."""
        yield self._create
        day = self.start
        while day <= self.end:
            last = min(day + timedelta(days=CHUNK_DAYS - 1), self.end)
            yield functools.partial(self._fill, day, last)
            day = last + timedelta(days=1)
        for group in ("total", *self.groups):
            yield functools.partial(self._figures, group)
        yield self._samples
        yield self._extras
        yield self.cleanup

    def _create(self, conn: sqlite3.Connection) -> None:
        self._prepare(conn)
        epoch = _EPOCHS[_EPOCH]
        conn.execute(_DROP)
        conn.execute(_CREATE.format(epoch=epoch), self.params)

    def _fill(self, first: date, last: date, conn: sqlite3.Connection) -> None:
        self._prepare(conn)
        epoch = _EPOCHS[_EPOCH]
        chunk = {**self.params, "start": first.isoformat(), "end": last.isoformat()}
        conn.execute(_FILL.format(epoch=epoch), chunk)

    def _figures(self, group: str, conn: sqlite3.Connection) -> None:
        key = _KEYS[group]
        self.raw[f"figures:{group}"] = _fetch(conn.execute(_FIGURES.format(key=key), self.params))
        self.raw[f"ratings:{group}"] = _fetch(conn.execute(_RATINGS.format(key=key)))

    def _samples(self, conn: sqlite3.Connection) -> None:
        self.raw["samples"] = _fetch(conn.execute(_SAMPLES))

    def _extras(self, conn: sqlite3.Connection) -> None:
        self.raw["arrivals"] = _fetch(conn.execute(_ARRIVALS))
        self.raw["served"] = _fetch(conn.execute(_SERVED_BY_HOUR))
        self.raw["histogram"] = _fetch(conn.execute(_HISTOGRAM))
        self.raw["channels"] = _fetch(conn.execute(_CHANNELS))
        self.raw["days"] = _fetch(conn.execute(_DAYS))

    def cleanup(self, conn: sqlite3.Connection) -> None:
        conn.execute(_DROP)

    def run(self, conn: sqlite3.Connection) -> tuple[Report, dict[str, list[dict[str, Any]]]]:
        """Every step at once (no server to share the connection with), then ``build``."""
        try:
            for step in self.steps():
                step(conn)
        finally:
            self.cleanup(conn)
        return self.build()

    # -- assembling (pure) ----------------------------------------------------------------

    def _rows(self, name: str) -> list[dict[str, Any]]:
        names, rows = self.raw[name]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _grouped(self, group: str, times: dict[Any, tuple[list[float], list[float]]]) -> list[dict[str, Any]]:
        levels: dict[Any, dict[int, int]] = {}
        for r in self._rows(f"ratings:{group}"):
            levels.setdefault(r["key"], {})[r["rating"]] = r["n"]
        rows = self._rows(f"figures:{group}")
        for row in rows:
            waits, services = times.get(row["key"], ([], []))
            row["wait_median"], row["wait_p90"] = percentile(waits, 0.5), percentile(waits, 0.9)
            row["service_median"], row["service_p90"] = percentile(services, 0.5), percentile(services, 0.9)
            _finish(row, levels.get(row["key"], {}))
        return _sorted(rows, group, self.site)

    def build(self) -> tuple[Report, dict[str, list[dict[str, Any]]]]:
        """The report (grouped by the first grouping) and the rows of every grouping."""
        samples = self.raw["samples"][1]
        times: dict[str, dict[Any, tuple[list[float], list[float]]]] = {}
        for group in ("total", *self.groups):
            column = _SAMPLE_COLUMNS.get(group)
            by_key: dict[Any, tuple[list[float], list[float]]] = {}
            for sample in samples:
                waits, services = by_key.setdefault("*" if column is None else sample[column], ([], []))
                if sample[5] is not None:
                    waits.append(sample[5])
                if sample[6] is not None:
                    services.append(sample[6])
            times[group] = by_key
        result = Report(site=self.site.code, start=self.start, end=self.end, group=self.groups[0])
        total = self._grouped("total", times["total"])
        result.summary = total[0] if total else _finish(_empty_row(), {})
        rows = {group: self._grouped(group, times[group]) for group in self.groups}
        result.rows = rows[self.groups[0]]
        result.days = self.raw["days"][1][0][0]
        arrivals = {h: (n, w) for h, n, w in self.raw["arrivals"][1]}
        served = dict(self.raw["served"][1])
        hours = sorted(h for h in set(arrivals) | set(served) if h is not None)
        if hours:
            result.hourly = [
                {"hour": h, "arrivals": arrivals.get(h, (0, None))[0], "served": served.get(h, 0),
                 "wait_mean": arrivals.get(h, (0, None))[1]}
                for h in range(hours[0], hours[-1] + 1)
            ]
        counts = dict(self.raw["histogram"][1])
        edges = [*WAIT_EDGES, None]
        result.histogram = [{"low": edges[i], "high": edges[i + 1], "count": counts.get(i, 0)}
                            for i in range(len(WAIT_EDGES))]
        result.channels = {"phone": 0, "counter": 0} | dict(self.raw["channels"][1])
        return result, rows


def _fetch(cursor: sqlite3.Cursor) -> tuple[list[str], list[tuple]]:
    return [d[0] for d in cursor.description], cursor.fetchall()


def _finish(row: dict[str, Any], levels: dict[int, int]) -> dict[str, Any]:
    """Derived shares of one row of figures, and its rating counts per level."""
    assessed = row["called"] + row["gave_up_late"]
    row["within_target_share"] = row["within_target"] / assessed if assessed else None
    row["satisfied_share"] = row["satisfied"] / row["rated"] if row["rated"] else None
    row["ratings"] = dict(sorted(levels.items(), reverse=True))
    return row


def _sorted(rows: list[dict[str, Any]], group: str, site: Site) -> list[dict[str, Any]]:
    if group == "service":
        order = {s.code: i for i, s in enumerate(site.services)}
        return sorted(rows, key=lambda r: order.get(r["key"], len(order)))
    # counters, hours, days in natural order; a missing key (never called) last
    return sorted(rows, key=lambda r: (r["key"] is None, r["key"] if r["key"] is not None else 0))


def _empty_row() -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    for measure in ("wait", "service"):
        for stat in ("mean", "median", "p90", "max"):
            row[f"{measure}_{stat}"] = None
    row.update(key="*", rating_mean=None)
    return row


# -- all at once ----------------------------------------------------------------------------------


def report(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
           group: str = "service") -> Report:
    """Every figure of one site over local days ``start``..``end`` (inclusive)."""
    return ReportJob(config, site, start, end, (group,)).run(conn)[0]


def figures(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
            group: str) -> list[dict[str, Any]]:
    """One dict of figures per group key."""
    return ReportJob(config, site, start, end, (group,)).run(conn)[1][group]


def all_groups(conn: sqlite3.Connection, config: Config, site: str, start: date,
               end: date) -> tuple[Report, dict[str, list[dict[str, Any]]]]:
    """The report (grouped per service) and the rows of every grouping, for the exports."""
    return ReportJob(config, site, start, end, GROUPS).run(conn)


def kiosk_rows(conn: sqlite3.Connection, site: str) -> dict[str, dict[str, Any]]:
    """The kiosks' last reported printer state and when each was last heard of."""
    rows = conn.execute(
        "select id, printer_state, printer_detail, seen_at from devices where site = ? and kind = 'kiosk'",
        [site],
    ).fetchall()
    return {r[0]: {"printer_state": r[1], "printer_detail": r[2], "seen_at": r[3]} for r in rows}
