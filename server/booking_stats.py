"""The managers' figures for appointments: bookings per slot, no-shows, check-in lateness
and lead time, for one site and a range of days (issue 14; docs/statistics.md#appointments).

Read from the ``bookings`` table (one row per booking, whatever became of it: its status is
the last word) by the report process (server/report_process.py), like the ticket figures of
server/stats.py. A site books at most a few hundred places a day, so a year is some ten
thousand rows: they are fetched once, without the personal columns (name, phone, CCCD hash
are never read here), and counted in Python.

Definitions:

* made: bookings of a slot in the range, whatever became of them; ``cancelled`` are
  cancelled by the citizen (a moved booking counts once, at the slot it was moved to);
* checked in / no-show / open: the status now (open: still ``booked``, the check-in window
  not closed yet, e.g. the coming days of the range);
* no-show share: no-shows / (checked in + no-shows): of the bookings whose window is over,
  the share nobody came for;
* lateness: check-in time − the slot's start, minutes (negative: early); "late" counts the
  check-ins after the slot's start;
* lead time: the slot's start − when it was booked (hours); "same day": booked on the day
  of the slot.

Percentiles are Excel's PERCENTILE.INC, like every other report figure.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from common.config import Config
from server.stats import percentile

STATUSES = ("booked", "cancelled", "checked_in", "no_show")
CHANNELS = ("web", "desk", "api")
GROUPS = ("slot", "service", "day")
# The figures of a row, in the order of the page's table and the exports: (key, kind).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("made", "count"), ("cancelled", "count"), ("checked_in", "count"), ("no_show", "count"),
    ("open", "count"), ("no_show_share", "share"), ("late", "count"), ("lateness_median", "minutes"),
    ("lateness_p90", "minutes"), ("lead_median_hours", "hours"), ("lead_p90_hours", "hours"),
    ("same_day_share", "share"), ("web", "count"), ("desk", "count"), ("api", "count"),
)

_ROWS = """
select service, day, slot_start, status, created_at, checked_in_at, channel, lead_minutes
from bookings where site = :site and day >= :start and day <= :end
"""


@dataclass
class _Tally:
    """The bookings of one group, counted; ``row()`` turns them into figures."""

    statuses: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    lateness: list[float] = field(default_factory=list)  # minutes, checked-in bookings
    leads: list[float] = field(default_factory=list)  # hours, bookings not cancelled
    same_day: int = 0

    def add(self, booking: _Booking) -> None:
        self.statuses[booking.status] += 1
        self.channels[booking.channel] += 1
        if booking.status == "cancelled":
            return
        if booking.lateness is not None:
            self.lateness.append(booking.lateness)
        if booking.lead_hours is not None:
            self.leads.append(booking.lead_hours)
        self.same_day += booking.same_day

    def row(self, key: Any) -> dict[str, Any]:
        s = self.statuses
        made = sum(s.values())
        kept = made - s["cancelled"]
        over = s["checked_in"] + s["no_show"]
        return {
            "key": key, "made": made, "cancelled": s["cancelled"], "checked_in": s["checked_in"],
            "no_show": s["no_show"], "open": s["booked"],
            "no_show_share": s["no_show"] / over if over else None,
            "late": sum(1 for minutes in self.lateness if minutes > 0),
            "lateness_median": percentile(self.lateness, 0.5),
            "lateness_p90": percentile(self.lateness, 0.9),
            "lead_median_hours": percentile(self.leads, 0.5),
            "lead_p90_hours": percentile(self.leads, 0.9),
            "same_day_share": self.same_day / kept if kept else None,
            **{channel: self.channels[channel] for channel in CHANNELS},
        }


@dataclass(frozen=True)
class _Booking:
    service: str
    day: str
    slot: str  # the slot's local start, "HH:MM"
    status: str
    channel: str
    lateness: float | None
    lead_hours: float | None
    same_day: bool


@dataclass
class BookingReport:
    """A site's appointment figures over a range: the total and the rows of each grouping."""

    site: str
    start: date
    end: date
    summary: dict[str, Any]
    groups: dict[str, list[dict[str, Any]]]

    @property
    def empty(self) -> bool:
        return not self.summary["made"]


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _booking(row: sqlite3.Row | tuple[Any, ...], tz: tzinfo) -> _Booking:
    service, day, slot_start, status, created_at, checked_in_at, channel, lead_minutes = row
    start = datetime.fromisoformat(slot_start)
    checked_in, created = _moment(checked_in_at), _moment(created_at)
    lateness = (checked_in - start).total_seconds() / 60 if checked_in and status == "checked_in" else None
    if lead_minutes is not None:
        lead: float | None = lead_minutes / 60
    else:
        lead = (start - created).total_seconds() / 3600 if created else None
    same_day = created is not None and created.astimezone(tz).date().isoformat() == day
    return _Booking(service=service, day=day, slot=start.astimezone(tz).strftime("%H:%M"), status=status,
                    channel=channel if channel in CHANNELS else "api", lateness=lateness,
                    lead_hours=lead, same_day=same_day)


def booking_report(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
                   ) -> BookingReport:
    """The figures of ``site``'s bookings whose day is in ``start``..``end`` (inclusive)."""
    tz = config.tz
    total = _Tally()
    tallies: dict[str, dict[str, _Tally]] = {group: {} for group in GROUPS}
    rows = conn.execute(_ROWS, {"site": site, "start": start.isoformat(), "end": end.isoformat()})
    for row in rows:
        booking = _booking(row, tz)
        total.add(booking)
        for group, key in (("slot", booking.slot), ("service", booking.service), ("day", booking.day)):
            tallies[group].setdefault(key, _Tally()).add(booking)
    order = _service_order(config, site)
    groups = {
        "slot": [tallies["slot"][k].row(k) for k in sorted(tallies["slot"])],
        "service": [tallies["service"][k].row(k) for k in sorted(tallies["service"], key=order)],
        "day": [tallies["day"][k].row(k) for k in sorted(tallies["day"])],
    }
    return BookingReport(site=site, start=start, end=end, summary=total.row(None), groups=groups)


def _service_order(config: Config, site: str) -> Any:
    found = config.site(site)
    codes = [s.code for s in found.services] if found else []

    def key(code: str) -> tuple[int, str]:
        return (codes.index(code) if code in codes else len(codes), code)

    return key


def day_service_slot_rows(conn: sqlite3.Connection, config: Config, site: str, start: date, end: date,
                          ) -> list[dict[str, Any]]:
    """The CSV export's lines: one per (day, service, slot) with that slot's figures."""
    tz = config.tz
    tallies: dict[tuple[str, str, str], _Tally] = {}
    rows = conn.execute(_ROWS, {"site": site, "start": start.isoformat(), "end": end.isoformat()})
    for row in rows:
        booking = _booking(row, tz)
        tallies.setdefault((booking.day, booking.service, booking.slot), _Tally()).add(booking)
    order = _service_order(config, site)
    keys = sorted(tallies, key=lambda k: (k[0], order(k[1]), k[2]))
    return [tallies[k].row(k) for k in keys]
