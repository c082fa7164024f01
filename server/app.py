"""The queue server: its parts put together, started and stopped.

- ``Writer`` (server/writer.py): every state-changing command, in order, committed in
  batches before anyone hears of it; owns the committed state.
- ``Connections`` (server/connections.py): the websocket connections, their sessions, who
  follows which site, sending.
- ``FanOut`` (server/fanout.py): after each committed batch, who hears what.
- The handlers (server/handlers/) and the web pages (server/web/, routed by
  server/web/routes.py) see only ``server.service.Service``, which this class implements.

Background tasks: the writer, a ticker (midnight rollover, issuing hours opening and
closing), the estimates' catch-up, and the WAL checkpointer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from common.clock import utc_now
from common.config import Config
from server import booking_store as bs
from server.access import WEBSOCKET_PATHS
from server.api.http_server import ApiServer
from server.booking_sweep import SWEEP_SECONDS, sweep
from server.compression import server_extensions
from server.connections import Audience, Connections
from server.core import commands as c
from server.core.model import SiteRules, SiteState, Ticket
from server.fanout import RECENT_CALLS, SERVICES_EVERY, FanOut
from server.handlers import dispatcher
from server.handlers.snapshot import snapshot
from server.http import Routes, dropping_failed_connections, plain_text, route_http, text_response
from server.login_guard import PASSWORD_WORKERS, LoginGuard
from server.manager_sessions import ManagerSessions
from server.pairing import Pairings
from server.report_process import ReportProcess
from server.settings import LiveSettings, site_rules
from server.store import Store
from server.web import routes as web_routes
from server.writer import Outcome, Writer

log = logging.getLogger(__name__)

TICK_SECONDS = 15.0
CHECKPOINT_SECONDS = 1.0
T = TypeVar("T")


class QueueServer:
    """The server (see the module docstring); implements ``server.service.Service``."""

    def __init__(self, config: Config, store: Store, *, clock: Callable[[], datetime] = utc_now,
                 routes: Routes | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self.kdf_thread = ThreadPoolExecutor(max_workers=PASSWORD_WORKERS, thread_name_prefix="kdf")
        self.checkpoint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        # Reports and pages read on a connection and thread of their own, never the writer's.
        self.report_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports")
        self._reader: sqlite3.Connection | None = None  # opened on the report thread
        self.reports = ReportProcess(store.path)  # year reports, exports, forecasts
        self.settings = LiveSettings(self)  # the centre's settings: stored, changed live
        self.pairings = Pairings()  # new devices showing a pairing code
        self.writer = Writer(store, clock, self.run_db)
        self.connections = Connections(config, self.today)
        self.fanout = FanOut(config, clock, self.writer.states, self.connections,
                             busy=lambda: self.writer.busy)
        self.writer.listener = self.fanout
        self.writer.on_failure = self._stop_accepting
        self.login_guard = LoginGuard(self.kdf_thread)
        self.manager_sessions = ManagerSessions()
        self.dispatcher = dispatcher(self)
        self.connections.dispatch = self.dispatcher.dispatch
        self.connections.on_close = self.pairings.forget
        self.routes = routes if routes is not None else web_routes.route_table()
        self._tasks: list[asyncio.Task[Any]] = []
        self._server: Server | None = None
        self._last_sweep = float("-inf")  # the ticker's booking sweep (server/booking_sweep.py)
        self.api: ApiServer | None = None  # the integration API, on server.api_port (server/api/)

    # -- the Service interface (server/service.py) ----------------------------------------------

    def today(self) -> date:
        return self.clock().astimezone(self.config.tz).date()

    @property
    def states(self) -> Mapping[str, SiteState]:
        return self.writer.states

    @property
    def failed(self) -> BaseException | None:
        return self.writer.failed

    @property
    def committed_batches(self) -> int:
        return self.writer.committed_batches

    def today_ticket(self, token: str) -> Ticket | None:
        return self.writer.today_ticket(token)

    async def submit(self, site: str, command: c.Command) -> Outcome:
        return await self.writer.submit(site, command)

    async def run_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, fn, *args)

    async def exclusive(self, work: Callable[[], Awaitable[T]]) -> T:
        return await self.writer.exclusive(work)

    async def read_db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.report_thread, functools.partial(self._read, fn, *args))

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.reports.run(fn, *args)

    def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._reader is None:
            self._reader = self.store.reader()
        return fn(self._reader, *args)

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # -- lifecycle --------------------------------------------------------------------------

    def site_rules(self, code: str) -> SiteRules:
        return site_rules(self.config, code)

    async def restore(self) -> None:
        """Load the settings (seeded from the file's on the first start), every site's
        committed state and recent calls."""
        _, config = await self.run_db(self.settings.load)
        if config is not self.config:
            self.apply_config(config)
        today = self.today()
        for site in self.config.sites:
            state = await self.run_db(self.store.load_site, self.site_rules(site.code), today)
            self.writer.load(site.code, state)
            calls = await self.run_db(self.store.recent_calls, site.code, state.day, RECENT_CALLS)
            self.fanout.load(site.code, state, calls)
        self.fanout.citizens = await self.run_db(bs.citizens_of_day, self.store.db.conn, today)
        log.info("restored %d site(s)", len(self.writer.states))

    # -- settings changed live (server/settings.py) ------------------------------------------------

    def apply_config(self, config: Config, states: Mapping[str, SiteState] | None = None) -> None:
        """Run with ``config`` from now on (and these site states, already under its rules)."""
        self.config = config
        self.connections.config = config
        self.fanout.config = config
        for site in config.sites:
            self.connections.audiences.setdefault(site.code, Audience())
        for code, state in (states or {}).items():
            self.writer.states[code] = state
            self.fanout.reconfigured(code, state)

    def push_snapshots(self, site: str) -> None:
        """A fresh snapshot to every connection following ``site`` (its settings changed)."""
        audience = self.connections.audiences.get(site)
        if audience is None:
            return
        for ws in [*audience.staff, *audience.kiosks]:
            session = self.connections.sessions.get(ws)
            if session is not None:
                self.connections.send_soon(ws, snapshot(self, site, session))

    def end_sessions(self, *, users: set[str], devices: set[str]) -> None:
        """Close the connections of disabled or removed users and revoked devices."""
        for username in users:
            self.manager_sessions.end_user(username)
        for ws, session in list(self.connections.sessions.items()):
            if session.username in users:
                self.connections.close_soon(ws, 1008, "account disabled")
            elif session.device in devices and session.role in ("kiosk", "display"):
                self.connections.close_soon(ws, 1008, "device revoked")

    async def start(self, host: str, port: int, *, ssl: Any = None) -> Server:
        """Restore, roll over any day that has ended, and listen."""
        await self.restore()
        self._tasks.append(asyncio.create_task(self.writer.run(), name="writer"))
        for code, state in self.states.items():
            if self.today() > state.day:
                await self.submit(code, c.RollOver(actor="system", day=self.today()))
        self._tasks.append(asyncio.create_task(self._ticker(), name="ticker"))
        self._tasks.append(asyncio.create_task(self._estimate_refresher(), name="estimates"))
        self._tasks.append(asyncio.create_task(self._checkpointer(), name="checkpoints"))
        self._server = await serve(
            self.connections.serve_connection, host, port, ssl=ssl,
            process_request=dropping_failed_connections(self._process_request),
            compression=None, extensions=server_extensions(),
            max_size=self.config.server.max_message_bytes, max_queue=16,
            ping_interval=20, ping_timeout=20, close_timeout=5,
        )
        if self.config.server.api_port is not None:
            self.api = ApiServer(self)
            try:
                await self.api.start(host, self.config.server.api_port, ssl=ssl)
            except OSError:
                self._server.close(close_connections=True)
                raise
        return self._server

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def closed(self) -> None:
        """Until the server stops listening (it does by itself after a failed commit)."""
        assert self._server is not None
        await self._server.wait_closed()

    async def stop(self) -> None:
        """Graceful: stop accepting, let the writer finish what it holds, close the store."""
        if self.api is not None:
            await self.api.stop()
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
        await self.writer.drained()
        for task in self._tasks:
            task.cancel()
        # return_exceptions: a writer that died of a failed commit (already logged, kept in
        # writer.failed) must not turn the orderly stop into a traceback.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self.report_thread, self._close_reader)
        self.report_thread.shutdown(wait=True)
        self.reports.close()
        await self.run_db(self.store.close)
        self.db_thread.shutdown(wait=True)
        self.checkpoint_thread.shutdown(wait=True)
        self.kdf_thread.shutdown(wait=False)

    def _stop_accepting(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=True)

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        websocket = request.path.split("?", 1)[0] in WEBSOCKET_PATHS
        if websocket and self.connections.address_full(connection, request):
            return text_response(429, plain_text("http_too_many_connections"))
        return await route_http(self, self.routes, connection, request)

    # -- background tasks ---------------------------------------------------------------------

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
        load and the estimates served stale (see server.estimate_budget); it does so between
        batches, on committed states only."""
        while True:
            await asyncio.sleep(SERVICES_EVERY)
            if self.fanout.behind:
                self.writer.refresh()

    async def tick(self) -> None:
        if time.monotonic() - self._last_sweep >= SWEEP_SECONDS:  # no-shows, booking retention
            self._last_sweep = time.monotonic()
            await sweep(self)
        today = self.today()
        for site, state in list(self.states.items()):
            if today > state.day:
                await self.submit(site, c.RollOver(actor="system", day=today))
                continue
            self.fanout.services_changed(site)
