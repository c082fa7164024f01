"""The clocks the apps read, in one place.

State objects never read a clock themselves: they are handed one of these (or a fake in
tests). ``utc_now`` is the wall clock (aware, UTC); ``monotonic`` measures timeouts and
durations and never jumps when the wall clock is set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

WallClock = Callable[[], datetime]
Monotonic = Callable[[], float]

monotonic: Monotonic = time.monotonic


def utc_now() -> datetime:
    return datetime.now(UTC)
