"""The pure queue rules, fed commands with an explicit ``now``: no server, no clock, no disk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from common.config import Config
from common.errors import Rejected
from server.core import commands as c
from server.core import events as e
from server.core.hours import next_opening
from server.core.model import CounterStatus, SiteRules, SiteState, TicketState, new_site_state, replace_in
from server.core.rules import handle
from server.core.selection import waiting_ahead
from tests.helpers import example_config, local_time

WED = date(2026, 11, 25)
OPEN = local_time(2026, 11, 25, 8, 0)  # Wednesday morning: the example centre issues numbers


def site_rules(config: Config | None = None, site: str = "tinh", **queue: object) -> SiteRules:
    config = config or example_config()
    rules = msgspec.structs.replace(config.queue, **queue) if queue else config.queue
    found = config.site(site)
    assert found is not None
    return SiteRules(site=found, queue=rules, tz=config.tz,
                     rating_values=frozenset(r.value for r in config.rating))


def fresh(rules: SiteRules | None = None, day: date = WED) -> SiteState:
    return new_site_state(rules or site_rules(), day)


def run(state: SiteState, command: c.Command, now: datetime = OPEN) -> tuple[SiteState, list[e.Event]]:
    return handle(state, command, now)


def refused(state: SiteState, command: c.Command, now: datetime = OPEN) -> Rejected:
    with pytest.raises(Rejected) as info:
        handle(state, command, now)
    return info.value


def issue(state: SiteState, service: str, priority: str | None = None, now: datetime = OPEN,
          key: str | None = None) -> tuple[SiteState, str]:
    """Issue one ticket; returns the state and the ticket's printed number."""
    token = f"tok-{len(state.tickets)}-{service}"
    state, events = run(state, c.IssueTicket(actor="kiosk", device="kiosk", service=service,
                                             priority=priority, token=token, idempotency_key=key), now)
    (event,) = events
    assert isinstance(event, e.TicketIssued)
    return state, event.ticket.number


def open_counter(state: SiteState, counter: int, clerk: str = "lan", now: datetime = OPEN) -> SiteState:
    return run(state, c.OpenCounter(actor=clerk, counter=counter), now)[0]


def clerk_at(state: SiteState, counter: int) -> str:
    """The clerk holding ``counter``: only they may act at it."""
    return state.counters[counter].clerk or "lan"


def call_next(state: SiteState, counter: int, now: datetime = OPEN) -> tuple[SiteState, str]:
    state, events = run(state, c.CallNext(actor=clerk_at(state, counter), counter=counter), now)
    (event,) = events
    assert isinstance(event, e.TicketCalled) and event.reason == "next"
    return state, event.ticket.number


def finish(state: SiteState, counter: int, now: datetime = OPEN, outcome: str = "received") -> SiteState:
    return run(state, c.Finish(actor=clerk_at(state, counter), counter=counter, outcome=outcome), now)[0]


def ticket(state: SiteState, number: str):
    found = state.ticket_by_number(number)
    assert found is not None
    return found


def serve_all(state: SiteState, counter: int) -> tuple[SiteState, list[str]]:
    """Call and finish at ``counter`` until its queue is empty; the numbers in call order."""
    called = []
    while True:
        try:
            state, number = call_next(state, counter)
        except Rejected as exc:
            assert exc.code == "queue_empty"
            return state, called
        called.append(number)
        state = finish(state, counter)


# -- issuing ---------------------------------------------------------------------------------


def test_issue_creates_a_waiting_ticket_with_the_first_number():
    state, events = run(fresh(), c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service="TP",
                                               token="tok", idempotency_key="k1"))
    (event,) = events
    t = event.ticket
    assert isinstance(event, e.TicketIssued)
    assert (t.number, t.sequence, t.state, t.service, t.origin_service) == (
        "A001", 1, TicketState.WAITING, "TP", "TP")
    assert t.id == "tinh:2026-11-25:TP:1"
    assert t.issued_at == OPEN and t.issued_by == "kiosk-sanh-1" and t.priority is None
    assert state.tickets[t.id] == t
    assert state.sequences["TP"] == 1 and state.keys["k1"] == t.id


def test_prefix_numbering_counts_up_per_service_with_zero_padding():
    state = fresh()
    numbers = []
    for service in ["TP", "DN", "TP", "TP", "DN"]:
        state, number = issue(state, service)
        numbers.append(number)
    assert numbers == ["A001", "B001", "A002", "A003", "B002"]
    for _ in range(7):
        state, number = issue(state, "TP")
    assert number == "A010"


def test_block_numbering_uses_the_services_own_range():
    state = fresh()
    state, first = issue(state, "DIEN")
    state, second = issue(state, "DIEN")
    state, other = issue(state, "KQ")
    assert (first, second, other) == ("8001", "8002", "9001")
    commune = fresh(site_rules(site="giavien"))
    commune, number = issue(commune, "DD")
    assert number == "2001"


def test_block_numbering_stops_at_the_end_of_its_block():
    state = replace(fresh(), sequences=replace_in(fresh().sequences, "DIEN", 998))
    state, last = issue(state, "DIEN")
    assert last == "8999"
    assert refused(state, c.IssueTicket(actor="k", service="DIEN", token="t")).code == "daily_cap_reached"


def test_daily_cap_refuses_the_next_ticket():
    state = fresh()
    for _ in range(80):  # YT: daily_cap = 80
        state, number = issue(state, "YT")
    assert number == "E080"
    exc = refused(state, c.IssueTicket(actor="k", service="YT", token="t"))
    assert exc.code == "daily_cap_reached" and exc.params["service"] == "YT"
    state, other = issue(state, "CT")  # other services are not affected
    assert other == "G001"


def test_online_only_service_gives_kiosk_walk_ins_to_priority_citizens_only():
    config = example_config()
    site = config.site("tinh")
    assert site is not None
    services = [msgspec.structs.replace(s, booking=msgspec.structs.replace(s.booking, online_only=True))
                if s.code == "TP" else s for s in site.services]
    online = msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services)])
    state = fresh(site_rules(online))
    priority = online.queue.priority_classes[0].code
    walk_in = c.IssueTicket(actor="k", device="k", service="TP", token="t", from_kiosk=True)
    exc = refused(state, walk_in)
    assert exc.code == "online_only" and exc.params["service"] == "TP"
    assert run(state, replace(walk_in, priority=priority))[1]  # the priority path still issues
    assert run(state, replace(walk_in, from_kiosk=False))[1]  # a desk or the API still issues
    booked = replace(walk_in, appointment_at=OPEN, booking="ACDEFHJK")
    assert run(state, booked)[1]  # a checked-in appointment
    assert run(fresh(), walk_in)[1]  # a service that is not online only


@pytest.mark.parametrize(("hour", "minute", "issuing"), [
    (6, 59, False), (7, 0, True), (11, 14, True), (11, 15, False), (13, 15, True), (16, 29, True),
    (16, 30, False),
])
def test_issuing_hours_are_start_inclusive_end_exclusive(hour, minute, issuing):
    now = local_time(2026, 11, 25, hour, minute)
    command = c.IssueTicket(actor="k", service="TP", token="t")
    if issuing:
        assert run(fresh(), command, now)[1]
    else:
        assert refused(fresh(), command, now).code == "service_closed"


def test_closed_service_tells_the_next_opening():
    exc = refused(fresh(), c.IssueTicket(actor="k", service="TP", token="t"), local_time(2026, 11, 25, 12, 0))
    assert exc.code == "service_closed"
    assert exc.params["next_open"] == "13:15 25/11/2026"
    assert exc.params["next_open_iso"] == "2026-11-25T13:15:00+07:00"
    assert "13:15 25/11/2026" in exc.message_vi


def test_saturday_afternoon_and_sunday_are_closed_until_monday():
    saturday = local_time(2026, 11, 28, 14, 0)
    state = fresh(day=date(2026, 11, 28))
    exc = refused(state, c.IssueTicket(actor="k", service="TP", token="t"), saturday)
    assert exc.params["next_open_iso"] == "2026-11-30T07:00:00+07:00"
    assert run(state, c.IssueTicket(actor="k", service="TP", token="t"), local_time(2026, 11, 28, 8, 0))[1]
    sunday = fresh(day=date(2026, 11, 29))
    assert refused(sunday, c.IssueTicket(actor="k", service="TP", token="t"),
                   local_time(2026, 11, 29, 9, 0)).code == "service_closed"


def test_holiday_is_refused_and_skipped_when_telling_the_next_opening():
    holiday = local_time(2026, 9, 2, 9, 0)  # Quốc khánh, a Wednesday
    assert refused(fresh(day=date(2026, 9, 2)), c.IssueTicket(actor="k", service="TP", token="t"),
                   holiday).code == "holiday"
    evening = local_time(2026, 8, 31, 17, 0)  # Monday evening before 1-2 September
    exc = refused(fresh(day=date(2026, 8, 31)), c.IssueTicket(actor="k", service="TP", token="t"), evening)
    assert exc.code == "service_closed"
    assert exc.params["next_open_iso"] == "2026-09-03T07:00:00+07:00"


def test_a_service_with_its_own_hours_issues_while_the_site_is_closed():
    config = example_config()
    site = config.site("tinh")
    assert site is not None
    services = [msgspec.structs.replace(s, hours={"wed": ["11:00-12:30"]}) if s.code == "KQ" else s
                for s in site.services]
    site = msgspec.structs.replace(site, services=services)
    config = msgspec.structs.replace(config, sites=[site])
    state = fresh(site_rules(config))
    noon = local_time(2026, 11, 25, 12, 0)
    state, number = issue(state, "KQ", now=noon)
    assert number == "9001"
    assert refused(state, c.IssueTicket(actor="k", service="TP", token="t"), noon).code == "service_closed"
    early = refused(state, c.IssueTicket(actor="k", service="KQ", token="t"), OPEN)
    assert early.params["next_open_iso"] == "2026-11-25T11:00:00+07:00"


def test_next_opening_gives_none_when_nothing_opens_within_two_weeks():
    config = example_config()
    site = config.site("tinh")
    assert site is not None
    service = msgspec.structs.replace(site.services[0], hours={})
    assert next_opening(site, service, OPEN) is None


def test_unknown_service_and_priority_are_refused():
    assert refused(fresh(), c.IssueTicket(actor="k", service="NOPE", token="t")).code == "unknown_service"
    exc = refused(fresh(), c.IssueTicket(actor="k", service="TP", priority="vip", token="t"))
    assert exc.code == "unknown_priority" and exc.params["priority"] == "vip"


def test_priority_class_is_recorded():
    state, number = issue(fresh(), "TP", priority="elderly")
    assert ticket(state, number).priority == "elderly"


def test_a_retried_idempotency_key_issues_nothing_new():
    state, _ = issue(fresh(), "TP", key="tap-1")
    again, events = run(state, c.IssueTicket(actor="k", service="TP", token="other", idempotency_key="tap-1"))
    assert events == [] and again is state
    state, number = issue(state, "TP", key="tap-2")
    assert number == "A002"


def test_waiting_ahead_counts_the_same_queue_only():
    state = fresh()
    for service in ["TP", "DN", "TP"]:
        state, number = issue(state, service)
    last = ticket(state, number)
    assert waiting_ahead(state.tickets.values(), last, state.rules.queue) == 1


@pytest.mark.parametrize("rule", ["strict", "interleave"])
def test_waiting_ahead_is_the_place_in_the_counters_call_order(rule):
    """Each ticket is told how many the counter calls before it. The counter has called two
    normal tickets already, so under 2:1 its next call may be a priority one."""
    state = fresh(site_rules(priority_rule=rule, normal_per_priority=2))
    state, _ = issue(state, "TP")
    state, _ = issue(state, "TP")
    state = open_counter(state, 1)  # serves TP only
    for _ in range(2):
        state, _ = call_next(state, 1)
        state = finish(state, 1)
    for priority in [None, None, "elderly", None, None, None, "pregnant", None]:
        state, _ = issue(state, "TP", priority)
    told = {t.number: waiting_ahead(state.tickets.values(), t, state.rules.queue)
            for t in state.tickets.values() if t.state is TicketState.WAITING}
    state, called = serve_all(state, 1)
    assert told == {number: place for place, number in enumerate(called)}
    # By hand: A005 and A009 are the priority ones.
    expected = {
        "strict": ["A005", "A009", "A003", "A004", "A006", "A007", "A008", "A010"],
        "interleave": ["A005", "A003", "A004", "A009", "A006", "A007", "A008", "A010"],
    }
    assert called == expected[rule]


# -- calling ---------------------------------------------------------------------------------


def test_call_next_needs_an_open_free_counter_and_someone_waiting():
    state = fresh()
    assert refused(state, c.CallNext(actor="lan", counter=1)).code == "counter_not_open"
    assert refused(state, c.CallNext(actor="lan", counter=99)).code == "unknown_counter"
    state = open_counter(state, 1)
    assert refused(state, c.CallNext(actor="lan", counter=1)).code == "queue_empty"
    state, _ = issue(state, "DN")  # not served at counter 1
    assert refused(state, c.CallNext(actor="lan", counter=1)).code == "queue_empty"
    state, _ = issue(state, "TP")
    state, _ = issue(state, "TP")
    state, number = call_next(state, 1)
    assert number == "A001"
    exc = refused(state, c.CallNext(actor="lan", counter=1))
    assert exc.code == "counter_busy" and exc.params["number"] == "A001"


def test_a_call_occupies_the_counter_and_records_who_and_when():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1, clerk="lan")
    later = OPEN + timedelta(minutes=3)
    state, _ = call_next(state, 1, now=later)
    t = ticket(state, "A001")
    assert (t.state, t.counter, t.clerk, t.called_at, t.first_called_at) == (
        TicketState.CALLED, 1, "lan", later, later)
    assert state.counters[1].active_ticket == t.id
    assert state.active_ticket(1) == t


def test_call_next_follows_the_counters_service_preference():
    state = fresh()
    state, _ = issue(state, "GD")  # counter 2 serves ["TP", "GD"]: TP first
    state, _ = issue(state, "TP")
    state = open_counter(state, 2)
    state, first = call_next(state, 2)
    state = finish(state, 2)
    state, second = call_next(state, 2)
    assert (first, second) == ("A001", "K001")


def test_preference_comes_before_priority():
    state = fresh()
    state, _ = issue(state, "GD", priority="elderly")
    state, _ = issue(state, "TP")
    state = open_counter(state, 2)
    state, first = call_next(state, 2)
    assert first == "A001"


def test_arrival_counter_takes_its_services_in_arrival_order():
    state = fresh()
    for service in ["CT", "YT", "CT"]:  # counter 7 serves ["YT", "CT"] by arrival
        state, _ = issue(state, service)
    state = open_counter(state, 7)
    state, order = serve_all(state, 7)
    assert order == ["G001", "E001", "G002"]
    # A preference counter would take its first service first.
    state = fresh()
    for service in ["CT", "DN"]:  # counter 3 serves ["DN", "CT"]
        state, _ = issue(state, service)
    state = open_counter(state, 3)
    assert serve_all(state, 3)[1] == ["B001", "G001"]


def test_strict_priority_serves_every_priority_ticket_first():
    state = fresh(site_rules(priority_rule="strict"))
    for priority in [None, None, "elderly", None, "disabled"]:
        state, _ = issue(state, "TP", priority)
    state = open_counter(state, 1)
    assert serve_all(state, 1)[1] == ["A003", "A005", "A001", "A002", "A004"]


@pytest.mark.parametrize("ratio", [1, 2, 3])
def test_interleave_calls_n_normal_then_one_priority(ratio):
    state = fresh(site_rules(priority_rule="interleave", normal_per_priority=ratio))
    for i in range(12):
        state, _ = issue(state, "TP", "elderly" if i % 3 == 0 else None)
    state = open_counter(state, 1)
    state, order = serve_all(state, 1)
    kinds = "".join("p" if ticket(state, n).priority else "n" for n in order)
    # Exactly N normal, then 1 priority, while both kinds are waiting; then whoever is left.
    pattern = []
    normals, priorities, streak = 8, 4, 0
    while normals or priorities:
        if priorities and (not normals or streak >= ratio):
            pattern.append("p")
            priorities, streak = priorities - 1, 0
        else:
            pattern.append("n")
            normals, streak = normals - 1, streak + 1
    assert kinds == "".join(pattern)


def test_interleave_two_to_one_exact_sequence():
    state = fresh(site_rules(priority_rule="interleave", normal_per_priority=2))
    for priority in [None] * 5 + ["elderly"] * 3:
        state, _ = issue(state, "TP", priority)
    state = open_counter(state, 1)
    assert serve_all(state, 1)[1] == ["A001", "A002", "A006", "A003", "A004", "A007", "A005", "A008"]


def test_a_priority_arriving_after_a_long_normal_run_is_called_at_once():
    state = fresh(site_rules(priority_rule="interleave", normal_per_priority=2))
    for _ in range(4):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1)
    for _ in range(3):
        state, _ = call_next(state, 1)
        state = finish(state, 1)
    state, _ = issue(state, "TP", "pregnant")
    assert call_next(state, 1)[1] == "A005"


def test_call_number_calls_a_waiting_ticket_out_of_order():
    state = fresh()
    for _ in range(3):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1)
    state, events = run(state, c.CallNumber(actor="lan", counter=1, number=" a003 "))
    (event,) = events
    assert isinstance(event, e.TicketCalled) and event.reason == "number"
    assert event.ticket.number == "A003" and state.counters[1].normal_streak == 0
    state = finish(state, 1)
    assert call_next(state, 1)[1] == "A001"


def test_call_number_refusals():
    state = fresh()
    state, _ = issue(state, "TP")
    state, _ = issue(state, "GD")
    state = open_counter(state, 1)
    state = open_counter(state, 2, clerk="ha")
    assert refused(state, c.CallNumber(actor="lan", counter=1, number="K001")).code == "not_served_here"
    assert refused(state, c.CallNumber(actor="lan", counter=1, number="A999")).code == "ticket_not_found"
    state, _ = call_next(state, 2)
    exc = refused(state, c.CallNumber(actor="lan", counter=1, number="A001"))
    assert exc.code == "ticket_not_callable" and exc.params["state"] == "called"


@pytest.mark.parametrize(("minutes", "allowed"), [(1, True), (15, True), (16, False)])
def test_an_absent_ticket_can_be_called_back_only_inside_the_late_window(minutes, allowed):
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    state, events = run(state, c.MarkAbsent(actor="lan", counter=1), OPEN)
    assert ticket(state, "A001").state is TicketState.ABSENT
    back = OPEN + timedelta(minutes=minutes)
    command = c.CallNumber(actor="lan", counter=1, number="A001")
    if allowed:
        state, events = run(state, command, back)
        t = events[0].ticket
        assert (t.state, t.absent_at, t.called_at, t.first_called_at) == (
            TicketState.CALLED, None, back, OPEN)
    else:
        exc = refused(state, command, back)
        assert exc.code == "late_window_passed" and exc.params["number"] == "A001"


def test_an_absent_ticket_is_not_called_by_call_next():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    state = run(state, c.MarkAbsent(actor="lan", counter=1))[0]
    assert refused(state, c.CallNext(actor="lan", counter=1)).code == "queue_empty"


def test_recall_announces_again_without_changing_the_first_call():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    assert refused(state, c.Recall(actor="lan", counter=1)).code == "no_active_ticket"
    state, _ = call_next(state, 1)
    later = OPEN + timedelta(minutes=1)
    state, events = run(state, c.Recall(actor="lan", counter=1), later)
    (event,) = events
    assert isinstance(event, e.TicketCalled) and event.reason == "recall"
    assert (event.ticket.recalls, event.ticket.called_at, event.ticket.first_called_at) == (1, later, OPEN)
    state = run(state, c.StartService(actor="lan", counter=1))[0]
    assert refused(state, c.Recall(actor="lan", counter=1)).code == "invalid_state"


# -- serving ---------------------------------------------------------------------------------


def test_start_then_finish_with_outcome_and_dossier():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    started_at = OPEN + timedelta(minutes=1)
    state, events = run(state, c.StartService(actor="lan", counter=1), started_at)
    assert isinstance(events[0], e.ServiceStarted) and events[0].ticket.state is TicketState.SERVING
    assert refused(state, c.StartService(actor="lan", counter=1)).code == "invalid_state"
    exc = refused(state, c.Finish(actor="lan", counter=1, outcome="lunch"))
    assert exc.code == "invalid_outcome"
    done_at = OPEN + timedelta(minutes=9)
    state, events = run(state, c.Finish(actor="lan", counter=1, outcome="received",
                                        dossier_code="  H40.22-251125-0001 "), done_at)
    t = events[0].ticket
    assert isinstance(events[0], e.TicketFinished)
    assert (t.state, t.outcome, t.dossier_code, t.started_at, t.finished_at, t.clerk) == (
        TicketState.DONE, "received", "H40.22-251125-0001", started_at, done_at, "lan")
    assert state.counters[1].active_ticket is None
    assert refused(state, c.Finish(actor="lan", counter=1, outcome="received")).code == "no_active_ticket"


def test_finish_straight_after_the_call_counts_service_from_the_call():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    state, events = run(state, c.Finish(actor="lan", counter=1, outcome="guided", dossier_code="  "),
                        OPEN + timedelta(minutes=2))
    assert events[0].ticket.started_at == OPEN and events[0].ticket.dossier_code is None


def test_mark_absent_frees_the_counter_and_only_applies_to_a_called_ticket():
    state, _ = issue(fresh(), "TP")
    state, _ = issue(state, "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    state, events = run(state, c.MarkAbsent(actor="lan", counter=1))
    assert isinstance(events[0], e.TicketAbsent) and events[0].ticket.absent_at == OPEN
    assert state.counters[1].active_ticket is None
    state, _ = call_next(state, 1)
    state = run(state, c.StartService(actor="lan", counter=1))[0]
    assert refused(state, c.MarkAbsent(actor="lan", counter=1)).code == "invalid_state"


def test_hold_frees_the_counter_and_resume_calls_the_held_ticket_back():
    state = fresh()
    for _ in range(2):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1)
    state = open_counter(state, 2, clerk="ha")
    state, _ = call_next(state, 1)
    state = run(state, c.StartService(actor="lan", counter=1))[0]
    state, events = run(state, c.Hold(actor="lan", counter=1, note="bổ sung CCCD"))
    held = events[0].ticket
    assert isinstance(events[0], e.TicketHeld)
    assert (held.state, held.note, held.held_at, held.counter) == (TicketState.HELD, "bổ sung CCCD", OPEN, 1)
    assert state.counters[1].active_ticket is None
    state, number = call_next(state, 1)  # the counter serves someone else meanwhile
    assert number == "A002"
    assert refused(state, c.ResumeHeld(actor="lan", counter=1, number="A001")).code == "counter_busy"
    state = finish(state, 1)
    assert refused(state, c.ResumeHeld(actor="lan", counter=1, number="A002")).code == "invalid_state"
    state, events = run(state, c.ResumeHeld(actor="lan", counter=1, number="A001"))
    assert isinstance(events[0], e.TicketCalled) and events[0].reason == "resume"
    assert events[0].ticket.held_at is None and events[0].ticket.state is TicketState.CALLED


def test_a_held_ticket_resumes_at_another_counter_of_its_service_only():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state = open_counter(state, 2, clerk="ha")
    state = open_counter(state, 3, clerk="hung")
    state, _ = call_next(state, 1)
    state = run(state, c.Hold(actor="lan", counter=1))[0]
    assert refused(state, c.ResumeHeld(actor="hung", counter=3, number="A001")).code == "not_served_here"
    state, events = run(state, c.ResumeHeld(actor="ha", counter=2, number="A001"))
    assert events[0].ticket.counter == 2


def test_hold_with_no_ticket_is_refused():
    state = open_counter(fresh(), 1)
    assert refused(state, c.Hold(actor="lan", counter=1)).code == "no_active_ticket"


# -- transfer --------------------------------------------------------------------------------


def _called_at_counter_1(*waiting_dd: int) -> SiteState:
    """A001 called at counter 1; ``waiting_dd`` DD tickets already queueing."""
    state, _ = issue(fresh(), "TP")
    for _ in waiting_dd:
        state, _ = issue(state, "DD")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    return open_counter(state, 5, clerk="mai")


def test_transfer_to_a_service_keeps_the_number_and_goes_to_the_front():
    state = _called_at_counter_1(1, 2)
    state, events = run(state, c.Transfer(actor="lan", counter=1, service="DD"))
    (event,) = events
    moved = event.ticket
    assert isinstance(event, e.TicketTransferred)
    assert (event.from_service, event.from_counter) == ("TP", 1)
    assert (moved.number, moved.service, moved.origin_service, moved.state) == (
        "A001", "DD", "TP", TicketState.WAITING)
    assert (moved.transfers, moved.counter, moved.target_counter) == (1, None, None)
    assert state.counters[1].active_ticket is None
    assert serve_all(state, 5)[1] == ["A001", "D001", "D002"]


def test_tickets_transferred_to_the_front_keep_their_transfer_order():
    """Two citizens sent to the front of DD: the one sent first is called first."""
    state, _ = issue(fresh(), "TP")
    state, _ = issue(state, "TP")
    state, _ = issue(state, "DD")
    state = open_counter(open_counter(state, 1), 5, clerk="mai")
    for _ in range(2):
        state, _ = call_next(state, 1)
        state = run(state, c.Transfer(actor="lan", counter=1, service="DD", position="front"))[0]
    assert serve_all(state, 5)[1] == ["A001", "A002", "D001"]


def test_transfer_to_the_back_joins_after_everyone_waiting():
    state = _called_at_counter_1(1, 2)
    state = run(state, c.Transfer(actor="lan", counter=1, service="DD", position="back"))[0]
    state, later = issue(state, "DD")
    assert serve_all(state, 5)[1] == ["D001", "D002", "A001", later]


def test_transfer_position_defaults_to_the_configured_one():
    state, _ = issue(fresh(site_rules(transfer_position="back")), "TP")
    state, _ = issue(state, "DD")
    state = open_counter(open_counter(state, 1), 5, clerk="mai")
    state, _ = call_next(state, 1)
    state = run(state, c.Transfer(actor="lan", counter=1, service="DD"))[0]
    assert serve_all(state, 5)[1] == ["D001", "A001"]


def test_transfer_to_a_counter_is_called_only_there():
    state = _called_at_counter_1(1)
    state = open_counter(state, 14, clerk="ha")
    state = run(state, c.Transfer(actor="lan", counter=1, target_counter=14))[0]
    moved = ticket(state, "A001")
    assert (moved.service, moved.target_counter, moved.state) == ("TP", 14, TicketState.WAITING)
    state = open_counter(state, 2, clerk="ha2")
    assert refused(state, c.CallNext(actor="ha2", counter=2)).code == "queue_empty"
    assert refused(state, c.CallNumber(actor="ha2", counter=2, number="A001")).code == "not_served_here"
    state, number = call_next(state, 14)
    assert number == "A001" and ticket(state, "A001").target_counter is None


def test_transfer_refusals():
    state = _called_at_counter_1()
    for command, detail in [
        (c.Transfer(actor="lan", counter=1, service="NOPE"), "unknown service NOPE"),
        (c.Transfer(actor="lan", counter=1, target_counter=99), "unknown counter 99"),
        (c.Transfer(actor="lan", counter=1, target_counter=1), "target is this counter"),
        (c.Transfer(actor="lan", counter=1, service="TP"), "choose another service or a counter"),
        (c.Transfer(actor="lan", counter=1), "choose another service or a counter"),
    ]:
        exc = refused(state, command)
        assert (exc.code, exc.params["detail"]) == ("invalid_transfer", detail)
    idle = open_counter(fresh(), 2, clerk="ha")
    assert refused(idle, c.Transfer(actor="ha", counter=2, service="DD")).code == "no_active_ticket"


# -- cancel and rating -----------------------------------------------------------------------


def test_cancel_a_waiting_held_or_absent_ticket_but_not_a_called_one():
    state = fresh()
    for _ in range(4):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1)
    state, events = run(state, c.CancelTicket(actor="giamdoc", number="A004", reason="đi về"))
    assert isinstance(events[0], e.TicketCancelled)
    assert (events[0].ticket.state, events[0].ticket.note, events[0].ticket.finished_at) == (
        TicketState.CANCELLED, "đi về", OPEN)
    state, _ = call_next(state, 1)
    assert refused(state, c.CancelTicket(actor="lan", number="A001")).code == "invalid_state"
    state = run(state, c.Hold(actor="lan", counter=1))[0]
    state = run(state, c.CancelTicket(actor="lan", number="A001"))[0]
    state, _ = call_next(state, 1)
    state = run(state, c.MarkAbsent(actor="lan", counter=1))[0]
    state = run(state, c.CancelTicket(actor="lan", number="A002"))[0]
    assert [ticket(state, n).state for n in ("A001", "A002", "A003", "A004")] == [
        TicketState.CANCELLED, TicketState.CANCELLED, TicketState.WAITING, TicketState.CANCELLED]
    assert refused(state, c.CancelTicket(actor="lan", number="A004")).code == "invalid_state"
    assert refused(state, c.CancelTicket(actor="lan", number="Z999")).code == "ticket_not_found"


def test_rating_is_accepted_once_for_a_served_ticket():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    tid = ticket(state, "A001").id
    assert refused(state, c.RateTicket(actor="w", ticket_id=tid, value=4)).code == "not_rateable"
    state = finish(state, 1)
    assert refused(state, c.RateTicket(actor="w", ticket_id=tid, value=7)).code == "invalid_rating"
    assert refused(state, c.RateTicket(actor="w", ticket_id="nope", value=4)).code == "ticket_not_found"
    state, events = run(state, c.RateTicket(actor="w", ticket_id=tid, value=3))
    assert isinstance(events[0], e.TicketRated) and events[0].ticket.rating == 3
    assert refused(state, c.RateTicket(actor="w", ticket_id=tid, value=4)).code == "already_rated"


# -- counters --------------------------------------------------------------------------------


def test_open_pause_resume_close():
    state, events = run(fresh(), c.OpenCounter(actor="lan", counter=1))
    (event,) = events
    assert isinstance(event, e.CounterChanged) and event.change == "opened"
    opened = event.counter
    assert (opened.status, opened.clerk, opened.since) == (CounterStatus.OPEN, "lan", OPEN)
    assert refused(state, c.ResumeCounter(actor="lan", counter=1)).code == "counter_not_open"
    assert refused(state, c.PauseCounter(actor="lan", counter=1, reason="   ")).code == "invalid_reason"
    state, events = run(state, c.PauseCounter(actor="lan", counter=1, reason=" Họp "))
    assert events[0].change == "paused"
    assert (state.counters[1].status, state.counters[1].pause_reason) == (CounterStatus.PAUSED, "Họp")
    state, _ = issue(state, "TP")
    assert refused(state, c.CallNext(actor="lan", counter=1)).code == "counter_not_open"
    assert refused(state, c.PauseCounter(actor="lan", counter=1, reason="x")).code == "counter_not_open"
    state, events = run(state, c.ResumeCounter(actor="lan", counter=1))
    assert events[0].change == "resumed" and state.counters[1].pause_reason is None
    state, events = run(state, c.CloseCounter(actor="lan", counter=1))
    assert events[0].change == "closed"
    assert (state.counters[1].status, state.counters[1].clerk) == (CounterStatus.CLOSED, None)
    assert run(state, c.CloseCounter(actor="lan", counter=1)) == (state, [])
    assert refused(state, c.PauseCounter(actor="lan", counter=1, reason="Họp")).code == "counter_not_open"


def test_a_busy_counter_can_neither_pause_nor_close():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)
    pause = c.PauseCounter(actor="lan", counter=1, reason="Họp")
    for command in (c.CloseCounter(actor="lan", counter=1), pause):
        exc = refused(state, command)
        assert exc.code == "counter_busy" and exc.params["number"] == "A001"


def test_a_paused_counter_can_be_closed():
    state = run(open_counter(fresh(), 1), c.PauseCounter(actor="lan", counter=1, reason="Họp"))[0]
    state = run(state, c.CloseCounter(actor="lan", counter=1))[0]
    assert state.counters[1].status is CounterStatus.CLOSED and state.counters[1].pause_reason is None


def test_a_clerk_holds_at_most_one_citizen_across_counters():
    """A clerk with counters 1 and 2 open cannot call at 2 while a citizen is at 1."""
    state = fresh()
    for _ in range(3):
        state, _ = issue(state, "TP")
    state = open_counter(open_counter(state, 1, clerk="lan"), 2, clerk="lan")
    state, _ = call_next(state, 1)
    for command in (c.CallNext(actor="lan", counter=2), c.CallNumber(actor="lan", counter=2, number="A003")):
        exc = refused(state, command)
        assert exc.code == "counter_busy" and exc.params["number"] == "A001"
    state = run(state, c.Hold(actor="lan", counter=1))[0]  # lan is free again
    state, number = call_next(state, 2)
    assert number == "A002"
    assert refused(state, c.ResumeHeld(actor="lan", counter=1, number="A001")).code == "counter_busy"


def test_takeover_rules():
    state, _ = issue(fresh(), "TP")
    state = open_counter(state, 1, clerk="lan")
    # The same clerk reconnecting changes nothing.
    assert run(state, c.OpenCounter(actor="lan", counter=1)) == (state, [])
    # Another clerk may take over an idle counter (the first one went home without closing).
    taken, events = run(state, c.OpenCounter(actor="ha", counter=1))
    assert taken.counters[1].clerk == "ha" and events[0].change == "opened"
    # ... and a paused one, which opens.
    paused = run(state, c.PauseCounter(actor="lan", counter=1, reason="Họp"))[0]
    assert run(paused, c.OpenCounter(actor="ha", counter=1))[0].counters[1].status is CounterStatus.OPEN
    # ... but never one that is calling or serving someone.
    busy, _ = call_next(state, 1)
    exc = refused(busy, c.OpenCounter(actor="ha", counter=1))
    assert exc.code == "counter_taken" and exc.params == {"counter": 1, "clerk": "lan"}
    assert run(busy, c.OpenCounter(actor="lan", counter=1)) == (busy, [])


def _every_counter_command(clerk: str, counter: int) -> list[c.Command]:
    return [
        c.CallNext(actor=clerk, counter=counter), c.CallNumber(actor=clerk, counter=counter, number="A003"),
        c.Recall(actor=clerk, counter=counter), c.StartService(actor=clerk, counter=counter),
        c.MarkAbsent(actor=clerk, counter=counter), c.Hold(actor=clerk, counter=counter),
        c.ResumeHeld(actor=clerk, counter=counter, number="A001"),
        c.Transfer(actor=clerk, counter=counter, service="DN"),
        c.Finish(actor=clerk, counter=counter, outcome="received"),
        c.PauseCounter(actor=clerk, counter=counter, reason="Họp"),
        c.ResumeCounter(actor=clerk, counter=counter), c.CloseCounter(actor=clerk, counter=counter),
    ]


def test_a_clerk_whose_counter_was_taken_over_can_no_longer_act_on_it():
    """Issue 11: lan's old session kept calling and finishing at counter 1 after ha opened
    it, and the tickets were recorded as ha's."""
    state = fresh()
    for _ in range(5):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1, clerk="lan")
    state, _ = call_next(state, 1)  # A001, held for later
    state = run(state, c.Hold(actor="lan", counter=1))[0]
    state, _ = call_next(state, 1)  # A002, served and finished: rateable
    state = finish(state, 1)
    state = run(state, c.OpenCounter(actor="ha", counter=1))[0]  # ha takes the idle counter over
    for busy in (False, True):
        if busy:
            state, _ = call_next(state, 1)  # A003 called by ha
            assert ticket(state, "A003").clerk == "ha"
        for command in _every_counter_command("lan", 1):
            exc = refused(state, command)
            assert exc.code == "counter_not_held", command
            assert exc.params == {"counter": 1, "clerk": "ha"}
            assert "ha" in exc.message_vi and "ha" in exc.message_en
    # Nothing lan tried changed anything: ha finishes A003 as ha.
    state = run(state, c.Finish(actor="ha", counter=1, outcome="received"))[0]
    assert (ticket(state, "A003").state, ticket(state, "A003").clerk) == (TicketState.DONE, "ha")
    # The same clerk logged in on two PCs is one actor: both hold the counter.
    state, events = run(state, c.CallNext(actor="ha", counter=1))
    assert events[0].ticket.number == "A004" and events[0].ticket.clerk == "ha"


def test_cancelling_and_rating_from_a_counter_need_the_counter_held():
    """A clerk's cancel and their rating window act from their counter; a manager's cancel
    and a citizen's phone name no counter."""
    state = fresh()
    for _ in range(4):
        state, _ = issue(state, "TP")
    state = open_counter(state, 1, clerk="lan")
    state, _ = call_next(state, 1)  # A001 served by lan
    state = finish(state, 1)
    a001 = ticket(state, "A001").id
    state = run(state, c.CancelTicket(actor="lan", counter=1, number="A004"))[0]
    # Before anyone takes counter 1 over, only the clerk who served A001 rates it from there.
    exc = refused(state, c.RateTicket(actor="lan", counter=2, ticket_id=a001, value=4))
    assert exc.code == "counter_not_open"
    taken = run(state, c.OpenCounter(actor="ha", counter=1))[0]
    for command in (c.CancelTicket(actor="lan", counter=1, number="A003"),
                    c.RateTicket(actor="lan", counter=1, ticket_id=a001, value=4)):
        exc = refused(taken, command)
        assert (exc.code, exc.params) == ("counter_not_held", {"counter": 1, "clerk": "ha"})
    # The counter's new clerk cannot rate a citizen the previous clerk served.
    assert refused(taken, c.RateTicket(actor="ha", counter=1, ticket_id=a001, value=1)).code == "not_rateable"
    rated = run(state, c.RateTicket(actor="lan", counter=1, ticket_id=a001, value=4))[0]
    assert rated.tickets[a001].rating == 4
    assert ticket(run(taken, c.CancelTicket(actor="giamdoc", number="A003"))[0], "A003").state is (
        TicketState.CANCELLED)
    assert run(taken, c.RateTicket(actor="watcher", ticket_id=a001, value=4))[0].tickets[a001].rating == 4


# -- day rollover ----------------------------------------------------------------------------


def _busy_day() -> SiteState:
    """Wednesday with tickets in every state and counters open, paused and closed."""
    state = fresh()
    for service in ["TP", "TP", "TP", "TP", "TP", "DN"]:
        state, _ = issue(state, service)
    state = open_counter(state, 1)
    state, _ = call_next(state, 1)          # A001 done
    state = finish(state, 1)
    state, _ = call_next(state, 1)          # A002 held
    state = run(state, c.Hold(actor="lan", counter=1))[0]
    state, _ = call_next(state, 1)          # A003 absent
    state = run(state, c.MarkAbsent(actor="lan", counter=1))[0]
    state, _ = call_next(state, 1)          # A004 serving
    state = run(state, c.StartService(actor="lan", counter=1))[0]
    state = run(state, c.CancelTicket(actor="lan", number="A005"))[0]
    state = open_counter(state, 3, clerk="hung")
    return run(state, c.PauseCounter(actor="hung", counter=3, reason="Họp"))[0]  # B001 waits


def test_rollover_expires_leftovers_and_closes_counters():
    state = _busy_day()
    midnight = local_time(2026, 11, 26, 0, 0)
    new, events = run(state, c.RollOver(actor="system", day=date(2026, 11, 26)), midnight)
    expired = {ev.ticket.number: ev.ticket for ev in events if isinstance(ev, e.TicketExpired)}
    assert set(expired) == {"A002", "A003", "A004", "B001"}
    assert all(t.state is TicketState.EXPIRED and t.finished_at == midnight for t in expired.values())
    closed = sorted(ev.counter.number for ev in events if isinstance(ev, e.CounterChanged))
    assert closed == [1, 3]
    assert all(ev.change == "closed" for ev in events if isinstance(ev, e.CounterChanged))
    assert new.day == date(2026, 11, 26)
    assert dict(new.tickets) == {} and dict(new.sequences) == {} and dict(new.keys) == {}
    assert all(c.status is CounterStatus.CLOSED and c.active_ticket is None for c in new.counters.values())
    # A rollover for a day already reached does nothing.
    assert run(new, c.RollOver(actor="system", day=date(2026, 11, 26)), midnight) == (new, [])


def test_numbering_restarts_the_next_day():
    state = _busy_day()
    state = run(state, c.RollOver(actor="system", day=date(2026, 11, 26)), local_time(2026, 11, 26, 0, 0))[0]
    state, number = issue(state, "TP", now=local_time(2026, 11, 26, 7, 5))
    t = ticket(state, number)
    assert (number, t.id, t.day, t.order) == ("A001", "tinh:2026-11-26:TP:1", date(2026, 11, 26), 1)


def test_any_command_just_after_local_midnight_rolls_the_day_first():
    state = _busy_day()
    just_after = local_time(2026, 11, 26, 0, 0, 1)
    new, events = run(state, c.OpenCounter(actor="lan", counter=1), just_after)
    kinds = [type(ev).__name__ for ev in events]
    assert kinds.count("TicketExpired") == 4
    assert kinds[-1] == "CounterChanged" and events[-1].change == "opened"
    assert new.day == date(2026, 11, 26) and new.counters[1].status is CounterStatus.OPEN
    # A refused command after midnight leaves the old state as it was (nothing half-applied).
    exc = refused(state, c.IssueTicket(actor="k", service="TP", token="t"), just_after)
    assert exc.code == "service_closed"


def test_midnight_is_local_time_not_utc():
    state = _busy_day()
    before = datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)  # 23:59:59 in Hà Nội
    after = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)  # 00:00 in Hà Nội
    assert run(state, c.CloseCounter(actor="lan", counter=2), before)[0].day == WED
    rolled, events = run(state, c.CloseCounter(actor="lan", counter=2), after)
    assert rolled.day == date(2026, 11, 26) and events


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        handle(fresh(), c.OpenCounter(actor="lan", counter=1), datetime(2026, 11, 25, 8, 0))


def test_a_refused_command_leaves_the_state_untouched():
    state = _busy_day()
    before = (dict(state.tickets), dict(state.counters), dict(state.sequences), state.next_order)
    refused(state, c.CallNext(actor="hung", counter=3))
    assert (dict(state.tickets), dict(state.counters), dict(state.sequences), state.next_order) == before
