"""The queue server: websocket sessions, the single writer, and per-site fan-out.

Every state-changing command goes through one queue. The writer takes everything that
is waiting, applies the rules in order, commits the whole batch in one durable SQLite
transaction (group commit), and only then replies and broadcasts. So nobody hears of a
ticket that is not on disk, and concurrent commands never interleave inside the rules.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import sqlite3
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets import ConnectionClosed
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve

from common import protocol as p
from common.config import Config
from common.errors import Rejected
from server import views
from server.compression import server_extensions
from server.core import commands as c
from server.core import events as ev
from server.core.model import SiteRules, SiteState, Ticket, TicketState
from server.core.positions import WaitingLines
from server.core.rules import handle, rateable_until
from server.estimates import EstimateBudget
from server.fanout import SERVICES_EVERY, FanOut
from server.http import (
    PUBLIC_WEBSOCKET_PATH,
    WEBSOCKET_PATHS,
    dropping_failed_connections,
    route_http,
    text_response,
)
from server.login_guard import PASSWORD_WORKERS, LoginGuard
from server.sessions import Session, TokenBucket
from server.store import Store

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 20.0
RECENT_CALLS = 20
TICK_SECONDS = 15.0
CHECKPOINT_SECONDS = 1.0
IDLE_BEFORE_ESTIMATING = 0.005  # seconds without a command before the writer estimates
FLOOD_CLOSE_AFTER = 300
FINISHED_WATCH_SECONDS = 900.0  # a finished ticket's phone is kept this long for its rating
FINISHED_WATCH_GRACE = 1.0  # ... and this long once nothing more can happen to the ticket
SEND_NOW_BELOW = 16384  # a reply goes out at once when the client's write buffer is small
_REFRESH = object()  # queued for the writer: catch up stale estimates between batches
_WAKE = object()  # queued for the writer: it has been quiet long enough to estimate


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Job:
    site: str
    command: c.Command
    future: asyncio.Future


@dataclass
class _Audience:
    """The connections that follow one site."""

    staff: set[ServerConnection] = field(default_factory=set)  # clerks, displays, managers
    kiosks: set[ServerConnection] = field(default_factory=set)
    watchers: dict[str, set[ServerConnection]] = field(default_factory=dict)  # ticket id →


@dataclass
class Outcome:
    """What one committed command produced."""

    state: SiteState
    events: list[ev.Event]
    seqs: list[int]
    latest: SiteState | None = None  # the site after the whole batch: what replies describe


class QueueServer(FanOut):
    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime] = utc_now):
        self.config = config
        self.store = store
        self.clock = clock
        self.states: dict[str, SiteState] = {}
        self.audiences: dict[str, _Audience] = {}
        self.recent_calls: dict[str, deque[p.CallView]] = {}
        self.sent_services: dict[str, dict[str, p.ServiceView]] = {}
        self.estimates = EstimateBudget(views.service_estimates)
        self._stale_estimates: set[str] = set()  # sites whose sent estimates lag their state
        self._waiting_lines: dict[str, tuple[SiteState, WaitingLines]] = {}
        self._pending_services: set[str] = set()  # sites whose services update was held back
        self._services_sent_at: dict[str, float] = {}  # site → when (monotonic)
        self._estimates_refreshed_at = 0.0
        self._random = bytearray()  # unused random bytes for ticket tokens
        self._last_submit = 0.0  # when the last command was queued (monotonic)
        self._wake_pending = False
        self.tokens: dict[str, tuple[str, str]] = {}  # ticket token → (site, ticket id)
        self.sessions: dict[ServerConnection, Session] = {}
        # Per address: connections not logged in or following a ticket (bounded, see _connection).
        self.public_connections: Counter[str] = Counter()
        self.issue_buckets: dict[str, TokenBucket] = {}  # kiosk device id → its issuing pace
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self.kdf_thread = ThreadPoolExecutor(max_workers=PASSWORD_WORKERS, thread_name_prefix="kdf")
        self.login_guard = LoginGuard(self.kdf_thread)
        self.checkpoint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._queue: asyncio.Queue[_Job | object] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._closing: set[asyncio.Future] = set()
        self._server: Server | None = None
        self.failed: BaseException | None = None
        self.committed_batches = 0
        from server.handlers import Handlers  # circular: handlers use this class's API

        self.handlers = Handlers(self)

    # -- lifecycle ----------------------------------------------------------------------

    def site_rules(self, code: str) -> SiteRules:
        site = self.config.site(code)
        assert site is not None
        return SiteRules(
            site=site, queue=self.config.queue, tz=self.config.tz,
            rating_values=frozenset(r.value for r in self.config.rating),
        )

    async def restore(self) -> None:
        """Load every site's committed state, then roll over any day that has ended."""
        today = self.clock().astimezone(self.config.tz).date()
        for site in self.config.sites:
            rules = self.site_rules(site.code)
            state = await self._db(self.store.load_site, rules, today)
            self.states[site.code] = state
            self.audiences[site.code] = _Audience()
            self.recent_calls[site.code] = deque(maxlen=RECENT_CALLS)
            for ticket in state.tickets.values():
                self.tokens[ticket.token] = (site.code, ticket.id)
            calls = await self._db(self.store.recent_calls, site.code, state.day, RECENT_CALLS)
            for row in calls:
                self.recent_calls[site.code].append(self._call_view(site.code, **row))
            estimates = views.service_estimates(state)  # at start-up, outside the budget
            self.estimates.remember(site.code, state, estimates)
            self.sent_services[site.code] = {
                s.code: s for s in views.service_views(state, self.clock(), estimates)
            }
        log.info("restored %d site(s)", len(self.states))

    async def start(self, host: str, port: int, *, ssl: Any = None) -> Server:
        await self.restore()
        self._tasks.append(asyncio.create_task(self._writer(), name="writer"))
        for code, state in self.states.items():
            if self.clock().astimezone(self.config.tz).date() > state.day:
                await self.submit(code, c.RollOver(actor="system", day=self._today()))
        self._tasks.append(asyncio.create_task(self._ticker(), name="ticker"))
        self._tasks.append(asyncio.create_task(self._estimate_refresher(), name="estimates"))
        self._tasks.append(asyncio.create_task(self._checkpointer(), name="checkpoints"))
        self._server = await serve(
            self._connection, host, port, ssl=ssl,
            process_request=dropping_failed_connections(self._process_request),
            compression=None, extensions=server_extensions(),
            max_size=self.config.server.max_message_bytes, max_queue=16,
            ping_interval=20, ping_timeout=20, close_timeout=5,
        )
        return self._server

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Graceful: stop accepting, let the writer finish what it holds, close the store."""
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
        while not self._queue.empty() and self.failed is None:
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        # return_exceptions: a writer that died of a failed commit (already logged, kept in
        # self.failed) must not turn the orderly stop into a traceback.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._db(self.store.close)
        self.db_thread.shutdown(wait=True)
        self.checkpoint_thread.shutdown(wait=True)
        self.kdf_thread.shutdown(wait=False)

    def _today(self):
        return self.clock().astimezone(self.config.tz).date()

    async def _db(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, fn, *args)

    # -- the single writer --------------------------------------------------------------

    async def submit(self, site: str, command: c.Command) -> Outcome:
        """Apply a command durably; raises Rejected if the rules refuse it."""
        if self.failed is not None:
            raise Rejected("internal")
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._last_submit = time.monotonic()
        self._queue.put_nowait(_Job(site, command, future))
        return await future

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._queue.empty() and self._stale_estimates and self.estimates.affordable():
                # Estimating a site takes milliseconds: only once no command has come for a
                # moment, so that a busy writer's next batch never waits behind it.
                quiet = time.monotonic() - self._last_submit
                if quiet >= IDLE_BEFORE_ESTIMATING:
                    self._catch_up()  # one site, then let waiting commands in
                    await asyncio.sleep(0)
                    continue
                if not self._wake_pending:  # come back when it has been quiet long enough
                    self._wake_pending = True
                    loop.call_later(IDLE_BEFORE_ESTIMATING - quiet, self._queue.put_nowait, _WAKE)
            jobs = [await self._queue.get()]
            while not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            if _WAKE in jobs:
                self._wake_pending = False
            refresh = _REFRESH in jobs
            if refresh or _WAKE in jobs:
                jobs = [job for job in jobs if job is not _REFRESH and job is not _WAKE]
            if jobs:
                await self._run_batch(jobs)  # type: ignore[arg-type]
            if refresh:  # between batches, where every state is committed
                self._refresh_estimates()

    async def _run_batch(self, jobs: list[_Job]) -> None:
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
            if state.day != self.states[job.site].day:  # a new day: yesterday's tokens go
                self.recent_calls[job.site].clear()  # ... and yesterday's calls leave the boards
                self.tokens = {
                    token: (site, ticket_id) for token, (site, ticket_id) in self.tokens.items()
                    if site != job.site or ticket_id in state.tickets
                }
            self.states[job.site] = state
            applied.append((job, state, events))
        if not applied:
            return
        try:
            seqs = await self._db(self.store.commit, [(s, e) for _, s, e in applied])
        except BaseException as exc:  # the disk refused: memory is ahead of disk, stop now
            log.critical("commit failed, stopping the server: %s", exc)
            self.failed = exc
            for job, _, _ in applied:
                if not job.future.done():
                    job.future.set_exception(Rejected("internal"))
            if self._server is not None:
                self._server.close(close_connections=True)
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
            self._fan_out(site, pairs, before[site])

    async def _checkpointer(self) -> None:
        """Copy the WAL into the database beside the writer (see store.Checkpointer)."""
        loop = asyncio.get_running_loop()
        checkpointer = await loop.run_in_executor(self.checkpoint_thread, self.store.checkpointer)
        try:
            while True:
                await asyncio.sleep(CHECKPOINT_SECONDS)
                try:
                    await loop.run_in_executor(self.checkpoint_thread, checkpointer.run)
                except sqlite3.Error as exc:  # the commits' own fallback still checkpoints
                    log.warning("checkpoint failed: %s", exc)
        finally:
            self.checkpoint_thread.submit(checkpointer.close)

    async def _ticker(self) -> None:
        """Every few seconds: roll over at local midnight; push services opening/closing."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:
                log.exception("tick failed")

    async def _estimate_refresher(self) -> None:
        """Every so often, have the writer catch up the services updates held back under
        load and the estimates served stale (see server.estimates); it does so between
        batches, on committed states only."""
        while True:
            await asyncio.sleep(SERVICES_EVERY)
            if self._pending_services or self._stale_estimates:
                self._queue.put_nowait(_REFRESH)

    async def tick(self) -> None:
        today = self._today()
        for site, state in list(self.states.items()):
            if today > state.day:
                await self.submit(site, c.RollOver(actor="system", day=today))
                continue
            self._broadcast_services(site, self._changed_services(site, state))

    # -- connections --------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        if request.path.split("?", 1)[0] in WEBSOCKET_PATHS:
            limit = self.config.server.max_public_connections_per_address
            if self.public_connections[self.client_address(connection, request)] >= limit:
                return text_response(429, "Quá nhiều kết nối từ địa chỉ này / Too many connections")
        return await route_http(self, connection, request)

    def client_address(self, ws: ServerConnection, request: Any) -> str:
        """The client's IP address: the peer's, or for a trusted reverse proxy the last entry
        of the X-Forwarded-For it set."""
        peer = str(ws.remote_address[0]) if ws.remote_address else "?"
        if peer in self.config.server.trusted_proxies and request is not None:
            forwarded = request.headers.get_all("X-Forwarded-For")
            if forwarded:
                return forwarded[-1].rsplit(",", 1)[-1].strip()[:64] or peer
        return peer

    def _count_public(self, remote: str, session: Session, counted: bool) -> bool:
        """Keep ``public_connections`` in step with the session's role; returns whether the
        session is counted now."""
        if session.counts_as_public == counted:
            return counted
        if counted:
            self._release_public(remote)
        else:
            self.public_connections[remote] += 1
        return not counted

    def _release_public(self, remote: str) -> None:
        self.public_connections[remote] -= 1
        if self.public_connections[remote] <= 0:
            del self.public_connections[remote]

    async def _connection(self, ws: ServerConnection) -> None:
        remote = self.client_address(ws, ws.request)
        path = ws.request.path.split("?", 1)[0] if ws.request is not None else ""
        session = Session(remote=remote, public_path=path == PUBLIC_WEBSOCKET_PATH)
        self.sessions[ws] = session
        counted = self._count_public(remote, session, False)
        auth_deadline = asyncio.get_running_loop().call_later(
            AUTH_TIMEOUT, self._close_unauthenticated, ws
        )
        try:
            if self.public_connections[remote] > self.config.server.max_public_connections_per_address:
                log.warning("refused a connection from %s: too many public connections", remote)
                await ws.close(1013, "too many connections from this address")
                return
            async for raw in ws:
                if not session.bucket.take():
                    if session.bucket.refused > FLOOD_CLOSE_AFTER:
                        await ws.close(1008, "flooding")
                        break
                    await self.send(ws, self.error_message(None, Rejected("rate_limited")))
                    continue
                await self.handlers.dispatch(ws, session, raw)
                counted = self._count_public(remote, session, counted)
                if session.role != "anonymous":
                    auth_deadline.cancel()
        except ConnectionClosed:
            pass
        finally:
            auth_deadline.cancel()
            if session.watch_end is not None:
                session.watch_end.cancel()
            if counted:
                self._release_public(remote)
            self.forget(ws, session)
            self.sessions.pop(ws, None)

    def _close_unauthenticated(self, ws: ServerConnection) -> None:
        session = self.sessions.get(ws)
        if session is not None and session.role == "anonymous":
            self.close_soon(ws, 1008, "authentication timeout")

    def watch_left(self, ticket: Ticket) -> float | None:
        """How long a phone following ``ticket`` is kept: None while the ticket can still
        change, FINISHED_WATCH_SECONDS while it waits for its rating, a moment (for the last
        message to leave) when nothing more can happen to it."""
        if not ticket.state.is_final:
            return None
        rateable = (ticket.state is TicketState.DONE and ticket.rating is None
                    and rateable_until(ticket.day) >= self._today())
        return FINISHED_WATCH_SECONDS if rateable else FINISHED_WATCH_GRACE

    def end_watch_when_done(self, ws: ServerConnection, ticket: Ticket) -> None:
        """Close a watcher once its ticket has nothing more to tell it (see ``watch_left``):
        a finished ticket's phone does not hold a connection for the rest of the day."""
        session = self.sessions.get(ws)
        delay = self.watch_left(ticket)
        if session is None or delay is None:
            return
        if session.watch_end is not None:
            if session.watch_end.when() <= asyncio.get_running_loop().time() + delay:
                return
            session.watch_end.cancel()
        session.watch_end = asyncio.get_running_loop().call_later(
            delay, self.close_soon, ws, 1000, "ticket finished")

    def close_soon(self, ws: ServerConnection, code: int, reason: str) -> None:
        """Close ``ws`` in the background (the close handshake waits for the peer)."""
        task = asyncio.ensure_future(ws.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def forget(self, ws: ServerConnection, session: Session) -> None:
        """Remove a connection from every audience it joined."""
        for site in session.sites:
            audience = self.audiences.get(site)
            if audience is None:
                continue
            audience.staff.discard(ws)
            audience.kiosks.discard(ws)
            if session.ticket_id and session.ticket_id in audience.watchers:
                audience.watchers[session.ticket_id].discard(ws)
                if not audience.watchers[session.ticket_id]:
                    del audience.watchers[session.ticket_id]

    async def send(self, ws: ServerConnection, message: Any) -> None:
        data = p.encode(message)
        transport = ws.transport
        if transport is not None and transport.get_write_buffer_size() < SEND_NOW_BELOW:
            broadcast((ws,), data, text=True)  # written now: no lock, no drain to await
            return
        with contextlib.suppress(ConnectionClosed):  # a slow reader: wait for its buffer
            await ws.send(data, text=True)

    def error_message(self, request_id: p.RequestId, exc: Rejected) -> p.Error:
        details = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float | None)}
        return p.Error(
            re=request_id, code=exc.code, message_vi=exc.message_vi, message_en=exc.message_en,
            details=details,
        )

    def issue_allowed(self, device: str) -> bool:
        """Whether kiosk ``device`` may issue one more ticket now (its human pace)."""
        bucket = self.issue_buckets.get(device)
        if bucket is None:
            settings = self.config.server
            bucket = self.issue_buckets[device] = TokenBucket(
                rate=settings.kiosk_issues_per_minute / 60, burst=settings.kiosk_issue_burst)
        return bucket.take()

    def new_ticket_token(self) -> str:
        """As secrets.token_urlsafe(16), from random bytes read 4 KiB at a time (one
        getrandom call per 256 tickets instead of one per ticket)."""
        if len(self._random) < 16:
            self._random = bytearray(os.urandom(4096))
        chunk = bytes(self._random[-16:])
        del self._random[-16:]
        return base64.urlsafe_b64encode(chunk).rstrip(b"=").decode()
