"""The wait estimate: hand-checked small cases, then its error on simulated days."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest

from bench.estimate_accuracy import ESTIMATORS, _local, simulate_day, simulated_rules, summary
from common.config import PriorityClass
from server.core import commands as c
from server.core.estimate import (
    DEFAULT_SERVICE_MINUTES,
    component,
    estimate_wait_minutes,
    handling_minutes,
    predicted_minutes,
)
from server.core.model import SiteRules, TicketState, new_site_state
from server.core.rules import handle
from server.core.selection import waiting_ahead

START = _local(8.0)  # 08:00 on the simulated Wednesday; issuing 07:30-11:00


class Day:
    """Drives the pure rules of the simulated commune centre (counters: 1 HT; 2 DD then HT;
    3 XH then HT) with explicit times."""

    def __init__(self, rules: SiteRules | None = None) -> None:
        self.state = new_site_state(rules or simulated_rules(), START.date())
        self.now = START
        self.tokens = 0

    def at(self, minutes: float) -> Day:
        self.now = START + timedelta(minutes=minutes)
        return self

    def do(self, command: c.Command) -> Day:
        self.state, _ = handle(self.state, command, self.now)
        return self

    def open(self, *counters: int) -> Day:
        for n in counters:
            self.do(c.OpenCounter(actor=f"clerk{n}", counter=n))
        return self

    def issue(self, service: str, count: int = 1, priority: str | None = None) -> Day:
        for _ in range(count):
            self.tokens += 1
            self.do(c.IssueTicket(actor="kiosk", service=service, token=f"tok{self.tokens}",
                                  priority=priority))
        return self

    def serve(self, counter: int, minutes: float) -> Day:
        """Call the next ticket at ``counter`` now and finish it ``minutes`` later."""
        self.do(c.CallNext(actor=f"clerk{counter}", counter=counter))
        self.now += timedelta(minutes=minutes)
        return self.do(c.Finish(actor=f"clerk{counter}", counter=counter, outcome="received"))

    def estimates(self, service: str) -> list[int]:
        """Each waiting ticket's estimate, in queue order."""
        waiting = sorted((t for t in self.state.tickets.values()
                          if t.service == service and t.state.value == "waiting"), key=lambda t: t.order)
        rules = self.state.rules.queue
        return [estimate_wait_minutes(self.state, service, waiting_ahead(waiting, t, rules)) for t in waiting]

    def by_number(self, service: str) -> dict[str, tuple[int, int]]:
        """Each waiting ticket's (people ahead, estimate), by its printed number."""
        rules = self.state.rules.queue
        out = {}
        for t in self.state.tickets.values():
            if t.service == service and t.state is TicketState.WAITING:
                ahead = waiting_ahead(self.state.tickets.values(), t, rules)
                out[t.number] = (ahead, estimate_wait_minutes(self.state, service, ahead))
        return out

    def new_ticket(self, service: str) -> int:
        waiting = sum(1 for t in self.state.tickets.values()
                      if t.service == service and t.state.value == "waiting")
        return estimate_wait_minutes(self.state, service, waiting)


def test_nobody_waiting_and_a_free_counter_means_no_wait():
    day = Day().open(1, 2, 3)
    assert day.new_ticket("HT") == 0


def test_queue_shared_by_free_counters_at_the_default_pace():
    # Only counter 1 open (HT only), nothing served yet: handling = DEFAULT_SERVICE_MINUTES = 6.
    day = Day().open(1).issue("HT", 3)
    assert DEFAULT_SERVICE_MINUTES == 6.0
    assert day.estimates("HT") == [0, 6, 12]  # called at 0, then every 6 minutes
    assert day.new_ticket("HT") == 18


def test_handling_time_is_shrunk_towards_the_prior():
    # Two HT tickets handled in 4 and 8 minutes (from the call to the finish):
    # site prior = (4 + 8) / 2 = 6; HT = (4 + 8 + 2 x 6) / (2 + 2) = 6.
    # One DD ticket handled in 12: prior over all three = (4 + 8 + 12) / 3 = 8;
    # DD = (12 + 2 x 8) / (1 + 2) = 28 / 3; HT = (12 + 2 x 8) / 4 = 7.
    day = Day().open(1, 2).issue("HT", 2).issue("DD")
    day.serve(1, 4).serve(1, 8).serve(2, 12)
    handling = handling_minutes(day.state.tickets.values())
    assert handling[""] == pytest.approx(8.0)
    assert handling["HT"] == pytest.approx(7.0)
    assert handling["DD"] == pytest.approx(28 / 3)


def test_a_busy_counter_is_free_once_its_handling_time_has_passed():
    # Counter 1 called an HT ticket 2 minutes ago; handling 6 → free in 4 minutes.
    day = Day().open(1).issue("HT").do(c.CallNext(actor="clerk1", counter=1)).at(2).issue("HT")
    assert day.estimates("HT") == [4]
    # Later than its handling time: still at least half of it ahead (0.5 x 6 = 3).
    day.at(20).issue("HT")
    assert day.estimates("HT")[0] == 3


def test_shared_counter_serves_its_preferred_service_first():
    # Counter 2 prefers DD over HT. With 2 DD and 1 HT waiting and only counter 2 open,
    # the HT ticket is called after both DD tickets: at 0 (DD), 6 (DD), 12 (HT).
    day = Day().open(2).issue("HT").issue("DD", 2)
    assert day.estimates("DD") == [0, 6]
    assert day.estimates("HT") == [12]


def test_newcomers_to_the_preferred_service_delay_the_other_one():
    # 08:00-08:20: six DD tickets arrived (one every 3.33 minutes: rate 6/20 = 0.3 a minute).
    # Counter 2 (DD first) would otherwise call the lone HT ticket after the current queue;
    # the DD newcomers keep arriving faster than it can serve (6 min each), so HT waits longer.
    day = Day().open(2)
    for minute in (0, 4, 8, 12, 16, 20):
        day.at(minute).issue("DD")
    day.at(20).do(c.CallNext(actor="clerk2", counter=2)).issue("HT")
    without_newcomers = 6 * 0.5 + 5 * 6  # the busy desk's half handling, then 5 DD tickets
    assert day.estimates("HT")[0] > without_newcomers


def test_counters_of_a_service_nobody_serves_yet_are_assumed_to_open():
    # Before the clerks log in: XH is served by counter 3 only → 0 and 6 minutes.
    day = Day().issue("XH", 2)
    assert day.estimates("XH") == [0, 6]


def test_a_paused_counter_comes_back_after_the_usual_pause():
    # Counter 1 paused 5 minutes ago: back in 15 - 5 = 10 minutes.
    day = Day().open(1).do(c.PauseCounter(actor="clerk1", counter=1, reason="Họp")).at(5).issue("HT")
    assert day.estimates("HT") == [10]


def with_priority(rule: str, ratio: int = 2) -> SiteRules:
    rules = simulated_rules()
    queue = msgspec.structs.replace(
        rules.queue, priority_rule=rule, normal_per_priority=ratio,
        priority_classes=[PriorityClass(code="elderly", name_vi="Người cao tuổi", name_en="Elderly")])
    return replace(rules, queue=queue)


@pytest.mark.parametrize("rule", ["strict", "interleave"])
def test_a_priority_citizens_minutes_match_their_place(rule):
    # Counter 1 (HT only) has served two normal tickets in 6 minutes each (handling stays 6),
    # so under 2:1 its streak is full. Then 3 normal HT tickets wait and a priority one comes
    # last: it is called first (at 12:00 + 0), the normal ones after it every 6 minutes.
    day = Day(with_priority(rule)).open(1).issue("HT", 5)
    day.serve(1, 6).serve(1, 6)
    day.issue("HT", priority="elderly")
    # HT numbers run 1001...: 1003-1005 normal, 1006 priority.
    assert day.by_number("HT") == {"1006": (0, 0), "1003": (1, 6), "1004": (2, 12), "1005": (3, 18)}


@pytest.mark.parametrize("rule", ["strict", "interleave"])
def test_each_waiting_ticket_gets_its_own_simulated_call(rule):
    """The estimate looks a ticket up by its place: the place must hold that very ticket."""
    day = Day(with_priority(rule, ratio=3)).open(1, 2)
    for i in range(14):
        day.at(i).issue("HT", priority="elderly" if i % 4 == 2 else None)
        day.issue("DD", priority="elderly" if i % 5 == 1 else None)
    day.at(15).do(c.CallNext(actor="clerk1", counter=1))
    checked = 0
    for service in ("HT", "DD"):
        for t in day.state.tickets.values():
            if t.service == service and t.state is TicketState.WAITING:
                ahead = waiting_ahead(day.state.tickets.values(), t, day.state.rules.queue)
                own = max(round(predicted_minutes(day.state, t)), 0)
                assert estimate_wait_minutes(day.state, service, ahead) == own, t.number
                checked += 1
    assert checked == 27  # everyone but the one just called


def test_component_links_services_through_shared_counters():
    site = simulated_rules().site
    assert component(site, "XH") == (frozenset({1, 2, 3}), frozenset({"HT", "DD", "XH"}))


def test_a_long_queue_is_extrapolated_in_order():
    # 400 tickets: beyond the simulated calls the estimates keep growing steadily.
    day = Day().open(1, 2, 3).issue("HT", 400)
    estimates = day.estimates("HT")
    assert estimates == sorted(estimates)
    # 3 counters at 6 minutes each: about 400 x 6 / 3 = 800 minutes for the last one.
    assert 700 <= estimates[-1] <= 900
    assert day.new_ticket("HT") >= estimates[-1]


def test_simulated_day_is_reproducible():
    first, again = simulate_day(7), simulate_day(7)
    assert first.tickets == again.tickets > 40
    assert first.mean_absolute_error("simulation") == again.mean_absolute_error("simulation")


def test_estimate_error_on_simulated_days(capsys):
    """Ten simulated mornings (seeds 1-10) at a three-counter commune centre; counters 2 and
    3 each prefer their own service and help with HT; counter 3 pauses 15 minutes at 09:30."""
    result = summary(range(1, 11))
    lines = [f"simulated mornings: {result['_']['tickets']:.0f} tickets, "
             f"mean actual wait {result['_']['mean_wait']:.1f} min",
             f"{'estimator':<16}{'MAE at issue':>14}{'MAE later':>12}"]
    for name in ESTIMATORS:
        lines.append(f"{name:<16}{result[name]['issue']:>12.1f} m{result[name]['waiting']:>10.1f} m")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    ours, zero, formula = result["simulation"], result["always_zero"], result["people_x_mean"]
    assert result["_"]["mean_wait"] > 10  # busy enough for the estimate to matter
    assert ours["issue"] < 6.0
    assert ours["issue"] < 0.4 * zero["issue"]
    assert ours["issue"] < 0.75 * formula["issue"]
    assert ours["waiting"] < 0.4 * zero["waiting"]
