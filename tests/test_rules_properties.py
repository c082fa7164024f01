"""Random command sequences against the pure rules; invariants are checked after every step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from common.config import Counter, parse_config
from common.errors import Rejected
from server.core import commands as c
from server.core import events as e
from server.core.model import CounterStatus, SiteRules, SiteState, TicketState, new_site_state
from server.core.rules import handle
from tests.helpers import local_time

CONFIG = parse_config("""
province = "Tỉnh Thử"
centre_name = "Trung tâm thử"
timezone = "Asia/Ho_Chi_Minh"

[queue]
priority_classes = [
  { code = "elderly", name_vi = "Người cao tuổi", name_en = "Senior" },
  { code = "disabled", name_vi = "Người khuyết tật", name_en = "Disabled" },
]
outcomes = [{ code = "received", name_vi = "Tiếp nhận", name_en = "Received" }]

[[rating]]
value = 1
name_vi = "Không hài lòng"
name_en = "Dissatisfied"

[[rating]]
value = 2
name_vi = "Hài lòng"
name_en = "Satisfied"

[[sites]]
code = "thu"
name = "Điểm thử"

[sites.hours]
mon = ["06:00-22:00"]
tue = ["06:00-22:00"]
wed = ["06:00-22:00"]
thu = ["06:00-22:00"]
fri = ["06:00-22:00"]
sat = ["06:00-22:00"]
sun = ["06:00-22:00"]

[[sites.services]]
code = "A"
name_vi = "A"
name_en = "A"
agency = "a"
numbering = { prefix = "A", digits = 2 }
daily_cap = 25

[[sites.services]]
code = "B"
name_vi = "B"
name_en = "B"
agency = "b"
numbering = { style = "block", start = 501, end = 599 }

[[sites.services]]
code = "C"
name_vi = "C"
name_en = "C"
agency = "c"
numbering = { prefix = "C", digits = 3 }

[[sites.counters]]
number = 1
name = "Một"
services = ["A", "B"]

[[sites.counters]]
number = 2
name = "Hai"
services = ["B", "C"]
service_order = "arrival"

[[sites.counters]]
number = 3
name = "Ba"
services = ["A"]

[[sites.counters]]
number = 4
name = "Bốn"
services = ["C"]
""", "<properties>")
SITE = CONFIG.sites[0]
COUNTERS = [1, 2, 3, 4]
START = local_time(2026, 11, 25, 7, 0)


def rules_with(**queue: object) -> SiteRules:
    return SiteRules(site=SITE, queue=msgspec.structs.replace(CONFIG.queue, **queue), tz=CONFIG.tz,
                     rating_values=frozenset({1, 2}))


def frozen_copy(state: SiteState) -> tuple:
    """Everything a state holds, copied: compared later to prove it was not mutated in place."""
    return (state.day, dict(state.tickets), dict(state.counters), dict(state.sequences),
            dict(state.keys), state.next_order, state.front_order)


def counter_config(number: int) -> Counter:
    found = SITE.counter(number)
    assert found is not None
    return found


SERVICES = st.sampled_from(["A", "A", "B", "C", "C", "Z"])
PRIORITIES = st.sampled_from([None, None, None, "elderly", "disabled", "vip"])
WORK = ["reopen", "call_next", "call_next", "call_next_and_finish", "start", "finish", "finish", "absent",
        "hold", "recall", "call_number", "resume_held", "transfer", "transfer"]


class QueueMachine(RuleBasedStateMachine):
    """Clerks and kiosks doing random things while the clock moves forward."""

    @initialize(
        priority_rule=st.sampled_from(["strict", "interleave"]),
        ratio=st.integers(1, 3),
        position=st.sampled_from(["front", "back"]),
        queue=st.lists(st.tuples(SERVICES, PRIORITIES), max_size=15),
    )
    def setup(self, priority_rule: str, ratio: int, position: str,
              queue: list[tuple[str, str | None]]) -> None:
        self.rules = rules_with(priority_rule=priority_rule, normal_per_priority=ratio,
                                transfer_position=position)
        self.now = START
        self.state = new_site_state(self.rules, START.date())
        self.issued: set[tuple[date, str, str]] = set()  # (day, service, number) ever issued
        self.streaks: dict[int, int] = {}  # our own count of normal "next" calls per counter
        self.tokens = 0
        for counter in COUNTERS:
            self.apply(c.OpenCounter(actor=f"clerk{counter}", counter=counter))
        for service, priority in queue:
            self.tokens += 1
            self.apply(c.IssueTicket(actor="kiosk", service=service, priority=priority,
                                     token=f"tok-{self.tokens}"))

    # -- the one way in ------------------------------------------------------------------

    def apply(self, command: c.Command) -> list[e.Event]:
        old = self.state
        before = frozen_copy(old)
        try:
            new, events = handle(old, command, self.now)
        except Rejected:
            assert frozen_copy(old) == before, "a refused command changed the state"
            return []
        assert frozen_copy(old) == before, "the old state was mutated in place"
        if new.day != old.day:
            self.streaks.clear()
        else:
            for event in events:
                if isinstance(event, e.TicketCalled) and event.reason == "next":
                    self.check_call(old, event)
        for event in events:
            if isinstance(event, e.TicketIssued):
                t = event.ticket
                key = (t.day, t.origin_service, t.number)
                assert key not in self.issued, f"number {t.number} issued twice on {t.day}"
                self.issued.add(key)
        self.state = new
        return events

    def check_call(self, old: SiteState, event: e.TicketCalled) -> None:
        called = event.ticket
        counter = counter_config(called.counter or 0)
        eligible = [
            t for t in old.tickets.values()
            if t.state is TicketState.WAITING and (
                t.target_counter == counter.number
                if t.target_counter is not None else t.service in counter.services)
        ]
        assert any(t.id == called.id for t in eligible)

        def rank(t) -> int:
            if counter.service_order == "arrival" or t.service not in counter.services:
                return 0
            return counter.services.index(t.service)

        best = min(rank(t) for t in eligible)
        assert rank(called) == best, "a less preferred service was called first"
        contenders = [t for t in eligible if rank(t) == best]
        has_priority = any(t.priority for t in contenders)
        has_normal = any(not t.priority for t in contenders)
        streak = self.streaks.get(counter.number, 0)
        if has_priority and has_normal:
            queue = self.rules.queue
            want_priority = queue.priority_rule == "strict" or streak >= queue.normal_per_priority
            assert bool(called.priority) == want_priority, (
                f"{queue.priority_rule} rule broken: streak {streak}, called {called.number}")
        self.streaks[counter.number] = 0 if called.priority else streak + 1
        # Arrival order inside a service and a priority class (transfers aside).
        if called.transfers == 0:
            for t in eligible:
                if (t.transfers == 0 and t.target_counter is None and t.service == called.service
                        and bool(t.priority) == bool(called.priority)):
                    assert t.sequence >= called.sequence, f"{called.number} called before {t.number}"

    # -- choosing targets: mostly ones where the command can succeed, sometimes any ---------

    def counter(self, index: int, busy: bool | None) -> int:
        """An open counter (busy or free as asked) when there is one, else any counter."""
        fitting = [
            n for n, counter in self.state.counters.items()
            if counter.status is CounterStatus.OPEN
            and (busy is None or (counter.active_ticket is not None) == busy)
        ]
        choices = fitting if fitting and index % 8 else COUNTERS
        return choices[index % len(choices)]

    def number(self, index: int, *states: TicketState) -> str:
        """A ticket number in one of ``states`` when there is one, else any (or an unknown one)."""
        tickets = sorted(self.state.tickets.values(), key=lambda t: t.order)
        fitting = [t.number for t in tickets if t.state in states]
        choices = fitting if fitting and index % 8 else [*(t.number for t in tickets), "Z99"]
        return choices[index % len(choices)]

    def clerk_at(self, counter: int) -> str:
        """Who may act at ``counter``: the clerk holding it (anyone, when it is closed)."""
        found = self.state.counters.get(counter)
        return found.clerk if found is not None and found.clerk else "lan"

    # -- kiosks ----------------------------------------------------------------------------

    @rule(taps=st.lists(st.tuples(SERVICES, PRIORITIES, st.integers(0, 60)), min_size=1, max_size=4))
    def issue(self, taps: list[tuple[str, str | None, int]]) -> None:
        """Kiosk taps; a key seen before is a retry and must issue nothing new."""
        for service, priority, key in taps:
            self.tokens += 1
            today = self.now.astimezone(CONFIG.tz).date()
            retry = f"key-{key}" in self.state.keys and self.state.day == today  # keys last a day
            events = self.apply(c.IssueTicket(actor="kiosk", service=service, priority=priority,
                                              token=f"tok-{self.tokens}", idempotency_key=f"key-{key}"))
            if retry:
                assert not any(isinstance(ev, e.TicketIssued) for ev in events)

    # -- counters --------------------------------------------------------------------------

    @rule(counter=st.sampled_from([*COUNTERS, 9]), clerk=st.sampled_from(["lan", "ha"]))
    def open(self, counter: int, clerk: str) -> None:
        self.apply(c.OpenCounter(actor=clerk, counter=counter))

    @rule(counter=st.sampled_from(COUNTERS))
    def close(self, counter: int) -> None:
        self.apply(c.CloseCounter(actor=self.clerk_at(counter), counter=counter))

    @rule(counter=st.sampled_from(COUNTERS), reason=st.sampled_from(["Họp", " ", "Nghỉ giải lao"]))
    def pause(self, counter: int, reason: str) -> None:
        self.apply(c.PauseCounter(actor=self.clerk_at(counter), counter=counter, reason=reason))

    @rule(counter=st.sampled_from(COUNTERS))
    def resume(self, counter: int) -> None:
        self.apply(c.ResumeCounter(actor=self.clerk_at(counter), counter=counter))

    # -- calling and serving ---------------------------------------------------------------

    @rule(index=st.integers(0, 99))
    def call_next(self, index: int) -> None:
        counter = self.counter(index, busy=False)
        self.apply(c.CallNext(actor=self.clerk_at(counter), counter=counter))

    @rule(index=st.integers(0, 99), outcome=st.sampled_from(["received", "received", "nope"]),
          dossier=st.sampled_from([None, "", "H40-0001"]))
    def call_next_and_finish(self, index: int, outcome: str, dossier: str | None) -> None:
        counter = self.counter(index, busy=False)
        clerk = self.clerk_at(counter)
        self.apply(c.CallNext(actor=clerk, counter=counter))
        self.apply(c.Finish(actor=clerk, counter=counter, outcome=outcome, dossier_code=dossier))

    @rule(index=st.integers(0, 99), pick=st.integers(0, 999))
    def call_number(self, index: int, pick: int) -> None:
        number = self.number(pick, TicketState.WAITING, TicketState.ABSENT)
        counter = self.counter(index, busy=False)
        self.apply(c.CallNumber(actor=self.clerk_at(counter), counter=counter, number=number))

    @rule(index=st.integers(0, 99))
    def recall(self, index: int) -> None:
        counter = self.counter(index, busy=True)
        self.apply(c.Recall(actor=self.clerk_at(counter), counter=counter))

    @rule(index=st.integers(0, 99))
    def start(self, index: int) -> None:
        counter = self.counter(index, busy=True)
        self.apply(c.StartService(actor=self.clerk_at(counter), counter=counter))

    @rule(index=st.integers(0, 99))
    def absent(self, index: int) -> None:
        counter = self.counter(index, busy=True)
        self.apply(c.MarkAbsent(actor=self.clerk_at(counter), counter=counter))

    @rule(index=st.integers(0, 99))
    def hold(self, index: int) -> None:
        counter = self.counter(index, busy=True)
        self.apply(c.Hold(actor=self.clerk_at(counter), counter=counter, note="bổ sung"))

    @rule(index=st.integers(0, 99), pick=st.integers(0, 999))
    def resume_held(self, index: int, pick: int) -> None:
        number = self.number(pick, TicketState.HELD)
        counter = self.counter(index, busy=False)
        self.apply(c.ResumeHeld(actor=self.clerk_at(counter), counter=counter, number=number))

    @rule(index=st.integers(0, 99), service=st.sampled_from([None, "A", "B", "C", "Z"]),
          to_counter=st.sampled_from([None, None, 1, 2, 3, 4, 9]),
          position=st.sampled_from([None, "front", "back"]))
    def transfer(self, index: int, service: str | None, to_counter: int | None,
                 position: str | None) -> None:
        counter = self.counter(index, busy=True)
        active = self.state.active_ticket(counter)
        events = self.apply(c.Transfer(actor=self.clerk_at(counter), counter=counter, service=service,
                                       target_counter=to_counter, position=position))  # type: ignore[arg-type]
        for event in events:
            if isinstance(event, e.TicketTransferred):
                assert active is not None and event.ticket.number == active.number  # keeps its number

    @rule(index=st.integers(0, 99), outcome=st.sampled_from(["received", "received", "nope"]))
    def finish(self, index: int, outcome: str) -> None:
        counter = self.counter(index, busy=True)
        self.apply(c.Finish(actor=self.clerk_at(counter), counter=counter, outcome=outcome))

    @rule(steps=st.lists(st.tuples(st.sampled_from(WORK), st.integers(0, 999)), min_size=1, max_size=8))
    def work(self, steps: list[tuple[str, int]]) -> None:
        """A burst of counter work (the single rules above, several in one step)."""
        for name, pick in steps:
            if name == "reopen":
                self.open(COUNTERS[pick % len(COUNTERS)], "lan")
            elif name == "transfer":
                self.transfer(pick, [None, "A", "B", "C"][pick % 4], [None, None, 1, 4][pick // 4 % 4], None)
            elif name in ("call_number", "resume_held"):
                getattr(self, name)(pick % 100, pick)
            elif name == "call_next_and_finish":
                self.call_next_and_finish(pick, "received", None)
            elif name == "finish":
                self.finish(pick, "received")
            else:
                getattr(self, name)(pick)

    @rule(pick=st.integers(0, 999))
    def cancel(self, pick: int) -> None:
        number = self.number(pick, TicketState.WAITING, TicketState.HELD, TicketState.ABSENT)
        self.apply(c.CancelTicket(actor="giamdoc", number=number))

    @rule(pick=st.integers(0, 999), value=st.integers(0, 3))
    def rate(self, pick: int, value: int) -> None:
        ticket = self.state.ticket_by_number(self.number(pick, TicketState.DONE))
        self.apply(c.RateTicket(actor="watcher", ticket_id=ticket.id if ticket else "nope", value=value))

    # -- a clerk acting at a counter someone else holds (issue 11) ------------------------

    @rule(index=st.integers(0, 99), kind=st.integers(0, 13), pick=st.integers(0, 999),
          clerk=st.sampled_from(["lan", "ha", "clerk1", "clerk2", "mallory"]))
    def intruder(self, index: int, kind: int, pick: int, clerk: str) -> None:
        """Any counter command, including a clerk's cancel and rating, by a clerk who does not
        hold the counter (another clerk has it, or nobody does) never changes the state."""
        today = self.now.astimezone(CONFIG.tz).date()
        if self.state.day < today:
            self.apply(c.RollOver(actor="system", day=today))  # so that only the intrusion is judged
        counter = self.counter(index, busy=None if pick % 3 else bool(pick % 2))
        holder = self.state.counters[counter].clerk
        if clerk == holder:
            return
        number = self.number(pick, *TicketState)
        done = self.state.ticket_by_number(self.number(pick, TicketState.DONE))
        command = [
            c.CallNext(actor=clerk, counter=counter),
            c.CallNumber(actor=clerk, counter=counter, number=number),
            c.Recall(actor=clerk, counter=counter),
            c.StartService(actor=clerk, counter=counter),
            c.MarkAbsent(actor=clerk, counter=counter),
            c.Hold(actor=clerk, counter=counter),
            c.ResumeHeld(actor=clerk, counter=counter, number=number),
            c.Transfer(actor=clerk, counter=counter, service=["A", "B", "C"][pick % 3],
                       target_counter=[None, 1, 4][pick // 3 % 3]),
            c.Finish(actor=clerk, counter=counter, outcome="received", dossier_code="H40-1"),
            c.PauseCounter(actor=clerk, counter=counter, reason="Họp"),
            c.ResumeCounter(actor=clerk, counter=counter),
            c.CloseCounter(actor=clerk, counter=counter),
            c.CancelTicket(actor=clerk, counter=counter, number=number),
            c.RateTicket(actor=clerk, counter=counter, ticket_id=done.id if done else "nope", value=2),
        ][kind]
        before = frozen_copy(self.state)
        try:
            new, events = handle(self.state, command, self.now)
        except Rejected as exc:
            if holder is not None:
                assert exc.code == "counter_not_held", (command, exc.code)
        else:
            assert events == [] and frozen_copy(new) == before, f"{clerk} changed {counter}: {command}"
        assert frozen_copy(self.state) == before

    # -- time ------------------------------------------------------------------------------

    @rule(minutes=st.integers(0, 30))
    def wait(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: self.now < START + timedelta(days=5))
    @rule(minutes=st.integers(0, 600))
    def past_midnight(self, minutes: int) -> None:
        local = self.now.astimezone(CONFIG.tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=CONFIG.tz)
        self.now = midnight + timedelta(minutes=minutes)

    @rule()
    def roll_over(self) -> None:
        today = self.now.astimezone(CONFIG.tz).date()
        self.apply(c.RollOver(actor="system", day=today))

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def counters_and_tickets_agree(self) -> None:
        state = self.state
        holders: dict[str, int] = {}
        busy_clerks: set[str | None] = set()
        for number, counter in state.counters.items():
            assert counter.number == number
            if counter.active_ticket is None:
                continue
            assert counter.active_ticket not in holders, "one ticket active at two counters"
            holders[counter.active_ticket] = number
            assert counter.clerk not in busy_clerks, f"{counter.clerk} holds two citizens"
            busy_clerks.add(counter.clerk)
            ticket = state.tickets[counter.active_ticket]
            assert ticket.state.is_active and ticket.counter == number
            assert counter.status is CounterStatus.OPEN
        for ticket in state.tickets.values():
            if ticket.state.is_active:
                assert holders.get(ticket.id) == ticket.counter, f"{ticket.number} active but not held"
            if ticket.state is TicketState.WAITING:
                assert ticket.counter is None

    @invariant()
    def numbers_are_unique_and_sequences_consistent(self) -> None:
        state = self.state
        tickets = list(state.tickets.values())
        assert len({t.number for t in tickets}) == len(tickets)
        assert len({t.order for t in tickets}) == len(tickets)
        assert all(t.day == state.day for t in tickets)
        for service, last in state.sequences.items():
            mine = [t.sequence for t in tickets if t.origin_service == service]
            assert sorted(mine) == list(range(1, last + 1))
        assert state.day <= self.now.astimezone(CONFIG.tz).date()


QueueMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQueueMachine = QueueMachine.TestCase


@st.composite
def arrivals(draw) -> list[bool]:
    """A random arrival order of 30-50 normal and 20-30 priority citizens."""
    normal, priority = draw(st.integers(30, 50)), draw(st.integers(20, 30))
    return draw(st.permutations([False] * normal + [True] * priority))


@settings(max_examples=80, deadline=None)
@given(
    ratio=st.integers(1, 4),
    arrived=arrivals(),
    schedule=st.lists(st.sampled_from([2, 4]), min_size=1, max_size=40),
)
def test_interleave_ratio_holds_per_counter_while_both_classes_wait(ratio, arrived, schedule):
    """Two counters share a service; each follows N normal : 1 priority exactly on its own."""
    state = new_site_state(rules_with(priority_rule="interleave", normal_per_priority=ratio), START.date())
    now = local_time(2026, 11, 25, 8, 0)
    for i, is_priority in enumerate(arrived):
        state, _ = handle(state, c.IssueTicket(actor="k", service="C", token=f"t{i}",
                                               priority="elderly" if is_priority else None), now)
    for counter in (2, 4):
        state, _ = handle(state, c.OpenCounter(actor=f"clerk{counter}", counter=counter), now)
    normals, priorities = arrived.count(False), arrived.count(True)
    calls: dict[int, list[str]] = {2: [], 4: []}
    order: list[tuple[bool, int]] = []
    for counter in schedule:
        if not normals or not priorities:
            break  # the property is about both classes waiting
        state, events = handle(state, c.CallNext(actor=f"clerk{counter}", counter=counter), now)
        called = events[-1].ticket
        calls[counter].append("p" if called.priority else "n")
        order.append((bool(called.priority), called.sequence))
        normals, priorities = normals - (not called.priority), priorities - bool(called.priority)
        state, _ = handle(state, c.Finish(actor=f"clerk{counter}", counter=counter, outcome="received"), now)
    for kinds in calls.values():
        expected = ("n" * ratio + "p") * len(kinds)
        assert "".join(kinds) == expected[: len(kinds)]
    for cls in (True, False):
        sequences = [seq for is_priority, seq in order if is_priority is cls]
        assert sequences == sorted(sequences)
