"""Rate limits: a token bucket (messages, tickets) and a sliding window of failures (logins)."""

from __future__ import annotations

import time
from collections import deque


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
