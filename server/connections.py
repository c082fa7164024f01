"""The websocket connections: who each one is, who follows which site, and sending.

``Connections.serve_connection`` is the websocket handler: it keeps the connection's
``Session``, applies the per-connection message limit and the login deadline, and hands
every message to the injected ``dispatch``. ``audiences`` says which connections follow a
site (staff, kiosks, each ticket's watchers) for the fan-out. Connections that are not
logged in (or only follow a ticket) are bounded per address; a watcher is let go once
its ticket has nothing more to tell it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from websockets import ConnectionClosed
from websockets.asyncio.server import ServerConnection, broadcast

from common import protocol as p
from common.config import Config
from common.errors import Rejected
from server.access import PUBLIC_ROLES, PUBLIC_WEBSOCKET_PATH, UNAUTHENTICATED
from server.core.model import Ticket, TicketState
from server.core.rules import rateable_until
from server.limits import TokenBucket

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 20.0
FLOOD_CLOSE_AFTER = 300
FINISHED_WATCH_SECONDS = 900.0  # a finished ticket's phone is kept this long for its rating
FINISHED_WATCH_GRACE = 1.0  # ... and this long once nothing more can happen to the ticket
SEND_NOW_BELOW = 16384  # a reply goes out at once when the client's write buffer is small

Dispatch = Callable[[ServerConnection, "Session", str | bytes], Awaitable[None]]


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
    password_change: bool = False  # logged in with a reset password: may only change it
    web_session: bool = False  # the manager web login page's connection (wants a web code)
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


@dataclass
class Audience:
    """The connections that follow one site."""

    staff: set[ServerConnection] = field(default_factory=set)  # clerks, displays, managers
    kiosks: set[ServerConnection] = field(default_factory=set)
    watchers: dict[str, set[ServerConnection]] = field(default_factory=dict)  # ticket id →


def error_message(request_id: p.RequestId, exc: Rejected) -> p.Error:
    details = {k: v for k, v in exc.params.items() if isinstance(v, str | int | float | None)}
    return p.Error(
        re=request_id, code=exc.code, message_vi=exc.message_vi, message_en=exc.message_en,
        details=details,
    )


class Connections:
    def __init__(self, config: Config, today: Callable[[], date]) -> None:
        self.config = config
        self.today = today
        self.dispatch: Dispatch | None = None
        self.on_close: Callable[[ServerConnection], None] = lambda ws: None  # e.g. drop a pairing code
        self.sessions: dict[ServerConnection, Session] = {}  # in connection order
        self.audiences: dict[str, Audience] = {code: Audience() for code in (s.code for s in config.sites)}
        # Per address: connections not logged in or following a ticket (bounded, see serve_connection).
        self.public_connections: Counter[str] = Counter()
        self.closing: set[asyncio.Future[Any]] = set()  # closes and sends under way (kept from the GC)

    # -- one connection ---------------------------------------------------------------------

    def client_address(self, ws: ServerConnection, request: Any) -> str:
        """The client's IP address: the peer's, or for a trusted reverse proxy the last entry
        of the X-Forwarded-For it set."""
        peer = str(ws.remote_address[0]) if ws.remote_address else "?"
        if peer in self.config.server.trusted_proxies and request is not None:
            forwarded = request.headers.get_all("X-Forwarded-For")
            if forwarded:
                return str(forwarded[-1]).rsplit(",", 1)[-1].strip()[:64] or peer
        return peer

    def address_full(self, ws: ServerConnection, request: Any) -> bool:
        """No room for one more connection from this client's address (checked at the
        handshake, and exactly once the connection runs)."""
        limit = self.config.server.max_public_connections_per_address
        return self.public_connections[self.client_address(ws, request)] >= limit

    async def serve_connection(self, ws: ServerConnection) -> None:
        assert self.dispatch is not None
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
                    await self.send(ws, error_message(None, Rejected("rate_limited")))
                    continue
                await self.dispatch(ws, session, raw)
                counted = self._count_public(remote, session, counted)
                if session.role != UNAUTHENTICATED:
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
            self.on_close(ws)

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

    def _close_unauthenticated(self, ws: ServerConnection) -> None:
        session = self.sessions.get(ws)
        if session is not None and session.role == UNAUTHENTICATED:
            self.close_soon(ws, 1008, "authentication timeout")

    def close_soon(self, ws: ServerConnection, code: int, reason: str) -> None:
        """Close ``ws`` in the background (the close handshake waits for the peer)."""
        task = asyncio.ensure_future(ws.close(code, reason))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    # -- audiences ----------------------------------------------------------------------------

    def join_staff(self, ws: ServerConnection, site: str) -> None:
        self.audiences[site].staff.add(ws)

    def join_kiosks(self, ws: ServerConnection, site: str) -> None:
        self.audiences[site].kiosks.add(ws)

    def watchers(self, site: str, ticket_id: str) -> set[ServerConnection]:
        """The phones following one ticket (the set to join)."""
        return self.audiences[site].watchers.setdefault(ticket_id, set())

    def devices_at(self, site: str, role: str) -> set[str]:
        """The devices of ``role`` (kiosk, display) connected and logged in at ``site``."""
        return {s.device for s in self.sessions.values() if s.role == role and s.device and site in s.sites}

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

    def watch_left(self, ticket: Ticket) -> float | None:
        """How long a phone following ``ticket`` is kept: None while the ticket can still
        change, FINISHED_WATCH_SECONDS while it waits for its rating, a moment (for the last
        message to leave) when nothing more can happen to it."""
        if not ticket.state.is_final:
            return None
        rateable = (ticket.state is TicketState.DONE and ticket.rating is None
                    and rateable_until(ticket.day) >= self.today())
        return FINISHED_WATCH_SECONDS if rateable else FINISHED_WATCH_GRACE

    def end_watch_when_done(self, ws: ServerConnection, ticket: Ticket) -> None:
        """Close a watcher once its ticket has nothing more to tell it (see ``watch_left``):
        a finished ticket's phone does not hold a connection for the rest of the day."""
        session = self.sessions.get(ws)
        delay = self.watch_left(ticket)
        if session is None or delay is None:
            return
        loop = asyncio.get_running_loop()
        if session.watch_end is not None:
            if session.watch_end.when() <= loop.time() + delay:
                return
            session.watch_end.cancel()
        session.watch_end = loop.call_later(delay, self.close_soon, ws, 1000, "ticket finished")

    # -- sending ------------------------------------------------------------------------------

    def send_soon(self, ws: ServerConnection, message: Any) -> None:
        """``send`` in the background (from code that must not wait for a slow reader)."""
        task = asyncio.ensure_future(self.send(ws, message))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def send(self, ws: ServerConnection, message: Any) -> None:
        data = p.encode(message)
        transport = ws.transport
        if transport is not None and transport.get_write_buffer_size() < SEND_NOW_BELOW:
            broadcast((ws,), data, text=True)  # written now: no lock, no drain to await
            return
        with contextlib.suppress(ConnectionClosed):  # a slow reader: wait for its buffer
            await ws.send(data, text=True)
