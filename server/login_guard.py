"""Who may have a password checked now: the guards in front of the slow password check.

- **An account from one address**: 5 failures for one username from one address within
  5 minutes lock that pair only, so nobody elsewhere can lock a clerk out of their own PC.
- **An address**: 20 failures within 5 minutes lock the address (a spray of usernames).
- **The whole server**: past ``GLOBAL_FAILURES_PER_MINUTE`` failures a minute (a guessing
  run spread over many addresses), only *known* addresses — where someone logged in
  successfully within ``KNOWN_FOR_SECONDS`` — still get password checks.
- **Pending checks**: at most ``MAX_UNKNOWN_CHECKS`` checks for unknown addresses wait or run
  at once, ``MAX_CHECKS_PER_ADDRESS`` of them for one address; one more is refused at once with
  ``login_busy`` (counted against its address) instead of queueing, so a flood of attempts
  never stands between a clerk and the password check (known addresses always get one, and
  one flooding address cannot take every slot from a clerk's first login).

Failures count when the attempt starts (a burst of concurrent attempts cannot all slip
past the throttle while their checks run); a success withdraws its count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from common.errors import Rejected
from server.sessions import LoginThrottle

PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
GLOBAL_FAILURES_PER_MINUTE = 60
MAX_UNKNOWN_CHECKS = 8
MAX_CHECKS_PER_ADDRESS = 2
KNOWN_FOR_SECONDS = 30 * 24 * 3600.0
MAX_KNOWN_ADDRESSES = 10_000
BUSY_RETRY_SECONDS = 2


@dataclass
class Attempt:
    """One login attempt admitted to the password check."""

    pair: list[str]
    address: list[str]
    known: bool
    open: bool = True


class LoginGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pairs = LoginThrottle(limit=PAIR_LIMIT)
        self.addresses = LoginThrottle(limit=ADDRESS_LIMIT)
        self.failures: deque[float] = deque()  # every failure of the last minute, server-wide
        self.known: dict[str, float] = {}  # address → last successful login
        self.unknown_checks: dict[str, int] = {}  # unknown address → its checks waiting or running

    def is_known(self, address: str) -> bool:
        seen = self.known.get(address)
        return seen is not None and self.clock() - seen <= KNOWN_FOR_SECONDS

    def failures_last_minute(self) -> int:
        now = self.clock()
        while self.failures and now - self.failures[0] > 60:
            self.failures.popleft()
        return len(self.failures)

    def begin(self, username: str, address: str) -> Attempt:
        """Admit an attempt to the password check, or raise ``throttled``/``login_busy``.
        Every admitted attempt must be ended with ``end``."""
        pair, by_address = [f"{username[:64]}@{address}"], [f"ip:{address}"]
        wait = max(self.pairs.retry_after(pair), self.addresses.retry_after(by_address))
        if wait:
            raise Rejected("throttled", seconds=wait)
        known = self.is_known(address)
        if not known:
            if self.failures_last_minute() >= GLOBAL_FAILURES_PER_MINUTE:
                raise Rejected("throttled", seconds=int(60 - (self.clock() - self.failures[0])) + 1)
            pending = self.unknown_checks.get(address, 0)
            if pending >= MAX_CHECKS_PER_ADDRESS or sum(self.unknown_checks.values()) >= MAX_UNKNOWN_CHECKS:
                self.addresses.failed(by_address)  # a burst from one address ends throttled
                raise Rejected("login_busy", seconds=BUSY_RETRY_SECONDS)
            self.unknown_checks[address] = pending + 1
        self.pairs.failed(pair)
        self.addresses.failed(by_address)
        return Attempt(pair=pair, address=by_address, known=known)

    def end(self, attempt: Attempt, *, ok: bool) -> None:
        """The password check of ``attempt`` is over, with result ``ok``."""
        if not attempt.open:
            return
        attempt.open = False
        address = attempt.address[0].removeprefix("ip:")
        if not attempt.known:
            self.unknown_checks[address] -= 1
            if not self.unknown_checks[address]:
                del self.unknown_checks[address]
        if ok:
            self.pairs.succeeded(attempt.pair)
            self.addresses.forgive(attempt.address)
            self._remember(address)
        else:
            self.failures.append(self.clock())

    def _remember(self, address: str) -> None:
        self.known.pop(address, None)
        self.known[address] = self.clock()
        while len(self.known) > MAX_KNOWN_ADDRESSES:  # the longest unseen goes first
            del self.known[next(iter(self.known))]
