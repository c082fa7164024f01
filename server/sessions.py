"""Who a connection is, what each role may send, and the guards against abuse."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from common import protocol as p

UNAUTHENTICATED = "anonymous"

# Message type → roles that may send it. The single source of the access rules; the
# access-control tests and docs/protocol.md are checked against it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "login_device": frozenset({UNAUTHENTICATED}),
    "login": frozenset({UNAUTHENTICATED}),
    "watch_ticket": frozenset({UNAUTHENTICATED}),
    "ping": frozenset({UNAUTHENTICATED, "kiosk", "display", "clerk", "manager", "watcher"}),
    "logout": frozenset({"kiosk", "display", "clerk", "manager", "watcher"}),
    "select_counter": frozenset({"clerk"}),
    "issue_ticket": frozenset({"kiosk"}),
    "printer_status": frozenset({"kiosk"}),
    "call_next": frozenset({"clerk"}),
    "call_number": frozenset({"clerk"}),
    "recall": frozenset({"clerk"}),
    "start_service": frozenset({"clerk"}),
    "mark_absent": frozenset({"clerk"}),
    "hold": frozenset({"clerk"}),
    "resume_held": frozenset({"clerk"}),
    "transfer": frozenset({"clerk"}),
    "finish": frozenset({"clerk"}),
    "pause_counter": frozenset({"clerk"}),
    "resume_counter": frozenset({"clerk"}),
    "close_counter": frozenset({"clerk"}),
    "cancel_ticket": frozenset({"clerk", "manager"}),
    "rate": frozenset({"clerk", "watcher"}),
}

# Clerk commands that act on the counter the session selected (never on another).
COUNTER_COMMANDS = frozenset({
    "call_next", "call_number", "recall", "start_service", "mark_absent", "hold",
    "resume_held", "transfer", "finish", "pause_counter", "resume_counter", "close_counter",
    "cancel_ticket", "rate",
})

assert set(PERMISSIONS) == set(p.CLIENT_TYPES), "every message type needs a permission entry"

# What a connection on the public websocket path (server.http.PUBLIC_WEBSOCKET_PATH) may send:
# a citizen's phone following and rating its ticket. Logins are refused there.
PUBLIC_TYPES = frozenset({"watch_ticket", "ping", "rate", "logout"})

# Roles whose connections count against an address's public-connection bound.
PUBLIC_ROLES = frozenset({UNAUTHENTICATED, "watcher"})


@dataclass
class Session:
    """What the server knows about one connection."""

    remote: str
    role: str = UNAUTHENTICATED
    username: str | None = None
    device: str | None = None
    sites: tuple[str, ...] = ()
    counter: int | None = None
    ticket_id: str | None = None
    public_path: bool = False  # connected on the public (watchers only) websocket path
    watch_end: asyncio.TimerHandle | None = None  # a watcher's close, once its ticket is over
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(rate=30.0, burst=90.0))

    @property
    def site(self) -> str | None:
        return self.sites[0] if len(self.sites) == 1 else None

    @property
    def actor(self) -> str:
        return self.username or self.device or self.role

    @property
    def counts_as_public(self) -> bool:
        return self.role in PUBLIC_ROLES


class TokenBucket:
    """Allows ``rate`` messages a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()
        self.refused = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False


class LoginThrottle:
    """After ``limit`` failed logins for a name (or from an address) within ``window``
    seconds, refuse further attempts until the oldest failure ages out."""

    def __init__(self, limit: int = 5, window: float = 300.0, max_keys: int = 10000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self.failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self.failures.get(key, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until an attempt is allowed again (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if len(stamps) >= self.limit:
                wait = max(wait, self.window - (now - stamps[0]))
        return int(wait) + (1 if wait else 0)

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        if len(self.failures) > self.max_keys:  # bound memory under a spray of names
            self.failures = {k: v for k, v in self.failures.items() if self._recent(k, now)}
        for key in keys:
            stamps = self._recent(key, now)
            stamps.append(now)
            self.failures[key] = stamps

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.failures.pop(key, None)

    def forgive(self, keys: list[str]) -> None:
        """Withdraw one failure counted in advance for an attempt that then succeeded."""
        for key in keys:
            stamps = self.failures.get(key)
            if stamps:
                stamps.pop()
                if not stamps:
                    del self.failures[key]
