"""One site's day of the generated history (``bench.history``): arrivals, the counters'
day, and every ticket's lifecycle as the real ``Ticket`` and event values of
``server.core``, each made the way the rule that emits it makes it (the same fields set,
the same ids, numbers and orders), ready for ``Store.commit``.

Not the rules themselves: driving ``server.core.rules.handle`` command by command costs
60 µs an event at a commune and 210 µs at the provincial centre (``pick_next`` reads the
day's tickets at every call), 10-30 minutes for a province-year's 9 M events. A small
queue simulation decides who is called when, at ~5 µs an event.

The counters' day: opened before 07:00 by their clerks, a lunch pause, closed after the
queue they serve is empty (at the latest 17:45; Saturday mornings until ~11:40). A
ticket is called by the first free counter that serves its service (the counter's own
service first; priority tickets interleaved 1 after every ``normal_per_priority``
normal ones; tickets transferred to the front before both). Then: the citizen comes
(0.3-1.5 min), is sometimes recalled first; service takes a lognormal time around the
service's mean; it ends finished (an outcome, often a dossier code), transferred to
another service, or held to complete papers and resumed later at the same counter.
Citizens who wait longer than their patience leave: some are cancelled by a clerk, the
others are called in vain, recalled, and marked absent; a few absent citizens come back
within the late window and are called by number. A third of the finished tickets are
rated, at the counter's rating window or from the phone (``watcher``), some of those
days later. What is unfinished at midnight expires at the roll-over (``system``).
"""

from __future__ import annotations

import base64
import functools
import heapq
import itertools
import math
import operator
import random
from collections import deque
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal

from bench import history_calendar as cal
from bench.centre import PROVINCE
from common.config import Config, Numbering
from server.core import events as ev
from server.core.model import CounterState, CounterStatus, SiteRules, SiteState, Ticket, TicketState
from server.core.rules import FRONT_ORDER_BASE

# Relative demand and mean service minutes per service code.
DEMAND = {"TP": 12, "DN": 8, "XD": 7, "DD": 11, "YT": 8, "CT": 7, "LD": 11, "GD": 10, "VH": 8,
          "GPLX": 16, "BHXH": 13, "THUE": 10, "DIEN": 14, "KQ": 25, "HT": 45, "XH": 15}
SERVICE_MINUTES = {"TP": 12, "DN": 18, "XD": 20, "DD": 16, "YT": 14, "CT": 15, "LD": 10, "GD": 10,
                   "VH": 12, "GPLX": 9, "BHXH": 11, "THUE": 14, "DIEN": 7, "KQ": 4, "HT": 8, "XH": 10}
COMMUNE_DEMAND = {"DD": 25, "KQ": 15}  # at a commune, "Đất đai, xây dựng" and results pick-up
PRIORITY_SHARE = 0.06
# Share of the counters staffed on a day (the other clerks are on leave, training or the
# back office); every service keeps at least one counter that serves it.
STAFFED = {"province": 0.8, "commune": 0.55}
PATIENCE_MINUTES = 150.0  # mean of the exponential time a citizen waits before giving up
CANCELLED_SHARE = 0.35  # of those who give up, a clerk cancels the ticket (the others go absent)
INATTENTIVE = 0.02  # called while away; absent; some come back
RETURNS = 0.4  # of the inattentive, back within the late window
RECALLED = 0.06
TRANSFERRED = 0.03
HELD = 0.015
RATED = 0.35
PHONE_RATINGS = 0.45  # of the ratings; the rest at the counter's rating window
LATE_PHONE = 0.12  # of the phone ratings: on a later day (up to ``PAST_RATING_DAYS``)
DOSSIER_SHARE = 0.75  # of the tickets finished with the first outcome ("received")
LATEST_CLOSE = 17.75  # counters close by then even with citizens still waiting
WATCHER = "watcher"
SYSTEM = "system"


@dataclass(frozen=True)
class SiteSetup:
    """A site as the generator uses it all year."""

    rules: SiteRules
    index: int  # 0: the provincial centre; n: commune n
    base: float  # arrivals on an ordinary Wednesday
    services: tuple[str, ...]
    weights: tuple[float, ...]
    numbering: dict[str, Numbering]
    counters: tuple[tuple[int, str, tuple[str, ...]], ...]  # number, clerk, services
    kiosks: tuple[str, ...]

    @property
    def code(self) -> str:
        return self.rules.site.code

    @property
    def provincial(self) -> bool:
        return self.index == 0


def site_setups(config: Config, province_base: float, commune_base: float, seed: int) -> list[SiteSetup]:
    """Every site of ``config``: its size (``province_base`` for the bench province's 58
    counters, in proportion for fewer; a commune's busyness follows its counters, with a
    commune's own factor), demand per service, counters with their clerks, kiosks."""
    rating_values = frozenset(r.value for r in config.rating)
    mean_counters = sum(len(s.counters) for s in config.sites[1:]) / max(len(config.sites) - 1, 1)
    setups = []
    for index, site in enumerate(config.sites):
        rng = random.Random(f"{seed}:size:{site.code}")
        clerks = {(n, u.username) for u in config.users if u.role == "clerk" and site.code in u.sites
                  for n in u.counters}
        by_counter = dict(sorted(clerks, reverse=True))
        base = (province_base * len(site.counters) / PROVINCE.province_counters if index == 0
                else commune_base * len(site.counters) / mean_counters * rng.uniform(0.7, 1.3))
        codes = tuple(s.code for s in site.services)
        demand = DEMAND if index == 0 else {**DEMAND, **COMMUNE_DEMAND}
        setups.append(SiteSetup(
            rules=SiteRules(site=site, queue=config.queue, tz=config.tz, rating_values=rating_values),
            index=index, base=base, services=codes, weights=tuple(demand.get(c, 3) for c in codes),
            numbering={s.code: s.numbering for s in site.services},
            counters=tuple((c.number, by_counter.get(c.number, f"{site.code}.q{c.number}"), tuple(c.services))
                           for c in site.counters),
            kiosks=tuple(k.id for k in site.kiosks) or (f"{site.code}-kiosk",)))
    return setups


@dataclass
class DayResult:
    """What a site-day wrote: its events in time order, its state at the end of the day (the
    site, sequence and counter rows), and phone ratings that come on later days."""

    state: SiteState
    events: list[ev.Event]
    tickets: int
    late: list[ev.TicketRated] = field(default_factory=list)


@dataclass
class _Counter:
    number: int
    clerk: str
    services: tuple[str, ...]
    state: CounterState
    busy: bool = False
    streak: int = 0
    pausing: bool = False
    closing: bool = False
    held: list[str] = field(default_factory=list)  # its held tickets, in the order held


class _Day:
    """The simulation of one site-day; times are minutes after local midnight."""

    def __init__(self, setup: SiteSetup, day: date, rng: random.Random, last_day: bool) -> None:
        self.setup, self.day, self.rng, self.last_day = setup, day, rng, last_day
        self.midnight = datetime.combine(day, time(0), tzinfo=setup.rules.tz).astimezone(UTC)
        self.heap: list[tuple[float, int, str, object]] = []
        self.seq = itertools.count()
        self.events: list[ev.Event] = []
        self.late: list[ev.TicketRated] = []
        self.tickets: dict[str, Ticket] = {}
        self.gone: set[str] = set()  # gave up waiting, not cancelled: absent when called
        self.was_held: set[str] = set()
        self.front: dict[str, deque[str]] = {s: deque() for s in setup.services}
        self.normal: dict[str, deque[str]] = {s: deque() for s in setup.services}
        self.priority: dict[str, deque[str]] = {s: deque() for s in setup.services}
        self.returned: dict[str, deque[str]] = {s: deque() for s in setup.services}
        self.sequences: dict[str, int] = {}
        self.next_order, self.front_order, self.dossiers = 1, 0, 0
        self.counters = {n: _Counter(n, clerk, services, CounterState(number=n))
                         for n, clerk, services in setup.counters}
        # Per service, the counters that serve it: those whose own service it is first.
        self.serving = {s: sorted((c for c in self.counters.values() if s in c.services),
                                  key=functools.partial(_preference, s)) for s in setup.services}
        self.window = setup.rules.queue.late_window_minutes
        self.outcomes = [o.code for o in setup.rules.queue.outcomes]
        self.ratings = sorted(setup.rules.rating_values, reverse=True)
        self.pause_reason = (setup.rules.queue.pause_reasons or ["Nghỉ trưa"])[0]

    # -- the clock and the record ------------------------------------------------------------

    def at(self, minutes: float, kind: str, data: object) -> None:
        heapq.heappush(self.heap, (minutes, next(self.seq), kind, data))

    def when(self, minutes: float) -> datetime:
        return self.midnight + timedelta(minutes=minutes)

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        if isinstance(event, ev.TicketEvent):
            self.tickets[event.ticket.id] = event.ticket

    # -- the day -------------------------------------------------------------------------------

    def run(self, slots: int) -> DayResult:
        rng, setup = self.rng, self.setup
        noise = rng.lognormvariate(0, 0.1)
        for slot, mean in enumerate(cal.expected_arrivals(setup.base * noise, self.day, slots)):
            start = cal.slot_start_hours(slot) * 60
            for _ in range(cal.poisson(rng, mean)):
                self.at(start + rng.uniform(0, 30), "arrive", rng.choices(setup.services, setup.weights)[0])
        saturday = slots <= cal.MORNING_SLOTS
        for counter in self._staffed():
            self.at(cal.COUNTERS_OPEN * 60 + rng.uniform(0, 12), "open", counter)
            if not saturday:
                self.at(cal.LUNCH[0] * 60 + rng.uniform(0, 15), "pause", counter)
                self.at(cal.LUNCH[1] * 60 + rng.uniform(0, 10), "resume", counter)
            close = cal.SATURDAY_CLOSE if saturday else cal.COUNTERS_CLOSE
            self.at(close * 60 + rng.uniform(0, 15), "close", counter)
        while self.heap:
            minutes, _, kind, data = heapq.heappop(self.heap)
            getattr(self, "_" + kind)(minutes, data)
        if not self.last_day:
            self._expire()
        state = SiteState(
            rules=setup.rules, day=self.day,
            counters=MappingProxyType({n: c.state for n, c in self.counters.items()}),
            sequences=MappingProxyType(dict(self.sequences)),
            next_order=self.next_order, front_order=self.front_order)
        self.events.sort(key=lambda e: e.at)
        return DayResult(state=state, events=self.events, tickets=len(self.tickets), late=self.late)

    def _staffed(self) -> list[_Counter]:
        share = STAFFED["province" if self.setup.provincial else "commune"]
        staffed = [c for c in self.counters.values() if self.rng.random() < share]
        for service in self.setup.services:
            if not any(service in c.services for c in staffed):
                staffed.append(self.rng.choice(self.serving[service]))
        return staffed

    def _arrive(self, minutes: float, service: str) -> None:
        rng, setup = self.rng, self.setup
        sequence = self.sequences.get(service, 0) + 1
        self.sequences[service] = sequence
        kiosk = rng.choice(setup.kiosks)
        priority = None
        if setup.rules.queue.priority_classes and rng.random() < PRIORITY_SHARE:
            priority = setup.rules.queue.priority_classes[0].code
        ticket = Ticket(
            id=f"{setup.code}:{self.day.isoformat()}:{service}:{sequence}", site=setup.code, day=self.day,
            service=service, origin_service=service, sequence=sequence,
            number=setup.numbering[service].format(sequence), priority=priority,
            state=TicketState.WAITING, order=self.next_order,
            token=_token(rng), idempotency_key=f"{rng.getrandbits(64):016x}", issued_by=kiosk,
            issued_at=self.when(minutes))
        self.next_order += 1
        self.emit(ev.TicketIssued(at=ticket.issued_at, actor=kiosk, device=kiosk, ticket=ticket))
        (self.priority if priority else self.normal)[service].append(ticket.id)
        patience = 8 + rng.expovariate(1 / PATIENCE_MINUTES)
        self.at(minutes + patience, "leave", ticket.id)
        self._wake(minutes, service)

    def _wake(self, minutes: float, service: str) -> None:
        """An idle open counter that serves ``service`` calls (its own service's first)."""
        for counter in self.serving[service]:
            if not counter.busy and counter.state.status is CounterStatus.OPEN:
                counter.busy = True
                self.at(minutes + self.rng.uniform(0.1, 0.6), "call", counter)
                return

    # -- counters ----------------------------------------------------------------------------

    def _counter_change(self, minutes: float, counter: _Counter,
                        change: Literal["opened", "paused", "resumed", "closed"]) -> None:
        now = self.when(minutes)
        if change == "opened":
            state = replace(counter.state, status=CounterStatus.OPEN, clerk=counter.clerk, pause_reason=None,
                            since=now)
        elif change == "paused":
            state = replace(counter.state, status=CounterStatus.PAUSED, pause_reason=self.pause_reason,
                            since=now)
        elif change == "resumed":
            state = replace(counter.state, status=CounterStatus.OPEN, pause_reason=None, since=now)
        else:
            state = replace(counter.state, status=CounterStatus.CLOSED, clerk=None, pause_reason=None,
                            since=now)
        counter.state = state = replace(state, normal_streak=counter.streak)
        self.emit(ev.CounterChanged(at=now, actor=counter.clerk, counter=state, change=change))

    def _open(self, minutes: float, counter: _Counter) -> None:
        self._counter_change(minutes, counter, "opened")
        self._call(minutes, counter)

    def _pause(self, minutes: float, counter: _Counter) -> None:
        if counter.busy:
            counter.pausing = True
        elif counter.state.status is CounterStatus.OPEN:
            self._counter_change(minutes, counter, "paused")

    def _resume(self, minutes: float, counter: _Counter) -> None:
        counter.pausing = False
        if counter.state.status is CounterStatus.PAUSED:
            self._counter_change(minutes, counter, "resumed")
            self._call(minutes, counter)

    def _close(self, minutes: float, counter: _Counter) -> None:
        counter.closing = True
        if not counter.busy and counter.state.status is not CounterStatus.CLOSED:
            self._counter_change(minutes, counter, "closed")

    def _free(self, minutes: float, counter: _Counter) -> None:
        """The counter's citizen has gone: pause, close, or call the next one."""
        counter.busy = False
        if counter.pausing:
            counter.pausing = False
            self._counter_change(minutes, counter, "paused")
        elif counter.closing and (minutes >= LATEST_CLOSE * 60 or not self._waiting(counter)):
            self._counter_change(minutes, counter, "closed")
        else:
            self._call(minutes, counter)

    def _waiting(self, counter: _Counter) -> bool:
        return any(self.front[s] or self.normal[s] or self.priority[s] for s in counter.services)

    # -- calling -----------------------------------------------------------------------------

    def _pick(self, minutes: float, counter: _Counter) -> tuple[str, ev.CallReason] | None:
        for service in counter.services:
            back = self.returned[service]
            while back:
                ticket = self.tickets[back.popleft()]
                if ticket.state is TicketState.ABSENT and ticket.absent_at is not None and (
                        self.when(minutes) - ticket.absent_at <= timedelta(minutes=self.window)):
                    return ticket.id, "number"
        if counter.held:
            return counter.held.pop(0), "resume"
        every = self.setup.rules.queue.normal_per_priority
        for service in counter.services:
            for line in (self.front[service], self.priority[service], self.normal[service]):
                while line and self.tickets[line[0]].state is not TicketState.WAITING:
                    line.popleft()  # cancelled while waiting
            if self.front[service]:
                return self.front[service].popleft(), "next"
            priority, normal = self.priority[service], self.normal[service]
            if priority and (counter.streak >= every or not normal):
                counter.streak = 0
                return priority.popleft(), "next"
            if normal:
                counter.streak += 1
                return normal.popleft(), "next"
        return None

    def _call(self, minutes: float, counter: _Counter) -> None:
        if counter.state.status is not CounterStatus.OPEN:
            counter.busy = False
            return
        picked = self._pick(minutes, counter)
        if picked is None:
            counter.busy = False
            if counter.closing:
                self._counter_change(minutes, counter, "closed")
            return
        counter.busy = True
        ticket_id, reason = picked
        ticket = self.tickets[ticket_id]
        now = self.when(minutes)
        called = _evolve(ticket, state=TicketState.CALLED, counter=counter.number, target_counter=None,
                         clerk=counter.state.clerk, called_at=now,
                         first_called_at=ticket.first_called_at or now, absent_at=None, held_at=None)
        self.emit(ev.TicketCalled(at=now, actor=counter.clerk, ticket=called, reason=reason))
        rng = self.rng
        if reason == "next" and (ticket_id in self.gone or rng.random() < INATTENTIVE):
            self.at(minutes + rng.uniform(0.8, 1.5), "recall", (counter, ticket_id))
            self.at(minutes + rng.uniform(2.0, 3.5), "absent", (counter, ticket_id))
            return
        walk = rng.uniform(0.2, 0.5) if reason == "resume" else rng.uniform(0.3, 1.5)
        if reason == "next" and rng.random() < RECALLED:
            self.at(minutes + rng.uniform(0.8, 1.5), "recall", (counter, ticket_id))
            walk += 1.5
        self.at(minutes + walk, "start", (counter, ticket_id))

    def _recall(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        ticket = self.tickets[ticket_id]
        now = self.when(minutes)
        recalled = _evolve(ticket, recalls=ticket.recalls + 1, called_at=now)
        self.emit(ev.TicketCalled(at=now, actor=counter.clerk, ticket=recalled, reason="recall"))

    def _absent(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        now = self.when(minutes)
        ticket = _evolve(self.tickets[ticket_id], state=TicketState.ABSENT, absent_at=now)
        self.emit(ev.TicketAbsent(at=now, actor=counter.clerk, ticket=ticket))
        if ticket_id not in self.gone and self.rng.random() < RETURNS:
            self.at(minutes + self.rng.uniform(2, max(self.window - 1, 2)), "back", ticket_id)
        self.at(minutes + self.rng.uniform(0.2, 0.8), "free", counter)

    def _back(self, minutes: float, ticket_id: str) -> None:
        """An absent citizen is back and asks to be called by number."""
        ticket = self.tickets[ticket_id]
        self.returned[ticket.service].append(ticket_id)
        self._wake(minutes, ticket.service)

    def _leave(self, minutes: float, ticket_id: str) -> None:
        """A citizen's patience runs out while waiting: a clerk cancels, or they just go."""
        ticket = self.tickets[ticket_id]
        if ticket.state is not TicketState.WAITING:
            return
        serving = [c for c in self.serving[ticket.service] if c.state.clerk is not None]
        if serving and self.rng.random() < CANCELLED_SHARE:
            clerk = self.rng.choice(serving).clerk
            now = self.when(minutes)
            cancelled = _evolve(ticket, state=TicketState.CANCELLED, finished_at=now)
            self.emit(ev.TicketCancelled(at=now, actor=clerk, ticket=cancelled))
        else:
            self.gone.add(ticket_id)

    # -- serving -----------------------------------------------------------------------------

    def _start(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        rng = self.rng
        now = self.when(minutes)
        ticket = _evolve(self.tickets[ticket_id], state=TicketState.SERVING, started_at=now)
        self.emit(ev.ServiceStarted(at=now, actor=counter.clerk, ticket=ticket))
        mean = SERVICE_MINUTES.get(ticket.service, 10)
        sigma = 0.55
        service_minutes = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
        roll = rng.random()
        if roll < TRANSFERRED and ticket.transfers == 0 and len(self.setup.services) > 1:
            self.at(minutes + service_minutes * 0.5, "transfer", data)
        elif roll < TRANSFERRED + HELD and ticket_id not in self.was_held:
            self.was_held.add(ticket_id)
            self.at(minutes + service_minutes * 0.4, "hold", data)
        else:
            self.at(minutes + service_minutes, "finish", data)

    def _finish(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        rng = self.rng
        ticket = self.tickets[ticket_id]
        outcome = self.outcomes[0]
        if len(self.outcomes) > 1 and rng.random() >= 0.7:
            outcome = rng.choice(self.outcomes)
        dossier = None
        if outcome == self.outcomes[0] and rng.random() < DOSSIER_SHARE:
            self.dossiers += 1
            dossier = f"H99.{self.setup.index:03d}-{self.day:%y%m%d}-{self.dossiers:04d}"
        now = self.when(minutes)
        done = _evolve(ticket, state=TicketState.DONE, finished_at=now,
                       started_at=ticket.started_at or ticket.called_at, outcome=outcome,
                       dossier_code=dossier, clerk=counter.state.clerk)
        self.emit(ev.TicketFinished(at=now, actor=counter.clerk, ticket=done))
        if rng.random() < RATED and self.ratings:
            self._rate(minutes, counter, done)
        self.at(minutes + rng.uniform(0.1, 0.6), "free", counter)

    def _rate(self, minutes: float, counter: _Counter, done: Ticket) -> None:
        rng, best = self.rng, self.ratings
        assert done.first_called_at is not None
        waited = (done.first_called_at - done.issued_at).total_seconds() / 60
        shares = (0.75, 0.2, 0.05) if waited < 15 else (0.6, 0.3, 0.1) if waited < 45 else (0.4, 0.35, 0.25)
        levels = [best[0], best[len(best) // 2], best[-1]]
        rated = _evolve(done, rating=rng.choices(levels, shares)[0])
        if rng.random() >= PHONE_RATINGS:
            at = self.when(minutes + rng.uniform(0.1, 0.6))
            self.emit(ev.TicketRated(at=at, actor=counter.clerk, ticket=rated))
        elif rng.random() < LATE_PHONE:
            later = self.day + timedelta(days=rng.randint(1, 7))
            hour = rng.uniform(7, 22)
            at = datetime.combine(later, time(0), tzinfo=self.setup.rules.tz).astimezone(UTC)
            self.late.append(ev.TicketRated(at=at + timedelta(hours=hour), actor=WATCHER, ticket=rated))
        else:
            at = self.when(minutes + rng.uniform(1, 120))
            self.emit(ev.TicketRated(at=at, actor=WATCHER, ticket=rated))

    def _transfer(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        ticket = self.tickets[ticket_id]
        service = self.rng.choice([s for s in self.setup.services if s != ticket.service])
        if self.setup.rules.queue.transfer_position == "front":
            order = FRONT_ORDER_BASE + self.front_order
            self.front_order += 1
            line = self.front[service]
        else:
            order, self.next_order = self.next_order, self.next_order + 1
            line = self.normal[service]
        moved = _evolve(ticket, state=TicketState.WAITING, service=service, target_counter=None, counter=None,
                        order=order, transfers=ticket.transfers + 1, called_at=None, started_at=None)
        self.emit(ev.TicketTransferred(at=self.when(minutes), actor=counter.clerk, ticket=moved,
                                       from_service=ticket.service, from_counter=counter.number))
        line.append(ticket_id)
        self.at(minutes + self.rng.uniform(0.1, 0.6), "free", counter)
        self._wake(minutes + 0.2, service)

    def _hold(self, minutes: float, data: tuple[_Counter, str]) -> None:
        counter, ticket_id = data
        now = self.when(minutes)
        held = _evolve(self.tickets[ticket_id], state=TicketState.HELD, held_at=now)
        self.emit(ev.TicketHeld(at=now, actor=counter.clerk, ticket=held))
        self.at(minutes + self.rng.uniform(10, 40), "ready", (counter, ticket_id))
        self.at(minutes + self.rng.uniform(0.1, 0.6), "free", counter)

    def _ready(self, minutes: float, data: tuple[_Counter, str]) -> None:
        """A held citizen has completed the papers; their counter resumes them when free."""
        counter, ticket_id = data
        counter.held.append(ticket_id)
        if not counter.busy and counter.state.status is CounterStatus.OPEN:
            counter.busy = True
            self.at(minutes + self.rng.uniform(0.1, 0.6), "call", counter)

    def _expire(self) -> None:
        """The roll-over at the next midnight: what is unfinished expires."""
        now = self.midnight + timedelta(days=1, seconds=self.rng.uniform(0.5, 3))
        for ticket in list(self.tickets.values()):
            if not ticket.state.is_final:
                expired = _evolve(ticket, state=TicketState.EXPIRED, finished_at=now)
                self.emit(ev.TicketExpired(at=now, actor=SYSTEM, ticket=expired))


def _preference(service: str, counter: _Counter) -> tuple[int, int]:
    return counter.services.index(service), counter.number


_TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
_ticket_values = operator.attrgetter(*_TICKET_FIELDS)
_new, _set = object.__new__, object.__setattr__


def _evolve(ticket: Ticket, **changes: object) -> Ticket:
    """``dataclasses.replace`` for tickets at half the cost (the frozen dataclass's
    ``__init__`` sets 29 fields through ``object.__setattr__`` one call at a time, and
    ``replace`` builds keyword arguments first): the generator makes ~9 M of them."""
    new = _new(Ticket)
    for name, value in zip(_TICKET_FIELDS, _ticket_values(ticket), strict=True):
        _set(new, name, value)
    for name, value in changes.items():
        _set(new, name, value)
    return new


def _token(rng: random.Random) -> str:
    """A ticket token shaped like ``secrets.token_urlsafe(18)`` (24 characters)."""
    return base64.urlsafe_b64encode(rng.getrandbits(144).to_bytes(18, "big")).decode()


def simulate_day(setup: SiteSetup, day: date, *, seed: int, last_day: bool) -> DayResult | None:
    """The site's day, or None when it is closed."""
    slots = cal.open_slots(day, provincial=setup.provincial, commune_index=setup.index)
    if not slots:
        return None
    rng = random.Random(f"{seed}:{setup.code}:{day.isoformat()}")
    return _Day(setup, day, rng, last_day).run(slots)
