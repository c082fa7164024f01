"""Estimated waiting time, from today's service times and the counters now serving.

Method: the mean service time of the service's last ``SAMPLE`` finished tickets today
(``DEFAULT_SERVICE_MINUTES`` before any), times the people ahead plus the citizen's own
turn, divided among the counters open for that service (at least one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from server.core.model import CounterStatus, SiteState, Ticket, TicketState

SAMPLE = 20
DEFAULT_SERVICE_MINUTES = 6.0


def mean_service_minutes(tickets: Iterable[Ticket], service: str) -> float:
    done = [
        t for t in tickets
        if t.state is TicketState.DONE and t.service == service and t.started_at and t.finished_at
    ]
    done.sort(key=lambda t: t.finished_at)  # type: ignore[arg-type,return-value]
    recent = done[-SAMPLE:]
    if not recent:
        return DEFAULT_SERVICE_MINUTES
    total = sum((t.finished_at - t.started_at).total_seconds() for t in recent)  # type: ignore[operator]
    return max(total / len(recent) / 60, 0.5)


def open_counters_for(state: SiteState, service: str) -> int:
    return sum(
        1 for c in state.rules.site.counters
        if service in c.services and state.counters[c.number].status is CounterStatus.OPEN
    )


def estimate_wait_minutes(state: SiteState, service: str, ahead: int) -> int:
    """Minutes until a ticket with ``ahead`` people before it is likely to be called."""
    if ahead <= 0:
        return 0
    counters = max(open_counters_for(state, service), 1)
    return math.ceil(ahead * mean_service_minutes(state.tickets.values(), service) / counters)
