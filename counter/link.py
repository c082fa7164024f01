"""The counter app's connection: a ``QtConnection`` whose login is the clerk's.

``authenticate`` runs after every (re)connect on the websocket thread: it logs in with
the credentials held in memory and, once the clerk has chosen a counter, selects it
again, so a dropped link or a restarted server comes back to the same screen by itself —
unless another clerk opened that counter meanwhile (then the clerk chooses again), or the
password was reset (the clerk chooses a new one first). A server that closes the link
because the account was disabled (1008 "account disabled") is not called again: the state
goes back to the login form with that message. Everything is reported to the state on the
Qt thread. A new ``start`` builds a new
connection; messages from a stopped one are ignored.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from common import protocol as p
from common.client import ClientError, Connection, Offline, RequestFailed
from common.errors import Rejected
from common.qt_bridge import QtBridge
from common.qt_client import QtConnection
from counter.credentials import Credentials, resolve_counter

log = logging.getLogger(__name__)

ACCOUNT_CLOSED = (1008, "account disabled")  # how the server ends a disabled user's sessions


class ServerLink(QObject):
    message = Signal(object)
    status_changed = Signal(str, str)
    auth_failed = Signal(object)  # ClientError: the login was refused
    select_failed = Signal(object)  # ClientError: the counter could not be reopened
    account_closed = Signal(str)  # the server closed the link for good (the account was disabled)

    def __init__(self, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.url = url
        self.connection: QtConnection | None = None
        self.generation = 0
        self._bridge = QtBridge(self)  # authenticate runs on the websocket thread

    def start(self, credentials: Callable[[], Credentials | None]) -> None:
        self.stop()
        self.generation += 1
        generation = self.generation

        async def authenticate(conn: Connection) -> None:
            creds = credentials()
            if creds is None:
                raise ClientError("no credentials")
            try:
                welcome = await conn.request(p.Login(v=p.PROTOCOL_VERSION, username=creds.username,
                                                     password=creds.password))
            except RequestFailed as exc:
                if exc.code == "login_busy":  # password checks take turns: try again shortly
                    raise Offline("the server is busy checking logins") from exc
                self._report(generation, self.auth_failed, exc)
                raise
            if creds.counter is None or not isinstance(welcome, p.Welcome) or welcome.must_change_password:
                return
            choice = resolve_counter(welcome.counters, creds.site, creds.counter)
            held_by = choice.clerk if choice is not None and choice.status != "closed" else None
            if held_by is not None and choice is not None and held_by != creds.username:
                # Taken over while this PC was offline: do not take it back from its new clerk.
                taken = Rejected("counter_taken", counter=choice.number, clerk=held_by)
                refusal = RequestFailed(p.Error(
                    code=taken.code, message_vi=taken.message_vi, message_en=taken.message_en,
                    details={"counter": choice.number, "clerk": held_by}))
                self._report(generation, self.select_failed, refusal)
                return
            site = choice.site if choice else creds.site or ""
            try:
                await conn.request(p.SelectCounter(site=site, counter=creds.counter))
            except RequestFailed as exc:  # stay logged in; the clerk chooses again
                self._report(generation, self.select_failed, exc)

        def closed(code: int | None, reason: str) -> bool:
            if code == ACCOUNT_CLOSED[0] and reason == ACCOUNT_CLOSED[1]:
                self._bridge.post(functools.partial(self._relay, generation, self.account_closed, reason))
                return True  # logging in again would only be refused
            return False

        connection = QtConnection(self.url, authenticate, parent=self, on_closed=closed)
        connection.message.connect(lambda m: self._relay(generation, self.message, m))
        connection.status_changed.connect(
            lambda s, d: generation == self.generation and self.status_changed.emit(s, d))
        self.connection = connection
        connection.start()

    def _relay(self, generation: int, signal: Any, value: Any) -> None:
        if generation == self.generation:
            signal.emit(value)

    def _report(self, generation: int, signal: Any, error: ClientError) -> None:
        """From the websocket thread: ``signal(error)`` on the Qt thread, unless stopped since."""
        self._bridge.post(functools.partial(self._relay, generation, signal, error))

    def stop(self, timeout: float = 0.0) -> None:
        """Stop the current connection; by default without waiting (the UI never blocks)."""
        connection, self.connection = self.connection, None
        self.generation += 1
        if connection is not None:
            connection.stop(timeout)

    def request(self, message: p.ClientMessage, on_result=None, on_error=None) -> None:
        if self.connection is None:
            if on_error:
                on_error(ClientError("not connected"))
            return
        self.connection.request(message, on_result, on_error)
