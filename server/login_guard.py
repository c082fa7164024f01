"""Who may have a password checked, and in which order: the guards in front of the slow
password check (scrypt, on a pool of ``PASSWORD_WORKERS`` threads).

- **An account from one address**: 5 failures for one username from one address within
  5 minutes lock that pair only, so nobody elsewhere can lock a clerk out of their own PC.
- **An address**: 20 failures within 5 minutes lock the address (a spray of usernames).
- **The whole server**: past ``GLOBAL_FAILURES_PER_MINUTE`` failures a minute (a guessing
  run spread over many addresses), only *known* addresses — where someone logged in
  successfully within ``KNOWN_FOR_SECONDS`` — still get password checks.
- **Turns, not one queue**: waiting checks take turns between addresses, known addresses
  first, so a flood of attempts never stands between a clerk and the password check: a
  clerk waits for at most one check of each other address that is waiting (none, at a known
  PC), however many that address sent. At most ``MAX_WAITING_UNKNOWN`` checks of unknown
  addresses wait at once; one more is refused at once with ``login_busy`` (the apps retry).

Failures count when the attempt starts (a burst of concurrent attempts cannot all slip
past the throttle while their checks run); a success withdraws its count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from common.errors import Rejected
from server.limits import LoginThrottle

PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
GLOBAL_FAILURES_PER_MINUTE = 60
MAX_WAITING_UNKNOWN = 1000  # a province's clerks logging in at once after a restart
PASSWORD_WORKERS = 2
KNOWN_FOR_SECONDS = 30 * 24 * 3600.0
MAX_KNOWN_ADDRESSES = 10_000
BUSY_RETRY_SECONDS = 2


def address_key(address: str) -> str:
    """An address's key in the address throttle (shared by logins, device tokens and ticket
    lookups)."""
    return f"ip:{address}"


@dataclass
class Attempt:
    """One login attempt admitted to the password check."""

    address: str
    pair: list[str]
    known: bool
    open: bool = True


class TakingTurns:
    """Runs jobs on ``executor``, ``workers`` at a time; waiting jobs take turns between
    addresses (round robin), known addresses before unknown ones."""

    def __init__(self, executor: Executor, workers: int) -> None:
        self.executor = executor
        self.free = workers
        # address → its jobs waiting for a turn; dict order is the round's order.
        self.waiting: tuple[dict[str, deque[asyncio.Future[None]]], ...] = ({}, {})  # known, unknown

    def waiting_unknown(self) -> int:
        return sum(len(queue) for queue in self.waiting[1].values())

    async def run(self, address: str, known: bool, fn: Callable[..., Any], *args: Any) -> Any:
        if self.free > 0 and not any(self.waiting):
            self.free -= 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting[0 if known else 1].setdefault(address, deque()).append(turn)
            try:
                await turn
            except asyncio.CancelledError:  # the connection went away while waiting
                if turn.done() and not turn.cancelled():
                    self._pass_on()  # the turn had just been handed to it: hand it on
                raise
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        """A worker is free: give it to the next address's oldest waiting job."""
        for queues in self.waiting:
            while queues:
                address = next(iter(queues))
                queue = queues.pop(address)
                turn = queue.popleft()
                if queue:
                    queues[address] = queue  # to the end of the round
                if not turn.done():
                    turn.set_result(None)
                    return
        self.free += 1


class LoginGuard:
    def __init__(self, executor: Executor, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pairs = LoginThrottle(limit=PAIR_LIMIT)
        self.addresses = LoginThrottle(limit=ADDRESS_LIMIT)
        self.failures: deque[float] = deque()  # every failure of the last minute, server-wide
        self.known: dict[str, float] = {}  # address → last successful login
        self.turns = TakingTurns(executor, PASSWORD_WORKERS)

    def is_known(self, address: str) -> bool:
        seen = self.known.get(address)
        return seen is not None and self.clock() - seen <= KNOWN_FOR_SECONDS

    def failures_last_minute(self) -> int:
        now = self.clock()
        while self.failures and now - self.failures[0] > 60:
            self.failures.popleft()
        return len(self.failures)

    async def check(self, username: str, address: str, verify: Callable[[], bool]) -> bool:
        """Run ``verify`` (the password check) for a login of ``username`` from ``address``
        when the guards let it, in its turn; raises ``throttled`` or ``login_busy``."""
        attempt = self.begin(username, address)
        ok = False
        try:
            ok = bool(await self.turns.run(address, attempt.known, verify))
        finally:
            self.end(attempt, ok=ok)
        return ok

    def begin(self, username: str, address: str) -> Attempt:
        """Admit an attempt, or raise ``throttled``/``login_busy``; end it with ``end``."""
        pair, by_address = [f"{username[:64]}@{address}"], [address_key(address)]
        wait = max(self.pairs.retry_after(pair), self.addresses.retry_after(by_address))
        if wait:
            raise Rejected("throttled", seconds=wait)
        known = self.is_known(address)
        if not known:
            if self.failures_last_minute() >= GLOBAL_FAILURES_PER_MINUTE:
                raise Rejected("throttled", seconds=int(60 - (self.clock() - self.failures[0])) + 1)
            if self.turns.waiting_unknown() >= MAX_WAITING_UNKNOWN:
                raise Rejected("login_busy", seconds=BUSY_RETRY_SECONDS)
        self.pairs.failed(pair)
        self.addresses.failed(by_address)
        return Attempt(address=address, pair=pair, known=known)

    def end(self, attempt: Attempt, *, ok: bool) -> None:
        """The password check of ``attempt`` is over (or was abandoned), with result ``ok``."""
        if not attempt.open:
            return
        attempt.open = False
        if ok:
            self.pairs.succeeded(attempt.pair)
            self.addresses.forgive([address_key(attempt.address)])
            self._remember(attempt.address)
        else:
            self.failures.append(self.clock())

    def _remember(self, address: str) -> None:
        self.known.pop(address, None)
        self.known[address] = self.clock()
        while len(self.known) > MAX_KNOWN_ADDRESSES:  # the longest unseen goes first
            del self.known[next(iter(self.known))]
