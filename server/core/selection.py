"""Which waiting ticket a counter calls next.

Order of decision: the counter's service preference (or none, when the counter takes its
services by arrival), then the priority rule (strict, or N normal : 1 priority), then
queue order (arrival; transfers to the front sort before everyone). Also how many people
are ahead of a waiting ticket in that order (``waiting_ahead``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
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
    tickets: Iterable[Ticket], counter: Counter, normal_streak: int, rules: QueueRules,
    now: datetime | None = None, appointment_streak: int = 0,
) -> Ticket | None:
    """The ticket ``counter`` should call, or None when nobody it serves is waiting.

    Appointments (tickets with ``appointment_at``, issue 14): at the counter's best service
    rank, one whose slot has begun (``appointment_at <= now``) is called before the walk-ins,
    earliest slot first — unless the counter has called ``appointments_in_row`` of them in a
    row and a walk-in it could call has waited longer than ``walk_in_wait_limit_minutes``:
    then the walk-ins' pick goes first. An appointment before its slot is called only when no
    walk-in (and no begun appointment) waits for this counter: nobody is passed over.
    """
    # One pass (this runs on every call_next over the day's tickets): at the best rank of
    # what may be called now, the first normal and priority walk-ins, the earliest begun
    # appointment and the longest-waiting walk-in; and the earliest early appointment.
    best: int | None = None
    first_normal = first_priority = due = early = None
    oldest: datetime | None = None
    for ticket in tickets:
        if not eligible(ticket, counter):
            continue
        slot = ticket.appointment_at
        if slot is not None and (now is None or slot > now):
            if early is None or (_rank(ticket, counter), slot, ticket.order) < (
                    _rank(early, counter), early.appointment_at, early.order):
                early = ticket
            continue
        rank = _rank(ticket, counter)
        if best is None or rank < best:
            best, first_normal, first_priority, due, oldest = rank, None, None, None, None
        elif rank > best:
            continue
        if slot is not None:
            if due is None or (slot, ticket.order) < (due.appointment_at, due.order):
                due = ticket
            continue
        if oldest is None or ticket.issued_at < oldest:
            oldest = ticket.issued_at
        if ticket.priority:
            if first_priority is None or ticket.order < first_priority.order:
                first_priority = ticket
        elif first_normal is None or ticket.order < first_normal.order:
            first_normal = ticket
    if best is None:
        return early
    walk_in = _priority_rule(first_normal, first_priority, normal_streak, rules)
    if due is None:
        return walk_in
    if (walk_in is not None and now is not None and oldest is not None
            and appointment_streak >= rules.appointments_in_row
            and now - oldest > timedelta(minutes=rules.walk_in_wait_limit_minutes)):
        return walk_in
    return due


def _priority_rule(first_normal: Ticket | None, first_priority: Ticket | None, normal_streak: int,
                   rules: QueueRules) -> Ticket | None:
    """Strict, or N normal : 1 priority, between the first walk-in of each line."""
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
    ``call_order`` (see ``merge_position``). Checked-in appointments of the line count ahead
    of every walk-in (they are called first once their slot begins, within the starvation
    bound); an appointment has only the appointments of earlier slots ahead. An estimate for
    the citizen: several counters with their own streaks and service preferences can still
    reorder calls.
    """
    line = (ticket.target_counter, ticket.service)
    rank = others = appointments = 0
    for other in tickets:
        if other.id == ticket.id or other.state is not TicketState.WAITING:
            continue
        if (other.target_counter, other.service) != line:
            continue
        if other.appointment_at is not None or ticket.appointment_at is not None:
            # Checked-in appointments are called first, by slot (issue 14): ahead of every
            # walk-in, and of each other by (slot start, order).
            if ticket.appointment_at is None or (other.appointment_at is not None and (
                    (other.appointment_at, other.order) < (ticket.appointment_at, ticket.order))):
                appointments += 1
            continue
        if bool(other.priority) != bool(ticket.priority):
            others += 1
        elif other.order < ticket.order:
            rank += 1
    if ticket.appointment_at is not None:
        return appointments
    return appointments + merge_position(rank, others, bool(ticket.priority), rules)
