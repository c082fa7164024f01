"""The handlers of the client messages, one group per kind of client, and the table that
maps every message type to its handler (``dispatcher``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.handlers.admin import AdminRequests
from server.handlers.booking import BookingRequests
from server.handlers.counter import CounterRequests
from server.handlers.dispatch import Dispatcher, Handler
from server.handlers.kiosk import KioskRequests
from server.handlers.logins import Logins
from server.handlers.notify import NotifyRequests
from server.handlers.watching import Watching

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from common import protocol as p
    from server.connections import Session
    from server.service import Service


def dispatcher(service: Service) -> Dispatcher:
    logins, kiosk = Logins(service), KioskRequests(service)
    counter, watching = CounterRequests(service), Watching(service)
    notify = NotifyRequests(service)
    admin = AdminRequests(service, logins)

    async def rate(ws: ServerConnection, session: Session, m: p.Rate) -> Any:
        """From the phone that follows the ticket, or from a counter's rating window."""
        return await (watching.rate if session.role == "watcher" else counter.rate)(ws, session, m)

    table: dict[str, Handler] = {
        "login_device": logins.login_device, "login": logins.login, "logout": logins.logout,
        "ping": logins.ping, "pair_request": logins.pair_request, "web_login": logins.web_login,
        "issue_ticket": kiosk.issue_ticket, "printer_status": kiosk.printer_status,
        "watch_ticket": watching.watch_ticket, "rate": rate,
        "notify_subscribe": notify.subscribe, "notify_unsubscribe": notify.unsubscribe,
        "read_settings": admin.read_settings, "admin_change": admin.admin_change,
        "change_password": admin.change_password, "webhook_replay": admin.webhook_replay,
        **counter.table(),
        **BookingRequests(service, kiosk.tokens, kiosk.issue_allowed).table(),
    }
    return Dispatcher(service.connections, service.config.server.max_message_bytes, table)
