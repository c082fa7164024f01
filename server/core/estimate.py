"""Estimated waiting time: a short simulation of the site's queue from its current state.

The method (docs/estimate.md has the reasoning and the measured error):

1. **Handling time** per service: how long a counter stays busy with one of its tickets,
   from the call to the release (finished, or marked absent). The mean of the service's
   last ``SAMPLE`` released tickets today, shrunk towards a prior with weight
   ``PRIOR_WEIGHT``: the site's mean over all services today, or ``DEFAULT_SERVICE_MINUTES``
   before anything has been served.
2. **The counters**: an idle open counter is free now; a busy one once its ticket's
   handling time has passed since the call (at least ``MIN_BUSY_LEFT`` of it from now); a
   paused one ``PAUSE_MINUTES`` after its pause began (at least ``MIN_PAUSE_LEFT`` from now).
   Closed counters call nobody, except that when no counter serving a service is open or
   paused, its configured counters are assumed to open now (the first minutes of the day).
3. **Who else will come**: each service keeps receiving tickets at its rate of the last
   ``RATE_WINDOW`` minutes until its issuing span ends. They matter where a counter prefers
   another service: a citizen of its second service waits while newcomers of the first are
   called before them.
4. **Simulation**: the counter that is free first calls the ticket the real rules would
   give it (``selection.pick_next``: service preference, priority interleave, queue order)
   and stays busy for that service's handling time; repeat until every waiting ticket has
   been called. A ticket's estimate is the simulated time of its call. After ``MAX_CALLS``
   simulated calls the rest are placed at the pace their service was being called.
5. A **new ticket** (the kiosk's figure) is simulated as one more ticket at the back, among
   only the counters and services linked to its service (``component``).

"Now" is the state's own latest moment (its last recorded change), so the function stays
pure: memoised by the state's identity (states are immutable), the many views computed from
one state (every service, every watcher) share one run.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from common.config import WEEKDAYS, Counter, QueueRules, Site, parse_hours
from server.core.model import CounterStatus, SiteState, Ticket, TicketState
from server.core.selection import call_order, pick_next

SAMPLE = 20
DEFAULT_SERVICE_MINUTES = 6.0
PRIOR_WEIGHT = 2.0
MIN_HANDLING_MINUTES = 0.5
MIN_BUSY_LEFT = 0.5
PAUSE_MINUTES = 15.0
MIN_PAUSE_LEFT = 2.0
RATE_WINDOW = 30.0
MIN_RATE_WINDOW = 10.0
HORIZON_MINUTES = 240.0
MAX_CALLS = 150
_CACHE_SIZE = 256  # predictions kept: the server asks about every site's latest state
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


# -- inputs ------------------------------------------------------------------------------


def handling_minutes(tickets: Iterable[Ticket]) -> dict[str, float]:
    """Per service: expected minutes a counter is busy with one ticket; ``""``: the prior."""
    released: dict[str, list[tuple[datetime, float]]] = {}
    for t in tickets:
        if t.called_at is None:
            continue
        if t.state is TicketState.DONE and t.finished_at is not None:
            end = t.finished_at
        elif t.state is TicketState.ABSENT and t.absent_at is not None:
            end = t.absent_at
        else:
            continue
        minutes = _minutes(end, t.called_at)
        if minutes >= 0:
            released.setdefault(t.service, []).append((end, minutes))
    everything = sorted((x for samples in released.values() for x in samples), key=lambda x: x[0])
    recent_all = [m for _, m in everything[-SAMPLE:]]
    prior = sum(recent_all) / len(recent_all) if recent_all else DEFAULT_SERVICE_MINUTES
    result: dict[str, float] = {"": max(prior, MIN_HANDLING_MINUTES)}
    for service, samples in released.items():
        recent = [m for _, m in sorted(samples, key=lambda x: x[0])[-SAMPLE:]]
        shrunk = (sum(recent) + PRIOR_WEIGHT * prior) / (len(recent) + PRIOR_WEIGHT)
        result[service] = max(shrunk, MIN_HANDLING_MINUTES)
    return result


def mean_service_minutes(tickets: Iterable[Ticket], service: str) -> float:
    """The handling time of ``service`` (the name the first version used)."""
    handling = handling_minutes(tickets)
    return handling.get(service, handling[""])


def open_counters_for(state: SiteState, service: str) -> int:
    return sum(
        1 for c in state.rules.site.counters
        if service in c.services and state.counters[c.number].status is CounterStatus.OPEN
    )


def state_time(state: SiteState) -> datetime | None:
    """The latest moment recorded in the state: "now" as far as the state knows."""
    stamps = [
        value for t in state.tickets.values()
        for value in (t.issued_at, t.called_at, t.started_at, t.finished_at, t.absent_at, t.held_at)
        if value is not None
    ]
    stamps += [c.since for c in state.counters.values() if c.since is not None]
    return max(stamps, default=None)


def arrival_rates(state: SiteState, now: datetime) -> dict[str, tuple[float, float]]:
    """Service → (tickets a minute lately, minutes until its issuing span ends)."""
    site = state.rules.site
    local = now.astimezone(state.rules.tz)
    if local.date() in site.holidays:
        return {}
    windows: dict[str, tuple[datetime, float, float]] = {}  # service → (since, window, left)
    for service in site.services:
        spans = parse_hours(site.hours_for(service).get(WEEKDAYS[local.weekday()], []))
        span = next(((s, e) for s, e in spans if s <= local.time() < e), None)
        if span is None:
            continue
        opened = local.replace(hour=span[0].hour, minute=span[0].minute, second=0, microsecond=0)
        closes = local.replace(hour=span[1].hour, minute=span[1].minute, second=0, microsecond=0)
        window = min(RATE_WINDOW, max(_minutes(local, opened), MIN_RATE_WINDOW))
        windows[service.code] = (now - timedelta(minutes=window), window, _minutes(closes, local))
    recent: dict[str, int] = {}
    for t in state.tickets.values():
        since = windows.get(t.origin_service)
        if since is not None and since[0] < t.issued_at <= now:
            recent[t.origin_service] = recent.get(t.origin_service, 0) + 1
    return {code: (n / windows[code][1], windows[code][2]) for code, n in recent.items()}


def component(site: Site, service: str) -> tuple[frozenset[int], frozenset[str]]:
    """The counters and services linked to ``service`` through shared counters: nothing
    outside them changes when a ticket of ``service`` is called."""
    cached = _components.get((id(site), service))
    if cached is None or cached[0] is not site:
        cached = _components[(id(site), service)] = (site, _component(site, service))
    return cached[1]


_components: dict[tuple[int, str], tuple[Site, tuple[frozenset[int], frozenset[str]]]] = {}


def _component(site: Site, service: str) -> tuple[frozenset[int], frozenset[str]]:
    services: frozenset[str] = frozenset({service})
    counters: frozenset[int] = frozenset()
    while True:
        found = frozenset(c.number for c in site.counters if services.intersection(c.services))
        more = services | {s for c in site.counters if c.number in found for s in c.services}
        if found == counters and more == services:
            return counters, services
        counters, services = found, more


def call_positions(waiting: Iterable[Ticket], rules: QueueRules) -> dict[str, list[str]]:
    """Service → ids of its waiting tickets (not sent to a counter) in ``selection.call_order``:
    the ticket with ``waiting_ahead`` n is at index n. ``waiting`` is in queue order."""
    lines: dict[str, tuple[list[str], list[str]]] = {}
    for t in waiting:
        if t.target_counter is None:
            lines.setdefault(t.service, ([], []))[1 if t.priority else 0].append(t.id)
    return {service: call_order(normal, priority, rules) for service, (normal, priority) in lines.items()}


def _phantom(state: SiteState, ident: str, service: str, order: int) -> Ticket:
    return Ticket(
        id=ident, site=state.code, day=state.day, service=service, origin_service=service,
        sequence=0, number="", priority=None, state=TicketState.WAITING, order=order, token="",
        issued_at=_EPOCH,
    )


# -- the simulation -----------------------------------------------------------------------


LineKey = tuple[str, object, bool]  # ("c", counter, priority?) or ("s", service, priority?)


def line_key(ticket: Ticket) -> LineKey:
    if ticket.target_counter is not None:
        return ("c", ticket.target_counter, bool(ticket.priority))
    return ("s", ticket.service, bool(ticket.priority))


@dataclass
class _Prediction:
    """What one state predicts: minutes until each waiting ticket is called."""

    state: SiteState
    now: datetime | None
    handling: dict[str, float]
    newcomers: dict[str, tuple[float, int]]  # service → (minutes between arrivals, how many)
    lines: dict[LineKey, list[Ticket]]  # waiting tickets by line, in queue order
    desks: list[tuple[float, int, int]]  # (free in minutes, counter, normal streak), not closed
    positions: dict[str, list[str]] = field(default_factory=dict)  # ids by "ahead": call_positions()
    calls: dict[str, float] = field(default_factory=dict)
    new_ticket: dict[str, float] = field(default_factory=dict)
    pace: dict[str, float] = field(default_factory=dict)  # extrapolated minutes per call
    truncated_at: float = 0.0  # where the simulation stopped, when it had to

    def handling_of(self, service: str) -> float:
        return self.handling.get(service, self.handling[""])


class _Newcomers:
    """A service's expected arrivals: the k-th at k x interval minutes, made on demand."""

    def __init__(self, state: SiteState, service: str, interval: float, count: int) -> None:
        self.state, self.service, self.interval, self.count = state, service, interval, count
        self.k = 1
        self.head: Ticket | None = None

    def next_time(self) -> float | None:
        return self.k * self.interval if self.k <= self.count else None

    def peek(self, now: float) -> Ticket | None:
        at = self.next_time()
        if at is None or at > now:
            return None
        if self.head is None:  # orders after every real ticket, increasing with time
            order = self.state.next_order + 1 + round(at * 1000)
            self.head = _phantom(self.state, f"\0{self.service}{self.k}", self.service, order)
        return self.head

    def popleft(self) -> None:
        self.k, self.head = self.k + 1, None


class _Lines:
    """The queues being simulated; a counter need only look at their heads: the first
    normal and first priority ticket of each service (or aimed at it), and newcomers."""

    def __init__(self, lines: dict[LineKey, deque[Ticket]], newcomers: dict[str, _Newcomers]) -> None:
        self.lines, self.newcomers = lines, newcomers

    def heads(self, counter: Counter, now: float) -> list[tuple[Ticket, deque[Ticket] | _Newcomers]]:
        found: list[tuple[Ticket, deque[Ticket] | _Newcomers]] = []
        for kind, where in [("c", counter.number), *(("s", s) for s in counter.services)]:
            for priority in (False, True):
                line = self.lines.get((kind, where, priority))
                if line:
                    found.append((line[0], line))
        for service in counter.services:
            newcomers = self.newcomers.get(service)
            if newcomers is not None and (head := newcomers.peek(now)) is not None:
                found.append((head, newcomers))
        return found

    def next_arrival(self, counter: Counter) -> float | None:
        times = [at for s in counter.services
                 if (n := self.newcomers.get(s)) is not None and (at := n.next_time()) is not None]
        return min(times, default=None)


def _simulate(prediction: _Prediction, extra: Ticket | None = None) -> dict[str, float]:
    """Minutes until each waiting ticket is called, or only ``extra`` when it is given."""
    state = prediction.state
    site, rules = state.rules.site, state.rules.queue
    desks, newcomers, source = prediction.desks, prediction.newcomers, prediction.lines
    if extra is not None:
        scope, services = component(site, extra.service)
        source = {k: v for k, v in source.items() if (k[1] in scope if k[0] == "c" else k[1] in services)}
        desks = [d for d in desks if d[1] in scope]
        newcomers = {s: n for s, n in newcomers.items() if s in services}
    queues = {key: deque(tickets) for key, tickets in source.items()}
    if extra is not None:
        queues.setdefault(line_key(extra), deque()).append(extra)
    lines = _Lines(queues, {s: _Newcomers(state, s, *n) for s, n in newcomers.items()})
    desks = _with_assumed_openings(state, desks, {k[1] for k in queues if k[0] == "s"})  # type: ignore[misc]
    remaining = sum(len(q) for q in queues.values())
    calls: dict[str, float] = {}
    called: dict[str, int] = {}
    clock = 0.0
    for _ in range(MAX_CALLS):
        if not desks or not remaining:
            return calls
        clock, number, streak = heapq.heappop(desks)
        config = site.counter(number)
        assert config is not None
        heads = lines.heads(config, clock)
        ticket = pick_next([t for t, _ in heads], config, streak, rules)
        if ticket is None:  # idle until a newcomer it serves arrives, if one will
            later = lines.next_arrival(config)
            if later is not None:
                heapq.heappush(desks, (later, number, streak))
            continue
        line = next(line for t, line in heads if t is ticket)
        line.popleft()
        called[ticket.service] = called.get(ticket.service, 0) + 1
        if isinstance(line, deque):  # a real ticket (or the extra one), not a newcomer
            calls[ticket.id] = clock
            remaining -= 1
            if ticket is extra:
                return calls
        streak = 0 if ticket.priority else streak + 1
        heapq.heappush(desks, (clock + prediction.handling_of(ticket.service), number, streak))
    if remaining and desks:
        pace = _extrapolate(prediction, queues, called, clock, calls)
        if extra is None:
            prediction.pace = pace
    return calls


def _with_assumed_openings(state: SiteState, desks: list[tuple[float, int, int]],
                           services: set[str]) -> list[tuple[float, int, int]]:
    """A heap of the desks, plus the counters of any service nobody is there to serve."""
    desks = list(desks)
    present = {number for _, number, _ in desks}
    for service in sorted(services):
        numbers = state.rules.site.counters_serving(service)
        if numbers and not present.intersection(numbers):
            desks += [(0.0, n, state.counters[n].normal_streak) for n in numbers]
            present.update(numbers)
    heapq.heapify(desks)
    return desks


def _extrapolate(prediction: _Prediction, queues: dict[LineKey, deque[Ticket]], called: dict[str, int],
                 clock: float, calls: dict[str, float]) -> dict[str, float]:
    """Tickets beyond the simulated calls: one every ``clock / calls of its service`` minutes
    in queue order (or, if none was called, at the pace of the service's counters alone).
    Returns that pace for every service linked to one with tickets left."""
    site = prediction.state.rules.site
    left: dict[str, list[Ticket]] = {}
    for (kind, _, _), line in queues.items():
        if kind == "c":  # aimed at one counter: few, and not in ``positions``
            for ticket in line:
                left.setdefault(ticket.service, []).append(ticket)
    congested = set(left)
    for (kind, service, _), line in queues.items():
        if kind == "s" and line:
            congested.add(service)  # type: ignore[arg-type]
    pace: dict[str, float] = {}
    for service in {s for c in congested for s in component(site, c)[1]}:
        if called.get(service) and clock > 0:
            pace[service] = clock / called[service]
        else:
            pace[service] = prediction.handling_of(service) / max(len(site.counters_serving(service)), 1)
    for service in congested:
        unplaced = [i for i in prediction.positions.get(service, ()) if i not in calls]
        unplaced += [t.id for t in sorted(left.get(service, ()), key=lambda t: t.order)]
        for i, ident in enumerate(unplaced, start=1):
            calls[ident] = clock + i * pace[service]
    prediction.truncated_at = clock
    return pace


def _desks(state: SiteState, now: datetime | None,
           handling: dict[str, float]) -> list[tuple[float, int, int]]:
    """(minutes until free, counter, normal streak) of every counter that is not closed."""
    desks: list[tuple[float, int, int]] = []
    for config in state.rules.site.counters:
        live = state.counters[config.number]
        if live.status is CounterStatus.CLOSED:
            continue
        free_at = 0.0
        if live.status is CounterStatus.PAUSED:
            paused_for = _minutes(now, live.since) if now and live.since else 0.0
            free_at = max(PAUSE_MINUTES - paused_for, MIN_PAUSE_LEFT)
        elif live.active_ticket is not None:
            active = state.tickets.get(live.active_ticket)
            busy = handling.get(active.service if active else "", handling[""])
            elapsed = _minutes(now, active.called_at) if now and active and active.called_at else 0.0
            free_at = max(busy - elapsed, MIN_BUSY_LEFT * busy)
        desks.append((free_at, config.number, live.normal_streak))
    return desks


_cache: OrderedDict[int, _Prediction] = OrderedDict()


def _prediction(state: SiteState) -> _Prediction:
    key = id(state)
    cached = _cache.get(key)
    if cached is not None and cached.state is state:
        _cache.move_to_end(key)
        return cached
    now = state_time(state)
    handling = handling_minutes(state.tickets.values())
    newcomers = {}
    for service, (rate, left) in (arrival_rates(state, now) if now else {}).items():
        count = min(math.floor(min(left, HORIZON_MINUTES) * rate), MAX_CALLS)
        if count > 0:
            newcomers[service] = (1 / rate, count)
    waiting = sorted(
        (t for t in state.tickets.values() if t.state is TicketState.WAITING), key=lambda t: t.order)
    lines: dict[LineKey, list[Ticket]] = {}
    for t in waiting:
        lines.setdefault(line_key(t), []).append(t)
    prediction = _Prediction(state, now, handling, newcomers, lines, _desks(state, now, handling))
    prediction.positions = call_positions(waiting, state.rules.queue)
    prediction.calls = _simulate(prediction)
    _cache[key] = prediction
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return prediction


def _new_ticket_minutes(prediction: _Prediction, service: str) -> float:
    if service not in prediction.new_ticket and service in prediction.pace:
        # linked to a queue longer than the simulation: one more at the end, at the pace
        queue = prediction.positions.get(service, ())
        last = max((prediction.calls[i] for i in queue), default=prediction.truncated_at)
        prediction.new_ticket[service] = max(last, prediction.truncated_at) + prediction.pace[service]
    if service not in prediction.new_ticket:
        state = prediction.state
        phantom = _phantom(state, "\0new", service, state.next_order)
        minutes = _simulate(prediction, phantom).get(phantom.id)
        if minutes is None:  # no counter can ever call it (not in a valid configuration)
            minutes = prediction.handling_of(service) * (len(prediction.positions.get(service, [])) + 1)
        prediction.new_ticket[service] = minutes
    return prediction.new_ticket[service]


# -- the answers ------------------------------------------------------------------------------


def predicted_minutes(state: SiteState, ticket: Ticket) -> float:
    """Simulated minutes until a waiting ``ticket`` of ``state`` is called."""
    prediction = _prediction(state)
    if ticket.id in prediction.calls:
        return prediction.calls[ticket.id]
    return _new_ticket_minutes(prediction, ticket.service)


def estimate_wait_minutes(state: SiteState, service: str, ahead: int) -> int:
    """Minutes until the ticket of ``service`` with ``ahead`` people before it is called.

    ``ahead`` as ``selection.waiting_ahead`` counts it (its place in the service's call
    order, priority rule included): a waiting ticket's own count gives that ticket's own
    simulated call, so a priority citizen's minutes match their place; the number of people
    waiting gives a new ticket's. A ticket sent to one counter is not in its service's
    order: its count picks the service's ticket at that place.
    """
    prediction = _prediction(state)
    ids = prediction.positions.get(service, [])
    if 0 <= ahead < len(ids) and ids[ahead] in prediction.calls:
        minutes = prediction.calls[ids[ahead]]
    else:
        minutes = _new_ticket_minutes(prediction, service)
    return max(round(minutes), 0)


def naive_estimate_minutes(state: SiteState, service: str, ahead: int) -> int:
    """The first version's formula (people ahead x mean service time / open counters),
    kept to compare against in tests and docs/estimate.md."""
    done = [  # (finished, started) of each ticket served
        (t.finished_at, t.started_at) for t in state.tickets.values()
        if t.state is TicketState.DONE and t.service == service and t.started_at and t.finished_at
    ]
    done.sort(key=lambda times: times[0])
    recent = done[-SAMPLE:]
    mean = DEFAULT_SERVICE_MINUTES
    if recent:
        total = sum(_minutes(finished, started) for finished, started in recent)
        mean = max(total / len(recent), 0.5)
    if ahead <= 0:
        return 0
    return math.ceil(ahead * mean / max(open_counters_for(state, service), 1))
