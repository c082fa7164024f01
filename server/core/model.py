"""Values of the queue rules: tickets, counters, one site's state. Immutable; no I/O."""

from __future__ import annotations

import enum
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TypeVar

from immutables import Map

from common.config import QueueRules, Site

_K = TypeVar("_K")
_V = TypeVar("_V")


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    ABSENT = "absent"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES

    @property
    def is_active(self) -> bool:
        """Called or being served: occupying a counter."""
        return self in (TicketState.CALLED, TicketState.SERVING)


FINAL_STATES = frozenset({TicketState.DONE, TicketState.CANCELLED, TicketState.EXPIRED})


class CounterStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    id: str
    site: str
    day: date
    service: str
    origin_service: str
    sequence: int
    number: str
    priority: str | None
    state: TicketState
    order: int
    token: str = field(repr=False)  # the ticket page's URL: never in a log line (IssueTicket)
    idempotency_key: str | None = field(default=None, repr=False)
    issued_by: str | None = None
    counter: int | None = None
    target_counter: int | None = None
    clerk: str | None = None
    issued_at: datetime
    called_at: datetime | None = None
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    absent_at: datetime | None = None
    held_at: datetime | None = None
    recalls: int = 0
    transfers: int = 0
    outcome: str | None = None
    dossier_code: str | None = None
    rating: int | None = None
    note: str | None = None
    appointment_at: datetime | None = None  # an appointment's slot start (issue 14)
    booking: str | None = field(default=None, repr=False)  # its booking code


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterState:
    number: int
    status: CounterStatus = CounterStatus.CLOSED
    clerk: str | None = None
    pause_reason: str | None = None
    active_ticket: str | None = None
    normal_streak: int = 0
    since: datetime | None = None
    appointment_streak: int = 0  # appointments called in a row (server/core/selection.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteRules:
    """The configuration the rules read: one site, the queue rules, the zone, the ratings."""

    site: Site
    queue: QueueRules
    tz: zoneinfo.ZoneInfo
    rating_values: frozenset[int] = frozenset()


def _frozen(mapping: Mapping[_K, _V] | None = None) -> Mapping[_K, _V]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteState:
    """Everything the rules need to decide about one site on one local day."""

    rules: SiteRules
    day: date
    # The day's tickets and idempotency keys grow to thousands: persistent maps, so each
    # command's new state shares them (no particular iteration order; sort by ``order``).
    tickets: Mapping[str, Ticket] = field(default_factory=Map)
    counters: Mapping[int, CounterState] = field(default_factory=_frozen)
    sequences: Mapping[str, int] = field(default_factory=_frozen)
    keys: Mapping[str, str] = field(default_factory=Map)  # idempotency key → ticket id
    next_order: int = 1
    front_order: int = 0  # tickets transferred to the front today

    @property
    def code(self) -> str:
        return self.rules.site.code

    def ticket_by_number(self, number: str) -> Ticket | None:
        """Today's ticket with this printed number (numbers are unique per site and day)."""
        return next((t for t in self.tickets.values() if t.number == number), None)

    def active_ticket(self, counter: int) -> Ticket | None:
        state = self.counters.get(counter)
        if state is None or state.active_ticket is None:
            return None
        return self.tickets[state.active_ticket]


def new_site_state(rules: SiteRules, day: date) -> SiteState:
    counters = {c.number: CounterState(number=c.number) for c in rules.site.counters}
    return SiteState(rules=rules, day=day, counters=_frozen(counters))


def replace_in(mapping: Mapping[_K, _V], key: _K, value: _V) -> Mapping[_K, _V]:
    """A new read-only mapping with one entry set (the state is never mutated)."""
    if isinstance(mapping, Map):
        return mapping.set(key, value)
    # dict(proxy) copies item by item through the mapping protocol (1.5 ms for 10,000
    # tickets); proxy.copy() copies the dict underneath in one C call (54 us).
    copy = mapping.copy() if isinstance(mapping, MappingProxyType | dict) else dict(mapping)
    copy[key] = value
    return MappingProxyType(copy)
