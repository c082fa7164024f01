"""Statistics from the recorded ticket times: SQL over the store, and the live picture.

``report`` answers "how did site S do from day A to day B, per G" with one parameterised
SQL query per figure set over the ``tickets`` table (``day`` is the LOCAL date; the
transition times are UTC ISO-8601 text). The SQL never contains anything from the request:
the grouping picks one of a fixed set of expressions. Three helpers are registered on the
connection: the local hour of a time (``zoneinfo``, the configured time zone), a service's
waiting target, and a percentile aggregate (Excel's PERCENTILE.INC, so a manager checking
an export in Excel gets the same figure). Definitions: docs/statistics.md.

Every function taking ``conn`` must run on the database thread (``QueueServer._db``).
``live`` reads the in-memory state instead and is pure.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from common.config import Config, Site
from server.core.estimate import estimate_wait_minutes
from server.core.model import CounterStatus, SiteState, TicketState

Group = Literal["service", "counter", "clerk", "hour", "day"]
GROUPS: tuple[Group, ...] = ("service", "counter", "clerk", "hour", "day")
MAX_RANGE_DAYS = 366
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
    "hour": "xephang_local_hour(issued_at)",
    "day": "day",
    "total": "'*'",
}

_TICKETS = """
with t as (
    select origin_service, counter, clerk, day, issued_at, state, transfers, rating, absent_at,
        case when first_called_at is not null
            then (strftime('%s', first_called_at) - strftime('%s', issued_at)) / 60.0 end as wait,
        case when state = 'done' and started_at is not null and finished_at is not null
            then (strftime('%s', finished_at) - strftime('%s', started_at)) / 60.0 end as service_time,
        case when first_called_at is null and state in ('cancelled', 'expired')
            then (strftime('%s', finished_at) - strftime('%s', issued_at)) / 60.0 end as gave_up_after,
        xephang_wait_target(origin_service) as target
    from tickets where site = :site and day >= :start and day <= :end
)
"""

_FIGURES = _TICKETS + """
select {key} as key,
    count(*) as issued,
    coalesce(sum(state = 'done'), 0) as served,
    coalesce(sum(absent_at is not null and state in ('absent', 'expired')), 0) as absent,
    coalesce(sum(transfers > 0), 0) as transferred,
    coalesce(sum(state = 'cancelled'), 0) as cancelled,
    coalesce(sum(state = 'expired' and absent_at is null), 0) as expired,
    coalesce(sum(state in ('waiting', 'called', 'serving', 'held')), 0) as in_progress,
    count(wait) as called,
    avg(wait) as wait_mean,
    xephang_percentile(wait, 0.5) as wait_median,
    xephang_percentile(wait, 0.9) as wait_p90,
    max(wait) as wait_max,
    count(service_time) as timed,
    avg(service_time) as service_mean,
    xephang_percentile(service_time, 0.5) as service_median,
    xephang_percentile(service_time, 0.9) as service_p90,
    max(service_time) as service_max,
    coalesce(sum(wait <= target), 0) as within_target,
    coalesce(sum(gave_up_after > target), 0) as gave_up_late,
    count(rating) as rated,
    avg(rating) as rating_mean,
    coalesce(sum(rating > :satisfied_above), 0) as satisfied
from t group by key
"""

_RATINGS = _TICKETS + """
select {key} as key, rating, count(*) as n from t where rating is not null group by key, rating
"""

_ARRIVALS = _TICKETS + """
select xephang_local_hour(issued_at) as hour, count(*) as n, avg(wait) as wait_mean
from t group by hour
"""

_SERVED_BY_HOUR = """
select xephang_local_hour(finished_at) as hour, count(*) as n from tickets
where site = :site and day >= :start and day <= :end and state = 'done' group by hour
"""

_HISTOGRAM = _TICKETS + """
select case
    when wait < 5 then 0 when wait < 10 then 1 when wait < 15 then 2 when wait < 20 then 3
    when wait < 30 then 4 when wait < 45 then 5 when wait < 60 then 6 else 7 end as bucket,
    count(*) as n
from t where wait is not null group by bucket
"""

_CHANNELS = """
select case when e.actor = 'watcher' then 'phone' else 'counter' end as channel, count(*) as n
from events e join tickets t on t.id = e.ticket_id
where e.type = 'ticket_rated' and t.site = :site and t.day >= :start and t.day <= :end
group by channel
"""

_DAYS = "select count(distinct day) from tickets where site = :site and day >= :start and day <= :end"


class _Percentile:
    """SQL aggregate ``xephang_percentile(x, q)``: Excel's PERCENTILE.INC of the non-null x
    (linear between the closest ranks: position (n - 1) * q of the sorted values)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.q = 0.5

    def step(self, value: float | None, q: float) -> None:
        self.q = q
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return percentile(self.values, self.q)


def percentile(values: Iterable[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _prepare(conn: sqlite3.Connection, config: Config, site: Site) -> None:
    tz = config.tz
    targets = {s.code: s.wait_target_minutes for s in site.services}

    def local_hour(text: str | None) -> int | None:
        return datetime.fromisoformat(text).astimezone(tz).hour if text else None

    conn.create_function("xephang_local_hour", 1, local_hour, deterministic=True)
    conn.create_function("xephang_wait_target", 1, lambda code: targets.get(code, 30), deterministic=True)
    conn.create_aggregate("xephang_percentile", 2, _Percentile)  # type: ignore[arg-type]


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


def _finish(row: dict[str, Any], levels: dict[int, int]) -> dict[str, Any]:
    """Derived shares of one row of figures, and its rating counts per level."""
    assessed = row["called"] + row["gave_up_late"]
    row["within_target_share"] = row["within_target"] / assessed if assessed else None
    row["satisfied_share"] = row["satisfied"] / row["rated"] if row["rated"] else None
    row["ratings"] = dict(sorted(levels.items(), reverse=True))
    return row


def figures(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
            group: str) -> list[dict[str, Any]]:
    """One dict of figures per group key (``group`` "total": one row for everything)."""
    site_config = config.site(site)
    if site_config is None:
        raise ValueError(f"unknown site {site!r}")
    key = _KEYS[group]  # a KeyError for anything but the fixed groupings
    _prepare(conn, config, site_config)
    params = {"site": site, "start": start.isoformat(), "end": end.isoformat(),
              "satisfied_above": satisfied_above(config)}
    rows = _dicts(conn.execute(_FIGURES.format(key=key), params))
    levels: dict[Any, dict[int, int]] = {}
    for r in _dicts(conn.execute(_RATINGS.format(key=key), params)):
        levels.setdefault(r["key"], {})[r["rating"]] = r["n"]
    return [_finish(row, levels.get(row["key"], {})) for row in _sorted(rows, group, site_config)]


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sorted(rows: list[dict[str, Any]], group: str, site: Site) -> list[dict[str, Any]]:
    if group == "service":
        order = {s.code: i for i, s in enumerate(site.services)}
        return sorted(rows, key=lambda r: order.get(r["key"], len(order)))
    # counters, hours, days in natural order; a missing key (never called) last
    return sorted(rows, key=lambda r: (r["key"] is None, r["key"] if r["key"] is not None else 0))


def report(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
           group: str = "service") -> Report:
    """Every figure of one site over local days ``start``..``end`` (inclusive)."""
    result = Report(site=site, start=start, end=end, group=group)
    total = figures(conn, config, site, start, end, "total")
    result.summary = total[0] if total else _finish(_empty_row(), {})
    result.rows = figures(conn, config, site, start, end, group)
    params = {"site": site, "start": start.isoformat(), "end": end.isoformat()}
    result.days = conn.execute(_DAYS, params).fetchone()[0]
    arrivals = {h: (n, w) for h, n, w in conn.execute(_ARRIVALS, params)}
    served = dict(conn.execute(_SERVED_BY_HOUR, params).fetchall())
    hours = sorted(set(arrivals) | set(served))
    if hours:
        result.hourly = [
            {"hour": h, "arrivals": arrivals.get(h, (0, None))[0], "served": served.get(h, 0),
             "wait_mean": arrivals.get(h, (0, None))[1]}
            for h in range(hours[0], hours[-1] + 1)
        ]
    counts = dict(conn.execute(_HISTOGRAM, params).fetchall())
    edges = [*WAIT_EDGES, None]
    result.histogram = [
        {"low": edges[i], "high": edges[i + 1], "count": counts.get(i, 0)} for i in range(len(WAIT_EDGES))
    ]
    result.channels = {"phone": 0, "counter": 0} | dict(conn.execute(_CHANNELS, params).fetchall())
    return result


def all_groups(conn: sqlite3.Connection, config: Config, site: str, start: date,
               end: date) -> tuple[Report, dict[str, list[dict[str, Any]]]]:
    """The report (grouped per service) and the rows of every grouping, for the exports."""
    base = report(conn, config, site, start, end, "service")
    groups = {"service": base.rows}
    for group in GROUPS[1:]:
        groups[group] = figures(conn, config, site, start, end, group)
    return base, groups


def _empty_row() -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    for measure in ("wait", "service"):
        for stat in ("mean", "median", "p90", "max"):
            row[f"{measure}_{stat}"] = None
    row.update(key="*", rating_mean=None)
    return row


# -- devices ---------------------------------------------------------------------------------


def kiosk_rows(conn: sqlite3.Connection, site: str) -> dict[str, dict[str, Any]]:
    """The kiosks' last reported printer state and when each was last heard of."""
    rows = conn.execute(
        "select id, printer_state, printer_detail, seen_at from devices where site = ? and kind = 'kiosk'",
        [site],
    ).fetchall()
    return {r[0]: {"printer_state": r[1], "printer_detail": r[2], "seen_at": r[3]} for r in rows}


# -- live (in memory, pure) -----------------------------------------------------------------------


def live(config: Config, state: SiteState, now: datetime) -> dict[str, Any]:
    """What is happening at a site now: queues per service, the longest wait, the counters."""
    site = state.rules.site
    waiting = [t for t in state.tickets.values() if t.state is TicketState.WAITING]
    services = []
    for service in site.services:
        mine = [t for t in waiting if t.service == service.code]
        oldest = min(mine, key=lambda t: t.issued_at, default=None)
        serving = [n for n in site.counters_serving(service.code)]
        services.append({
            "code": service.code, "name_vi": service.name_vi, "name_en": service.name_en,
            "waiting": len(mine),
            "longest_wait": _minutes(now, oldest.issued_at) if oldest else None,
            "longest_number": oldest.number if oldest else None,
            "estimate": estimate_wait_minutes(state, service.code, len(mine)),
            "issued": state.sequences.get(service.code, 0),
            "counters": serving,
            "counters_open": sum(
                1 for n in serving if state.counters[n].status is CounterStatus.OPEN),
            "target": service.wait_target_minutes,
        })
    oldest = min(waiting, key=lambda t: t.issued_at, default=None)
    counters = []
    for config_counter in site.counters:
        live_counter = state.counters[config_counter.number]
        active = state.tickets.get(live_counter.active_ticket) if live_counter.active_ticket else None
        user = config.user(live_counter.clerk) if live_counter.clerk else None
        counters.append({
            "number": config_counter.number, "name": config_counter.name,
            "services": list(config_counter.services), "status": live_counter.status.value,
            "clerk": live_counter.clerk, "clerk_name": user.full_name if user else live_counter.clerk,
            "pause_reason": live_counter.pause_reason,
            "active_number": active.number if active else None,
            "active_state": active.state.value if active else None,
            "active_minutes": _minutes(now, active.started_at or active.called_at)
            if active and (active.started_at or active.called_at) else None,
            "since": live_counter.since.isoformat() if live_counter.since else None,
            "since_minutes": _minutes(now, live_counter.since) if live_counter.since else None,
        })
    return {
        "site": site.code, "day": state.day.isoformat(), "at": now.isoformat(),
        "waiting": len(waiting),
        "longest": {
            "number": oldest.number, "service": oldest.service,
            "minutes": _minutes(now, oldest.issued_at),
        } if oldest else None,
        "held": sum(1 for t in state.tickets.values() if t.state is TicketState.HELD),
        "services": services, "counters": counters,
        "counters_open": sum(1 for c in counters if c["status"] == "open"),
        "counters_paused": sum(1 for c in counters if c["status"] == "paused"),
    }


def _minutes(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds() / 60, 0.0)
