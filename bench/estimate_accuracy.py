"""A simulated morning at a commune centre, to measure how good the wait estimate is.

Seeded random arrivals (busiest at opening) and service times drive the real pure rules
(``server.core.rules.handle``) with explicit times. At every ticket issued the estimate the
kiosk would print is recorded; every five minutes the estimate each waiting citizen's phone
would show is recorded too. After the day, each is compared with the wait that actually
followed. ``tests/test_estimate.py`` and docs/estimate.md use it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from common.config import Counter, Numbering, Outcome, QueueRules, Service, Site
from common.errors import Rejected
from server.core import commands as c
from server.core.estimate import estimate_wait_minutes, naive_estimate_minutes
from server.core.model import SiteRules, SiteState, TicketState, new_site_state
from server.core.rules import handle
from server.core.selection import waiting_ahead

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 25)  # a Wednesday
Estimator = Callable[[SiteState, str, int], int]

ESTIMATORS: dict[str, Estimator] = {
    "simulation": estimate_wait_minutes,
    "people_x_mean": naive_estimate_minutes,
    "always_zero": lambda state, service, ahead: 0,
}

# (code, share of arrivals, mean service minutes)
SERVICES = (("HT", 0.55, 4.5), ("DD", 0.25, 9.0), ("XH", 0.20, 6.5))
# Arrivals per minute over the morning: a crowd at opening, then calmer.
ARRIVAL_RATES = ((7.5, 8.5, 0.55), (8.5, 10.0, 0.38), (10.0, 11.0, 0.25))


def simulated_site() -> Site:
    def service(code: str, start: int) -> Service:
        return Service(code=code, name_vi=code, name_en=code, agency="", wait_target_minutes=30,
                       numbering=Numbering(style="block", start=start, end=start + 998))

    return Site(
        code="sim", name="Mô phỏng", hours={"wed": ["07:30-11:00"]},
        services=[service("HT", 1001), service("DD", 2001), service("XH", 3001)],
        counters=[
            Counter(number=1, name="1", services=["HT"]),
            Counter(number=2, name="2", services=["DD", "HT"]),
            Counter(number=3, name="3", services=["XH", "HT"]),
        ],
    )


def simulated_rules() -> SiteRules:
    queue = QueueRules(outcomes=[Outcome(code="received", name_vi="Tiếp nhận", name_en="Received")])
    return SiteRules(site=simulated_site(), queue=queue, tz=TZ, rating_values=frozenset())


@dataclass
class Sample:
    estimator: str
    kind: str  # "issue": the kiosk's figure; "waiting": a phone's figure later on
    estimate: int
    ticket_id: str
    at: datetime


@dataclass
class DayResult:
    seed: int
    tickets: int
    samples: list[Sample] = field(default_factory=list)
    actual_call: dict[str, datetime] = field(default_factory=dict)

    def errors(self, estimator: str, kind: str) -> list[float]:
        out = []
        for s in self.samples:
            called = self.actual_call.get(s.ticket_id)
            if s.estimator == estimator and s.kind == kind and called is not None:
                out.append(abs(s.estimate - (called - s.at).total_seconds() / 60))
        return out

    def mean_absolute_error(self, estimator: str, kind: str = "issue") -> float:
        errors = self.errors(estimator, kind)
        return sum(errors) / len(errors) if errors else math.nan

    def mean_actual_wait(self) -> float:
        waits = [
            (self.actual_call[s.ticket_id] - s.at).total_seconds() / 60
            for s in self.samples
            if s.estimator == "always_zero" and s.kind == "issue" and s.ticket_id in self.actual_call
        ]
        return sum(waits) / len(waits)


def _pick_service(roll: float) -> str:
    acc = 0.0
    for code, share, _ in SERVICES:
        acc += share
        if roll <= acc:
            return code
    return SERVICES[-1][0]


def _local(hours: float) -> datetime:
    whole = int(hours)
    return datetime(DAY.year, DAY.month, DAY.day, whole, 0, tzinfo=TZ) + timedelta(
        minutes=(hours - whole) * 60)


def _clerk(counter: int) -> str:
    """The simulated clerk at ``counter``, who alone may act there."""
    return f"clerk{counter}"


def simulate_day(seed: int, *, pause: bool = True) -> DayResult:
    """One morning: open at 07:30, issue until 11:00, serve until the queue is empty."""
    rng = random.Random(seed)
    state = new_site_state(simulated_rules(), DAY)
    events: list[tuple[datetime, int, str, dict]] = []
    order = itertools.count()

    def at(when: datetime, action: str, **data) -> None:
        heapq.heappush(events, (when, next(order), action, data))

    # Arrivals: a Poisson process with the piecewise rates above.
    for start, end, rate in ARRIVAL_RATES:
        t = start * 60.0
        while True:
            t += rng.expovariate(rate)
            if t >= end * 60:
                break
            at(_local(t / 60), "arrive", service=_pick_service(rng.random()))
    for counter in (1, 2, 3):
        at(_local(7.5) - timedelta(minutes=5), "open", counter=counter)
    if pause:  # counter 3 takes a 15-minute break mid-morning
        at(_local(9.5), "pause", counter=3)
    result = DayResult(seed=seed, tickets=0)
    means = {code: mean for code, _, mean in SERVICES}
    idle: set[int] = set()
    pausing: set[int] = set()

    def apply(command: c.Command, now: datetime) -> bool:
        nonlocal state
        try:
            state, _ = handle(state, command, now)
        except Rejected:
            return False
        return True

    def call(counter: int, now: datetime) -> None:
        if counter in pausing:
            pausing.discard(counter)
            apply(c.PauseCounter(actor=_clerk(counter), counter=counter, reason="Nghỉ giải lao"), now)
            at(now + timedelta(minutes=15), "resume", counter=counter)
            return
        if not apply(c.CallNext(actor=_clerk(counter), counter=counter), now):
            idle.add(counter)
            return
        if rng.random() < 0.05:  # nobody comes: marked absent after a while
            at(now + timedelta(minutes=rng.uniform(1.0, 2.0)), "absent", counter=counter)
        else:
            at(now + timedelta(minutes=rng.uniform(0.3, 1.2)), "start", counter=counter)

    next_sample = _local(7.5)
    while events:
        now, _, action, data = heapq.heappop(events)
        while next_sample <= now:  # what the phones show, every five minutes
            for ticket in state.tickets.values():
                if ticket.state is TicketState.WAITING:
                    ahead = waiting_ahead(state.tickets.values(), ticket, state.rules.queue)
                    for name, estimator in ESTIMATORS.items():
                        result.samples.append(Sample(
                            name, "waiting", estimator(state, ticket.service, ahead), ticket.id,
                            next_sample))
            next_sample += timedelta(minutes=5)
        if action == "arrive":
            token = f"t{result.tickets}"
            if not apply(c.IssueTicket(actor="kiosk", service=data["service"], token=token), now):
                continue
            result.tickets += 1
            ticket = next(t for t in state.tickets.values() if t.token == token)
            ahead = waiting_ahead(state.tickets.values(), ticket, state.rules.queue)
            for name, estimator in ESTIMATORS.items():
                result.samples.append(
                    Sample(name, "issue", estimator(state, ticket.service, ahead), ticket.id, now))
            for counter in sorted(idle):
                idle.discard(counter)
                at(now + timedelta(minutes=rng.uniform(0.1, 0.5)), "call", counter=counter)
        elif action == "open":
            apply(c.OpenCounter(actor=_clerk(data["counter"]), counter=data["counter"]), now)
            idle.add(data["counter"])
        elif action == "call":
            call(data["counter"], now)
        elif action == "start":
            apply(c.StartService(actor=_clerk(data["counter"]), counter=data["counter"]), now)
            ticket = state.active_ticket(data["counter"])
            assert ticket is not None
            mean, sigma = means[ticket.service], 0.55
            minutes = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
            at(now + timedelta(minutes=minutes), "finish", counter=data["counter"])
        elif action in ("finish", "absent"):
            who = {"actor": _clerk(data["counter"]), "counter": data["counter"]}
            command = c.Finish(**who, outcome="received") if action == "finish" else c.MarkAbsent(**who)
            apply(command, now)
            at(now + timedelta(minutes=rng.uniform(0.2, 0.6)), "call", counter=data["counter"])
        elif action == "pause":
            if state.counters[data["counter"]].active_ticket is None:
                idle.discard(data["counter"])
                counter = data["counter"]
                apply(c.PauseCounter(actor=_clerk(counter), counter=counter, reason="Nghỉ"), now)
                at(now + timedelta(minutes=15), "resume", counter=data["counter"])
            else:
                pausing.add(data["counter"])
        elif action == "resume":
            apply(c.ResumeCounter(actor=_clerk(data["counter"]), counter=data["counter"]), now)
            call(data["counter"], now)
    result.actual_call = {
        t.id: t.first_called_at for t in state.tickets.values() if t.first_called_at is not None
    }
    return result


def summary(seeds: range | list[int]) -> dict[str, dict[str, float]]:
    """Mean absolute error (minutes) per estimator and kind over several simulated days."""
    days = [simulate_day(seed) for seed in seeds]
    out: dict[str, dict[str, float]] = {}
    for name in ESTIMATORS:
        out[name] = {}
        for kind in ("issue", "waiting"):
            errors = [e for day in days for e in day.errors(name, kind)]
            out[name][kind] = sum(errors) / len(errors)
    out["_"] = {
        "tickets": float(sum(d.tickets for d in days)),
        "mean_wait": sum(d.mean_actual_wait() for d in days) / len(days),
    }
    return out
