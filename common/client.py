"""The client side of the protocol: one websocket kept open, authenticated and in sync.

``Connection.run()`` connects, calls the app's ``authenticate`` coroutine (which sends its
login and, for a clerk, selects the counter), and then delivers every pushed message
(snapshots, updates, ticket status) to ``on_message``. When the link drops it reports
``offline``, waits with exponential backoff and jitter (capped at 3 s), reconnects and
authenticates again; the server then sends a fresh snapshot, so the client resyncs —
unless the app's ``on_closed(code, reason)`` says the server's close was final (a disabled
account's 1008 "account disabled": trying again cannot help), which stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from typing import Literal

from websockets import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.asyncio.client import ClientConnection, connect

from common import protocol as p
from common.errors import AppError

log = logging.getLogger(__name__)

Status = Literal["connecting", "online", "offline", "rejected"]
BACKOFF_START = 0.2
BACKOFF_MAX = 3.0
REQUEST_TIMEOUT = 10.0


class ClientError(AppError):
    """Root of the errors of the link to the server."""


class Offline(ClientError):
    """The server cannot be reached now; nothing was sent."""


class RequestFailed(ClientError):
    """The server refused a request; ``code`` is stable, the messages are for people."""

    def __init__(self, error: p.Error) -> None:
        self.code, self.message_vi, self.message_en = error.code, error.message_vi, error.message_en
        self.details = error.details
        super().__init__(f"{error.code}: {error.message_en}")


class Connection:
    def __init__(
        self,
        url: str,
        authenticate: Callable[[Connection], Awaitable[None]],
        on_message: Callable[[p.ServerMessage], None],
        on_status: Callable[[Status, str], None] = lambda status, detail: None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        on_closed: Callable[[int | None, str], bool] | None = None,
    ) -> None:
        self.url = url
        self.authenticate = authenticate
        self.on_message = on_message
        self.on_status = on_status
        self.on_closed = on_closed  # the server closed a logged-in link: True stops reconnecting
        self.ssl_context = ssl_context
        self.status: Status = "connecting"
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self.connects = 0

    def _set_status(self, status: Status, detail: str = "") -> None:
        if status != self.status or detail:
            self.status = status
            self.on_status(status, detail)

    async def run(self) -> None:
        """Connect, authenticate and dispatch, forever (until ``stop``)."""
        delay = BACKOFF_START
        while not self._stopping:
            try:
                ssl_arg = self.ssl_context if self.url.startswith("wss:") else None
                async with connect(
                    self.url, max_size=None, open_timeout=5, ping_interval=10, ping_timeout=10,
                    close_timeout=2, ssl=ssl_arg,
                ) as ws:
                    self._ws = ws
                    reader = asyncio.create_task(self._read(ws))
                    try:
                        await self.authenticate(self)
                    except RequestFailed as exc:
                        self._set_status("rejected", exc.message_vi)
                        await ws.close()
                        await reader
                        await asyncio.sleep(BACKOFF_MAX)
                        continue
                    self.connects += 1
                    self._set_status("online")
                    delay = BACKOFF_START
                    await reader
                    if self.on_closed is not None and self.on_closed(ws.close_code, ws.close_reason or ""):
                        self._stopping = True
                        self._set_status("offline")
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, Offline) as exc:
                log.debug("connection to %s failed: %s", self.url, exc)
            except InvalidURI as exc:
                self._set_status("rejected", str(exc))
                return
            finally:
                self._ws = None
                self._fail_pending()
            if self._stopping:
                break
            self._set_status("offline")
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                try:
                    message = p.decode_server(raw)
                except p.ProtocolError as exc:
                    log.warning("ignoring a malformed server message: %s", exc)
                    continue
                reply_to = getattr(message, "re", None)
                future = self._pending.pop(str(reply_to), None) if reply_to is not None else None
                if future is not None and not future.done():
                    if isinstance(message, p.Error):
                        future.set_exception(RequestFailed(message))
                    else:
                        future.set_result(message)
                    if isinstance(message, p.Welcome):
                        self.on_message(message)
                    continue
                self.on_message(message)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(Offline("connection lost"))
        self._pending.clear()

    async def request(self, message: p.ClientMessage, timeout: float = REQUEST_TIMEOUT) -> p.ServerMessage:
        """Send ``message`` with a fresh id and wait for its reply (Result, Welcome, Pong)."""
        ws = self._ws
        if ws is None:
            raise Offline("not connected")
        request_id = f"r{next(self._ids)}"
        message = _with_id(message, request_id)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await ws.send(p.encode(message).decode())
            return await asyncio.wait_for(future, timeout)
        except ConnectionClosed as exc:
            raise Offline("connection lost") from exc
        except TimeoutError as exc:
            raise Offline("no answer from the server") from exc
        finally:
            self._pending.pop(request_id, None)

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()


def _with_id(message: p.ClientMessage, request_id: str) -> p.ClientMessage:
    import msgspec

    return msgspec.structs.replace(message, id=request_id)
