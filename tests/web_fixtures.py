"""Realistic data for the web tests and screenshots: working days at the example centre,
made by the real pure rules with explicit times and committed with Store.commit.

``populate(store, config, "tinh", days, until=...)`` simulates each day (seeded): arrivals
through the morning and afternoon sessions, counters opened by their clerks, service
times per service, a few absences, holds, transfers and cancellations, and ratings from
phones and counters. ``until`` stops the last day part-way, leaving a live queue.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import math
import random
from datetime import UTC, date, datetime, timedelta

from common.config import Config
from common.errors import Rejected
from server.core import commands as c
from server.core.model import SiteRules, SiteState, TicketState
from server.core.rules import handle
from server.store import Store
from tests.helpers import local_time

# Relative demand and mean service minutes per service code (others: 1 and 7).
DEMAND = {"TP": 5, "DD": 4, "GPLX": 6, "BHXH": 4, "THUE": 3, "DN": 2, "XD": 2, "KQ": 3, "LD": 1.5,
          "HT": 6, "XH": 2}
SERVICE_MINUTES = {"TP": 6, "DD": 11, "GPLX": 5, "BHXH": 7, "THUE": 8, "DN": 12, "XD": 10, "KQ": 3,
                   "HT": 5, "XH": 7}
SESSIONS = ((7.0, 11.25), (13.25, 16.5))
# Names for clerks added where the configuration has nobody for a counter.
SPARE_NAMES = ("Vũ Thị Ngọc", "Đặng Văn Quang", "Bùi Thị Thu", "Ngô Đức Minh", "Lương Thị Hằng",
               "Trịnh Văn Long", "Cao Thị Yến", "Hồ Văn Sơn", "Lý Thị Hoa", "Mai Văn Đức")


def clerks_by_counter(config: Config, site_code: str) -> dict[int, str]:
    """A different clerk for each counter of the site: the configured clerks first (those
    allowed the fewest counters choose first), then spare ones ``staffed_config`` adds."""
    site = config.site(site_code)
    assert site is not None
    clerks = sorted((u for u in config.users if u.role == "clerk" and (not u.sites or site_code in u.sites)),
                    key=lambda u: (len(u.counters) if u.counters else 999, u.username))
    chosen: dict[int, str] = {}
    for user in clerks:
        for number in (user.counters or [k.number for k in site.counters]):
            if number not in chosen and site.counter(number) is not None:
                chosen[number] = user.username
                break
    for counter in site.counters:
        chosen.setdefault(counter.number, f"canbo.{site_code}.{counter.number}")
    return chosen


def staffed_config(config: Config) -> Config:
    """The example centre with a clerk for every counter (password "xephang" like the others)."""
    import msgspec

    template = next(u for u in config.users if u.role == "clerk")
    users = list(config.users)
    names = iter(SPARE_NAMES * 4)
    for site in config.sites:
        for number, username in clerks_by_counter(config, site.code).items():
            if config.user(username) is None:
                users.append(msgspec.structs.replace(template, username=username, full_name=next(names),
                                                     sites=[site.code], counters=[number]))
    return msgspec.structs.replace(config, users=users)


def _at(day: date, hours: float) -> datetime:
    whole = int(hours)
    return (local_time(day.year, day.month, day.day, whole, 0) + timedelta(minutes=(hours - whole) * 60)
            ).astimezone(UTC)


class _Day:
    def __init__(self, store: Store, state: SiteState, rng: random.Random, until: datetime | None) -> None:
        self.store, self.state, self.rng, self.until = store, state, rng, until
        self.events: list[tuple[datetime, int, str, dict]] = []
        self.order = itertools.count()
        self.idle: set[int] = set()
        self.pending: list[tuple[SiteState, list]] = []

    def at(self, when: datetime, action: str, **data) -> None:
        heapq.heappush(self.events, (when, next(self.order), action, data))

    def apply(self, command: c.Command, now: datetime) -> bool:
        try:
            self.state, events = handle(self.state, command, now)
        except Rejected:
            return False
        self.pending.append((self.state, events))
        if len(self.pending) >= 500:
            self.flush()
        return True

    def flush(self) -> None:
        """One transaction for many results: a durable commit per command is slow to make."""
        if self.pending:
            self.store.commit(self.pending)
            self.pending = []


def simulate(store: Store, config: Config, site_code: str, day: date, state: SiteState, *, seed: int,
             rate: float = 1.6, until: datetime | None = None) -> SiteState:
    """One working day at ``site_code``; returns the state at its end (or at ``until``)."""
    site = config.site(site_code)
    assert site is not None
    rng = random.Random(seed)
    sim = _Day(store, state, rng, until)
    codes = [s.code for s in site.services]
    weights = [DEMAND.get(code, 1.0) for code in codes]
    clerks = clerks_by_counter(config, site_code)
    for start, end in SESSIONS:
        t = start * 60
        while True:
            peak = 1.5 if t < start * 60 + 75 else 1.0  # a crowd at opening
            t += rng.expovariate(rate * peak)
            if t >= end * 60:
                break
            sim.at(_at(day, t / 60), "arrive", service=rng.choices(codes, weights)[0])
        for number in clerks:
            if rng.random() < 0.9:
                sim.at(_at(day, start) - timedelta(minutes=rng.uniform(2, 12)), "open", counter=number)
    sim.at(_at(day, 11.7), "lunch")
    sim.at(_at(day, 17.2), "close")

    def call(counter: int, now: datetime) -> None:
        if sim.state.counters[counter].status.value != "open":
            return
        if not sim.apply(c.CallNext(actor=clerks[counter], counter=counter), now):
            sim.idle.add(counter)
            return
        if rng.random() < 0.05:
            sim.at(now + timedelta(minutes=rng.uniform(1, 2.5)), "absent", counter=counter)
        else:
            sim.at(now + timedelta(minutes=rng.uniform(0.3, 1.5)), "start", counter=counter)

    while sim.events:
        now, _, action, data = heapq.heappop(sim.events)
        if until is not None and now > until:
            break
        if action == "arrive":
            token = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")
            priority = "elderly" if rng.random() < 0.08 else None
            if sim.apply(c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service=data["service"],
                                       priority=priority, token=token), now):
                for counter in sorted(sim.idle):
                    sim.idle.discard(counter)
                    sim.at(now + timedelta(minutes=rng.uniform(0.1, 0.6)), "call", counter=counter)
        elif action == "open":
            if sim.apply(c.OpenCounter(actor=clerks[data["counter"]], counter=data["counter"]), now):
                sim.idle.add(data["counter"])
        elif action == "call":
            call(data["counter"], now)
        elif action == "start":
            counter = data["counter"]
            sim.apply(c.StartService(actor=clerks[counter], counter=counter), now)
            ticket = sim.state.active_ticket(counter)
            if ticket is None:
                continue
            mean, sigma = SERVICE_MINUTES.get(ticket.service, 7), 0.5
            minutes = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
            sim.at(now + timedelta(minutes=minutes), "finish", counter=counter)
        elif action == "finish":
            counter = data["counter"]
            ticket = sim.state.active_ticket(counter)
            roll = rng.random()
            other = [s for s in codes if ticket and s != ticket.service]
            if ticket is not None and roll < 0.03 and ticket.transfers == 0 and other:
                sim.apply(c.Transfer(actor=clerks[counter], counter=counter, service=rng.choice(other)), now)
            else:
                outcome = rng.choices(["received", "guided", "returned", "supplement"], [6, 2, 2, 1])[0]
                done = sim.apply(c.Finish(actor=clerks[counter], counter=counter, outcome=outcome), now)
                if done and ticket and rng.random() < 0.65:
                    value = rng.choices([4, 3, 2, 1], [58, 30, 8, 4])[0]
                    actor = "watcher" if rng.random() < 0.6 else clerks[counter]
                    sim.at(now + timedelta(minutes=rng.uniform(0.2, 3)), "rate", ticket=ticket.id,
                           value=value, actor=actor)
            sim.at(now + timedelta(minutes=rng.uniform(0.2, 0.8)), "call", counter=counter)
        elif action == "absent":
            sim.apply(c.MarkAbsent(actor=clerks[data["counter"]], counter=data["counter"]), now)
            sim.at(now + timedelta(minutes=rng.uniform(0.2, 0.8)), "call", counter=data["counter"])
        elif action == "rate":
            sim.apply(c.RateTicket(actor=data["actor"], ticket_id=data["ticket"], value=data["value"]), now)
        elif action in ("lunch", "close"):
            for number, live in sim.state.counters.items():
                if live.status.value == "open" and live.active_ticket is None:
                    if action == "lunch":
                        pause = c.PauseCounter(actor=clerks[number], counter=number, reason="Nghỉ trưa")
                        sim.apply(pause, now)
                        sim.at(_at(day, 13.2), "resume", counter=number)
                    else:
                        sim.apply(c.CloseCounter(actor=clerks[number], counter=number), now)
            if action == "close":
                for ticket in list(sim.state.tickets.values()):
                    if ticket.state is TicketState.WAITING and rng.random() < 0.5:
                        sim.apply(c.CancelTicket(actor="giamdoc", number=ticket.number, reason="Về"), now)
        elif action == "resume" and sim.apply(
                c.ResumeCounter(actor=clerks[data["counter"]], counter=data["counter"]), now):
            call(data["counter"], now)
    sim.flush()
    return sim.state


def populate(store: Store, config: Config, site_code: str, days: list[date], *, seed: int = 1,
             rate: float = 1.6, until: datetime | None = None) -> SiteState:
    """Simulate ``days`` in order (the last one up to ``until``); returns the final state."""
    from server.core.model import new_site_state

    site = config.site(site_code)
    assert site is not None
    rules = SiteRules(site=site, queue=config.queue, tz=config.tz,
                      rating_values=frozenset(r.value for r in config.rating))
    state = new_site_state(rules, days[0])
    for i, day in enumerate(days):
        state = simulate(store, config, site_code, day, state, seed=seed * 1000 + i, rate=rate,
                         until=until if i == len(days) - 1 else None)
    return state


def working_days(end: date, count: int) -> list[date]:
    """The ``count`` weekdays up to and including ``end``, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)
