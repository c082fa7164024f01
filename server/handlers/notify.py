"""A ticket page asking to be told when its turn is near and when it is called (issue 16):
``notify_subscribe`` / ``notify_unsubscribe`` from the phone that watches the ticket.

The opt-in is written to ``outbox.sqlite`` (server/outbox/notify_store.py), never to the
queue's database: the outbox process reads it there and sends (server/outbox/notify.py). A
push endpoint is accepted only on a push service the settings list (the outbox must not be
made to POST anywhere a page says); a phone must be a Vietnamese mobile number.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected
from server.outbox import notify_store, state
from server.outbox.channels import push_endpoint_allowed
from server.outbox.notify_texts import phone_number

if TYPE_CHECKING:
    import sqlite3

    from server.connections import Session
    from server.service import Service

class NotifyRequests:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one statement at a time on the shared connection

    async def subscribe(self, ws: ServerConnection, session: Session, m: p.NotifySubscribe) -> p.Result:
        service = self.service
        site, ticket_id = session.site, session.ticket_id
        assert site is not None and ticket_id is not None
        if m.channel not in service.config.notifications.channels():
            raise Rejected("notify_channel_off", channel=m.channel)
        ticket = service.states[site].tickets.get(ticket_id)
        if ticket is None or ticket.state.is_final:  # an earlier day's, or over
            raise Rejected("notify_ticket_over")
        target = self._target(m)
        optin = notify_store.OptIn(ticket_id, m.channel, target, site, ticket.day, m.language)
        await self._run(notify_store.subscribe, optin, service.clock())
        return p.Result(re=m.id)

    async def unsubscribe(self, ws: ServerConnection, session: Session, m: p.NotifyUnsubscribe) -> p.Result:
        ticket_id = session.ticket_id
        assert ticket_id is not None
        await self._run(notify_store.unsubscribe, ticket_id, m.channel)
        return p.Result(re=m.id)

    def _target(self, m: p.NotifySubscribe) -> str:
        if m.channel != "webpush":
            phone = phone_number(m.phone or "")
            if phone is None:
                raise Rejected("notify_bad_phone")
            return phone
        s = m.subscription
        if s is None:
            raise Rejected("notify_bad_subscription", detail="subscription")
        if len(s.endpoint) > 1024 or not push_endpoint_allowed(
                s.endpoint, self.service.config.notifications.webpush.push_services):
            raise Rejected("notify_bad_subscription", detail="endpoint")
        key, auth = _b64url(s.keys.p256dh), _b64url(s.keys.auth)
        if key is None or len(key) != 65 or key[0] != 4:
            raise Rejected("notify_bad_subscription", detail="p256dh")
        if auth is None or len(auth) != 16:
            raise Rejected("notify_bad_subscription", detail="auth")
        return json.dumps({"endpoint": s.endpoint, "keys": {"p256dh": s.keys.p256dh, "auth": s.keys.auth}})

    async def _run(self, fn: Callable[..., object], *args: object) -> None:
        def locked() -> None:
            with self._lock:
                if self._conn is None:
                    self._conn = notify_store.open_notify(state.path_beside(self.service.store.path))
                fn(self._conn, *args)

        await asyncio.to_thread(locked)


def _b64url(text: str) -> bytes | None:
    if len(text) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
