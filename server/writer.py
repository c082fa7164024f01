"""The single writer: every state-changing command, in order, durably, in batches.

``submit`` queues a command. The writer takes everything that is waiting, applies the pure
rules (``server.core.rules.handle``) to each command in order, commits the whole batch in
one SQLite transaction (group commit), and only then answers each command and hands the
batch's events to its ``Listener`` (the fan-out). So nobody hears of a ticket that is not
on disk, and concurrent commands never interleave inside the rules.

The writer also owns the committed state of every site (``states``) and today's ticket
tokens (``tokens``); everything else reads them and never changes them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from common.errors import Rejected
from server.core import commands as c
from server.core import events as ev
from server.core.model import SiteState, Ticket
from server.core.rules import handle
from server.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

IDLE_BEFORE_ESTIMATING = 0.005  # seconds without a command before the idle work runs
_REFRESH = object()  # queued: do the listener's catch-up between batches
_WAKE = object()  # queued: it has been quiet long enough for the idle work


@dataclass
class Outcome:
    """What one committed command produced."""

    state: SiteState
    events: list[ev.Event]
    seqs: list[int]
    latest: SiteState | None = None  # the site after the whole batch: what replies describe


@dataclass
class _Job:
    site: str
    command: c.Command
    future: asyncio.Future[Outcome]


@dataclass
class _Exclusive:
    """Work that must see every earlier command committed and no later one (a settings change)."""

    work: Callable[[], Awaitable[Any]]
    future: asyncio.Future[Any]


class Listener(Protocol):
    """What the writer tells, between and after its batches (the fan-out)."""

    def new_day(self, site: str) -> None:
        """``site`` rolled over to a new day (its state is not committed yet)."""

    def committed(self, site: str, pairs: list[tuple[ev.Event, int]], before: SiteState) -> None:
        """A batch committed these events (with their sequence numbers) for ``site``."""

    def has_idle_work(self) -> bool:
        """Work to do once no command has come for a moment (estimating a site)."""

    def idle_work(self) -> None:
        """One piece of it: milliseconds at most, then the writer looks at its queue again."""

    def between_batches(self) -> None:
        """Catch up what was held back under load (asked for with ``refresh``)."""


class Writer:
    def __init__(self, store: Store, clock: Callable[[], datetime],
                 run_db: Callable[..., Awaitable[Any]]) -> None:
        self.store = store
        self.clock = clock
        self.run_db = run_db
        self.states: dict[str, SiteState] = {}
        self.tokens: dict[str, tuple[str, str]] = {}  # today's ticket token → (site, ticket id)
        self.listener: Listener | None = None
        self.failed: BaseException | None = None  # the commit that failed; nothing is taken after it
        self.on_failure: Callable[[], None] = lambda: None  # e.g. stop accepting connections
        self.committed_batches = 0
        self._queue: asyncio.Queue[_Job | object] = asyncio.Queue()
        self._last_submit = 0.0  # when the last command was queued (monotonic)
        self._wake_pending = False

    def load(self, site: str, state: SiteState) -> None:
        """A site's committed state, at start-up."""
        self.states[site] = state
        for ticket in state.tickets.values():
            self.tokens[ticket.token] = (site, ticket.id)

    def today_ticket(self, token: str) -> Ticket | None:
        """Today's ticket with ``token``, if any."""
        found = self.tokens.get(token)
        return self.states[found[0]].tickets.get(found[1]) if found else None

    @property
    def busy(self) -> bool:
        """More commands are waiting."""
        return not self._queue.empty()

    def refresh(self) -> None:
        """Have the listener catch up between the next batches."""
        self._queue.put_nowait(_REFRESH)

    async def submit(self, site: str, command: c.Command) -> Outcome:
        """Apply a command durably; raises Rejected if the rules refuse it."""
        if self.failed is not None:
            raise Rejected("internal")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._last_submit = time.monotonic()
        self._queue.put_nowait(_Job(site, command, future))
        return await future

    async def exclusive(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` in the writer's order: after every command queued before it has been
        committed, before any queued after it. It may replace ``states`` (the settings'
        changes do, server/settings.py)."""
        if self.failed is not None:
            raise Rejected("internal")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Exclusive(work, future))
        return await future

    async def drained(self) -> None:
        """Until every queued command has been taken (or the writer failed)."""
        while not self._queue.empty() and self.failed is None:
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        listener = self.listener
        assert listener is not None
        while True:
            if self._queue.empty() and listener.has_idle_work():
                # Idle work takes milliseconds: only once no command has come for a moment,
                # so that a busy writer's next batch never waits behind it.
                quiet = time.monotonic() - self._last_submit
                if quiet >= IDLE_BEFORE_ESTIMATING:
                    listener.idle_work()  # one piece, then let waiting commands in
                    await asyncio.sleep(0)
                    continue
                if not self._wake_pending:  # come back when it has been quiet long enough
                    self._wake_pending = True
                    loop.call_later(IDLE_BEFORE_ESTIMATING - quiet, self._queue.put_nowait, _WAKE)
            items = [await self._queue.get()]
            while not self._queue.empty():
                items.append(self._queue.get_nowait())
            if _WAKE in items:
                self._wake_pending = False
            refresh = _REFRESH in items
            jobs: list[_Job] = []
            for item in items:
                if isinstance(item, _Job):
                    jobs.append(item)
                elif isinstance(item, _Exclusive):
                    if jobs:
                        await self._run_batch(jobs, listener)
                        jobs = []
                    await self._run_exclusive(item)
            if jobs:
                await self._run_batch(jobs, listener)
            if refresh:  # between batches, where every state is committed
                listener.between_batches()

    async def _run_batch(self, jobs: list[_Job], listener: Listener) -> None:
        applied: list[tuple[_Job, SiteState, list[ev.Event]]] = []
        before: dict[str, SiteState] = {}  # each site as the batch found it
        for job in jobs:
            before.setdefault(job.site, self.states[job.site])
            try:
                state, events = handle(self.states[job.site], job.command, self.clock())
            except Rejected as exc:
                job.future.set_exception(exc)
                continue
            except Exception as exc:
                log.exception("rules failed on %r", job.command)
                job.future.set_exception(Rejected("internal"))
                del exc
                continue
            if state.day != self.states[job.site].day:
                self._forget_earlier_tokens(job.site, state)
                listener.new_day(job.site)
            self.states[job.site] = state
            applied.append((job, state, events))
        if not applied:
            return
        try:
            seqs = await self.run_db(self.store.commit, [(s, e) for _, s, e in applied])
        except BaseException as exc:  # the disk refused: memory is ahead of disk, stop now
            log.critical("commit failed, stopping the server: %s", exc)
            self.failed = exc
            for job, _, _ in applied:
                if not job.future.done():
                    job.future.set_exception(Rejected("internal"))
            self.on_failure()
            raise
        self.committed_batches += 1
        position = 0
        by_site: dict[str, list[tuple[ev.Event, int]]] = {}
        for job, state, events in applied:
            own = seqs[position:position + len(events)]
            position += len(events)
            by_site.setdefault(job.site, []).extend(zip(events, own, strict=True))
            for event in events:
                if isinstance(event, ev.TicketIssued):
                    self.tokens[event.ticket.token] = (job.site, event.ticket.id)
            if not job.future.done():
                job.future.set_result(Outcome(state, events, own, self.states[job.site]))
        for site, pairs in by_site.items():
            listener.committed(site, pairs, before[site])

    async def _run_exclusive(self, item: _Exclusive) -> None:
        try:
            result = await item.work()
        except Exception as exc:  # Rejected (told to the caller), or a failure logged by it
            if not item.future.done():
                item.future.set_exception(exc)
            return
        if not item.future.done():
            item.future.set_result(result)

    def _forget_earlier_tokens(self, site: str, state: SiteState) -> None:
        """A new day: yesterday's tokens go (the ticket page finds those in the database)."""
        self.tokens = {
            token: (code, ticket_id) for token, (code, ticket_id) in self.tokens.items()
            if code != site or ticket_id in state.tickets
        }

