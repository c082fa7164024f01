"""What the outbox process hands committed events to: a consumer (issue 16).

A consumer has a key (its cursor's name in ``outbox.sqlite``: "notify", "webhook:<id>")
and ``handle``: it gets the next events after its cursor, in ``seq`` order, each as the
export line of server/event_export.line, and returns how many of them, from the first,
are done. The process moves the cursor past those only, so what is not done is handed
again: delivery is at least once, and a consumer de-duplicates what it writes itself if it
must (by the event's ``seq``). Events the consumer does not care about count as done.

When a call makes no progress (returns 0) the process waits before handing the same
events again: 1 s, 2 s, 4 s … with jitter, at most ``MAX_BACKOFF`` (a consumer need not
sleep itself); any progress resets the wait, and so does a replay request or a
configuration change.

``handle`` runs in the outbox process's event loop (one thread); each consumer in a task
of its own, so one that waits on a slow receiver never delays another. It may await
network I/O; it must not block the loop for long (write to ``outbox.sqlite`` in small
transactions; the main database is read-only here).

A fixed consumer (not one per subscription) is built once by a factory that takes the
``OutboxContext`` (``process.FIXED_CONSUMERS``: one line per consumer); the factory applies
its own migration set to ``context.outbox`` (``Migrations("xephang-outbox-<key>")``) and
may keep its own connections. ``configure`` is called at start and whenever the live
settings change, with the new configuration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from common.config import Config

MAX_BACKOFF = 600.0  # seconds: the longest wait between two attempts at the same events


class Consumer(Protocol):
    key: str  # its cursor's name in outbox.sqlite

    async def handle(self, lines: list[dict[str, Any]]) -> int:
        """Events in seq order; returns how many of them are done (a prefix)."""
        ...

    def configure(self, config: Config) -> None:
        """The live configuration, at start and after every change."""
        ...


class Ticking(Protocol):
    """A consumer that also acts on time, not only on events (the appointment reminders of
    "notify"): the outbox process calls ``tick`` every ``process.TICK`` seconds, in the
    consumer's own task (never during its ``handle``), whether events came or not."""

    async def tick(self) -> None: ...


@dataclass(frozen=True)
class OutboxContext:
    data_dir: Path
    main_db: Path  # the queue's database: open it read-only (server/event_export.connect)
    outbox: sqlite3.Connection  # outbox.sqlite, the process's own (its loop's thread only)


ConsumerFactory = Callable[[OutboxContext], Consumer]
