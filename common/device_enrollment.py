"""A kiosk's or display's login when it keeps its own credential file (issue 13).

``DeviceEnrollment`` is the device's ``authenticate`` and the wiring of its pairing:

- with a credential, every (re)connect logs in with its token (``login_device``);
- with none, the connection stays anonymous and ``PairingState`` asks for a code
  (``ping`` for the server's clock, then ``pair_request``: the code's lifetime is
  ``expires_at`` less the server's time, so this machine's clock does not matter);
- on ``paired`` the credential is written to its file (``common/device_credential.py``) and
  the device logs in with it on the same connection; the ``welcome`` ends the pairing;
- if the server answers ``bad_token`` (the device was revoked, or removed from the
  settings), the file is removed and the device shows a new code, saying why.

``authenticate`` runs on the websocket thread; everything else on the Qt thread (results come
back through the ``QtBridge``), so ``PairingState`` never sees a second thread.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import QObject

from common import device_credential
from common import protocol as p
from common.client import ClientError, Connection, RequestFailed
from common.clock import Monotonic, monotonic
from common.device_credential import DeviceCredential, Kind
from common.pairing_state import PairingState
from common.qt_bridge import QtBridge
from common.qt_client import QtConnection

log = logging.getLogger(__name__)


class DeviceEnrollment(QObject):
    def __init__(self, kind: Kind, path: Path, credential: DeviceCredential | None = None, *,
                 clock: Monotonic = monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.path = path
        self.credential = credential
        self.state = PairingState(kind=kind, paired=credential is not None, request_code=self.request_code,
                                  clock=clock)
        self.connection: QtConnection | None = None
        self._bridge = QtBridge(self)

    def attach(self, connection: QtConnection) -> None:
        """Follow ``connection`` (built with ``self.authenticate``)."""
        self.connection = connection
        connection.message.connect(self.on_message)
        connection.status_changed.connect(self.state.on_status)

    # -- on the websocket thread ------------------------------------------------------------

    async def authenticate(self, connection: Connection) -> None:
        credential = self.credential
        if credential is None:
            return  # anonymous: the pairing state asks for a code once online
        try:
            await connection.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=credential.token))
        except RequestFailed as exc:
            if exc.code != "bad_token":
                raise
            log.warning("the server no longer knows %s %s: pairing again", self.kind, credential.device)
            self._bridge.post(functools.partial(self._revoked, credential))

    # -- on the Qt thread -------------------------------------------------------------------

    def request_code(self, attempt: int) -> None:
        connection = self.connection
        if connection is None:
            return
        failed = functools.partial(self.state.on_code_failed, attempt)

        def clock_read(pong: p.ServerMessage) -> None:
            if not isinstance(pong, p.Pong):
                return
            connection.request(p.PairRequest(v=p.PROTOCOL_VERSION, kind=self.kind),
                               functools.partial(self._code, attempt, pong), failed)

        connection.request(p.Ping(), clock_read, failed)

    def _code(self, attempt: int, pong: p.Pong, reply: p.ServerMessage) -> None:
        if isinstance(reply, p.Pairing):
            lifetime = (reply.expires_at - pong.server_time).total_seconds()
            log.info("pairing code %s (for %.0f s)", reply.code, lifetime)
            self.state.on_code(attempt, reply.code, lifetime)

    def on_message(self, message: p.ServerMessage) -> None:
        if isinstance(message, p.Paired):
            self._paired(message)
        elif isinstance(message, p.Welcome) and self.credential is not None:
            self.state.on_logged_in(message.device)

    def _paired(self, message: p.Paired) -> None:
        connection = self.connection
        if connection is None or self.credential is not None:
            return
        device = message.device
        credential = DeviceCredential(server=connection.connection.url, kind=self.kind, device=device.id,
                                      site=device.site, token=message.token)
        try:
            device_credential.save(self.path, credential)
        except OSError as exc:  # it works until it restarts; then it must be paired again
            log.error("cannot keep the credential of %s in %s: %s", device.id, self.path, exc)
        else:
            log.info("paired as %s %s at %s; credential kept in %s", self.kind, device.id, device.site,
                     self.path)
        self.credential = credential
        self.state.on_paired(device)
        connection.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=message.token),
                           on_error=functools.partial(self._login_failed, credential))

    def _login_failed(self, credential: DeviceCredential, error: ClientError) -> None:
        """Offline: the reconnect logs in. Refused: revoked already, pair again."""
        if isinstance(error, RequestFailed) and error.code == "bad_token":
            self._revoked(credential)

    def _revoked(self, credential: DeviceCredential) -> None:
        if self.credential is not credential:
            return
        self.credential = None
        try:
            device_credential.remove(self.path)
        except OSError as exc:
            log.error("cannot remove the revoked credential %s: %s", self.path, exc)
        self.state.on_revoked()
