"""Which waiting ticket a counter calls next.

Order of decision: the counter's service preference (or none, when the counter takes its
services by arrival), then the priority rule (strict, or N normal : 1 priority), then
queue order (arrival; transfers to the front sort before everyone). Also how many people
are ahead of a waiting ticket in that order (``waiting_ahead``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from common.config import Counter, QueueRules
from server.core.model import Ticket, TicketState

T = TypeVar("T")


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


def merge_position(rank: int, others: int, priority: bool, rules: QueueRules) -> int:
    """Where a ticket comes in its service's call order, from its ``rank`` in its own line
    (normal or priority: how many of that line are before it) and ``others``, the number
    of tickets in the other line.

    The call order is the one a counter serving only that queue would follow, one ticket at
    a time: under strict priority every priority ticket, then the normal ones; under
    interleave N:1 one priority ticket, N normal, one priority, N normal... (the counter's
    streak taken as N: it keeps counting while no priority ticket waits, so in steady
    service the first priority ticket is the next call), and once a line is empty the rest
    of the other. ``normal_per_priority`` below 1 behaves as strict, as in ``pick_next``.
    """
    n = rules.normal_per_priority
    if rules.priority_rule == "strict" or n < 1:
        return rank if priority else others + rank
    if priority:  # the priority tickets before it, and N normal ones after each of them
        return rank + min(others, rank * n)
    return rank + min(others, rank // n + 1)  # one priority ticket before each run of N


def call_order(normal: Sequence[T], priority: Sequence[T], rules: QueueRules) -> list[T]:
    """One queue's two lines (each in queue order) merged in the order ``merge_position``
    gives: ``call_order(...)[waiting_ahead(...)]`` is the ticket itself."""
    merged: list[T | None] = [None] * (len(normal) + len(priority))
    for line, others, is_priority in ((normal, len(priority), False), (priority, len(normal), True)):
        for rank, item in enumerate(line):
            merged[merge_position(rank, others, is_priority, rules)] = item
    return merged  # type: ignore[return-value]  # every place filled: the positions are a permutation


def waiting_ahead(tickets: Iterable[Ticket], ticket: Ticket, rules: QueueRules) -> int:
    """How many people are ahead of a waiting ticket in its service's queue.

    The waiting tickets of the same service (or sent to the same counter) that the priority
    rule calls before it when that queue is served one ticket at a time: its position in
    ``call_order`` (see ``merge_position``). An estimate for the citizen: several counters
    with their own streaks and service preferences can still reorder calls.
    """
    line = (ticket.target_counter, ticket.service)
    rank = others = 0
    for other in tickets:
        if other.id == ticket.id or other.state is not TicketState.WAITING:
            continue
        if (other.target_counter, other.service) != line:
            continue
        if bool(other.priority) != bool(ticket.priority):
            others += 1
        elif other.order < ticket.order:
            rank += 1
    return merge_position(rank, others, bool(ticket.priority), rules)
