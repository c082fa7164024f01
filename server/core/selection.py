"""Which waiting ticket a counter calls next.

Order of decision: the counter's service preference (or none, when the counter takes its
services by arrival), then the priority rule (strict, or N normal : 1 priority), then
queue order (arrival; transfers to the front sort before everyone).
"""

from __future__ import annotations

from collections.abc import Iterable

from common.config import Counter, QueueRules
from server.core.model import Ticket, TicketState


def eligible(ticket: Ticket, counter: Counter) -> bool:
    if ticket.state is not TicketState.WAITING:
        return False
    if ticket.target_counter is not None:
        return ticket.target_counter == counter.number
    return ticket.service in counter.services


def _rank(ticket: Ticket, counter: Counter) -> int:
    if counter.service_order == "arrival" or ticket.service not in counter.services:
        return 0
    return counter.services.index(ticket.service)


def pick_next(
    tickets: Iterable[Ticket], counter: Counter, normal_streak: int, rules: QueueRules
) -> Ticket | None:
    """The ticket ``counter`` should call, or None when nobody it serves is waiting."""
    best_rank: int | None = None
    first_normal: Ticket | None = None
    first_priority: Ticket | None = None
    for ticket in tickets:
        if not eligible(ticket, counter):
            continue
        rank = _rank(ticket, counter)
        if best_rank is None or rank < best_rank:
            best_rank, first_normal, first_priority = rank, None, None
        elif rank > best_rank:
            continue
        if ticket.priority:
            if first_priority is None or ticket.order < first_priority.order:
                first_priority = ticket
        elif first_normal is None or ticket.order < first_normal.order:
            first_normal = ticket
    if first_priority is None or first_normal is None:
        return first_priority or first_normal
    if rules.priority_rule == "strict" or normal_streak >= rules.normal_per_priority:
        return first_priority
    return first_normal


def waiting_ahead(tickets: Iterable[Ticket], ticket: Ticket, rules: QueueRules) -> int:
    """How many people are ahead of a waiting ticket in its service's queue.

    Counts waiting tickets of the same service (or the same target counter) before it in
    queue order; under strict priority every waiting priority ticket is ahead of a normal
    one. An estimate for the citizen: a counter's preferences can still reorder calls.
    """
    ahead = 0
    for other in tickets:
        if other.id == ticket.id or other.state is not TicketState.WAITING:
            continue
        if (other.target_counter, other.service) != (ticket.target_counter, ticket.service):
            continue
        if rules.priority_rule == "strict" and bool(other.priority) != bool(ticket.priority):
            ahead += bool(other.priority)
        elif other.order < ticket.order:
            ahead += 1
    return ahead
