"""The fan-out: after each committed batch, who hears what.

The writer's ``Listener`` (server/writer.py). It reads the committed states (the
writer's), the audiences (server/connections.py) and the estimate budget. One ``update``
per site and batch to its staff (clerks, displays, managers), the services part to its
kiosks, a ``ticket_status`` to each phone whose ticket or queue changed; the services
views (waiting counts, estimates) computed once per batch, and under load held back and
caught up by the writer between batches. It also keeps each site's recent calls (the
boards' list) and the people ahead of each waiting ticket (``waiting_lines``).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec
from websockets.asyncio.server import broadcast

from common import protocol as p
from common.config import Config
from server import wire
from server.connections import Connections
from server.core import events as ev
from server.core.model import SiteState
from server.core.positions import WaitingLines
from server.estimate_budget import EstimateBudget

log = logging.getLogger(__name__)

ESTIMATE_REFRESH_SECONDS = 2.0  # under constant load, one stale site is estimated this often
SERVICES_EVERY = 0.1  # under load, a site's services update at most this often (s)
RECENT_CALLS = 20  # calls a board shows


class FanOut:
    """See the module docstring. ``states`` are the writer's (read only); ``busy`` says
    whether more commands are waiting for the writer."""

    def __init__(self, config: Config, clock: Callable[[], datetime], states: Mapping[str, SiteState],
                 connections: Connections, busy: Callable[[], bool]) -> None:
        self.config = config
        self.clock = clock
        self.states = states
        self.connections = connections
        self.busy = busy
        self.estimates = EstimateBudget(wire.service_estimates)
        self.recent_calls: dict[str, deque[p.CallView]] = {}
        self.sent_services: dict[str, dict[str, p.ServiceView]] = {}
        self._stale_estimates: set[str] = set()  # sites whose sent estimates lag their state
        self._waiting_lines: dict[str, tuple[SiteState, WaitingLines]] = {}
        self._pending_services: set[str] = set()  # sites whose services update was held back
        self._services_sent_at: dict[str, float] = {}  # site → when (monotonic)
        self._estimates_refreshed_at = 0.0
        # Booking code → "Name · ••••••••1234" of today's check-ins (issue 14), for clerks only:
        # filled at check-in (server/handlers/booking.py) and at start-up from the bookings.
        self.citizens: dict[str, str] = {}

    def load(self, site: str, state: SiteState, calls: Iterable[dict[str, Any]]) -> None:
        """At start-up: a site's recent calls (from the store) and what its kiosks are sent."""
        self.recent_calls[site] = deque(maxlen=RECENT_CALLS)
        for row in calls:
            self.recent_calls[site].append(self.call_view(site, **row))
        estimates = wire.service_estimates(state)  # at start-up, outside the budget
        self.estimates.remember(site, state, estimates)
        self.sent_services[site] = {s.code: s for s in wire.service_views(state, self.clock(), estimates)}

    def reconfigured(self, site: str, state: SiteState) -> None:
        """A site's settings changed (server/settings.py): what its kiosks are sent, afresh;
        a new site starts with no calls."""
        self.recent_calls.setdefault(site, deque(maxlen=RECENT_CALLS))
        self._waiting_lines.pop(site, None)
        estimates = wire.service_estimates(state)
        self.estimates.remember(site, state, estimates)
        self.sent_services[site] = {s.code: s for s in wire.service_views(state, self.clock(), estimates)}

    @property
    def behind(self) -> bool:
        """Services updates held back or estimates served stale: ask the writer to refresh."""
        return bool(self._pending_services or self._stale_estimates)

    # -- the writer's Listener ------------------------------------------------------------------

    def new_day(self, site: str) -> None:
        self.recent_calls[site].clear()  # yesterday's calls leave the boards

    def committed(self, site: str, pairs: list[tuple[ev.Event, int]], before: SiteState) -> None:
        self._fan_out(site, pairs, before)

    def has_idle_work(self) -> bool:
        return bool(self._stale_estimates) and self.estimates.affordable()

    def idle_work(self) -> None:
        self._catch_up()

    def between_batches(self) -> None:
        self._refresh_estimates()

    def services_changed(self, site: str) -> None:
        """The clock opened or closed issuing (the ticker): tell staff and kiosks."""
        self._broadcast_services(site, self._changed_services(site, self.states[site]))

    # -- what each hears --------------------------------------------------------------------------

    def call_view(
        self, site: str, *, seq: int, ticket_id: str, number: str, service: str, counter: int,
        reason: str, at: datetime,
    ) -> p.CallView:
        config = self.config.site(site)
        desk = config.counter(counter) if config else None
        return p.CallView(
            seq=seq, ticket_id=ticket_id, number=number, service=service, counter=counter,
            counter_name=desk.name if desk else str(counter),
            counter_name_en=desk.english_name if desk else str(counter),
            reason=reason, at=at,  # type: ignore[arg-type]
        )

    def _changed_services(self, site: str, state: SiteState, *,
                          estimate: bool = False) -> list[p.ServiceView]:
        """The site's services that differ from what was last sent. The estimates are the
        site's last ones unless ``estimate`` (within the budget): computing them takes
        milliseconds, so the writer does it when idle (``_catch_up``), never while a batch's
        update (a call!) waits to go out."""
        if estimate:
            estimates, current = self.estimates.services(site, state)
        else:
            estimates, current = self.estimates.known(site, state)
        if current:
            self._stale_estimates.discard(site)
        else:
            self._stale_estimates.add(site)
        waiting = self.waiting_lines(site, state).by_service()
        fresh = {s.code: s for s in wire.service_views(state, self.clock(), estimates, waiting)}
        sent = self.sent_services[site]
        changed = [view for code, view in fresh.items() if sent.get(code) != view]
        self.sent_services[site] = fresh
        return changed

    def _fan_out(self, site: str, pairs: list[tuple[ev.Event, int]], before: SiteState) -> None:
        state = self.states[site]
        tickets: dict[str, p.TicketView] = {}
        named: dict[str, str] = {}  # ticket id → its citizen, for clerks
        counters: set[int] = set()
        calls: list[p.CallView] = []
        rolled = False
        for event, seq in pairs:
            if isinstance(event, ev.TicketEvent):
                tickets[event.ticket.id] = wire.ticket_view(event.ticket)
                if event.ticket.booking in self.citizens:
                    named[event.ticket.id] = self.citizens[event.ticket.booking]
                if event.ticket.counter is not None:
                    counters.add(event.ticket.counter)
            if isinstance(event, ev.CounterEvent):
                counters.add(event.counter.number)
            if isinstance(event, ev.TicketTransferred):  # the ticket left with counter=None
                counters.add(event.from_counter)
            if isinstance(event, ev.TicketCalled):
                t = event.ticket
                call = self.call_view(
                    site, seq=seq, ticket_id=t.id, number=t.number, service=t.service,
                    counter=t.counter or 0, reason=event.reason, at=event.at,
                )
                calls.append(call)
                self.recent_calls[site].append(call)
            if isinstance(event, ev.TicketExpired):
                rolled = True
        if rolled:
            counters |= set(state.counters)
        # A counter whose active ticket moved away is also in the events' counters.
        counter_views = [
            wire.counter_view(self.config, state, state.counters[n])
            for n in sorted(counters) if n in state.counters
        ]
        self._advance_waiting_lines(site, before, state, tickets)
        services = self._services_for_batch(site, state)
        audience = self.connections.audiences[site]
        update = p.Update(
            site=site, tickets=list(tickets.values()), counters=counter_views,
            services=services, calls=calls, day=state.day,
        )
        if named and audience.staff:
            self._send_with_citizens(site, audience.staff, update, named, calls)
        elif audience.staff:
            broadcast(audience.staff, p.encode(update), text=True)
        if services and audience.kiosks:
            broadcast(audience.kiosks, p.encode(p.Update(site=site, services=services)), text=True)
        self._notify_watchers(site, state, set(tickets), {t.service for t in tickets.values()})

    def _send_with_citizens(self, site: str, staff: set[Any], update: p.Update, named: dict[str, str],
                            calls: list[p.CallView]) -> None:
        """Clerks get the appointment tickets with the citizen's name and masked CCCD; managers
        and displays without. A call showing a name to a counter is access-logged."""
        sessions = self.connections.sessions
        clerks = {ws for ws in staff if getattr(sessions.get(ws), "role", None) == "clerk"}
        if clerks:
            tickets = [msgspec.structs.replace(t, citizen=named.get(t.id)) for t in update.tickets]
            broadcast(clerks, p.encode(msgspec.structs.replace(update, tickets=tickets)), text=True)
            for call in calls:
                if call.ticket_id in named:
                    log.info("booking_read: the name of appointment ticket %s shown at counter %d of %s",
                             call.number, call.counter, site)
        if staff - clerks:
            broadcast(staff - clerks, p.encode(update), text=True)

    def _notify_watchers(self, site: str, state: SiteState, ids: set[str], services: set[str]) -> None:
        for ticket_id, connections in list(self.connections.audiences[site].watchers.items()):
            ticket = state.tickets.get(ticket_id)
            if ticket is None or (ticket_id not in ids and ticket.service not in services):
                continue
            status = wire.ticket_status(
                self.config, state, ticket, ahead=self.waiting_lines(site, state).ahead(ticket),
                estimate=lambda state, service, ahead: self.estimates.ticket(site, state, service, ahead))
            broadcast(connections, p.encode(status).decode())
            if ticket.state.is_final:
                for ws in list(connections):
                    self.connections.end_watch_when_done(ws, ticket)

    def _advance_waiting_lines(self, site: str, before: SiteState, state: SiteState,
                               changed: Iterable[str]) -> None:
        """The site's WaitingLines for ``state``, from those of ``before`` when known."""
        cached = self._waiting_lines.get(site)
        if cached is not None and cached[0] is before and before.day == state.day:
            lines = cached[1].updated((before.tickets.get(i), state.tickets[i]) for i in changed)
            self._waiting_lines[site] = (state, lines)

    def _services_for_batch(self, site: str, state: SiteState) -> list[p.ServiceView]:
        """The site's changed services for this batch's update; under load (more commands
        queued) at most one services update per site every SERVICES_EVERY seconds, the
        rest caught up by the writer between batches. Tickets and calls never wait."""
        now = time.monotonic()
        if self.busy() and now - self._services_sent_at.get(site, 0.0) < SERVICES_EVERY:
            self._pending_services.add(site)
            return []
        self._pending_services.discard(site)
        self._services_sent_at[site] = now
        return self._changed_services(site, state)

    def waiting_lines(self, site: str, state: SiteState) -> WaitingLines:
        """People ahead of each waiting ticket of ``state`` (built once per state and site)."""
        cached = self._waiting_lines.get(site)
        if cached is None or cached[0] is not state:
            lines = WaitingLines(state.tickets.values(), state.rules.queue)
            cached = self._waiting_lines[site] = (state, lines)
        return cached[1]

    def _refresh_estimates(self) -> None:
        """Send the services updates held back under load; and now and then estimate one
        stale site even when the writer is never idle."""
        now = time.monotonic()
        pending, self._pending_services = self._pending_services, set()
        for site in pending:
            try:
                self._services_sent_at[site] = now
                self._broadcast_services(site, self._changed_services(site, self.states[site]))
            except Exception:
                log.exception("refreshing the services of %s failed", site)
        if now - self._estimates_refreshed_at >= ESTIMATE_REFRESH_SECONDS:
            self._estimates_refreshed_at = now
            if self._stale_estimates and self.estimates.affordable():
                self._catch_up()

    def _catch_up(self) -> None:
        """Estimate the site whose estimates are stalest and send what changed."""
        site = self.estimates.stalest_first(self._stale_estimates)[0]
        try:
            services = self._changed_services(site, self.states[site], estimate=True)
            self._broadcast_services(site, services)
        except Exception:
            log.exception("estimating %s failed", site)
            self._stale_estimates.discard(site)

    def _broadcast_services(self, site: str, services: list[p.ServiceView]) -> None:
        if services:
            message = p.encode(p.Update(site=site, services=services)).decode()
            audience = self.connections.audiences[site]
            broadcast(audience.staff | audience.kiosks, message)
