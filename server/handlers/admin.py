"""Administration over the websocket: a manager reads the settings they may change and sends
typed changes (``read_settings``, ``admin_change``); anyone logged in changes their own
password (``change_password``). The changes go through the single writer
(server/settings.py), so they are ordered with the queue's commands, durable and audited."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from common import protocol as p
from common.api_key_config import key_hash
from common.errors import Rejected
from common.passwords import verify_password
from server.admin_changes import MIN_PASSWORD, fingerprints, public_view
from server.api.key_changes import NewKey
from server.api.keys import new_api_key
from server.outbox import state as outbox_state

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from common.config import User
    from server.connections import Session
    from server.handlers.logins import Logins
    from server.service import Service

audit = logging.getLogger("xephang.audit")


class AdminRequests:
    def __init__(self, service: Service, logins: Logins) -> None:
        self.service = service
        self.logins = logins

    def _user(self, session: Session) -> User:
        user = self.service.config.user(session.username or "")
        if user is None or user.disabled:
            raise Rejected("forbidden")
        return user

    async def read_settings(self, ws: ServerConnection, session: Session, m: p.ReadSettings) -> p.Settings:
        user = self._user(session)
        config = self.service.config
        return p.Settings(re=m.id, version=self.service.settings.version, config=public_view(config, user),
                          fingerprints=fingerprints(config, user))

    async def admin_change(self, ws: ServerConnection, session: Session, m: p.AdminChange) -> p.Result:
        user = self._user(session)
        key = new_api_key() if isinstance(m.change, p.ApiKeyChange) and m.base is None else None
        new_key = NewKey(key_hash(key), self.service.clock()) if key else None
        version = await self.service.settings.change(m.change, m.base, user, new_key=new_key)
        return p.Result(re=m.id, version=version, api_key=key)

    async def webhook_replay(self, ws: ServerConnection, session: Session, m: p.WebhookReplay) -> p.Result:
        """A replay request row in outbox.sqlite, for the outbox process (server/outbox/)."""
        user = self._user(session)
        if not user.administrator:
            raise Rejected("forbidden")
        if not any(h.id == m.webhook for h in self.service.config.webhooks):
            raise Rejected("unknown_webhook", webhook=m.webhook)
        if m.seq < 1:
            raise Rejected("bad_message", detail="seq must be at least 1")
        path = outbox_state.path_beside(self.service.store.path)
        await asyncio.get_running_loop().run_in_executor(
            None, _request_replay, path, m.webhook, m.seq, m.single, user.username)
        audit.info("webhook %s: %s event %d requested by %s", m.webhook,
                   "resend of" if m.single else "replay from", m.seq, user.username)
        return p.Result(re=m.id)

    async def change_password(self, ws: ServerConnection, session: Session, m: p.ChangePassword) -> None:
        service = self.service
        user = self._user(session)
        verify = functools.partial(verify_password, m.old_password[:1024], user.password_hash)
        if not await service.login_guard.check(user.username, session.remote, verify):
            audit.warning("password change of %s from %s refused: wrong password", user.username,
                          session.remote)
            raise Rejected("bad_credentials")
        new = m.new_password[:1024]
        if len(new) < MIN_PASSWORD:
            raise Rejected("password_too_short", minimum=MIN_PASSWORD)
        if new == m.old_password:
            raise Rejected("password_unchanged")
        await service.settings.own_password(user.username, new)
        changed = service.config.user(user.username)
        assert changed is not None
        await self.logins.welcome_user(ws, session, changed, m.id)


def _request_replay(path: Path, webhook: str, seq: int, single: bool, by: str) -> None:
    conn = outbox_state.open_state(path)
    try:
        outbox_state.request_replay(conn, outbox_state.webhook_key(webhook), seq, single=single, by=by)
    finally:
        conn.close()
