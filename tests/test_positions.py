"""People ahead: selection.waiting_ahead is the place in the call order the rule gives one
queue served one ticket at a time, and WaitingLines answers exactly as it does, for every
ticket of a state."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.config import Counter, QueueRules
from server.core.model import Ticket, TicketState
from server.core.positions import WaitingLines
from server.core.selection import call_order, merge_position, pick_next, waiting_ahead

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
rules_strategy = st.builds(
    QueueRules, priority_rule=st.sampled_from(["strict", "interleave"]),
    normal_per_priority=st.integers(1, 4))


@settings(max_examples=300, deadline=None)
@given(tickets, rules_strategy)
def test_same_count_as_waiting_ahead_for_every_ticket(day: list[Ticket], rules: QueueRules) -> None:
    lines = WaitingLines(day, rules)
    for ticket in day:
        assert lines.ahead(ticket) == waiting_ahead(day, ticket, rules), ticket


def test_a_ticket_from_elsewhere_counts_the_line_it_would_join() -> None:
    rules = QueueRules()
    day = [_ticket(i, TicketState.WAITING, "TP", None, False, i) for i in range(5)]
    newcomer = _ticket(99, TicketState.WAITING, "TP", None, False, 99)
    assert WaitingLines(day, rules).ahead(newcomer) == 5 == waiting_ahead(day, newcomer, rules)


@settings(max_examples=300, deadline=None)
@given(tickets, tickets, rules_strategy)
def test_updated_lines_equal_lines_built_afresh(before: list[Ticket], after: list[Ticket],
                                                rules: QueueRules) -> None:
    """Tickets of the same ids change (state, line, order...), others come and stay."""
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
    for ticket in now.values():  # and it answers as the pure function over the new tickets
        assert changed.ahead(ticket) == waiting_ahead(now.values(), ticket, rules), ticket


# -- what the count means ---------------------------------------------------------------------


def _served_one_at_a_time(day: list[Ticket], target: int | None, service: str,
                          rules: QueueRules) -> list[str]:
    """Ids of one queue's waiting tickets in the order ``pick_next`` calls them at a counter
    serving only that queue, its streak starting at N (see ``merge_position``)."""
    counter = Counter(number=target or 99, name="x", services=[service])
    left = [t for t in day if t.state is TicketState.WAITING
            and (t.target_counter, t.service) == (target, service)]
    streak, called = rules.normal_per_priority, []
    while (ticket := pick_next(left, counter, streak, rules)) is not None:
        called.append(ticket.id)
        left.remove(ticket)
        streak = 0 if ticket.priority else streak + 1
    return called


def _with_orders(rows: list[tuple], orders: list[int]) -> list[Ticket]:
    return [_ticket(i, *row, order) for i, (row, order) in enumerate(zip(rows, orders, strict=True))]


distinct_orders = st.lists(  # as in a real day: no two tickets share a queue order
    st.tuples(st.sampled_from(list(TicketState)), st.sampled_from(["TP", "DN"]),
              st.sampled_from([None, None, 1]), st.booleans()),
    max_size=30,
).flatmap(lambda rows: st.permutations(range(-5, len(rows) - 5)).map(lambda o: _with_orders(rows, o)))


@settings(max_examples=300, deadline=None)
@given(distinct_orders, rules_strategy)
def test_ahead_is_the_place_in_the_rules_call_order(day: list[Ticket], rules: QueueRules) -> None:
    """Checked against the real ``pick_next``, not against ``merge_position``'s arithmetic."""
    lines = WaitingLines(day, rules)
    for ticket in day:
        if ticket.state is not TicketState.WAITING:
            continue
        order = _served_one_at_a_time(day, ticket.target_counter, ticket.service, rules)
        assert waiting_ahead(day, ticket, rules) == order.index(ticket.id) == lines.ahead(ticket)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 12), st.integers(0, 12), rules_strategy)
def test_call_order_puts_each_ticket_at_its_merge_position(normal: int, priority: int,
                                                           rules: QueueRules) -> None:
    normals = [f"n{i}" for i in range(normal)]
    priorities = [f"p{i}" for i in range(priority)]
    merged = call_order(normals, priorities, rules)
    assert sorted(merged) == sorted(normals + priorities)  # a permutation: nothing lost or doubled
    assert [x for x in merged if x[0] == "n"] == normals  # each line keeps its own order
    assert [x for x in merged if x[0] == "p"] == priorities
    for rank, name in enumerate(normals):
        assert merged[merge_position(rank, priority, False, rules)] == name


def _queue(kinds: str) -> list[Ticket]:
    """Waiting TP tickets in arrival order: ``n`` normal, ``p`` priority."""
    return [_ticket(i, TicketState.WAITING, "TP", None, kind == "p", i + 1) for i, kind in enumerate(kinds)]


# Arrival order of 7 normal (n1..n7) and 2 priority (p1, p2) tickets, the priority ones late.
ARRIVALS = "nnnnpnnpn"
NAMES = ["n1", "n2", "n3", "n4", "p1", "n5", "n6", "p2", "n7"]


def test_hand_worked_interleave_three_to_one() -> None:
    # Calls: p1 (the streak is full), then 3 normal, p2, then the normal ones left:
    #   p1 n1 n2 n3 p2 n4 n5 n6 n7
    rules = QueueRules(priority_rule="interleave", normal_per_priority=3)
    day = _queue(ARRIVALS)
    expected = {"p1": 0, "n1": 1, "n2": 2, "n3": 3, "p2": 4, "n4": 5, "n5": 6, "n6": 7, "n7": 8}
    lines = WaitingLines(day, rules)
    assert {name: waiting_ahead(day, t, rules) for name, t in zip(NAMES, day, strict=True)} == expected
    assert {name: lines.ahead(t) for name, t in zip(NAMES, day, strict=True)} == expected
    # The first version counted arrivals before each: p1 was told 4, p2 told 7.


def test_hand_worked_strict() -> None:
    # Calls: p1 p2, then n1..n7.
    rules = QueueRules(priority_rule="strict")
    day = _queue(ARRIVALS)
    expected = {"p1": 0, "p2": 1, "n1": 2, "n2": 3, "n3": 4, "n4": 5, "n5": 6, "n6": 7, "n7": 8}
    assert {name: waiting_ahead(day, t, rules) for name, t in zip(NAMES, day, strict=True)} == expected
    assert {name: WaitingLines(day, rules).ahead(t) for name, t in zip(NAMES, day, strict=True)} == expected


def test_hand_worked_interleave_when_a_line_runs_out() -> None:
    # 2:1 with 1 normal and 4 priority: p1 n1 p2 p3 p4 (no normal left to interleave).
    rules = QueueRules(priority_rule="interleave", normal_per_priority=2)
    day = _queue("pnppp")
    assert [waiting_ahead(day, t, rules) for t in day] == [0, 1, 2, 3, 4]
    assert [WaitingLines(day, rules).ahead(t) for t in day] == [0, 1, 2, 3, 4]
    # 2:1 with 5 normal and 1 priority: p1 n1 n2 n3 n4 n5.
    day = _queue("nnnnnp")
    assert [waiting_ahead(day, t, rules) for t in day] == [1, 2, 3, 4, 5, 0]


def test_a_newcomer_counts_its_place_in_the_call_order() -> None:
    """A ticket not yet in the lines (a kiosk's next one) counts where it would come."""
    rules = QueueRules(priority_rule="interleave", normal_per_priority=2)
    day = _queue("nnnnnnp")  # p1 n1 n2 | n3 n4 | n5 n6
    priority = _ticket(98, TicketState.WAITING, "TP", None, True, 98)
    normal = _ticket(99, TicketState.WAITING, "TP", None, False, 99)
    lines = WaitingLines(day, rules)
    assert lines.ahead(priority) == 3 == waiting_ahead(day, priority, rules)  # p1 n1 n2 (p2)
    assert lines.ahead(normal) == 7 == waiting_ahead(day, normal, rules)  # p1 n1..n6 (n7)


@pytest.mark.parametrize("ratio", [0, -1])
def test_no_normal_between_priority_ones_is_strict(ratio: int) -> None:
    """``pick_next`` always takes a priority ticket then (``streak >= ratio``)."""
    rules = QueueRules(priority_rule="interleave", normal_per_priority=ratio)
    day = _queue("nnpnp")
    assert [waiting_ahead(day, t, rules) for t in day] == [2, 3, 0, 4, 1]
    assert [WaitingLines(day, rules).ahead(t) for t in day] == [2, 3, 0, 4, 1]
