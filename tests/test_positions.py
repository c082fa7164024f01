"""WaitingLines answers exactly as selection.waiting_ahead, for every ticket of a state."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from common.config import QueueRules
from server.core.model import Ticket, TicketState
from server.core.positions import WaitingLines
from server.core.selection import waiting_ahead

AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def _ticket(i: int, state: TicketState, service: str, target: int | None, priority: bool,
            order: int) -> Ticket:
    return Ticket(
        id=f"t{i}", site="tinh", day=date(2026, 11, 25), service=service, origin_service=service,
        sequence=i, number=f"A{i:03d}", priority="elderly" if priority else None, state=state,
        order=order, token=f"tok{i}", target_counter=target, issued_at=AT,
    )


tickets = st.lists(
    st.tuples(st.sampled_from(list(TicketState)), st.sampled_from(["TP", "DN"]),
              st.sampled_from([None, None, 1, 2]), st.booleans(), st.integers(-5, 40)),
    max_size=40,
).map(lambda rows: [_ticket(i, *row) for i, row in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(tickets, st.sampled_from(["strict", "interleave"]))
def test_same_count_as_waiting_ahead_for_every_ticket(day: list[Ticket], rule: str) -> None:
    rules = QueueRules(priority_rule=rule)  # type: ignore[arg-type]
    lines = WaitingLines(day, rules)
    for ticket in day:
        assert lines.ahead(ticket) == waiting_ahead(day, ticket, rules), ticket


def test_a_ticket_from_elsewhere_counts_the_line_it_would_join() -> None:
    rules = QueueRules()
    day = [_ticket(i, TicketState.WAITING, "TP", None, False, i) for i in range(5)]
    newcomer = _ticket(99, TicketState.WAITING, "TP", None, False, 99)
    assert WaitingLines(day, rules).ahead(newcomer) == 5 == waiting_ahead(day, newcomer, rules)


@settings(max_examples=300, deadline=None)
@given(tickets, tickets, st.sampled_from(["strict", "interleave"]))
def test_updated_lines_equal_lines_built_afresh(before: list[Ticket], after: list[Ticket],
                                                rule: str) -> None:
    """Tickets of the same ids change (state, line, order...), others come and stay."""
    rules = QueueRules(priority_rule=rule)  # type: ignore[arg-type]
    old = {t.id: t for t in before}
    now = {**old, **{t.id: t for t in after}}
    lines = WaitingLines(old.values(), rules)
    changed = lines.updated((old.get(t.id), t) for t in after)
    fresh = WaitingLines(now.values(), rules)
    assert changed._lines.keys() >= {k for k, (n, p) in fresh._lines.items() if n or p}
    for key, (normal, priority) in changed._lines.items():
        assert (normal, priority) == fresh._lines.get(key, ([], [])), key
    assert {k: v for k, v in changed.by_service().items() if v} == fresh.by_service()
    for ticket in now.values():
        assert changed.ahead(ticket) == fresh.ahead(ticket)
    assert WaitingLines(old.values(), rules)._lines == lines._lines  # the old one is untouched
