"""Run a ``Connection`` on a background asyncio thread and talk to it from Qt.

Everything the connection reports is delivered on the Qt thread: messages and status
changes through queued signals, request results through the apps' one thread-to-Qt bridge
(``common/qt_bridge.py``). So app state objects never see a second thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from common import protocol as p
from common.client import ClientError, Connection, Status
from common.qt_bridge import QtBridge

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


def device_login(token: str) -> Callable[[Connection], Awaitable[None]]:
    """A kiosk's or a display's ``authenticate``: log in with its device token after every connect."""

    async def authenticate(connection: Connection) -> None:
        await connection.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=token))

    return authenticate


class QtConnection(QObject):
    """Qt-side handle of a websocket connection running on its own thread."""

    message = Signal(object)  # a protocol ServerMessage
    status_changed = Signal(str, str)  # status, detail

    def __init__(self, url: str, authenticate: Callable[[Connection], Awaitable[None]],
                 parent: QObject | None = None, *,
                 on_closed: Callable[[int | None, str], bool] | None = None) -> None:
        """``on_closed`` runs on the websocket thread (see ``Connection``)."""
        super().__init__(parent)
        self._bridge = QtBridge(self)
        self.status: Status = "connecting"
        self._loop = asyncio.new_event_loop()
        self.connection = Connection(
            url, authenticate, on_message=self.message.emit, on_status=self._status, on_closed=on_closed,
        )
        self._thread = threading.Thread(target=self._run, name="websocket", daemon=True)
        self._started = False

    def _status(self, status: Status, detail: str) -> None:
        self.status = status
        self.status_changed.emit(status, detail)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.connection.run())
        except Exception:
            log.exception("websocket thread crashed")
        finally:
            self._loop.close()

    def request(self, message: p.ClientMessage, on_result: Callback | None = None,
                on_error: Callback | None = None) -> None:
        """Send a request; ``on_result(reply)`` or ``on_error(ClientError)`` runs on the Qt thread."""
        if not self._started or self._loop.is_closed():
            if on_error:
                on_error(ClientError("not started"))
            return

        async def send() -> None:
            try:
                reply = await self.connection.request(message)
            except ClientError as exc:
                if on_error:
                    self._bridge.deliver(on_error, exc)
                return
            if on_result:
                self._bridge.deliver(on_result, reply)

        asyncio.run_coroutine_threadsafe(send(), self._loop)

    def stop(self, timeout: float = 3.0) -> None:
        if not self._started or self._loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(self.connection.stop(), self._loop)
        with contextlib.suppress(Exception):  # already stopping or the loop is gone
            future.result(timeout)
        self._thread.join(timeout)
