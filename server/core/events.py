"""Events the rules emit. Each carries the ticket or counter as it is after the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from server.core.model import CounterState, Ticket

CallReason = Literal["next", "number", "recall", "resume"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: datetime
    actor: str
    device: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketEvent(Event):
    ticket: Ticket


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterEvent(Event):
    counter: CounterState


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketIssued(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCalled(TicketEvent):
    """A call to be announced: next, a specific number, a recall, or a held ticket resumed."""

    reason: CallReason


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceStarted(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFinished(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketAbsent(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketHeld(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketTransferred(TicketEvent):
    from_service: str
    from_counter: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCancelled(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketExpired(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketRated(TicketEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterChanged(CounterEvent):
    """A counter opened, paused, resumed or closed (``counter.status`` says which)."""

    change: Literal["opened", "paused", "resumed", "closed"]


EVENT_TYPES: dict[type[Event], str] = {
    TicketIssued: "ticket_issued",
    TicketCalled: "ticket_called",
    ServiceStarted: "service_started",
    TicketFinished: "ticket_finished",
    TicketAbsent: "ticket_absent",
    TicketHeld: "ticket_held",
    TicketTransferred: "ticket_transferred",
    TicketCancelled: "ticket_cancelled",
    TicketExpired: "ticket_expired",
    TicketRated: "ticket_rated",
    CounterChanged: "counter_changed",
}
