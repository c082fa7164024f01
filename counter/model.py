"""The counter app's local mirror of one site's queue, built from snapshot + updates.

Pure: no Qt, no socket, no clock reads. The server is the single truth; the mirror only
upserts what it is sent (a snapshot replaces everything) and answers the questions the
clerk's screen asks: my counter, my active ticket, who is waiting for me, held and absent
tickets I may call back, and today's figures. Times are computed from a ``now`` passed
in, already converted to the server's clock (see ``Mirror.server_now``).
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from common import protocol as p

WAITING, CALLED, SERVING, HELD, ABSENT, DONE, CANCELLED = (
    "waiting", "called", "serving", "held", "absent", "done", "cancelled")


@dataclass
class Mirror:
    """What the server told this clerk about the site, keyed like the server's views."""

    counter_number: int | None = None
    site: p.SiteInfo | None = None
    day: date | None = None
    services: dict[str, p.ServiceView] = field(default_factory=dict)
    counters: dict[int, p.CounterView] = field(default_factory=dict)
    tickets: dict[str, p.TicketView] = field(default_factory=dict)
    clock_offset: timedelta = timedelta(0)
    loaded: bool = False

    # -- feeding --------------------------------------------------------------------------

    def apply_snapshot(self, snapshot: p.Snapshot, received_at: datetime) -> None:
        """Replace everything; ``received_at`` (local clock) fixes the offset to server time."""
        self.site = snapshot.site
        self.day = snapshot.site.day
        self.counter_number = snapshot.counter
        self.services = {s.code: s for s in snapshot.services}
        self.counters = {c.number: c for c in snapshot.counters}
        self.tickets = {t.id: t for t in snapshot.tickets}
        self.clock_offset = snapshot.server_time - received_at
        self.loaded = True

    def apply_update(self, update: p.Update) -> None:
        """Upsert by key. A new day means the server rolled over: yesterday is gone."""
        if self.site is None or update.site != self.site.code:
            return
        if update.day is not None and self.day is not None and update.day != self.day:
            self.day = update.day
            self.site = _replace_day(self.site, update.day)
            self.tickets = {}
            tickets = [t for t in update.tickets if t.state != "expired"]
        else:
            tickets = update.tickets
        for ticket in tickets:
            self.tickets[ticket.id] = ticket
        for counter in update.counters:
            self.counters[counter.number] = counter
        for service in update.services:
            self.services[service.code] = service

    def server_now(self, local_now: datetime) -> datetime:
        return local_now + self.clock_offset

    # -- questions ------------------------------------------------------------------------

    @property
    def counter(self) -> p.CounterView | None:
        if self.counter_number is None:
            return None
        return self.counters.get(self.counter_number)

    @property
    def paused(self) -> bool:
        counter = self.counter
        return counter is not None and counter.status == "paused"

    @property
    def active_ticket(self) -> p.TicketView | None:
        counter = self.counter
        if counter is None or counter.active_ticket is None:
            return None
        ticket = self.tickets.get(counter.active_ticket)
        if ticket is None or ticket.state not in (CALLED, SERVING):
            return None
        return ticket

    @property
    def my_services(self) -> list[p.ServiceView]:
        counter = self.counter
        if counter is None:
            return []
        return [self.services[code] for code in counter.services if code in self.services]

    def serves(self, ticket: p.TicketView) -> bool:
        """Whether this counter may call ``ticket`` from the queue (the server's rule)."""
        counter = self.counter
        if counter is None:
            return False
        if ticket.target_counter is not None:
            return ticket.target_counter == counter.number
        return ticket.service in counter.services

    def waiting_for_me(self) -> list[p.TicketView]:
        """Waiting tickets this counter serves, in queue order (front transfers first)."""
        found = [t for t in self.tickets.values() if t.state == WAITING and self.serves(t)]
        return sorted(found, key=lambda t: t.order)

    def waiting_count(self, service: str) -> int:
        return sum(1 for t in self.tickets.values() if t.state == WAITING and t.service == service)

    def targeted_to_me(self) -> int:
        number = self.counter_number
        return sum(1 for t in self.tickets.values() if t.state == WAITING and t.target_counter == number)

    def held(self) -> list[p.TicketView]:
        """Held tickets this counter may resume: its own first, then its services', oldest first."""
        counter = self.counter
        if counter is None:
            return []
        mine = [t for t in self.tickets.values() if t.state == HELD
                and (t.counter == counter.number or t.service in counter.services)]
        return sorted(mine, key=lambda t: (t.counter != counter.number, t.held_at or t.issued_at))

    def absent_in_window(self, now: datetime) -> list[tuple[p.TicketView, int]]:
        """Absent tickets still inside the late-arrival window, with whole minutes left."""
        counter = self.counter
        if counter is None or self.site is None:
            return []
        window = timedelta(minutes=self.site.late_window_minutes)
        found = []
        for ticket in self.tickets.values():
            if ticket.state != ABSENT or ticket.absent_at is None:
                continue
            if ticket.counter != counter.number and ticket.service not in counter.services:
                continue
            left = ticket.absent_at + window - now
            if left > timedelta(0):
                found.append((ticket, max(1, math.ceil(left.total_seconds() / 60))))
        return sorted(found, key=lambda pair: pair[1])

    def find_number(self, number: str) -> p.TicketView | None:
        wanted = number.strip().upper()
        return next((t for t in self.tickets.values() if t.number.upper() == wanted), None)

    def figures(self) -> Figures:
        """Today's work at this counter, from the tickets the server sent."""
        number = self.counter_number
        served = [t for t in self.tickets.values() if t.state == DONE and t.counter == number]
        absent = sum(1 for t in self.tickets.values() if t.counter == number
                     and t.absent_at is not None and t.state in (ABSENT, CANCELLED))
        durations = [
            (t.finished_at - (t.started_at or t.called_at)).total_seconds()
            for t in served if t.finished_at and (t.started_at or t.called_at)
        ]
        average = sum(durations) / len(durations) if durations else None
        ratings = [t.rating for t in served if t.rating is not None]
        return Figures(served=len(served), absent=absent, average_seconds=average, rated=len(ratings))

    def last_finished(self) -> p.TicketView | None:
        """The ticket this counter finished most recently (for the rating window)."""
        number = self.counter_number
        done = [t for t in self.tickets.values() if t.state == DONE and t.counter == number and t.finished_at]
        return max(done, key=lambda t: (t.finished_at, t.id)) if done else None

    # -- names ----------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """A server time in the site's time zone (what the clerk's wall clock says)."""
        if self.site is None:
            return moment
        return moment.astimezone(zoneinfo.ZoneInfo(self.site.timezone))

    def service_name(self, code: str, language: str) -> str:
        service = self.services.get(code)
        if service is None:
            return code
        return service.name_en if language == "en" else service.name_vi

    def priority_name(self, code: str | None, language: str) -> str | None:
        if code is None:
            return None
        for option in self.site.priority_classes if self.site else []:
            if option.code == code:
                return option.name_en if language == "en" else option.name_vi
        return code


@dataclass(frozen=True)
class Figures:
    served: int
    absent: int
    average_seconds: float | None
    rated: int = 0


def _replace_day(site: p.SiteInfo, day: date) -> p.SiteInfo:
    import msgspec

    return msgspec.structs.replace(site, day=day)


def elapsed(since: datetime | None, now: datetime) -> timedelta | None:
    """``now - since`` never negative (clocks of client and server differ a little)."""
    if since is None:
        return None
    return max(now - since, timedelta(0))


def format_duration(delta: timedelta | None) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` above: how long, at a glance."""
    if delta is None:
        return "–"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
