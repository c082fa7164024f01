"""server.estimate_budget.EstimateBudget: exact while affordable, the last estimates beyond."""

from __future__ import annotations

from datetime import date

from server.estimate_budget import EstimateBudget
from tests.helpers import example_config


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _states(n: int):
    from server.core.model import SiteRules, new_site_state

    config = example_config()
    rules = SiteRules(site=config.sites[0], queue=config.queue, tz=config.tz)
    return [new_site_state(rules, date(2026, 11, 25)) for _ in range(n)]  # distinct objects


def test_exact_while_affordable_then_the_last_estimates_until_the_window_moves_on():
    clock = Clock()
    costs = iter([0.06, 0.06, 0.06])

    def compute(state):
        clock.now += next(costs)  # each computation takes 60 ms of the 1 s window
        return {"TP": id(state)}

    budget = EstimateBudget(compute, share=0.1, window=1.0, timer=clock)
    a, b, c = _states(3)
    assert budget.services("tinh", a) == ({"TP": id(a)}, True)
    assert budget.services("tinh", a) == ({"TP": id(a)}, True)  # the same state: not again
    assert budget.services("tinh", b) == ({"TP": id(b)}, True)  # 60 ms spent < 100 ms
    assert budget.services("tinh", c) == ({"TP": id(b)}, False)  # 120 ms spent: b's kept
    assert budget.known("tinh", c) == ({"TP": id(b)}, False)
    assert (budget.computed, budget.reused) == (2, 1)
    clock.now += 1.0  # the window has moved past both computations
    assert budget.services("tinh", c) == ({"TP": id(c)}, True)


def test_a_site_never_estimated_gets_none_over_budget_and_start_up_estimates_count():
    clock = Clock()
    budget = EstimateBudget(lambda state: {"TP": 1}, share=0.0, timer=clock)  # never affordable
    (a,) = _states(1)
    assert budget.services("xa", a) == ({}, False)
    assert budget.ticket("xa", a, "TP", 3) is None
    budget.remember("xa", a, {"TP": 7})
    assert budget.services("xa", a) == ({"TP": 7}, True)


def test_stalest_first_puts_never_estimated_sites_first():
    clock = Clock()
    budget = EstimateBudget(lambda state: {}, timer=clock)
    a, b = _states(2)
    budget.services("old", a)
    clock.now += 1
    budget.services("new", b)
    assert budget.stalest_first({"new", "old", "never"}) == ["never", "old", "new"]
