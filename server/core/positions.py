"""How many people are ahead of waiting tickets, for many tickets of one state at once.

``selection.waiting_ahead`` scans the whole day's tickets to answer for one ticket. The
server needs the answer for every kiosk reply of a batch and every phone following a
ticket, all against the same state: ``WaitingLines`` sorts the waiting tickets once and
answers each ticket with two binary searches, counting exactly as ``waiting_ahead`` does.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from common.config import QueueRules
from server.core.model import Ticket, TicketState

_EMPTY: tuple[list[int], list[int]] = ([], [])


class WaitingLines:
    def __init__(self, tickets: Iterable[Ticket], rules: QueueRules) -> None:
        self.strict = rules.priority_rule == "strict"
        # (target counter, service) → (orders of its normal, of its priority waiting tickets)
        self._lines: dict[tuple[int | None, str], tuple[list[int], list[int]]] = {}
        for t in tickets:
            if t.state is TicketState.WAITING:
                line = self._lines.get((t.target_counter, t.service))
                if line is None:
                    line = self._lines[(t.target_counter, t.service)] = ([], [])
                line[1 if t.priority else 0].append(t.order)
        for normal, priority in self._lines.values():
            normal.sort()
            priority.sort()

    def by_service(self) -> dict[str, int]:
        """How many are waiting for each service (aimed at a counter or not)."""
        counts: dict[str, int] = {}
        for (_, service), (normal, priority) in self._lines.items():
            counts[service] = counts.get(service, 0) + len(normal) + len(priority)
        return counts

    def ahead(self, ticket: Ticket) -> int:
        """``waiting_ahead(tickets, ticket, rules)`` for the tickets this was built from."""
        normal, priority = self._lines.get((ticket.target_counter, ticket.service), _EMPTY)
        if not self.strict:
            return bisect_left(normal, ticket.order) + bisect_left(priority, ticket.order)
        if ticket.priority:  # under strict priority only priority tickets come before it
            return bisect_left(priority, ticket.order)
        return len(priority) + bisect_left(normal, ticket.order)
