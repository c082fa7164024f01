"""Properties of the appointment rules (server/core/selection.py, server/core/booking.py):
an appointment is never called before its slot while a walk-in the counter could call waits,
walk-ins are not starved (the bound), no slot is overbooked, the per-person limit holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from common.config import Booking, Counter, QueueRules
from server.core import booking as core
from server.core.model import Ticket, TicketState
from server.core.selection import pick_next
from tests.helpers import TZ, example_config

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
COUNTER = Counter(number=1, name="Quầy 1", services=["A", "B"])
RULES = QueueRules(appointments_in_row=3, walk_in_wait_limit_minutes=20)


def ticket(i: int, service: str, priority: bool, issued_ago: int, slot_from_now: int | None) -> Ticket:
    return Ticket(
        id=f"t{i}", site="s", day=NOW.date(), service=service, origin_service=service, sequence=i,
        number=f"A{i:03d}", priority="elderly" if priority else None, state=TicketState.WAITING, order=i,
        token=f"tok{i}", issued_at=NOW - timedelta(minutes=issued_ago),
        appointment_at=None if slot_from_now is None else NOW + timedelta(minutes=slot_from_now))


tickets_strategy = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.booleans(), st.integers(0, 90),
              st.one_of(st.none(), st.integers(-60, 60))),
    max_size=25,
).map(lambda rows: [ticket(i + 1, *row) for i, row in enumerate(rows)])


@given(tickets_strategy, st.integers(0, 5), st.integers(0, 5))
@settings(max_examples=400, deadline=None)
def test_never_called_before_its_slot_while_a_walk_in_could_be_served(tickets, normal_streak, streak):
    chosen = pick_next(tickets, COUNTER, normal_streak, RULES, NOW, streak)
    could = [t for t in tickets if t.service in COUNTER.services]
    if chosen is None:
        assert not could
        return
    assert chosen.service in COUNTER.services
    if chosen.appointment_at is not None and chosen.appointment_at > NOW:
        assert all(t.appointment_at is not None and t.appointment_at > NOW for t in could)


@given(st.integers(1, 6), st.integers(1, 60), st.integers(0, 40), st.integers(1, 30))
@settings(max_examples=200, deadline=None)
def test_a_walk_in_waiting_over_the_limit_is_called_within_k_appointments(k, limit, waited, appointments):
    rules = QueueRules(appointments_in_row=k, walk_in_wait_limit_minutes=limit)
    walk_in = ticket(1, "A", False, limit + 1 + waited, None)
    queue = [walk_in, *(ticket(i + 2, "A", False, 5, -30 + i) for i in range(appointments))]
    streak = normal = 0
    calls = 0
    while True:
        chosen = pick_next(queue, COUNTER, normal, rules, NOW, streak)
        assert chosen is not None
        calls += 1
        if chosen is walk_in:
            break
        streak += 1  # what server/core/rules.py's _call does for an appointment called next
        queue = [t for t in queue if t is not chosen]
    assert calls <= k + 1


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 5)), max_size=120),
       st.integers(1, 12), st.sampled_from([0.0, 0.25, 0.5, 0.75]), st.integers(1, 3))
@settings(max_examples=200, deadline=None)
def test_no_slot_is_overbooked_and_the_person_limit_holds(attempts, places, share, per_person):
    config = example_config()
    site = config.sites[0]
    service = msgspec.structs.replace(site.services[0], booking=Booking(
        bookable=True, places_per_slot=places, walk_in_share=share, per_person_per_day=per_person))
    now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    day = (now + timedelta(days=1)).astimezone(TZ).date()
    slots = core.slots_of_day(site, service, day, TZ)
    per_slot: dict[datetime, int] = {}
    per_person_count: dict[int, int] = {}
    for slot_index, person in attempts:
        slot = slots[slot_index % len(slots)]
        decided = core.decide_booking(site, service, slot.start, TZ, now,
                                      booked_in_slot=per_slot.get(slot.start, 0),
                                      person_bookings_that_day=per_person_count.get(person, 0))
        if isinstance(decided, core.Slot):
            per_slot[decided.start] = per_slot.get(decided.start, 0) + 1
            per_person_count[person] = per_person_count.get(person, 0) + 1
    assert all(count <= service.booking.bookable_places for count in per_slot.values())
    assert service.booking.bookable_places == int(places * (1 - share) + 1e-9)
    assert all(count <= per_person for count in per_person_count.values())


def test_check_in_window_decisions():
    rules = Booking(checkin_early_minutes=30, checkin_late_minutes=10, late_arrival="refuse")
    start = NOW
    assert core.decide_checkin("booked", start, NOW - timedelta(minutes=31), rules, TZ) == "too_early"
    assert core.decide_checkin("booked", start, NOW - timedelta(minutes=30), rules, TZ) == "ok"
    assert core.decide_checkin("booked", start, NOW + timedelta(minutes=10), rules, TZ) == "ok"
    assert core.decide_checkin("booked", start, NOW + timedelta(minutes=11), rules, TZ) == "too_late_refused"
    assert core.decide_checkin("cancelled", start, NOW, rules, TZ) == "cancelled"
    assert core.decide_checkin("checked_in", start, NOW, rules, TZ) == "already_checked_in"
    assert core.decide_checkin("booked", start + timedelta(days=1), NOW, rules, TZ) == "not_today"


@given(tickets_strategy)
@settings(max_examples=200, deadline=None)
def test_people_ahead_count_appointments_the_same_way_everywhere(tickets):
    from server.core.positions import WaitingLines
    from server.core.selection import waiting_ahead

    lines = WaitingLines(tickets, RULES)
    grown = WaitingLines((), RULES).updated((None, t) for t in tickets)
    for t in tickets:
        assert lines.ahead(t) == grown.ahead(t) == waiting_ahead(tickets, t, RULES)
        if t.appointment_at is None:
            booked = sum(1 for o in tickets if o.appointment_at is not None and o.service == t.service)
            assert lines.ahead(t) >= booked
