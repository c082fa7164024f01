"""A manager's administration session over the websocket protocol, for ``xephang admin``.

The same messages as the administration pages: ``login`` (as the manager pages' login:
no site snapshots), ``read_settings``, and ``admin_change`` made against the thing's
fingerprint read just before (``base``), so a change someone else made meanwhile is
refused as stale instead of overwritten. A refusal raises ``RequestFailed`` with the
server's code and its Vietnamese and English messages; a link that cannot be made or is
lost raises ``Offline``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from websockets import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.asyncio.client import ClientConnection, connect

from common import protocol as p
from common.client import Offline, RequestFailed
from common.errors import Rejected
from server.admin_changes import thing_key

TIMEOUT = 30.0  # a new user's password is hashed on the server before the reply


class AdminSession:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def request(self, message: p.ClientMessage) -> p.ServerMessage:
        """Send with a fresh id; its reply (pushed messages in between are skipped)."""
        request_id = f"admin{next(self.ids)}"
        try:
            await self.ws.send(p.encode(msgspec.structs.replace(message, id=request_id)).decode())
            while True:
                reply = p.decode_server(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
                if getattr(reply, "re", None) == request_id:
                    break
        except ConnectionClosed as exc:
            raise Offline(f"the server closed the connection ({exc.rcvd.reason if exc.rcvd else 'no reason'})"
                          ) from exc
        except TimeoutError as exc:
            raise Offline("no answer from the server") from exc
        if isinstance(reply, p.Error):
            raise RequestFailed(reply)
        return reply

    async def login(self, username: str, password: str, *, web_session: bool = True) -> p.Welcome:
        """``web_session``: a manager's administration session (managers only); without it a
        clerk may log in too (the reception desk's xephang book / checkin)."""
        welcome = await self.request(p.Login(v=p.PROTOCOL_VERSION, username=username, password=password,
                                             web_session=web_session))
        assert isinstance(welcome, p.Welcome)
        if welcome.must_change_password:  # a reset password: the pages ask for a new one first
            raise Rejected("password_change_required")
        return welcome

    async def settings(self) -> p.Settings:
        settings = await self.request(p.ReadSettings())
        assert isinstance(settings, p.Settings)
        return settings

    async def change(self, change: p.Change) -> int:
        """Make ``change`` against its thing as it is now; the settings version it made."""
        current = await self.settings()
        new = isinstance(change, p.DeviceApproval)  # a pairing adds a device: nothing to be based on
        base = None if new else current.fingerprints.get(thing_key(change))
        result = await self.request(p.AdminChange(change=change, base=base))
        assert isinstance(result, p.Result) and result.version is not None
        return result.version


@asynccontextmanager
async def admin_session(url: str, username: str, password: str, *,
                        web_session: bool = True) -> AsyncIterator[AdminSession]:
    """A logged-in session; Offline if the server cannot be reached, RequestFailed if the
    login is refused (a wrong password, not a manager)."""
    try:
        ws = await connect(url, open_timeout=10, close_timeout=2, max_size=None)
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise Offline(f"cannot reach the server at {url}: {exc or type(exc).__name__}") from exc
    except InvalidURI as exc:
        raise Offline(f"bad server address {url}: {exc}") from exc
    try:
        session = AdminSession(ws)
        await session.login(username, password, web_session=web_session)
        yield session
    finally:
        await ws.close()
