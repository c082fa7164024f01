"""A clerk at a counter: choosing a counter, then the counter commands.

``COMMANDS`` maps each counter request of the wire protocol to the core command it
becomes (with the acting clerk and their counter); one handler submits them all. Opening a
counter another clerk had open tells that clerk's connections (``counter_taken_over``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.config import Config, User
from common.errors import Rejected
from server import wire
from server.core import commands as c
from server.handlers.snapshot import snapshot
from server.writer import Outcome

if TYPE_CHECKING:
    from server.connections import Session
    from server.service import Service

# Wire request → its core command, given the clerk's part (actor, device, counter).
COMMANDS: dict[type, Callable[[Any, dict[str, Any]], c.Command]] = {
    p.CallNext: lambda m, base: c.CallNext(**base),
    p.CallNumber: lambda m, base: c.CallNumber(**base, number=m.number[:16]),
    p.Recall: lambda m, base: c.Recall(**base),
    p.StartService: lambda m, base: c.StartService(**base),
    p.MarkAbsent: lambda m, base: c.MarkAbsent(**base),
    p.Hold: lambda m, base: c.Hold(**base, note=m.note[:200] if m.note else None),
    p.ResumeHeld: lambda m, base: c.ResumeHeld(**base, number=m.number[:16]),
    p.Transfer: lambda m, base: c.Transfer(
        **base, service=m.service, target_counter=m.counter, position=m.position),
    p.Finish: lambda m, base: c.Finish(
        **base, outcome=m.outcome, dossier_code=m.dossier_code[:64] if m.dossier_code else None),
    p.PauseCounter: lambda m, base: c.PauseCounter(**base, reason=m.reason[:120]),
    p.ResumeCounter: lambda m, base: c.ResumeCounter(**base),
    p.CloseCounter: lambda m, base: c.CloseCounter(**base),
}


def counter_choices(service: Service, user: User) -> list[p.CounterChoice]:
    """The counters ``user`` may open, as they are now."""
    choices = []
    for site in service.config.sites:
        if user.sites and site.code not in user.sites:
            continue
        state = service.states[site.code]
        for counter in site.counters:
            if user.counters and counter.number not in user.counters:
                continue
            live = state.counters[counter.number]
            choices.append(p.CounterChoice(
                site=site.code, site_name=site.name, number=counter.number, name=counter.name,
                name_en=counter.english_name, status=live.status.value, clerk=live.clerk,
            ))
    return choices


def event_ticket(outcome: Outcome) -> p.TicketView | None:
    """The ticket the command changed (the last event's)."""
    for event in reversed(outcome.events):
        ticket = getattr(event, "ticket", None)
        if ticket is not None:
            return wire.ticket_view(ticket)
    return None


class CounterRequests:
    @property
    def config(self) -> Config:
        """The live configuration (settings change while the server runs)."""
        return self.service.config

    def __init__(self, service: Service) -> None:
        self.service = service

    def table(self) -> dict[str, Any]:
        """Message type → handler, for the dispatcher."""
        commands = {kind: self.command for kind, cls in p.CLIENT_TYPES.items() if cls in COMMANDS}
        return {**commands, "select_counter": self.select_counter, "cancel_ticket": self.cancel_ticket}

    async def select_counter(self, ws: ServerConnection, session: Session, m: p.SelectCounter) -> None:
        service = self.service
        user = self.config.user(session.username or "")
        assert user is not None
        allowed = {(ch.site, ch.number) for ch in counter_choices(service, user)}
        if (m.site, m.counter) not in allowed:
            raise Rejected("counter_not_allowed", counter=m.counter)
        outcome = await service.submit(m.site, c.OpenCounter(actor=user.username, counter=m.counter))
        displaced = self._displace(ws, m.site, m.counter, user.username)
        service.connections.forget(ws, session)
        session.sites, session.counter = (m.site,), m.counter
        service.connections.join_staff(ws, m.site)
        state = outcome.state
        await service.connections.send(ws, p.Result(
            re=m.id, counter=wire.counter_view(self.config, state, state.counters[m.counter])))
        await service.connections.send(ws, snapshot(service, m.site, session))
        for other_ws, other in displaced:
            other_user = self.config.user(other.username or "")
            await service.connections.send(other_ws, p.CounterTakenOver(
                site=m.site, counter=m.counter, clerk=user.username, clerk_name=user.full_name,
                counters=counter_choices(service, other_user) if other_user else []))

    def _displace(self, ws: ServerConnection, site: str, counter: int,
                  clerk: str) -> list[tuple[ServerConnection, Session]]:
        """Other clerks' connections working at ``counter``, which ``clerk`` has just opened:
        they no longer work there (counter commands get no_counter_selected; the rules refuse
        them anyway) and hear no more of the site until they select a counter again. The same
        clerk's other connections (a second PC) keep it."""
        connections = self.service.connections
        displaced = []
        for other_ws, other in connections.sessions.items():
            if (other_ws is not ws and other.role == "clerk" and other.username != clerk
                    and other.counter == counter and other.site == site):
                connections.forget(other_ws, other)
                other.counter = None
                displaced.append((other_ws, other))
        return displaced

    async def command(self, ws: ServerConnection, session: Session, m: Any) -> p.Result:
        """Any of ``COMMANDS``, at the session's counter."""
        assert session.site is not None and session.counter is not None
        base = {"actor": session.actor, "device": None, "counter": session.counter}
        outcome = await self.service.submit(session.site, COMMANDS[type(m)](m, base))
        state = outcome.state
        return p.Result(
            re=m.id, counter=wire.counter_view(self.config, state, state.counters[session.counter]),
            ticket=event_ticket(outcome),
        )

    async def cancel_ticket(self, ws: ServerConnection, session: Session, m: p.CancelTicket) -> p.Result:
        site = session.site if session.role == "clerk" else m.site
        if site is None or site not in session.sites:
            raise Rejected("unknown_site", site=m.site or "?")
        outcome = await self.service.submit(site, c.CancelTicket(
            actor=session.actor, number=m.number[:16], reason=(m.reason or "")[:200] or None,
            counter=session.counter if session.role == "clerk" else None))
        return p.Result(re=m.id, ticket=event_ticket(outcome))

    async def rate(self, ws: ServerConnection, session: Session, m: p.Rate) -> p.Result:
        """The clerk's rating window: only a ticket this counter served (today's)."""
        site = session.site
        assert site is not None
        ticket = self.service.states[site].tickets.get(m.ticket_id or "")
        if ticket is None or ticket.counter != session.counter:
            raise Rejected("not_rateable")
        outcome = await self.service.submit(site, c.RateTicket(
            actor=session.actor, ticket_id=ticket.id, value=m.value, counter=session.counter))
        return p.Result(re=m.id, ticket=event_ticket(outcome))
