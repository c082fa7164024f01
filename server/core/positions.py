"""How many people are ahead of waiting tickets, for many tickets of one state at once.

``selection.waiting_ahead`` scans the whole day's tickets to answer for one ticket. The
server needs the answer for every kiosk reply of a batch and every phone following a
ticket, all against the same state: ``WaitingLines`` sorts the waiting tickets once and
answers each ticket with one binary search (its rank in its own line) and the length of
the other line, placed by ``selection.merge_position`` exactly as ``waiting_ahead`` does.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime

from common.config import QueueRules
from server.core.model import Ticket, TicketState
from server.core.selection import merge_position

_EMPTY: tuple[list[int], list[int]] = ([], [])
Line = tuple[int | None, str]


class WaitingLines:
    def __init__(self, tickets: Iterable[Ticket], rules: QueueRules) -> None:
        self.rules = rules
        # (target counter, service) → (orders of its normal, of its priority waiting tickets)
        self._lines: dict[Line, tuple[list[int], list[int]]] = {}
        # Checked-in appointments (issue 14) of each line, by (slot start, order): called first.
        self.booked_slots: dict[Line, list[tuple[datetime, int]]] = {}
        for t in tickets:
            if t.state is TicketState.WAITING and t.appointment_at is not None:
                slot = (t.appointment_at, t.order)
                self.booked_slots.setdefault((t.target_counter, t.service), []).append(slot)
            elif t.state is TicketState.WAITING:
                line = self._lines.get((t.target_counter, t.service))
                if line is None:
                    line = self._lines[(t.target_counter, t.service)] = ([], [])
                line[1 if t.priority else 0].append(t.order)
        for normal, priority in self._lines.values():
            normal.sort()
            priority.sort()
        for booked in self.booked_slots.values():
            booked.sort()

    def updated(self, changes: Iterable[tuple[Ticket | None, Ticket]]) -> WaitingLines:
        """The lines after ``changes`` (each ticket as it was, or None if new, and as it is
        now); only the lines they touch are copied, so this one is left as it was."""
        new = WaitingLines((), self.rules)
        new._lines = dict(self._lines)
        new.booked_slots = dict(self.booked_slots)
        copied: set[Line] = set()
        copied_appointments: set[Line] = set()

        def booked(ticket: Ticket) -> list[tuple[datetime, int]]:
            key = (ticket.target_counter, ticket.service)
            if key not in copied_appointments:
                new.booked_slots[key] = list(new.booked_slots.get(key, []))
                copied_appointments.add(key)
            return new.booked_slots[key]

        def line(ticket: Ticket) -> list[int]:
            key = (ticket.target_counter, ticket.service)
            if key not in copied:
                normal, priority = new._lines.get(key, _EMPTY)
                new._lines[key] = (list(normal), list(priority))
                copied.add(key)
            return new._lines[key][1 if ticket.priority else 0]

        for old, ticket in changes:
            if old is not None and old.state is TicketState.WAITING and old.appointment_at is not None:
                slots = booked(old)
                j = bisect_left(slots, (old.appointment_at, old.order))
                if j < len(slots) and slots[j] == (old.appointment_at, old.order):
                    del slots[j]
            elif old is not None and old.state is TicketState.WAITING:
                orders = line(old)
                i = bisect_left(orders, old.order)
                if i < len(orders) and orders[i] == old.order:
                    del orders[i]
            if ticket.state is TicketState.WAITING and ticket.appointment_at is not None:
                insort(booked(ticket), (ticket.appointment_at, ticket.order))
            elif ticket.state is TicketState.WAITING:
                insort(line(ticket), ticket.order)
        return new

    def by_service(self) -> dict[str, int]:
        """How many are waiting for each service (aimed at a counter or not)."""
        counts: dict[str, int] = {}
        for (_, service), (normal, priority) in self._lines.items():
            counts[service] = counts.get(service, 0) + len(normal) + len(priority)
        for (_, service), slots in self.booked_slots.items():
            counts[service] = counts.get(service, 0) + len(slots)
        return counts

    def ahead(self, ticket: Ticket) -> int:
        """``waiting_ahead(tickets, ticket, rules)`` for the tickets this was built from."""
        key = (ticket.target_counter, ticket.service)
        slots = self.booked_slots.get(key, [])
        if ticket.appointment_at is not None:
            return bisect_left(slots, (ticket.appointment_at, ticket.order))
        normal, priority = self._lines.get(key, _EMPTY)
        own, other = (priority, normal) if ticket.priority else (normal, priority)
        rank = bisect_left(own, ticket.order)
        return len(slots) + merge_position(rank, len(other), bool(ticket.priority), self.rules)
