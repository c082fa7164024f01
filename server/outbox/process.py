"""The outbox process: committed events handed to their consumers, beside the server (issue 16).

The queue's ``events`` table is the outbox: every event is a row of it, written in the
writer's commit, so nothing is there before it is committed and nothing committed is
missing; the writer writes nothing more for deliveries. This process (spawned by the server
once it listens, ``launcher.py``; ``nice``, so the queue gets the cores first) reads the
queue's database read-only and keeps what it did in its own ``outbox.sqlite`` (state.py).

Every ``POLL`` seconds it looks at the newest event ``seq`` and the settings' version; new
events wake every consumer's task, a new version reloads the configuration (the webhook
subscriptions: a task per subscription; the consumers' ``configure``), and the replay
requests an administrator made on the delivery-log page are handed to their consumer's task.

Each consumer (consumer.py) runs in a task of its own, reading ``BATCH`` events after its
cursor; the cursor moves past what the consumer says is done, only then. Cursor moves and
delivery attempts are written together every ``POLL`` seconds (state.Journal): a few
commits a second on the disk the queue commits to, not one per event; a crash repeats at
most those last moments' deliveries. It exits when the
server that started it is gone (its parent's pid changes), when told to stop (SIGTERM), and
never takes the queue database's write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import msgspec

from common.config import Config
from common.logs import setup_logging
from server import event_export
from server.outbox import state
from server.outbox.consumer import MAX_BACKOFF, Consumer, ConsumerFactory, OutboxContext
from server.outbox.notify import Notify
from server.outbox.webhooks import WebhookConsumer, consumer_key

log = logging.getLogger(__name__)

POLL = state.FLUSH  # seconds between two looks at the queue's database (and journal flushes)
BATCH = 200  # events handed to a consumer at once
NICENESS = 19  # where there is no idle scheduling class (see lowest_priority)
PID_FILE = "outbox.pid"
PRUNE_EVERY = 3600.0  # seconds between two prunings of the delivery log
TICK = 30.0  # seconds between two calls of a consumer's ``tick`` (consumer.Ticking), events or not

# The consumers that are not one per webhook subscription: one line each.
FIXED_CONSUMERS: tuple[ConsumerFactory, ...] = (
    Notify,  # the citizen notifications (notify.py)
)


def backoff(failures: int) -> float:
    """The wait after the ``failures``-th attempt in a row without progress: 1 s, 2 s, 4 s …
    (±20 % jitter, so receivers that come back are not hit by every retry at once), at most
    ``MAX_BACKOFF``."""
    base = min(MAX_BACKOFF, 2.0 ** min(failures - 1, 30))
    return float(min(MAX_BACKOFF, base * random.uniform(0.8, 1.2)))


class Runner:
    """One consumer's task: its cursor, its batches, its back-off and its replays."""

    def __init__(self, consumer: Consumer, outbox: sqlite3.Connection, reader: sqlite3.Connection,
                 start_at: int, journal: state.Journal) -> None:
        self.consumer = consumer
        self.outbox = outbox
        self.journal = journal
        self.reader = reader
        found = state.cursor(outbox, consumer.key)
        if found is None:  # new: from the events after now
            state.set_cursor(outbox, consumer.key, start_at)
            found = start_at
        elif found > start_at and found > (newest := _newest(reader)):
            # outbox.sqlite is not this database's (another one, or one restored from a backup)
            log.error("outbox consumer %s is at event %d but the database ends at %d: outbox.sqlite "
                      "belongs to another database (or the database was restored from a backup); "
                      "it goes on from %d", consumer.key, found, newest, newest)
            state.set_cursor(outbox, consumer.key, newest)
            found = newest
        self.cursor = found
        self.new_events = asyncio.Event()
        self.kick = asyncio.Event()  # a replay or a configuration change: retry at once
        self.replays: list[state.Replay] = []
        self.failures = 0
        self.ticked_at: float | None = None

    async def run(self) -> None:
        while True:
            await self._replay()
            await self._tick()
            self.new_events.clear()
            lines = list(event_export.events(self.reader, self.cursor, BATCH))
            if not lines:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(self.new_events, self.kick), TICK)
                self.kick.clear()
                continue
            try:
                done = await self.consumer.handle(lines)
            except Exception:  # a consumer's bug must not end the others: try again later
                log.exception("outbox consumer %s failed on events after %d", self.consumer.key, self.cursor)
                done = 0
            if done > 0:
                self.cursor = int(lines[min(done, len(lines)) - 1]["seq"])
                self.journal.cursors[self.consumer.key] = self.cursor  # written with the next flush
                self.failures = 0
            if done < len(lines):
                self.failures += 1
                self.kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.kick.wait(), backoff(self.failures))
                self.kick.clear()

    async def _tick(self) -> None:
        """The consumer's ``tick`` (if it has one), at most every ``TICK`` seconds; in this
        task, so never at the same time as its ``handle``."""
        tick = getattr(self.consumer, "tick", None)
        now = asyncio.get_running_loop().time()
        if tick is None or (self.ticked_at is not None and now - self.ticked_at < TICK):
            return
        self.ticked_at = now
        try:
            await tick()
        except Exception:  # like handle: a consumer's bug must not end the others
            log.exception("outbox consumer %s failed in its tick", self.consumer.key)

    async def _replay(self) -> None:
        while self.replays:
            replay = self.replays.pop(0)
            if replay.single:
                lines = list(event_export.events(self.reader, replay.seq - 1, 1))
                if lines and lines[0]["seq"] == replay.seq:
                    with contextlib.suppress(Exception):
                        await self.consumer.handle(lines)
            else:
                self.cursor = max(0, replay.seq - 1)
                self.journal.cursors[self.consumer.key] = self.cursor
                self.failures = 0
            state.replay_done(self.outbox, replay.id)


def _newest(reader: sqlite3.Connection) -> int:
    return int(reader.execute("select coalesce(max(seq), 0) from events").fetchone()[0])


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


class Outbox:
    """The process's work (see the module docstring)."""

    def __init__(self, main_db: Path, *, parent_pid: int | None = None,
                 fixed: tuple[ConsumerFactory, ...] = FIXED_CONSUMERS) -> None:
        self.main_db = main_db
        self.parent_pid = parent_pid
        self.fixed = fixed
        self.stopping = asyncio.Event()
        self.runners: dict[str, tuple[Runner, asyncio.Task[None]]] = {}
        self.version = 0
        self.last_seq = 0
        self.config: Config | None = None
        self.handed: set[int] = set()  # replay requests handed to a runner
        self.journal = state.Journal()

    async def run(self) -> None:
        self.reader = event_export.connect(self.main_db)
        self.outbox = state.open_state(state.path_beside(self.main_db))
        context = OutboxContext(data_dir=self.main_db.parent, main_db=self.main_db, outbox=self.outbox)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        fixed: list[Consumer] = []
        try:
            self.last_seq = self._max_seq()
            fixed = [factory(context) for factory in self.fixed]
            self._reload()
            for consumer in fixed:
                if self.config is not None:
                    consumer.configure(self.config)
                self._start(consumer)
            pruned_at = 0.0
            loop = asyncio.get_running_loop()
            while not self.stopping.is_set():
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.info("the server is gone: the outbox process stops")
                    break
                self._poll()
                self.journal.flush(self.outbox)
                if loop.time() - pruned_at > PRUNE_EVERY:
                    pruned_at = loop.time()
                    state.prune_log(self.outbox, datetime.now(UTC))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), POLL)
        finally:
            for _, task in self.runners.values():
                task.cancel()
            await asyncio.gather(*(task for _, task in self.runners.values()), return_exceptions=True)
            self.journal.flush(self.outbox)
            for consumer in fixed:  # a consumer with a session of its own (notify) closes it
                close = getattr(consumer, "close", None)
                if close is not None:
                    await close()
            await self.session.close()
            self.reader.close()
            self.outbox.close()

    def _max_seq(self) -> int:
        return _newest(self.reader)

    def _poll(self) -> None:
        seq = self._max_seq()
        if seq != self.last_seq:
            self.last_seq = seq
            for runner, _ in self.runners.values():
                runner.new_events.set()
        self._reload()
        for replay in state.pending_replays(self.outbox):
            found = self.runners.get(replay.consumer)
            if found is None:  # not running (disabled, removed): move its cursor, if it has one
                self.journal.flush(self.outbox)
                if not replay.single and state.cursor(self.outbox, replay.consumer) is not None:
                    state.set_cursor(self.outbox, replay.consumer, max(0, replay.seq - 1))
                state.replay_done(self.outbox, replay.id)
            elif replay.id not in self.handed:
                self.handed.add(replay.id)
                found[0].replays.append(replay)
                found[0].kick.set()

    def _reload(self) -> None:
        row = self.reader.execute(
            "select version, document from settings order by version desc limit 1").fetchone()
        if row is None or row[0] == self.version:
            return
        try:
            config = msgspec.json.decode(row[1], type=Config)
        except msgspec.DecodeError:
            log.error("settings version %d does not decode: the outbox keeps version %d",
                      row[0], self.version)
            return
        self.version, self.config = int(row[0]), config
        wanted = {consumer_key(h.id): h for h in config.webhooks if not h.disabled}
        for key in [k for k in self.runners if k.startswith("webhook:") and k not in wanted]:
            _, task = self.runners.pop(key)
            task.cancel()
            if key[len("webhook:"):] not in {h.id for h in config.webhooks}:  # removed, not disabled
                self.journal.cursors.pop(key, None)
                state.drop_cursor(self.outbox, key)
        for key, hook in wanted.items():
            if key not in self.runners:
                self._start(WebhookConsumer(hook, self.session, self.journal))
        for runner, _ in self.runners.values():
            runner.consumer.configure(config)
            runner.kick.set()  # a fixed URL is tried at once, not after the back-off
        log.info("outbox: settings version %d, %d webhook subscriptions", self.version, len(wanted))

    def _start(self, consumer: Consumer) -> None:
        runner = Runner(consumer, self.outbox, self.reader, self.last_seq, self.journal)
        task = asyncio.create_task(runner.run(), name=f"outbox {consumer.key}")
        task.add_done_callback(_report_end(consumer.key))
        self.runners[consumer.key] = (runner, task)


def _report_end(key: str) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox consumer %s stopped: %r", key, task.exception())
    return done


def lowest_priority() -> None:
    """Deliveries take only the CPU the queue leaves: the idle scheduling class where there is
    one (Linux: any other process that wakes takes the core at once; a niced process would
    keep it for its time slice, and the queue's answers would wait behind it), else nice."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)


def main(main_db: str, parent_pid: int, log_level: int = logging.INFO) -> None:
    """The process's entry (launcher.py): runs until SIGTERM or until its parent is gone."""
    # The server's own format on the stderr both share (JSON lines; the logger names it
    # server.outbox.*): one stream a supervisor collects and a reader parses.
    setup_logging(logging.getLevelName(log_level).lower())
    lowest_priority()
    pid_file = state.path_beside(main_db).with_name(PID_FILE)
    pid_file.write_text(f"{os.getpid()}\n")  # for the operator (and the crash test) to find it
    asyncio.run(_main(Path(main_db), parent_pid))


async def _main(main_db: Path, parent_pid: int) -> None:
    outbox = Outbox(main_db, parent_pid=parent_pid)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, outbox.stopping.set)
    await outbox.run()


