"""From a websocket message to its handler: decode, check the sender may, call, reply.

``Dispatcher.table`` maps every client message type to one handler; a test checks that it
covers the protocol exactly. A handler gets the connection, its session and the decoded
message, and returns the reply (or None when it sent its own).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected
from server.access import COUNTER_COMMANDS, PAIRING, PERMISSIONS, PUBLIC_TYPES, UNAUTHENTICATED
from server.connections import Connections, Session, error_message

log = logging.getLogger(__name__)

Handler = Callable[[ServerConnection, Session, Any], Awaitable[Any]]


class Dispatcher:
    def __init__(self, connections: Connections, max_message_bytes: int, table: dict[str, Handler]) -> None:
        missing = set(p.CLIENT_TYPES) ^ set(table)
        assert not missing, f"message types without a handler (or handlers without a type): {missing}"
        self.connections = connections
        self.max_message_bytes = max_message_bytes
        self.table = table

    async def dispatch(self, ws: ServerConnection, session: Session, raw: str | bytes) -> None:
        send = self.connections.send
        if isinstance(raw, bytes):
            error = Rejected("bad_message", detail="binary frames are not accepted; send JSON text")
            await send(ws, error_message(None, error))
            return
        try:
            message = p.decode_client(raw, self.max_message_bytes)
        except p.ProtocolError as exc:
            error = Rejected(exc.code, detail=exc.detail[:200])
            await send(ws, error_message(exc.request_id, error))
            return
        kind = str(type(message).__struct_config__.tag)
        request_id = message.id
        try:
            check_allowed(kind, session)
            reply = await self.table[kind](ws, session, message)
        except Rejected as exc:
            await send(ws, error_message(request_id, exc))
            return
        except Exception:
            log.exception("handler for %s failed", kind)
            await send(ws, error_message(request_id, Rejected("internal")))
            return
        if reply is not None:
            await send(ws, reply)


LOGIN_TYPES = frozenset({"login", "login_device", "watch_ticket", "web_login", "pair_request"})


def check_allowed(kind: str, session: Session) -> None:
    """Raise the reason ``session`` may not send a ``kind`` message now, if any."""
    if session.public_path and kind not in PUBLIC_TYPES:
        raise Rejected("public_endpoint")
    role = UNAUTHENTICATED if session.role == PAIRING else session.role
    if role not in PERMISSIONS[kind]:
        raise Rejected("not_authenticated" if role == UNAUTHENTICATED else (
            "already_authenticated" if kind in LOGIN_TYPES else "forbidden"))
    if session.password_change and kind not in ("change_password", "logout", "ping"):
        raise Rejected("password_change_required")
    if kind in COUNTER_COMMANDS and session.role == "clerk" and session.counter is None:
        raise Rejected("no_counter_selected")
