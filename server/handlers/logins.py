"""Logging in and out: devices by token, staff by password (``login_device``, ``login``,
``logout``), and ``ping``. Every login, failure and refusal leaves an audit line."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.config import Config, Display, Kiosk, Site, User
from common.errors import Rejected
from common.passwords import verify_password
from server import wire
from server.access import PAIRING, UNAUTHENTICATED
from server.core import commands as c
from server.handlers.counter import counter_choices
from server.handlers.snapshot import snapshot
from server.login_guard import address_key
from server.pairing import CODE_SECONDS, PairingBusy

if TYPE_CHECKING:
    from server.connections import Session
    from server.service import Service

audit = logging.getLogger("xephang.audit")  # who logged in, who failed: never a secret

# A valid hash of a random password: verifying against it costs the same as a real user,
# so response times do not reveal which usernames exist.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
)


def check_version(v: int) -> None:
    if v != p.PROTOCOL_VERSION:
        raise Rejected("unsupported_version")


class Logins:
    @property
    def config(self) -> Config:
        """The live configuration (settings change while the server runs)."""
        return self.service.config

    def __init__(self, service: Service) -> None:
        self.service = service

    async def login_device(self, ws: ServerConnection, session: Session, m: p.LoginDevice) -> None:
        check_version(m.v)
        keys = [address_key(session.remote)]
        throttle = self.service.login_guard.addresses
        wait = throttle.retry_after(keys)
        if wait:
            audit.warning("device login refused from %s: address locked for %d s", session.remote, wait)
            raise Rejected("throttled", seconds=wait)
        for site in self.config.sites:
            devices: list[Kiosk | Display] = [*site.kiosks, *site.displays]
            for device in devices:
                if device.token == m.token:
                    audit.info("device %s (%s) logged in from %s", device.id,
                               "kiosk" if isinstance(device, Kiosk) else "display", session.remote)
                    return await self._welcome_device(ws, session, m, site, device)
        throttle.failed(keys)
        audit.warning("bad device token from %s", session.remote)
        raise Rejected("bad_token")

    async def _welcome_device(self, ws: ServerConnection, session: Session, m: p.LoginDevice,
                              site: Site, device: Kiosk | Display) -> None:
        service = self.service
        kind: Literal["kiosk", "display"] = "kiosk" if isinstance(device, Kiosk) else "display"
        session.role, session.device, session.sites = kind, device.id, (site.code,)
        if isinstance(device, Kiosk):
            service.connections.join_kiosks(ws, site.code)
        else:
            service.connections.join_staff(ws, site.code)
        view = wire.device_view(site, device)
        await service.connections.send(ws, p.Welcome(
            re=m.id, role=kind, server_time=service.clock(), device=view))
        if kind == "kiosk":
            await service.run_db(service.store.record_device, device.id, site.code, kind, None, None,
                                 service.clock())
        await service.connections.send(ws, snapshot(service, site.code, session))

    async def login(self, ws: ServerConnection, session: Session, m: p.Login) -> None:
        check_version(m.v)
        service = self.service
        name = m.username[:64]
        user = self.config.user(m.username)
        # An unknown name is not written to the log: it is often a password typed one field early.
        shown = repr(name) if user is not None else "an unknown username"
        verify = functools.partial(verify_password, m.password[:1024],
                                   user.password_hash if user else _DUMMY_HASH)
        try:  # see server.login_guard: throttles, and turns between addresses
            ok = await service.login_guard.check(name, session.remote, verify)
        except Rejected as exc:
            audit.warning("login of %s from %s refused: %s", shown, session.remote, exc.code)
            raise
        if user is None or not ok:
            audit.warning("failed login of %s from %s", shown, session.remote)
            raise Rejected("bad_credentials")
        if user.disabled:
            audit.warning("login of disabled user %s from %s refused", user.username, session.remote)
            raise Rejected("account_disabled")
        if m.web_session and user.role != "manager":  # the manager web pages: managers only
            raise Rejected("forbidden")
        audit.info("%s %s logged in from %s", user.role, user.username, session.remote)
        session.web_session = m.web_session
        if user.must_change_password:  # a reset password: good for choosing a new one only
            session.role, session.username, session.sites = user.role, user.username, ()
            session.password_change = True
            user_view = p.UserView(username=user.username, full_name=user.full_name, role=user.role)
            await service.connections.send(ws, p.Welcome(
                re=m.id, role=user.role, server_time=service.clock(), user=user_view,
                must_change_password=True))
            return
        await self.welcome_user(ws, session, user, m.id)

    async def welcome_user(self, ws: ServerConnection, session: Session, user: User,
                           request_id: p.RequestId, *, snapshots: bool = True) -> None:
        """The welcome of a user whose password was checked (``login``, ``change_password``)."""
        service = self.service
        web_code = None
        if session.web_session:  # the login page: a one-time code for its cookie
            web_code = service.manager_sessions.issue_code(user.username)
            audit.info("manager web session code issued to %s at %s", user.username, session.remote)
        sites = tuple(s.code for s in self.config.sites if not user.sites or s.code in user.sites)
        role: p.Role = user.role
        session.role, session.username, session.sites = user.role, user.username, sites
        session.password_change = False
        user_view = p.UserView(username=user.username, full_name=user.full_name, role=user.role)
        welcome = p.Welcome(
            re=request_id, role=role, server_time=service.clock(), user=user_view,
            counters=counter_choices(service, user) if user.role == "clerk" else [],
            web_code=web_code,
        )
        await service.connections.send(ws, welcome)
        if user.role == "manager" and snapshots and not session.web_session:  # the login page: its code only
            for code in sites:
                service.connections.join_staff(ws, code)
                await service.connections.send(ws, snapshot(service, code, session))

    async def logout(self, ws: ServerConnection, session: Session, m: p.Logout) -> p.Result:
        service = self.service
        if session.role == "clerk" and session.counter is not None and session.site:
            counter = service.states[session.site].counters[session.counter]
            if counter.active_ticket is None and counter.clerk == session.username:
                await service.submit(
                    session.site, c.CloseCounter(actor=session.actor, counter=session.counter))
        service.connections.forget(ws, session)
        session.role, session.username, session.device = UNAUTHENTICATED, None, None
        session.password_change = session.web_session = False
        session.sites, session.counter, session.ticket_id = (), None, None
        return p.Result(re=m.id)

    async def web_login(self, ws: ServerConnection, session: Session, m: p.WebLogin) -> None:
        """A manager page's websocket, logged in by the page's session cookie."""
        check_version(m.v)
        service = self.service
        headers = ws.request.headers.get_all("Cookie") if ws.request is not None else []
        username = service.manager_sessions.user_of_cookies(headers)
        user = self.config.user(username) if username else None
        if user is None or user.role != "manager" or user.disabled:
            raise Rejected("session_expired")
        session.web_session = False  # no code: the page has its cookie
        await self.welcome_user(ws, session, user, m.id, snapshots=False)

    async def pair_request(self, ws: ServerConnection, session: Session, m: p.PairRequest) -> p.Pairing:
        """A new device asks for a pairing code (server/pairing.py); it keeps the connection
        open until a manager approves the code, and is sent ``paired`` on it."""
        check_version(m.v)
        service = self.service
        try:
            pending = service.pairings.request(m.kind, session.remote, ws)
        except PairingBusy:
            audit.warning("pairing code refused to %s: too many pending", session.remote)
            raise Rejected("pairing_busy") from None
        session.role = PAIRING
        audit.info("pairing code requested by a new %s from %s", m.kind, session.remote)
        expires = service.clock() + timedelta(seconds=CODE_SECONDS)
        return p.Pairing(re=m.id, code=pending.code, expires_at=expires)

    async def ping(self, ws: ServerConnection, session: Session, m: p.Ping) -> Any:
        return p.Pong(re=m.id, server_time=self.service.clock())
