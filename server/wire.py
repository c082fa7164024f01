"""Turn rule values (tickets, counters, site state) into the wire protocol's values and
messages (common/protocol.py)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal

import msgspec

from common import protocol as p
from common.config import Config, Display, Kiosk, QueueRules, Site
from server.core.estimate import estimate_wait_minutes
from server.core.hours import is_issuing, next_opening
from server.core.model import CounterState, SiteState, Ticket, TicketState
from server.core.selection import waiting_ahead

ClosedReason = Literal["service_closed", "holiday", "daily_cap_reached"]

# Every field of the wire's TicketView is the Ticket's field of the same name (the state as
# its text): the view follows the model instead of copying it by hand.
# ``citizen`` is no ticket field: the counter's view adds it from the booking (issue 14).
_TICKET_VIEW_FIELDS = tuple(f.name for f in msgspec.structs.fields(p.TicketView)
                            if f.name not in ("state", "citizen"))


def ticket_view(t: Ticket) -> p.TicketView:
    fields = {name: getattr(t, name) for name in _TICKET_VIEW_FIELDS}
    return p.TicketView(state=t.state.value, **fields)


def public_ticket_view(t: Ticket) -> p.TicketView:
    """A ticket as its citizen's phone may see it: what the ticket page shows, none of the
    staff's data (the clerk, the outcome, the dossier code, a cancel reason). The note only
    while the ticket is held: it is what the clerk asks the citizen to bring."""
    return msgspec.structs.replace(
        ticket_view(t), clerk=None, outcome=None, dossier_code=None,
        note=t.note if t.state is TicketState.HELD else None)


def counter_view(config: Config, state: SiteState, counter: CounterState) -> p.CounterView:
    site_counter = state.rules.site.counter(counter.number)
    assert site_counter is not None
    user = config.user(counter.clerk) if counter.clerk else None
    active = state.tickets.get(counter.active_ticket) if counter.active_ticket else None
    return p.CounterView(
        number=counter.number, name=site_counter.name, name_en=site_counter.english_name,
        services=list(site_counter.services),
        status=counter.status.value, clerk=counter.clerk,
        clerk_name=user.full_name if user else None, pause_reason=counter.pause_reason,
        active_ticket=counter.active_ticket, active_number=active.number if active else None,
        since=counter.since,
    )


def _waiting(state: SiteState) -> Tally[str]:
    return Tally(t.service for t in state.tickets.values() if t.state is TicketState.WAITING)


def service_estimates(state: SiteState, waiting: Mapping[str, int] | None = None) -> dict[str, int]:
    """Per service, the minutes a ticket taken now would wait (the kiosk's figure)."""
    if waiting is None:
        waiting = _waiting(state)
    return {s.code: estimate_wait_minutes(state, s.code, waiting.get(s.code, 0))
            for s in state.rules.site.services}


def service_views(state: SiteState, now: datetime,
                  estimates: Mapping[str, int | None] | None = None,
                  waiting: Mapping[str, int] | None = None) -> list[p.ServiceView]:
    """Every service of the site; ``estimates`` (from ``service_estimates``, maybe of an
    earlier state: see server.estimates) and ``waiting`` (people waiting per service) save
    computing them here."""
    site = state.rules.site
    local = now.astimezone(state.rules.tz)
    if waiting is None:
        waiting = _waiting(state)
    serving = _counters_serving(site)
    if estimates is None:
        estimates = service_estimates(state, waiting)
    views = []
    for service in site.services:
        issued = state.sequences.get(service.code, 0)
        cap = min(service.daily_cap or service.numbering.capacity, service.numbering.capacity)
        reason: ClosedReason | None = None
        opening = None
        if local.date() in site.holidays:
            reason = "holiday"
        elif not is_issuing(site, service, local):
            reason = "service_closed"
        elif issued >= cap:
            reason = "daily_cap_reached"
        if reason in ("holiday", "service_closed"):
            opening = next_opening(site, service, local)
        views.append(p.ServiceView(
            code=service.code, name_vi=service.name_vi, name_en=service.name_en,
            agency=service.agency, counters=list(serving[service.code]),
            issuing=reason is None, closed_reason=reason, next_open=opening, issued=issued,
            remaining=max(cap - issued, 0), waiting=waiting.get(service.code, 0),
            estimated_wait_minutes=estimates.get(service.code),
            online_only=service.booking.online_only, bookable=service.booking.bookable,
        ))
    return views


def _counters_serving(site: Site) -> dict[str, tuple[int, ...]]:
    """``site.counters_serving`` for every service, computed once per configuration."""
    cached = _serving.get(id(site))
    if cached is None or cached[0] is not site:
        cached = _serving[id(site)] = (site, {s.code: site.counters_serving(s.code) for s in site.services})
    return cached[1]


_serving: dict[int, tuple[Site, dict[str, tuple[int, ...]]]] = {}


def site_info(config: Config, site: Site, state: SiteState) -> p.SiteInfo:
    q, a = config.queue, config.announcement
    return p.SiteInfo(
        code=site.code, name=site.name, centre_name=config.centre_name, province=config.province,
        address=site.address, notice=site.notice, timezone=config.timezone,
        public_url=config.server.public_url.rstrip("/"), day=state.day,
        priority_classes=[p.NamedOption(code=c.code, name_vi=c.name_vi, name_en=c.name_en)
                          for c in q.priority_classes],
        outcomes=[p.NamedOption(code=o.code, name_vi=o.name_vi, name_en=o.name_en)
                  for o in q.outcomes],
        rating=[p.RatingOption(value=r.value, name_vi=r.name_vi, name_en=r.name_en)
                for r in config.rating],
        pause_reasons=list(q.pause_reasons), late_window_minutes=q.late_window_minutes,
        transfer_position=q.transfer_position,
        announcement=p.AnnouncementView(
            template=a.template, repeat=a.repeat, number_style=a.number_style,
            thousand=a.thousand, zero_tens=a.zero_tens, four=a.four, voice=a.voice, rate=a.rate,
            chime=a.chime,
        ),
        elderly_age=q.elderly_age, elderly_priority_class=_elderly_class(q),
    )


def _elderly_class(q: QueueRules) -> str | None:
    """The priority class a kiosk offers an elderly CCCD holder: the configured one, else the
    first class; None when the centre has no classes."""
    if q.elderly_priority_class is not None:
        return q.elderly_priority_class
    return q.priority_classes[0].code if q.priority_classes else None


def ticket_status(
    config: Config, state: SiteState, ticket: Ticket, *, ahead: int | None = None,
    estimate: Callable[[SiteState, str, int], int | None] = estimate_wait_minutes,
) -> p.TicketStatus:
    """A watcher's view of ``ticket``; ``ahead`` when already known (server.core.positions),
    ``estimate`` to estimate within the server's budget (server.estimates)."""
    site = state.rules.site
    service = site.service(ticket.service)
    assert service is not None
    if ahead is None:
        ahead = waiting_ahead(state.tickets.values(), ticket, state.rules.queue)
    waiting = ticket.state is TicketState.WAITING
    counter = site.counter(ticket.counter) if ticket.counter is not None else None
    return p.TicketStatus(
        ticket=public_ticket_view(ticket), site_name=site.name, service_name_vi=service.name_vi,
        service_name_en=service.name_en, ahead=ahead if waiting else 0,
        estimated_wait_minutes=estimate(state, ticket.service, ahead) if waiting else None,
        counter_name=counter.name if counter else None,
        rating=[p.RatingOption(value=r.value, name_vi=r.name_vi, name_en=r.name_en)
                for r in config.rating],
    )


def device_view(site: Site, device: Kiosk | Display) -> p.DeviceView:
    """What a device is told of itself (its welcome, ``paired``): a kiosk its printer, a
    display what it shows."""
    if isinstance(device, Kiosk):
        return p.DeviceView(id=device.id, name=device.name, kind="kiosk", site=site.code,
                            printer=device.printer, paper_width_mm=device.paper_width_mm, qr=device.qr)
    return p.DeviceView(id=device.id, name=device.name, kind="display", site=site.code,
                        counters=device.counters, services=device.services)

