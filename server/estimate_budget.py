"""Waiting-time estimates within a CPU budget.

The estimate (``server.core.estimate``) simulates a site's queue: 0.5-5 ms of CPU for one
site state. While a centre works at a human pace the server recomputes it for every new
state, so every figure it sends is exact. Under a flood (hundreds of tickets a second over
dozens of sites) that would cost more than everything else the server does; so once
estimating has used ``share`` of the last ``window`` seconds, a site keeps the estimates
it has and the server catches the stale ones up between batches, stalest first, as the
budget allows (a province's 101 sites at ~3 ms each: all within ~3 s). Waiting counts,
issued numbers and "hết số" are never delayed: only the minutes are.

Estimates depend on the state alone (the simulation's "now" is the state's own latest
moment), so a state that has not changed is never estimated twice.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from server.core.estimate import estimate_wait_minutes
from server.core.model import SiteState

ServiceEstimates = dict[str, int]


@dataclass
class _Known:
    state: SiteState  # the state the estimates were computed for
    estimates: ServiceEstimates
    at: float  # when (timer seconds)


class EstimateBudget:
    def __init__(
        self, compute: Callable[[SiteState], ServiceEstimates], *, share: float = 0.1,
        window: float = 1.0, timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.compute = compute
        self.share, self.window, self.timer = share, window, timer
        self._known: dict[str, _Known] = {}
        self._spent: deque[tuple[float, float]] = deque()  # (end, seconds) of each computation
        self._spent_total = 0.0  # the sum of the seconds in _spent
        self.computed = 0  # how many times estimates were computed (for tests and the bench)
        self.reused = 0  # how many times stale estimates were served instead

    def affordable(self) -> bool:
        """Whether estimating has used less than its share of the last window."""
        now = self.timer()
        while self._spent and self._spent[0][0] < now - self.window:
            self._spent_total -= self._spent.popleft()[1]
        return self._spent_total < self.share * self.window

    def _timed(self, fn: Callable[[], object]) -> object:
        start = self.timer()
        try:
            return fn()
        finally:
            end = self.timer()
            self._spent.append((end, end - start))
            self._spent_total += end - start

    def services(self, site: str, state: SiteState) -> tuple[ServiceEstimates, bool]:
        """Per service, the minutes a new ticket would wait, and True when they are for
        ``state``; over budget, the site's last estimates (none yet: an empty mapping)."""
        known = self._known.get(site)
        if known is not None and known.state is state:
            return known.estimates, True
        if self.affordable():
            estimates: ServiceEstimates = self._timed(lambda: self.compute(state))  # type: ignore[assignment]
            self._known[site] = _Known(state, estimates, self.timer())
            self.computed += 1
            return estimates, True
        self.reused += 1
        return (known.estimates if known is not None else {}), False

    def remember(self, site: str, state: SiteState, estimates: ServiceEstimates) -> None:
        """Estimates computed outside the budget (at start-up) for ``state``."""
        self._known[site] = _Known(state, estimates, self.timer())

    def known(self, site: str, state: SiteState) -> tuple[ServiceEstimates, bool]:
        """The site's last estimates without computing any, and True when they are for
        ``state`` (none yet: an empty mapping)."""
        known = self._known.get(site)
        if known is None:
            return {}, False
        return known.estimates, known.state is state

    def ticket(self, site: str, state: SiteState, service: str, ahead: int) -> int | None:
        """Minutes until a waiting ticket of ``service`` with ``ahead`` people before it is
        called, from the site's last estimated state (the same one when it is current):
        never a new simulation, so a kiosk's reply or a phone's update never waits for one.
        A new ticket gets what the kiosk's screen showed for its service."""
        known = self._known.get(site)
        if known is None:  # nothing estimated yet for this site
            if not self.affordable():
                return None
            return self._timed(lambda: estimate_wait_minutes(state, service, ahead))  # type: ignore[return-value]
        if known.state is not state:
            self.reused += 1
        # The simulation of known.state is memoised (server.core.estimate keeps one per
        # state): a position in it, or its new-ticket figure, is a lookup.
        return estimate_wait_minutes(known.state, service, ahead)

    def stalest_first(self, sites: set[str]) -> list[str]:
        """``sites`` ordered by the age of their estimates, never estimated first."""
        return sorted(sites, key=lambda site: self._known[site].at if site in self._known else -1.0)
