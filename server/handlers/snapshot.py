"""The ``snapshot`` a connection gets when it starts following a site: what its role shows."""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

import msgspec

from common import protocol as p
from server import wire
from server.core.model import TicketState

if TYPE_CHECKING:
    from server.connections import Session
    from server.service import Service


def snapshot(service: Service, site: str, session: Session) -> p.Snapshot:
    """Kiosks get the site and its services; displays the counters and the tickets now
    called or served; clerks and managers every ticket of the day."""
    state = service.states[site]
    config_site = service.config.site(site)
    assert config_site is not None
    if session.role in ("clerk", "manager", "display"):
        shown = state.tickets.values() if session.role != "display" else [
            t for t in state.tickets.values() if t.state in (TicketState.CALLED, TicketState.SERVING)]
        tickets = [wire.ticket_view(t) for t in sorted(shown, key=attrgetter("order"))]
        citizens = service.fanout.citizens
        named = {t.id: citizens[t.booking] for t in shown if t.booking in citizens}
        if session.role == "clerk" and named:  # issue 14: the booking's name, to clerks only
            tickets = [msgspec.structs.replace(t, citizen=named.get(t.id)) for t in tickets]
    else:
        tickets = []
    counters = [] if session.role == "kiosk" else [
        wire.counter_view(service.config, state, counter) for counter in state.counters.values()
    ]
    fanout = service.fanout
    return p.Snapshot(
        site=wire.site_info(service.config, config_site, state),
        services=wire.service_views(state, service.clock(), fanout.estimates.services(site, state)[0]),
        counters=counters,
        tickets=tickets, recent_calls=list(fanout.recent_calls[site]),
        server_time=service.clock(), counter=session.counter,
    )
