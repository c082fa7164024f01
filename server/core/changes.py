"""A site's configuration changed during the day: what the queue does about it (issue 13).

``change_rules(state, rules, now)`` returns the site's state under the new rules, or raises
``Rejected`` with a reason a manager can be told. Decided here, once, for every way a
change can meet a running day:

- **A service removed** while any of today's tickets for it is unfinished (waiting, called,
  being served, on hold, absent within the late window): refused (``service_in_use``). Its
  citizens are still in the hall; close it for new numbers first (its hours, or a daily cap
  of what it has issued), remove it when they have been served or tomorrow.
- **A service no counter serves any more** while tickets for it wait: refused
  (``service_unserved``): nobody could ever call them.
- **A service's numbering** (style, prefix, digits, start, end) changed after it issued a
  number today: refused (``numbering_in_use``); a number printed this morning must not be
  printed again this afternoon. It can change on a day before the service's first number.
- **A service's name, hours, daily cap or target**, a site's name, address, holidays or
  notice: take effect at once (a cap below what was issued just stops new numbers).
- **A counter removed** while open, paused or serving, or while a ticket transferred to it
  waits: refused (``counter_in_use``): the clerk closes it first.
- **A counter added**: closed until a clerk opens it.
- **A counter's services changed** while it serves: the citizen at it is served to the end;
  the counter calls by its new services from its next call (the rules read them at call time).
- **A service's appointment settings** (``booking``): take effect at once and never cancel or
  move a booking: fewer places than booked leave the slot full; after a new slot length or new
  hours a booking holds a place in the slot its time falls in (``core.booking.held_in``).
- **Queue rules** (priority rule, late window, transfer position): from the next call.

The site code and the zone cannot change (every stored ticket is keyed by them).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from common.config import Numbering
from common.errors import Rejected
from server.core.model import CounterState, CounterStatus, SiteRules, SiteState, TicketState

_UNFINISHED = frozenset({TicketState.WAITING, TicketState.CALLED, TicketState.SERVING,
                         TicketState.HELD, TicketState.ABSENT})


def change_rules(state: SiteState, rules: SiteRules) -> SiteState:
    """The state under ``rules`` (see the module docstring), or Rejected."""
    old = state.rules.site
    new = rules.site
    if new.code != old.code or rules.tz.key != state.rules.tz.key:
        raise Rejected("site_identity_fixed", site=old.code)
    unfinished: dict[str, int] = {}
    waiting: dict[str, int] = {}
    issued: set[str] = set()
    for ticket in state.tickets.values():
        issued.add(ticket.origin_service)
        if ticket.state in _UNFINISHED:
            unfinished[ticket.service] = unfinished.get(ticket.service, 0) + 1
            if ticket.state in (TicketState.WAITING, TicketState.HELD, TicketState.ABSENT):
                waiting[ticket.service] = waiting.get(ticket.service, 0) + 1
    services = {s.code: s for s in new.services}
    for code, count in sorted(unfinished.items()):
        if code not in services:
            raise Rejected("service_in_use", service=code, count=count)
    served_by = {code for counter in new.counters for code in counter.services}
    for code, count in sorted(waiting.items()):
        if code not in served_by:
            raise Rejected("service_unserved", service=code, count=count)
    for service in old.services:
        changed = services.get(service.code)
        if (changed is not None and service.code in issued
                and _numbering(changed.numbering) != _numbering(service.numbering)):
            raise Rejected("numbering_in_use", service=service.code)
    numbers = {c.number for c in new.counters}
    sent_to = {t.target_counter for t in state.tickets.values()
               if t.target_counter is not None and t.state in _UNFINISHED}
    for counter in state.counters.values():
        if counter.number not in numbers and (
                counter.status is not CounterStatus.CLOSED or counter.active_ticket is not None
                or counter.number in sent_to):
            raise Rejected("counter_in_use", counter=counter.number)
    counters = {n: state.counters.get(n) or CounterState(number=n) for n in sorted(numbers)}
    return replace(state, rules=rules, counters=MappingProxyType(counters))


def _numbering(numbering: Numbering) -> tuple[object, ...]:
    return (numbering.style, numbering.prefix, numbering.digits, numbering.start, numbering.end)
