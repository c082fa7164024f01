"""How many counters to open each hour so the wait stays under target (pure).

The queue is simulated the way the wait estimate simulates it (server/core/estimate.py):
the counter that is free first calls the ticket the real rules give it
(``selection.pick_next``: its service preference, the priority interleave, queue order) and
stays busy for the ticket's handling time (the call to the release, as in
``estimate.handling_minutes``). Here the whole day is simulated instead of the next hours:

- **Arrivals**: ``draws`` random days drawn from the forecast: in each hour each service's
  tickets are a Poisson number with the forecast as mean, spread uniformly over the part of
  the hour the service issues numbers; each is a priority ticket with the service's share of
  priority tickets in the history. The draws are seeded: the same inputs give the same plan,
  and a larger forecast only adds tickets to the same draws (so more arrivals never make
  the plan smaller but by chance).
- **Handling times**: drawn from the service's own handling times in the history.
- **Counters**: services that share counters form a group (``estimate.component``); each
  group is planned on its own. Hour by hour, from the first, the counters opened carry on
  the tickets still waiting from earlier hours; for each number k of counters (in the order
  ``opening_order`` gives: first one for every service with work, then where the work per
  counter is highest) the hour is simulated, and then, with the same k counters, until
  every ticket of the hour has been called. The plan takes the smallest k for which, in
  every service of the group, 9 in 10 of the hour's tickets (``QUANTILE``) are called within
  the service's ``wait_target_minutes``. The whole day is then simulated once more with the
  plan; an hour whose tickets miss the target there (fewer counters the hour after than its
  check assumed) gets one more counter and the hours from it are planned again. That last
  run's waits (``Plan.waits``) are what the page shows as the expected wait.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from common.config import WEEKDAYS, Counter, QueueRules, Site, parse_hours
from server.core.estimate import DEFAULT_SERVICE_MINUTES, component
from server.core.model import Ticket, TicketState
from server.core.selection import pick_next

QUANTILE = 0.9
MIN_TICKETS_SIMULATED = 4000  # draws enough days to simulate about this many tickets
MIN_DRAWS, MAX_DRAWS = 4, 40
MAX_REPAIRS = 12
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Cell = tuple[str, int]  # (service, local hour)
LineKey = tuple[str, bool]  # (service, priority?)


@dataclass(frozen=True)
class Demand:
    """What the plan is computed from."""

    site: Site
    rules: QueueRules
    day: date
    arrivals: Mapping[Cell, float]  # expected tickets per (service, local hour)
    handling: Mapping[str, Sequence[float]]  # service → handling minutes seen (any order)
    priority_share: Mapping[str, float] = field(default_factory=dict)
    seed: int = 1


@dataclass(frozen=True)
class GroupPlan:
    services: tuple[str, ...]
    counters: tuple[int, ...]  # every counter of the group (configured)
    needed: Mapping[int, int]  # local hour → counters to open
    opened: Mapping[int, tuple[int, ...]]  # local hour → which ones
    short: Mapping[int, tuple[str, ...]]  # hour → services that miss the target even with every counter


@dataclass(frozen=True)
class ServiceWaits:
    tickets: float  # per day, the mean over the draws
    mean: float | None
    p90: float | None
    within_target: float | None  # share called within the service's target


@dataclass(frozen=True)
class Plan:
    day: date
    hours: tuple[int, ...]
    groups: tuple[GroupPlan, ...]
    waits: Mapping[Cell, ServiceWaits]  # (service, hour of issue) with the plan
    draws: int

    def needed(self, hour: int) -> int:
        return sum(g.needed.get(hour, 0) for g in self.groups)

    @property
    def configured(self) -> int:
        return sum(len(g.counters) for g in self.groups)

    def service_waits(self, service: str) -> ServiceWaits:
        return _summary([w for (s, _), w in self.waits.items() if s == service])


# -- arrivals ----------------------------------------------------------------------------------------


@dataclass
class _Arrival:
    ticket: Ticket
    at: float  # minutes since local midnight
    minutes: float  # handling time
    hour: int


def issuing_minutes(site: Site, service: str, day: date) -> list[tuple[float, float]]:
    """The service's issuing spans on ``day`` in minutes since midnight (none on a holiday)."""
    config = site.service(service)
    if config is None or day in site.holidays:
        return []
    spans = parse_hours(site.hours_for(config).get(WEEKDAYS[day.weekday()], []))
    return [(s.hour * 60 + s.minute, e.hour * 60 + e.minute + (1440 if e.hour == 0 == e.minute else 0))
            for s, e in spans]


def _quantile_of(samples: Sequence[float], u: float) -> float:
    if not samples:
        return DEFAULT_SERVICE_MINUTES
    return samples[min(int(u * len(samples)), len(samples) - 1)]


def draw_arrivals(demand: Demand, services: Sequence[str], draw: int) -> dict[int, list[_Arrival]]:
    """One random day of the group's tickets: local hour → arrivals, in time order."""
    handling = {s: sorted(demand.handling.get(s, ())) for s in services}
    everything = sorted(m for values in demand.handling.values() for m in values)
    by_hour: dict[int, list[_Arrival]] = {}
    for service in services:
        spans = issuing_minutes(demand.site, service, demand.day)
        samples = handling[service] or everything
        share = demand.priority_share.get(service, 0.0)
        for (code, hour), expected in demand.arrivals.items():
            if code != service or expected <= 0:
                continue
            windows = [(max(a, hour * 60), min(b, hour * 60 + 60)) for a, b in spans]
            windows = [(a, b) for a, b in windows if b > a]
            if not windows:
                continue
            length = sum(b - a for a, b in windows)
            rng = random.Random(f"{demand.seed}:{draw}:{service}:{hour}")
            clock = rng.expovariate(1.0)
            while clock < expected:  # unit-rate points below the mean: a Poisson count
                offset, u_minutes, u_priority = rng.random() * length, rng.random(), rng.random()
                clock += rng.expovariate(1.0)
                for a, b in windows:
                    if offset < b - a:
                        at = a + offset
                        break
                    offset -= b - a
                ticket = Ticket(
                    id="", site=demand.site.code, day=demand.day, service=service, origin_service=service,
                    sequence=0, number="", priority="p" if u_priority < share else None,
                    state=TicketState.WAITING, order=0, token="", issued_at=_EPOCH)
                by_hour.setdefault(hour, []).append(
                    _Arrival(ticket, at, max(_quantile_of(samples, u_minutes), 0.1), hour))
    order = 0
    for arrivals in by_hour.values():
        arrivals.sort(key=lambda a: (a.at, a.ticket.service))
        for arrival in arrivals:
            order += 1
            arrival.ticket = _numbered(arrival.ticket, f"{draw}:{order}", order)
    return by_hour


def _numbered(ticket: Ticket, ident: str, order: int) -> Ticket:
    return Ticket(
        id=ident, site=ticket.site, day=ticket.day, service=ticket.service,
        origin_service=ticket.origin_service, sequence=order, number="", priority=ticket.priority,
        state=TicketState.WAITING, order=order, token="", issued_at=_EPOCH)


# -- one group's queue ------------------------------------------------------------------------------


@dataclass
class _Queue:
    """One simulated day of one group at some moment: the lines and the counters."""

    lines: dict[LineKey, deque[_Arrival]]
    free_at: dict[int, float]  # counter → when it is free
    streak: dict[int, int]  # counter → normal tickets called in a row

    def copy(self) -> _Queue:
        return _Queue({k: deque(v) for k, v in self.lines.items()}, dict(self.free_at), dict(self.streak))

    def add(self, arrivals: Sequence[_Arrival]) -> None:
        for a in arrivals:
            self.lines.setdefault((a.ticket.service, bool(a.ticket.priority)), deque()).append(a)

    def waiting(self) -> list[_Arrival]:
        return [a for line in self.lines.values() for a in line]


def _run(queue: _Queue, counters: Sequence[Counter], rules: QueueRules, start: float, until: float,
         called: list[tuple[_Arrival, float]]) -> None:
    """Counters ``counters`` call from ``start`` until ``until`` (or until nothing is left to
    call, when ``until`` is infinite); each call appended to ``called`` as (arrival, wait)."""
    heap = [(max(queue.free_at.get(c.number, 0.0), start), c.number, i) for i, c in enumerate(counters)]
    heapq.heapify(heap)
    while heap:
        clock, number, i = heap[0]
        if clock >= until:
            break
        heapq.heappop(heap)
        counter = counters[i]
        heads: list[_Arrival] = []
        upcoming: float | None = None
        for service in counter.services:
            for priority in (False, True):
                line = queue.lines.get((service, priority))
                if line:
                    if line[0].at <= clock:
                        heads.append(line[0])
                    elif upcoming is None or line[0].at < upcoming:
                        upcoming = line[0].at
        chosen = pick_next([a.ticket for a in heads], counter, queue.streak.get(number, 0), rules)
        if chosen is None:
            if upcoming is not None:
                heapq.heappush(heap, (upcoming, number, i))
            else:
                queue.free_at[number] = clock
            continue
        arrival = next(a for a in heads if a.ticket is chosen)
        queue.lines[(chosen.service, bool(chosen.priority))].popleft()
        called.append((arrival, clock - arrival.at))
        queue.streak[number] = 0 if chosen.priority else queue.streak.get(number, 0) + 1
        queue.free_at[number] = clock + arrival.minutes
        heapq.heappush(heap, (queue.free_at[number], number, i))
    for clock, number, _ in heap:
        queue.free_at[number] = max(queue.free_at.get(number, 0.0), clock)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _missing(waits: Mapping[str, list[float]], targets: Mapping[str, int]) -> tuple[str, ...]:
    """The services whose tickets are not called within target often enough."""
    return tuple(s for s, values in waits.items() if values and _percentile(values, QUANTILE) > targets[s])


def opening_order(counters: Sequence[Counter], work: Mapping[str, float]) -> list[Counter]:
    """The counters in the order to open them for ``work`` (service → counter-hours of work
    expected): first a counter for every service with work (the one covering most of them
    uncovered), then, each time, one serving the service with the most work per counter
    already chosen for it; ties go to a counter whose first service it is, then the lowest
    number."""
    needing = {s for s, w in work.items() if w > 0}
    supply = dict.fromkeys(work, 0)
    order: list[Counter] = []
    left = list(counters)
    while left:
        def score(c: Counter) -> tuple[int, float, bool, int]:
            uncovered = sum(1 for s in c.services if s in needing and supply.get(s, 0) == 0)
            pressure = max((work.get(s, 0.0) / (supply.get(s, 0) + 1) for s in c.services), default=0.0)
            first = bool(c.services) and max(c.services, key=lambda s: work.get(s, 0.0)) == c.services[0]
            return (uncovered, pressure, first, -c.number)

        best = max(left, key=score)
        left.remove(best)
        order.append(best)
        target = max(best.services, key=lambda s: (work.get(s, 0.0) / (supply.get(s, 0) + 1), s in needing))
        supply[target] = supply.get(target, 0) + 1
    return order


def _covered(counters: Sequence[Counter], services: set[str]) -> bool:
    return services <= {s for c in counters for s in c.services}


class _GroupPlanner:
    def __init__(self, demand: Demand, services: Sequence[str], counters: Sequence[Counter],
                 draws: int) -> None:
        self.demand, self.services, self.counters = demand, tuple(services), tuple(counters)
        self.rules = demand.rules
        self.targets = {s: (c.wait_target_minutes if (c := demand.site.service(s)) else 30) for s in services}
        self.days = [draw_arrivals(demand, services, r) for r in range(draws)]
        hours = {h for day in self.days for h in day}
        for service in services:
            for a, b in issuing_minutes(demand.site, service, demand.day):
                hours |= set(range(int(a // 60), math.ceil(b / 60)))
        self.hours = tuple(sorted(hours))
        mean = {s: (sum(v) / len(v) if (v := demand.handling.get(s)) else DEFAULT_SERVICE_MINUTES)
                for s in services}
        self.mean_minutes = mean

    def _work(self, hour: int, queues: Sequence[_Queue]) -> dict[str, float]:
        arrivals = self.demand.arrivals
        work = {s: arrivals.get((s, hour), 0.0) * self.mean_minutes[s] / 60 for s in self.services}
        for queue in queues:
            for a in queue.waiting():
                work[a.ticket.service] += a.minutes / 60 / len(queues)
        return work

    def _try(self, hour: int, queues: Sequence[_Queue], opened: Sequence[Counter]
             ) -> tuple[tuple[str, ...], list[_Queue]]:
        """Open ``opened`` for ``hour``: the services whose tickets arriving in it miss the target
        (with the same counters until all are called, the tickets still waiting from earlier
        hours among them), and the queues at the end of the hour."""
        start, end = hour * 60.0, hour * 60.0 + 60
        waits: dict[str, list[float]] = {s: [] for s in self.services}
        after: list[_Queue] = []
        for queue, day in zip(queues, self.days, strict=True):
            queue = queue.copy()
            queue.add(day.get(hour, ()))
            called: list[tuple[_Arrival, float]] = []
            _run(queue, opened, self.rules, start, end, called)
            after.append(queue.copy())
            _run(queue, opened, self.rules, end, math.inf, called)
            for arrival, wait in called:
                if arrival.hour == hour:
                    waits[arrival.ticket.service].append(wait)
            for arrival in queue.waiting():  # nobody open to call them
                if arrival.hour == hour:
                    waits[arrival.ticket.service].append(math.inf)
        return _missing(waits, self.targets), after

    def plan(self) -> GroupPlan:
        floors: dict[int, int] = {}
        needed: dict[int, int] = {}
        opened: dict[int, list[Counter]] = {}
        short: dict[int, tuple[str, ...]] = {}
        starts: dict[int, list[_Queue]] = {}  # the queues at the start of each hour
        first = 0
        for _ in range(MAX_REPAIRS + 1):
            self._search(first, floors, needed, opened, short, starts)
            late = {h: services for h, services in self._late_hours(opened).items()
                    if set(services) - set(short.get(h, ()))}
            repair = self._repair(needed, late)
            if repair is None:
                break
            floors[repair] = needed[repair] + 1
            first = self.hours.index(repair)
        for hour, services in late.items():  # nothing left to open: short, as the check found others
            short[hour] = tuple(sorted(set(short.get(hour, ())) | set(services)))
        chosen = {h: tuple(sorted(c.number for c in opened[h])) for h in self.hours}
        return GroupPlan(self.services, tuple(c.number for c in self.counters), needed, chosen, short)

    def _repair(self, needed: Mapping[int, int], late: Mapping[int, tuple[str, ...]]) -> int | None:
        """The hour to give one more counter: the first hour whose tickets miss the target in
        the day simulated with the plan, or, when all its counters are open already, the
        first hour after it that has one left to open (its tickets waited into it)."""
        for missed in sorted(late):
            for hour in self.hours[self.hours.index(missed):]:
                if needed[hour] < len(self.counters):
                    return hour
        return None

    def _search(self, first: int, floors: Mapping[int, int], needed: dict[int, int],
                opened: dict[int, list[Counter]], short: dict[int, tuple[str, ...]],
                starts: dict[int, list[_Queue]]) -> None:
        """Plan the hours from ``self.hours[first]`` on, each the smallest number that passes."""
        queues = starts.get(self.hours[first], [_Queue({}, {}, {}) for _ in self.days]) if self.hours else []
        for hour in self.hours[first:]:
            starts[hour] = queues
            short.pop(hour, None)
            order = opening_order(self.counters, self._work(hour, queues))
            present = {a.ticket.service for q in queues for a in q.waiting()}
            present |= {a.ticket.service for day in self.days for a in day.get(hour, ())}
            low = next((k for k in range(len(order) + 1) if _covered(order[:k], present)), len(order))
            low = max(low, floors.get(hour, 0))
            high = len(order)
            results: dict[int, tuple[tuple[str, ...], list[_Queue]]] = {}
            while low < high:
                middle = (low + high) // 2
                results[middle] = self._try(hour, queues, order[:middle])
                if results[middle][0]:
                    low = middle + 1
                else:
                    high = middle
            if low not in results:
                results[low] = self._try(hour, queues, order[:low])
            if results[low][0]:
                short[hour] = results[low][0]
            needed[hour], opened[hour], queues = low, order[:low], results[low][1]

    def simulate(self, opened: Mapping[int, Sequence[Counter]]
                 ) -> list[list[tuple[_Arrival, float]]]:
        """The day with the plan, per draw: every ticket with its wait (inf: never called)."""
        out = []
        for day in self.days:
            queue = _Queue({}, {}, {})
            called: list[tuple[_Arrival, float]] = []
            for hour in self.hours:
                queue.add(day.get(hour, ()))
                _run(queue, opened[hour], self.rules, hour * 60.0, hour * 60.0 + 60, called)
            if self.hours:
                last = self.hours[-1]
                _run(queue, opened[last], self.rules, last * 60.0 + 60, math.inf, called)
            called += [(a, math.inf) for a in queue.waiting()]
            out.append(called)
        return out

    def _late_hours(self, opened: Mapping[int, Sequence[Counter]]) -> dict[int, tuple[str, ...]]:
        """The hours whose tickets miss the target in the day simulated with the plan."""
        by_hour: dict[int, dict[str, list[float]]] = {}
        for called in self.simulate(opened):
            for arrival, wait in called:
                by_hour.setdefault(arrival.hour, {}).setdefault(arrival.ticket.service, []).append(wait)
        missed = {h: _missing(waits, self.targets) for h, waits in sorted(by_hour.items())}
        return {h: services for h, services in missed.items() if services}


def draws_for(demand: Demand) -> int:
    expected = sum(demand.arrivals.values())
    if expected <= 0:
        return MIN_DRAWS
    return max(MIN_DRAWS, min(MAX_DRAWS, math.ceil(MIN_TICKETS_SIMULATED / expected)))


def groups(site: Site) -> list[tuple[tuple[str, ...], tuple[Counter, ...]]]:
    """The site's service groups (services linked by shared counters) with their counters."""
    seen: set[str] = set()
    found = []
    for service in site.services:
        if service.code in seen:
            continue
        numbers, codes = component(site, service.code)
        seen |= codes
        ordered = tuple(s.code for s in site.services if s.code in codes)
        found.append((ordered, tuple(c for c in site.counters if c.number in numbers)))
    return found


def plan(demand: Demand, *, draws: int | None = None) -> Plan:
    """The counters to open per hour, group by group, and the waits they give."""
    draws = draws if draws is not None else draws_for(demand)
    plans: list[GroupPlan] = []
    waits: dict[Cell, list[tuple[float, float]]] = {}  # (wait, target) per ticket
    hours: set[int] = set()
    for services, counters in groups(demand.site):
        if not counters:
            continue
        planner = _GroupPlanner(demand, services, counters, draws)
        group = planner.plan()
        plans.append(group)
        hours |= set(planner.hours)
        opened = {h: [c for c in counters if c.number in group.opened[h]] for h in planner.hours}
        for called in planner.simulate(opened):
            for arrival, wait in called:
                service = arrival.ticket.service
                waits.setdefault((service, arrival.hour), []).append((wait, planner.targets[service]))
    summary = {cell: _waits(values, draws) for cell, values in sorted(waits.items())}
    return Plan(demand.day, tuple(sorted(hours)), tuple(plans), summary, draws)


def _waits(values: list[tuple[float, float]], draws: int) -> ServiceWaits:
    finite = [w for w, _ in values if math.isfinite(w)]
    within = sum(1 for w, target in values if w <= target)
    return ServiceWaits(
        tickets=len(values) / draws,
        mean=sum(finite) / len(finite) if finite and len(finite) == len(values) else None,
        p90=_percentile([w for w, _ in values], QUANTILE) if values else None,
        within_target=within / len(values) if values else None,
    )


def _summary(parts: list[ServiceWaits]) -> ServiceWaits:
    """Several cells' waits together (weighted by their tickets; p90: the largest)."""
    tickets = sum(p.tickets for p in parts)
    if not tickets:
        return ServiceWaits(0.0, None, None, None)
    means = [p for p in parts if p.tickets]
    mean = (sum(p.mean * p.tickets for p in means if p.mean is not None) / tickets
            if all(p.mean is not None for p in means) else None)
    p90s = [p.p90 for p in means if p.p90 is not None]
    within = sum((p.within_target or 0.0) * p.tickets for p in means) / tickets
    return ServiceWaits(tickets, mean, max(p90s) if p90s else None, within)
