"""A citizen's phone following its ticket (``watch_ticket``) and rating it (``rate``):
today's tickets through the rules, an earlier day's straight to the store."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected
from server import past_tickets, wire
from server.core import commands as c
from server.core import events as ev
from server.core.model import Ticket
from server.core.rules import past_rating
from server.handlers.logins import check_version

if TYPE_CHECKING:
    from server.connections import Session
    from server.service import Service

# Phones (or tabs) following one ticket at once. A ticket's QR code is a credential anyone
# who sees the paper has; without a bound, one token could hold thousands of connections,
# each pushed every change of the queue (3,000 of them made every issue 20x slower).
MAX_WATCHERS_PER_TICKET = 5


class Watching:
    def __init__(self, service: Service) -> None:
        self.service = service

    async def watch_ticket(self, ws: ServerConnection, session: Session, m: p.WatchTicket) -> None:
        check_version(m.v)
        service = self.service
        connections = service.connections
        ticket = service.today_ticket(m.token)
        past = None
        if ticket is None:  # not today's: a ticket of an earlier day is shown as it ended
            past = ticket = await past_tickets.find(service, m.token, session.remote)
            if ticket is None:
                raise Rejected("ticket_not_found", number="?")
        session.role, session.sites, session.ticket_id = "watcher", (ticket.site,), ticket.id
        # Today's or an earlier day's: the same bound on the phones following one ticket.
        watchers = connections.watchers(ticket.site, ticket.id)
        if len(watchers) >= MAX_WATCHERS_PER_TICKET:  # the oldest gives way
            in_order = (c for c in connections.sessions if c in watchers)  # sessions: connection order
            oldest = next(in_order, None) or next(iter(watchers))
            watchers.discard(oldest)
            connections.close_soon(oldest, 1008, "followed on another device")
        watchers.add(ws)
        await connections.send(ws, p.Welcome(re=m.id, role="watcher", server_time=service.clock()))
        state = service.states[ticket.site]
        status = (past_tickets.status(service, ticket) if past
                  else wire.ticket_status(service.config, state, ticket))
        await connections.send(ws, status)
        connections.end_watch_when_done(ws, ticket)  # a finished ticket's phone is let go

    async def rate(self, ws: ServerConnection, session: Session, m: p.Rate) -> p.Result:
        """The watcher rates the ticket it follows (``ticket_id``, if given, must be it)."""
        site, ticket_id = session.site, session.ticket_id
        assert site is not None and ticket_id is not None
        if m.ticket_id is not None and m.ticket_id != ticket_id:
            raise Rejected("forbidden")
        rated = await self._rate(site, ticket_id, m.value, session.actor)
        self.service.connections.end_watch_when_done(ws, rated)  # rated: nothing more to hear
        return p.Result(re=m.id, ticket=wire.public_ticket_view(rated))

    async def _rate(self, site: str, ticket_id: str, value: int, actor: str) -> Ticket:
        service = self.service
        for _ in range(2):  # twice only if midnight passed between the check and the rules
            today = service.today()
            if service.states[site].day < today:  # the ticker has not rolled the day over yet
                await service.submit(site, c.RollOver(actor="system", day=today))
            state = service.states[site]
            if ticket_id not in state.tickets:  # an earlier day's: the writer never touches it again
                command = c.RateTicket(actor=actor, ticket_id=ticket_id, value=value)
                rule = functools.partial(past_rating, command=command, rules=state.rules, now=service.clock())
                return await service.run_db(service.store.rate_past_ticket, site, ticket_id, state.day, rule)
            try:
                command = c.RateTicket(actor=actor, ticket_id=ticket_id, value=value)
                outcome = await service.submit(site, command)
            except Rejected as exc:
                if exc.code != "ticket_not_found":
                    raise
                continue
            return next(e.ticket for e in outcome.events if isinstance(e, ev.TicketRated))
        raise Rejected("ticket_not_found", number="?")
