"""Statistics from the recorded ticket times: SQL over the store.

A report answers "how did site S do from day A to day B, per G". ``ReportJob`` copies the
site's tickets of the range, with every derived time in whole seconds, into a temporary
table (``copy_tickets``: the times are parsed once), then makes two grouped passes over it:
one per (service, counter, clerk), one per (day, hour). Every figure of those passes adds up
(counts, sums of seconds, maxima: ``Figures``), so the groupings a manager sees — per
service, counter, clerk, hour, day and the total — are rolled up from them in Python instead
of one pass each. Medians and p90s, which SQLite lacks, are Excel's PERCENTILE.INC over every
time: the same two passes hand each row's times (and its ratings, counted per level) as one
text (``group_concat``), parsed and sorted per row once, and a grouping's times are its rows'
sorted runs merged (``_merged``), so no time crosses into Python as a row of its own and no
SQL sorts them. The SQL never contains anything from the request: the groupings are fixed.

Local hours: where the configured time zone keeps one UTC offset over the range (Vietnam
has no daylight saving), SQL computes them from the epoch plus that offset; otherwise a
helper function registered on the connection asks ``zoneinfo`` per time (``local_hour``).
Definitions: docs/statistics.md.

``ReportJob`` holds only data that pickles: the server runs it in its report process
(server/report_process.py) with ``job.run(connection)``.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from common.config import Config, Site

Group = Literal["service", "counter", "clerk", "hour", "day"]
GROUPS: tuple[Group, ...] = ("service", "counter", "clerk", "hour", "day")
MAX_RANGE_DAYS = 366
COUNTS = (
    "issued", "served", "absent", "transferred", "cancelled", "expired", "in_progress", "called",
    "timed", "within_target", "gave_up_late", "rated", "satisfied",
)
# Waiting-time histogram: bucket i holds waits in [EDGES[i], EDGES[i+1]) minutes.
WAIT_EDGES = (0, 5, 10, 15, 20, 30, 45, 60)
DEFAULT_TARGET_MINUTES = 30

# Where each grouping's key comes from: the (service, counter, clerk) pass or the (day, hour)
# pass, and the position in that pass's key; "total" takes every row of the first pass.
_FROM: dict[str, tuple[str, int | None]] = {
    "service": ("staff", 0), "counter": ("staff", 1), "clerk": ("staff", 2),
    "day": ("calendar", 0), "hour": ("calendar", 1), "total": ("staff", None),
}
_PASSES = {"staff": "origin_service, counter, clerk", "calendar": "day, issue_hour"}

# Seconds since the epoch of an ISO-8601 time: unixepoch() where SQLite has it (3.38+, several
# times faster), else strftime('%s', ...). Both drop the fraction of a second.
_EPOCHS = {"unixepoch": "unixepoch(", "strftime": "strftime('%s', "}
_EPOCH = "unixepoch" if sqlite3.sqlite_version_info >= (3, 38) else "strftime"

# The site's tickets in the range with every derived value the figures need, in seconds,
# copied into a temporary table once. {epoch} is one of _EPOCHS; {issue_hour}/{finish_hour}
# the local hour's expression (_hour_sql).
_TABLE = "xephang_report"
_COPY = """
create temp table xephang_report as
select t.id, t.origin_service, t.counter, t.clerk, t.day, t.state, t.transfers, t.rating,
    t.absent_at is not null as was_absent,
    {epoch}t.first_called_at) - {epoch}t.issued_at) as wait,
    case when t.state = 'done' and t.started_at is not null and t.finished_at is not null
        then {epoch}t.finished_at) - {epoch}t.started_at) end as service_time,
    case when t.first_called_at is null and t.state in ('cancelled', 'expired')
        then {epoch}t.finished_at) - {epoch}t.issued_at) end as gave_up_after,
    coalesce(g.minutes, :default_target) * 60 as target,
    {issue_hour} as issue_hour,
    case when t.state = 'done' then {finish_hour} end as finish_hour
from tickets t left join temp.xephang_targets g on g.code = t.origin_service
where t.site = :site and t.day >= :start and t.day <= :end
"""
_TARGETS = "create temp table xephang_targets (code text primary key, minutes integer not null)"
_DROP = ("drop table if exists temp.xephang_report", "drop table if exists temp.xephang_targets")

# Figures that add up across groups (seconds as integers, so sums merge exactly). A count of
# the rows where a condition holds is count(*) filter (...) (SQLite 3.30+): the same number as
# coalesce(sum(condition), 0), a fifth cheaper per pass.
SUMS = """
    count(*) as issued,
    count(*) filter (where state = 'done') as served,
    count(*) filter (where was_absent and state in ('absent', 'expired')) as absent,
    count(*) filter (where transfers > 0) as transferred,
    count(*) filter (where state = 'cancelled') as cancelled,
    count(*) filter (where state = 'expired' and not was_absent) as expired,
    count(*) filter (where state in ('waiting', 'called', 'serving', 'held')) as in_progress,
    count(wait) as called,
    coalesce(sum(wait), 0) as wait_sum,
    max(wait) as wait_max,
    count(service_time) as timed,
    coalesce(sum(service_time), 0) as service_sum,
    max(service_time) as service_max,
    count(*) filter (where wait <= target) as within_target,
    count(*) filter (where gave_up_after > target) as gave_up_late,
    count(rating) as rated,
    coalesce(sum(rating), 0) as rating_sum,
    count(*) filter (where rating > :satisfied_above) as satisfied
"""
_SUMMED = ("issued", "served", "absent", "transferred", "cancelled", "expired", "in_progress", "called",
           "wait_sum", "timed", "service_sum", "within_target", "gave_up_late", "rated", "rating_sum",
           "satisfied")
_MAXED = ("wait_max", "service_max")

# A pass also hands each row's times, for the percentiles, and its ratings, for the count per
# level, as text: "61,5,240" (SQLite has no list; one value per row of the pass instead of one
# row per time, in any order; a null when none).
_PASS = ("select {keys}, " + SUMS + ", group_concat(wait) as waits, group_concat(service_time) as services,"
         " group_concat(rating) as levels from temp.xephang_report group by {keys}")
_HOURS = """
select null, issue_hour, count(*) as issued, count(wait) as called, coalesce(sum(wait), 0) as wait_sum
from temp.xephang_report group by issue_hour
"""
_DAYS = "select count(distinct day) from temp.xephang_report"
_SERVED_BY_HOUR = """
select finish_hour, count(*) from temp.xephang_report where finish_hour is not null group by finish_hour
"""
_CHANNELS = """
select case when e.actor = 'watcher' then 'phone' else 'counter' end as channel, count(*) as n
from temp.xephang_report t cross join events e indexed by events_rated
    on e.ticket_id = t.id and e.type = 'ticket_rated'
where t.rating is not null group by channel
"""


def percentile(values: Iterable[float], q: float) -> float | None:
    """Excel's PERCENTILE.INC: linear between the closest ranks, at rank (n - 1) * q of the
    sorted values; None for no values."""
    return _ranked(sorted(values), q)


def _ranked(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def minutes_percentile(seconds: list[int], q: float) -> float | None:
    """PERCENTILE.INC in minutes of times in whole seconds, sorted smallest first: the same
    value as ``percentile`` over the minutes (each rank converted before interpolating)."""
    if not seconds:
        return None
    position = (len(seconds) - 1) * q
    low = int(position)
    high = min(low + 1, len(seconds) - 1)
    a, b = seconds[low] / 60.0, seconds[high] / 60.0
    return a + (b - a) * (position - low)


def satisfied_above(config: Config) -> float:
    """Ratings above the middle of the configured scale count as satisfied (4-level scale:
    3 and 4; 3-level: 3)."""
    values = [r.value for r in config.rating] or [1, 2, 3, 4]
    return (min(values) + max(values)) / 2


@functools.lru_cache(maxsize=64)
def fixed_offset(tz: tzinfo, start: date, end: date) -> int | None:
    """The zone's UTC offset in seconds if it is the same at every hour from the day before
    ``start`` to two days after ``end`` (every time a ticket of the range can carry), else
    None (daylight saving, or a change of the zone's rules in the range)."""
    moment = datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC)
    last = datetime.combine(end + timedelta(days=3), time(), tzinfo=UTC)
    offsets: set[float] = set()
    while moment <= last and len(offsets) < 2:
        offset = moment.astimezone(tz).utcoffset()
        offsets.add(offset.total_seconds() if offset is not None else 0.0)
        moment += timedelta(hours=1)
    return int(offsets.pop()) if len(offsets) == 1 else None


def local_hour(tz: tzinfo, text: str | None) -> int | None:
    """The local hour of a stored time (the helper SQL calls when the zone has no fixed offset)."""
    return datetime.fromisoformat(text).astimezone(tz).hour if text else None


def _hour_sql(column: str, offset: int | None) -> str:
    if offset is None:
        return f"xephang_local_hour({column})"
    # The offset is an integer of the configuration's zone, never from a request.
    return f"(({_EPOCHS[_EPOCH]}{column}) + {int(offset)}) / 3600 % 24)"


def copy_tickets(conn: sqlite3.Connection, config: Config, site: Site, start: date, end: date, *,
                 hours_in_sql: bool = True) -> None:
    """Fill temp.xephang_report with the site's tickets of the local days ``start``..``end``
    and their derived times (``hours_in_sql=False`` forces the zoneinfo helper for the hours)."""
    drop_tickets(conn)
    tz = config.tz
    conn.create_function("xephang_local_hour", 1, lambda text: local_hour(tz, text), deterministic=True)
    conn.execute(_TARGETS)
    conn.executemany("insert into temp.xephang_targets values (?, ?)",
                     [(s.code, s.wait_target_minutes) for s in site.services])
    offset = fixed_offset(tz, start, end) if hours_in_sql else None
    sql = _COPY.format(epoch=_EPOCHS[_EPOCH], issue_hour=_hour_sql("t.issued_at", offset),
                       finish_hour=_hour_sql("t.finished_at", offset))
    conn.execute(sql, {"site": site.code, "start": start.isoformat(), "end": end.isoformat(),
                       "default_target": DEFAULT_TARGET_MINUTES})


def drop_tickets(conn: sqlite3.Connection) -> None:
    for statement in _DROP:
        conn.execute(statement)


@dataclass
class Figures:
    """The figures of one group that add up: counts, sums of seconds, maxima, ratings per
    level and the times themselves (whole seconds, sorted). ``row`` derives the rest."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SUMMED, 0))
    maxima: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(_MAXED))
    ratings: dict[int, int] = field(default_factory=dict)
    waits: list[int] = field(default_factory=list)
    services: list[int] = field(default_factory=list)

    def add(self, values: dict[str, Any]) -> None:
        """A row of a SUMS query."""
        for name in _SUMMED:
            self.sums[name] += values[name]
        for name in _MAXED:
            mine, theirs = self.maxima[name], values[name]
            if theirs is not None and (mine is None or theirs > mine):
                self.maxima[name] = theirs

    @classmethod
    def combined(cls, parts: Iterable[Figures]) -> Figures:
        """The figures of several groups together (their times sorted once)."""
        whole = cls()
        waits: list[int] = []
        services: list[int] = []
        for part in parts:
            whole.add({**part.sums, **part.maxima})
            for level, n in part.ratings.items():
                whole.ratings[level] = whole.ratings.get(level, 0) + n
            waits += part.waits
            services += part.services
        whole.waits, whole.services = sorted(waits), sorted(services)
        return whole

    def row(self, key: Any) -> dict[str, Any]:
        """The figures a report shows, in minutes, with the shares and percentiles."""
        s, m = self.sums, self.maxima
        row: dict[str, Any] = {"key": key, **{name: s[name] for name in COUNTS}}
        row["wait_mean"] = s["wait_sum"] / s["called"] / 60 if s["called"] else None
        row["service_mean"] = s["service_sum"] / s["timed"] / 60 if s["timed"] else None
        row["wait_max"] = m["wait_max"] / 60.0 if m["wait_max"] is not None else None
        row["service_max"] = m["service_max"] / 60.0 if m["service_max"] is not None else None
        row["rating_mean"] = s["rating_sum"] / s["rated"] if s["rated"] else None
        row["wait_median"], row["wait_p90"] = (minutes_percentile(self.waits, 0.5),
                                               minutes_percentile(self.waits, 0.9))
        row["service_median"], row["service_p90"] = (minutes_percentile(self.services, 0.5),
                                                     minutes_percentile(self.services, 0.9))
        assessed = s["called"] + s["gave_up_late"]
        row["within_target_share"] = s["within_target"] / assessed if assessed else None
        row["satisfied_share"] = s["satisfied"] / s["rated"] if s["rated"] else None
        row["ratings"] = dict(sorted(self.ratings.items(), reverse=True))
        return row


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


class ReportJob:
    """One report: its SQL (``run``) and the assembly of its figures."""

    def __init__(self, config: Config, site: str, start: date, end: date,
                 groups: Iterable[str] = ("service",), *, hours_in_sql: bool = True) -> None:
        site_config = config.site(site)
        if site_config is None:
            raise ValueError(f"unknown site {site!r}")
        self.groups = tuple(groups)
        for group in self.groups:
            if group not in GROUPS:
                raise KeyError(group)  # anything but the fixed groupings
        self.config, self.site, self.start, self.end = config, site_config, start, end
        self.hours_in_sql = hours_in_sql

    def run(self, conn: sqlite3.Connection) -> tuple[Report, dict[str, list[dict[str, Any]]]]:
        """The report (grouped by the first grouping) and the rows of every grouping."""
        params = {"satisfied_above": satisfied_above(self.config)}
        try:
            copy_tickets(conn, self.config, self.site, self.start, self.end, hours_in_sql=self.hours_in_sql)
            # The (day, hour) pass only for the groupings that need it; the hourly flow alone
            # takes a lighter one.
            needed = {_FROM[group][0] for group in ("total", *self.groups)}
            passes = {name: keyed_rows(conn.execute(_PASS.format(keys=keys), params), keys.count(",") + 1)
                      for name, keys in _PASSES.items() if name in needed}
            hours = passes.get("calendar") or keyed_rows(conn.execute(_HOURS), 2)
            days = conn.execute(_DAYS).fetchone()[0]
            served = dict(conn.execute(_SERVED_BY_HOUR).fetchall())
            channels = dict(conn.execute(_CHANNELS).fetchall())
        finally:
            drop_tickets(conn)
        for rows_of_pass in passes.values():
            for _, values in rows_of_pass:
                values["waits"], values["services"] = _times(values["waits"]), _times(values["services"])
                values["levels"] = Counter(json.loads(f"[{values['levels']}]")) if values["levels"] else {}
        found = {group: _group(group, passes) for group in ("total", *self.groups)}
        result = Report(site=self.site.code, start=self.start, end=self.end, group=self.groups[0])
        total = found.pop("total").get("*", Figures())
        result.summary = total.row("*")
        rows = {group: _sorted([f.row(key) for key, f in groups.items()], group, self.site)
                for group, groups in found.items()}
        result.rows = rows[self.groups[0]]
        result.days = days
        result.hourly = _hourly(hours, served)
        result.histogram = _histogram(total.waits)
        result.channels = {"phone": 0, "counter": 0} | channels
        return result, rows


def keyed_rows(cursor: sqlite3.Cursor, width: int) -> list[tuple[tuple, dict[str, Any]]]:
    """A grouped query's rows as (the first ``width`` columns, the other columns by name)."""
    names = [d[0] for d in cursor.description][width:]
    return [(values[:width], dict(zip(names, values[width:], strict=True))) for values in cursor]


def _times(text: str | None) -> list[int]:
    """A pass row's times (``group_concat``'s text of numbers, or null), sorted."""
    return sorted(json.loads(f"[{text}]")) if text else []


def _merged(runs: list[list[int]]) -> list[int]:
    """Sorted lists as one sorted list (Python's sort merges the runs it finds)."""
    return sorted(itertools.chain.from_iterable(runs))


def _group(group: str, passes: dict[str, list[tuple[tuple, dict[str, Any]]]]) -> dict[Any, Figures]:
    """One grouping's figures, rolled up from its pass (whose times are sorted lists by now,
    its ratings counts per level)."""
    source, position = _FROM[group]
    found: dict[Any, Figures] = {}
    times: dict[Any, tuple[list[list[int]], list[list[int]]]] = {}
    for key, values in passes[source]:
        at = "*" if position is None else key[position]
        figures = found.setdefault(at, Figures())
        figures.add(values)
        for level, n in values["levels"].items():
            figures.ratings[level] = figures.ratings.get(level, 0) + n
        waits, services = times.setdefault(at, ([], []))
        waits.append(values["waits"])
        services.append(values["services"])
    for at, (waits, services) in times.items():
        found[at].waits, found[at].services = _merged(waits), _merged(services)
    return found


def _hourly(calendar: list[tuple[tuple, dict[str, Any]]], served: dict[int, int]) -> list[dict[str, Any]]:
    arrivals: dict[int, list[int]] = {}
    for (_, issue_hour), row in calendar:
        if issue_hour is not None:
            hour = arrivals.setdefault(issue_hour, [0, 0, 0])
            hour[0] += row["issued"]
            hour[1] += row["called"]
            hour[2] += row["wait_sum"]
    hours = sorted(h for h in set(arrivals) | set(served) if h is not None)
    if not hours:
        return []
    out = []
    for h in range(hours[0], hours[-1] + 1):
        issued, called, wait_sum = arrivals.get(h, [0, 0, 0])
        out.append({"hour": h, "arrivals": issued, "served": served.get(h, 0),
                    "wait_mean": wait_sum / called / 60 if called else None})
    return out


def _histogram(waits: list[int]) -> list[dict[str, Any]]:
    """Called tickets per band of waiting minutes, from the waits in seconds, sorted."""
    edges = [low * 60 for low in WAIT_EDGES[1:]]
    counts, below = [], 0
    for edge in edges:
        upto = bisect.bisect_left(waits, edge)  # waits < edge
        counts.append(upto - below)
        below = upto
    counts.append(len(waits) - below)
    bounds = [*WAIT_EDGES, None]
    return [{"low": bounds[i], "high": bounds[i + 1], "count": counts[i]} for i in range(len(WAIT_EDGES))]


def _sorted(rows: list[dict[str, Any]], group: str, site: Site) -> list[dict[str, Any]]:
    if group == "service":
        order = {s.code: i for i, s in enumerate(site.services)}
        return sorted(rows, key=lambda r: order.get(r["key"], len(order)))
    # counters, hours, days in natural order; a missing key (never called) last
    return sorted(rows, key=lambda r: (r["key"] is None, r["key"] if r["key"] is not None else 0))


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
