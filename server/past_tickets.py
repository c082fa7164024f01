"""Tickets of earlier days, which the day's state no longer holds: found by token in the
database, shown as they ended, and rateable for ``PAST_RATING_DAYS`` (the ticket page and
``watch_ticket``; rating one: server/handlers/watching.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec

from common import protocol as p
from server import wire
from server.core.model import Ticket
from server.core.rules import rateable_until
from server.login_guard import address_key

if TYPE_CHECKING:
    from server.service import Service

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # the shape of a ticket token (worth a lookup)


async def find(service: Service, token: str, remote: str | None) -> Ticket | None:
    """The ticket of an earlier day with ``token``, if its site and service still exist.
    From a websocket (``remote``), a miss counts against the address, which once
    throttled gets no more lookups."""
    keys = [address_key(remote)] if remote is not None else []
    ticket = None
    throttle = service.login_guard.addresses
    if TOKEN.match(token) and not throttle.retry_after(keys):
        ticket = await service.run_db(service.store.ticket_with_token, token)
    state = service.states.get(ticket.site) if ticket else None
    if ticket is None or state is None or ticket.day >= state.day:
        throttle.failed(keys)
        return None
    found = state.rules.site.service(ticket.service)
    return ticket if found is not None else None


def status(service: Service, ticket: Ticket) -> p.TicketStatus:
    """A ticket of an earlier day as it ended; the rating scale only while it can be rated
    (or to name the level given)."""
    state = service.states[ticket.site]
    shown = wire.ticket_status(service.config, state, ticket, ahead=0, estimate=lambda *_: None)
    if ticket.rating is None and rateable_until(ticket.day) < service.today():
        shown = msgspec.structs.replace(shown, rating=[])
    return shown
