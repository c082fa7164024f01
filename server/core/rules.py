"""The queue rules: ``handle(state, command, now)`` returns the new state and its events.

A refused command raises ``Rejected`` and leaves the state untouched (states are
immutable, so there is nothing to roll back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from common.errors import Rejected
from server.core import commands as c
from server.core import events as e
from server.core.hours import is_issuing, next_opening
from server.core.model import (
    CounterState,
    CounterStatus,
    SiteRules,
    SiteState,
    Ticket,
    TicketState,
    new_site_state,
    replace_in,
)
from server.core.selection import pick_next

Result = tuple[SiteState, list[e.Event]]

# Queue order of the first ticket transferred to the front today; later ones follow it.
FRONT_ORDER_BASE = -1_000_000_000
# A citizen may rate a finished ticket of an earlier day (the page left open past midnight,
# or opened the next morning) until this many days after the ticket's day, local time.
PAST_RATING_DAYS = 7


def handle(state: SiteState, command: c.Command, now: datetime) -> Result:
    """Apply one command at ``now`` (an aware datetime). Rolls the day over first if needed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    events: list[e.Event] = []
    today = now.astimezone(state.rules.tz).date()
    if today > state.day:
        state, events = roll_over(state, c.RollOver(actor="system", day=today), now)
    if isinstance(command, c.RollOver):
        if command.day <= state.day:
            return state, events
        state, more = roll_over(state, command, now)
        return state, events + more
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"no rule for {type(command).__name__}")
    if isinstance(command, c.CounterCommand) and not isinstance(command, c.OpenCounter):
        _not_held_by_another(state, command.actor, command.counter)
    state, more = handler(state, command, now)
    return state, events + more


def roll_over(state: SiteState, command: c.RollOver, now: datetime) -> Result:
    """End the day: every unfinished ticket expires, counters close, numbering restarts."""
    events: list[e.Event] = []
    for ticket in state.tickets.values():
        if not ticket.state.is_final:
            expired = replace(ticket, state=TicketState.EXPIRED, finished_at=now)
            events.append(e.TicketExpired(at=now, actor=command.actor, ticket=expired))
    fresh = new_site_state(state.rules, command.day)
    for counter in fresh.counters.values():
        old = state.counters.get(counter.number)
        if old is not None and old.status is not CounterStatus.CLOSED:
            events.append(
                e.CounterChanged(at=now, actor=command.actor, counter=counter, change="closed")
            )
    return fresh, events


# -- helpers -------------------------------------------------------------------------------


def _put_ticket(state: SiteState, ticket: Ticket) -> SiteState:
    return replace(state, tickets=replace_in(state.tickets, ticket.id, ticket))


def _put_counter(state: SiteState, counter: CounterState) -> SiteState:
    return replace(state, counters=replace_in(state.counters, counter.number, counter))


def _counter(state: SiteState, number: int) -> CounterState:
    counter = state.counters.get(number)
    if counter is None:
        raise Rejected("unknown_counter", counter=number)
    return counter


def _not_held_by_another(state: SiteState, actor: str, number: int) -> CounterState:
    """Counter ``number``, refused if another clerk holds it. The clerk who opened a counter
    last holds it, and only they act at it: under their username, so on every PC they are
    logged in on. A closed counter is held by nobody; the rules refuse it on their own."""
    counter = _counter(state, number)
    if counter.clerk is not None and counter.clerk != actor:
        raise Rejected("counter_not_held", counter=number, clerk=counter.clerk)
    return counter


def _held(state: SiteState, actor: str, number: int) -> CounterState:
    """Counter ``number``, refused unless ``actor`` holds it (for a clerk's commands that do
    not otherwise need their counter open: cancel, the rating window)."""
    counter = _not_held_by_another(state, actor, number)
    if counter.clerk is None:
        raise Rejected("counter_not_open", counter=number)
    return counter


def _open_counter(state: SiteState, command: c.CounterCommand) -> CounterState:
    counter = _counter(state, command.counter)
    if counter.status is not CounterStatus.OPEN:
        raise Rejected("counter_not_open", counter=command.counter)
    return counter


def _free_open_counter(state: SiteState, command: c.CounterCommand) -> CounterState:
    """An open counter with nobody at it, whose clerk has nobody at another counter either:
    a clerk serves one citizen at a time, even with two counters open."""
    counter = _open_counter(state, command)
    for other in (counter, *state.counters.values()):
        if other.active_ticket is not None and (other is counter or other.clerk == counter.clerk):
            raise Rejected("counter_busy", number=state.tickets[other.active_ticket].number)
    return counter


def _active(state: SiteState, command: c.CounterCommand) -> tuple[CounterState, Ticket]:
    counter = _counter(state, command.counter)
    ticket = state.active_ticket(command.counter)
    if ticket is None:
        raise Rejected("no_active_ticket")
    return counter, ticket


def _by_number(state: SiteState, number: str) -> Ticket:
    ticket = state.ticket_by_number(number.strip().upper())
    if ticket is None:
        raise Rejected("ticket_not_found", number=number)
    return ticket


def _serves(state: SiteState, counter: int, ticket: Ticket) -> bool:
    config = state.rules.site.counter(counter)
    if ticket.target_counter is not None:
        return ticket.target_counter == counter
    return config is not None and ticket.service in config.services


def _call(
    state: SiteState, counter: CounterState, ticket: Ticket, command: c.Command,
    now: datetime, reason: e.CallReason,
) -> Result:
    called = replace(
        ticket, state=TicketState.CALLED, counter=counter.number, target_counter=None,
        clerk=counter.clerk, called_at=now, first_called_at=ticket.first_called_at or now,
        absent_at=None, held_at=None,
    )
    streak, appointments = counter.normal_streak, counter.appointment_streak
    if reason == "next" and ticket.appointment_at is not None:
        appointments += 1  # an appointment leaves the walk-ins' priority streak as it was
    elif reason == "next":
        streak, appointments = (0 if ticket.priority else streak + 1), 0
    busy = replace(counter, active_ticket=ticket.id, normal_streak=streak, appointment_streak=appointments)
    state = _put_counter(_put_ticket(state, called), busy)
    event = e.TicketCalled(
        at=now, actor=command.actor, device=command.device, ticket=called, reason=reason
    )
    return state, [event]


# -- issuing -------------------------------------------------------------------------------


def _issue(state: SiteState, command: c.IssueTicket, now: datetime) -> Result:
    if command.idempotency_key and command.idempotency_key in state.keys:
        return state, []  # a retry: the caller answers with the ticket already issued
    site = state.rules.site
    service = site.service(command.service)
    if service is None:
        raise Rejected("unknown_service", service=command.service)
    classes = {p.code for p in state.rules.queue.priority_classes}
    if command.priority is not None and command.priority not in classes:
        raise Rejected("unknown_priority", priority=command.priority)
    local = now.astimezone(state.rules.tz)
    if local.date() in site.holidays:
        raise Rejected("holiday")
    appointment = command.appointment_at is not None
    if not appointment and not is_issuing(site, service, local):
        opening = next_opening(site, service, local)
        raise Rejected(
            "service_closed",
            next_open=opening.strftime("%H:%M %d/%m/%Y") if opening else "?",
            next_open_iso=opening.isoformat() if opening else None,
        )
    if (command.from_kiosk and service.booking.online_only and not appointment
            and command.booking is None and command.priority is None):
        raise Rejected("online_only", service=service.code)
    sequence = state.sequences.get(service.code, 0) + 1
    cap = min(service.daily_cap or service.numbering.capacity, service.numbering.capacity)
    if sequence > (service.numbering.capacity if appointment else cap):
        raise Rejected("daily_cap_reached", service=service.code)
    ticket = Ticket(
        id=f"{site.code}:{state.day.isoformat()}:{service.code}:{sequence}",
        site=site.code, day=state.day, service=service.code, origin_service=service.code,
        sequence=sequence, number=service.numbering.format(sequence), priority=command.priority,
        state=TicketState.WAITING, order=state.next_order, token=command.token,
        idempotency_key=command.idempotency_key, issued_by=command.device, issued_at=now,
        appointment_at=command.appointment_at, booking=command.booking,
    )
    key = command.idempotency_key
    state = replace(  # one replace: this is the hottest path of a busy morning
        state,
        tickets=replace_in(state.tickets, ticket.id, ticket),
        sequences=replace_in(state.sequences, service.code, sequence),
        keys=replace_in(state.keys, key, ticket.id) if key else state.keys,
        next_order=state.next_order + 1,
    )
    return state, [e.TicketIssued(at=now, actor=command.actor, device=command.device, ticket=ticket)]


# -- counters ------------------------------------------------------------------------------


def _open(state: SiteState, command: c.OpenCounter, now: datetime) -> Result:
    counter = _counter(state, command.counter)
    if counter.status is not CounterStatus.CLOSED and counter.clerk == command.actor:
        return state, []  # the same clerk reconnecting
    if counter.status is not CounterStatus.CLOSED and counter.active_ticket is not None:
        raise Rejected("counter_taken", counter=counter.number, clerk=counter.clerk)
    opened = replace(
        counter, status=CounterStatus.OPEN, clerk=command.actor, pause_reason=None, since=now
    )
    event = e.CounterChanged(
        at=now, actor=command.actor, device=command.device, counter=opened, change="opened"
    )
    return _put_counter(state, opened), [event]


def _close(state: SiteState, command: c.CloseCounter, now: datetime) -> Result:
    counter = _counter(state, command.counter)
    if counter.status is CounterStatus.CLOSED:
        return state, []
    if counter.active_ticket is not None:
        raise Rejected("counter_busy", number=state.tickets[counter.active_ticket].number)
    closed = replace(
        counter, status=CounterStatus.CLOSED, clerk=None, pause_reason=None, since=now
    )
    event = e.CounterChanged(
        at=now, actor=command.actor, device=command.device, counter=closed, change="closed"
    )
    return _put_counter(state, closed), [event]


def _pause(state: SiteState, command: c.PauseCounter, now: datetime) -> Result:
    counter = _open_counter(state, command)
    if counter.active_ticket is not None:
        raise Rejected("counter_busy", number=state.tickets[counter.active_ticket].number)
    if not command.reason.strip():
        raise Rejected("invalid_reason")
    paused = replace(
        counter, status=CounterStatus.PAUSED, pause_reason=command.reason.strip(), since=now
    )
    event = e.CounterChanged(
        at=now, actor=command.actor, device=command.device, counter=paused, change="paused"
    )
    return _put_counter(state, paused), [event]


def _resume_counter(state: SiteState, command: c.ResumeCounter, now: datetime) -> Result:
    counter = _counter(state, command.counter)
    if counter.status is not CounterStatus.PAUSED:
        raise Rejected("counter_not_open", counter=command.counter)
    resumed = replace(counter, status=CounterStatus.OPEN, pause_reason=None, since=now)
    event = e.CounterChanged(
        at=now, actor=command.actor, device=command.device, counter=resumed, change="resumed"
    )
    return _put_counter(state, resumed), [event]


# -- calling -------------------------------------------------------------------------------


def _call_next(state: SiteState, command: c.CallNext, now: datetime) -> Result:
    counter = _free_open_counter(state, command)
    config = state.rules.site.counter(counter.number)
    assert config is not None
    ticket = pick_next(
        state.tickets.values(), config, counter.normal_streak, state.rules.queue, now,
        counter.appointment_streak,
    )
    if ticket is None:
        raise Rejected("queue_empty")
    return _call(state, counter, ticket, command, now, "next")


def _call_number(state: SiteState, command: c.CallNumber, now: datetime) -> Result:
    counter = _free_open_counter(state, command)
    ticket = _by_number(state, command.number)
    if ticket.state is TicketState.ABSENT:
        window = timedelta(minutes=state.rules.queue.late_window_minutes)
        if ticket.absent_at is None or now - ticket.absent_at > window:
            raise Rejected("late_window_passed", number=ticket.number)
    elif ticket.state is not TicketState.WAITING:
        raise Rejected("ticket_not_callable", number=ticket.number, state=ticket.state.value)
    if ticket.state is TicketState.WAITING and not _serves(state, counter.number, ticket):
        raise Rejected("not_served_here", number=ticket.number)
    return _call(state, counter, ticket, command, now, "number")


def _recall(state: SiteState, command: c.Recall, now: datetime) -> Result:
    _, ticket = _active(state, command)
    if ticket.state is not TicketState.CALLED:
        raise Rejected("invalid_state", number=ticket.number, state=ticket.state.value)
    recalled = replace(ticket, recalls=ticket.recalls + 1, called_at=now)
    event = e.TicketCalled(
        at=now, actor=command.actor, device=command.device, ticket=recalled, reason="recall"
    )
    return _put_ticket(state, recalled), [event]


def _resume_held(state: SiteState, command: c.ResumeHeld, now: datetime) -> Result:
    counter = _free_open_counter(state, command)
    ticket = _by_number(state, command.number)
    if ticket.state is not TicketState.HELD:
        raise Rejected("invalid_state", number=ticket.number, state=ticket.state.value)
    config = state.rules.site.counter(counter.number)
    if ticket.counter != counter.number and (config is None or ticket.service not in config.services):
        raise Rejected("not_served_here", number=ticket.number)
    return _call(state, counter, ticket, command, now, "resume")


# -- serving -------------------------------------------------------------------------------


def _release(state: SiteState, counter: CounterState, ticket: Ticket) -> SiteState:
    return _put_counter(_put_ticket(state, ticket), replace(counter, active_ticket=None))


def _start(state: SiteState, command: c.StartService, now: datetime) -> Result:
    _, ticket = _active(state, command)
    if ticket.state is not TicketState.CALLED:
        raise Rejected("invalid_state", number=ticket.number, state=ticket.state.value)
    started = replace(ticket, state=TicketState.SERVING, started_at=now)
    event = e.ServiceStarted(at=now, actor=command.actor, device=command.device, ticket=started)
    return _put_ticket(state, started), [event]


def _finish(state: SiteState, command: c.Finish, now: datetime) -> Result:
    counter, ticket = _active(state, command)
    if command.outcome not in {o.code for o in state.rules.queue.outcomes}:
        raise Rejected("invalid_outcome", outcome=command.outcome)
    dossier = (command.dossier_code or "").strip() or None
    done = replace(
        ticket, state=TicketState.DONE, finished_at=now,
        started_at=ticket.started_at or ticket.called_at, outcome=command.outcome,
        dossier_code=dossier, clerk=counter.clerk,
    )
    event = e.TicketFinished(at=now, actor=command.actor, device=command.device, ticket=done)
    return _release(state, counter, done), [event]


def _absent(state: SiteState, command: c.MarkAbsent, now: datetime) -> Result:
    counter, ticket = _active(state, command)
    if ticket.state is not TicketState.CALLED:
        raise Rejected("invalid_state", number=ticket.number, state=ticket.state.value)
    absent = replace(ticket, state=TicketState.ABSENT, absent_at=now)
    event = e.TicketAbsent(at=now, actor=command.actor, device=command.device, ticket=absent)
    return _release(state, counter, absent), [event]


def _hold(state: SiteState, command: c.Hold, now: datetime) -> Result:
    counter, ticket = _active(state, command)
    held = replace(ticket, state=TicketState.HELD, held_at=now, note=command.note or ticket.note)
    event = e.TicketHeld(at=now, actor=command.actor, device=command.device, ticket=held)
    return _release(state, counter, held), [event]


def _transfer(state: SiteState, command: c.Transfer, now: datetime) -> Result:
    counter, ticket = _active(state, command)
    site = state.rules.site
    service = command.service or ticket.service
    if site.service(service) is None:
        raise Rejected("invalid_transfer", detail=f"unknown service {service}")
    target = command.target_counter
    if target is not None:
        if site.counter(target) is None:
            raise Rejected("invalid_transfer", detail=f"unknown counter {target}")
        if target == counter.number:
            raise Rejected("invalid_transfer", detail="target is this counter")
    elif service == ticket.service:
        raise Rejected("invalid_transfer", detail="choose another service or a counter")
    elif not site.counters_serving(service):
        raise Rejected("invalid_transfer", detail=f"no counter serves {service}")
    position = command.position or state.rules.queue.transfer_position
    if position == "front":
        # Before every arrival, but after earlier front transfers: first sent, first called.
        order = FRONT_ORDER_BASE + state.front_order
        state = replace(state, front_order=state.front_order + 1)
    else:
        order, state = state.next_order, replace(state, next_order=state.next_order + 1)
    moved = replace(
        ticket, state=TicketState.WAITING, service=service, target_counter=target, counter=None,
        order=order, transfers=ticket.transfers + 1, called_at=None, started_at=None,
    )
    event = e.TicketTransferred(
        at=now, actor=command.actor, device=command.device, ticket=moved,
        from_service=ticket.service, from_counter=counter.number,
    )
    return _release(state, counter, moved), [event]


def _cancel(state: SiteState, command: c.CancelTicket, now: datetime) -> Result:
    if command.counter is not None:
        _held(state, command.actor, command.counter)
    ticket = _by_number(state, command.number)
    if ticket.state not in (TicketState.WAITING, TicketState.HELD, TicketState.ABSENT):
        raise Rejected("invalid_state", number=ticket.number, state=ticket.state.value)
    cancelled = replace(
        ticket, state=TicketState.CANCELLED, finished_at=now, note=command.reason or ticket.note
    )
    event = e.TicketCancelled(at=now, actor=command.actor, device=command.device, ticket=cancelled)
    return _put_ticket(state, cancelled), [event]


def _rate(state: SiteState, command: c.RateTicket, now: datetime) -> Result:
    ticket = state.tickets.get(command.ticket_id)
    if command.counter is not None:  # a clerk's rating window: a citizen they served there
        _held(state, command.actor, command.counter)
        if ticket is not None and (ticket.counter != command.counter or ticket.clerk != command.actor):
            raise Rejected("not_rateable")
    event = rating(ticket, command, state.rules, now)
    return _put_ticket(state, event.ticket), [event]


def rating(ticket: Ticket | None, command: c.RateTicket, rules: SiteRules, now: datetime) -> e.TicketRated:
    """``command`` rating ``ticket`` (None: there is none): finished, not rated yet, and a
    value of the configured scale; one rating per ticket."""
    if ticket is None:
        raise Rejected("ticket_not_found", number=command.ticket_id)
    if ticket.state is not TicketState.DONE:
        raise Rejected("not_rateable")
    if ticket.rating is not None:
        raise Rejected("already_rated")
    if command.value not in rules.rating_values:
        raise Rejected("invalid_rating")
    rated = replace(ticket, rating=command.value)
    return e.TicketRated(at=now, actor=command.actor, device=command.device, ticket=rated)


def rateable_until(day: date) -> date:
    """The last local day a finished ticket of ``day`` can be rated (from its page)."""
    return day + timedelta(days=PAST_RATING_DAYS)


def past_rating(ticket: Ticket | None, command: c.RateTicket, rules: SiteRules,
                now: datetime) -> e.TicketRated:
    """A rating of a ticket of an earlier day, which the day's state no longer holds: as
    ``rating``, and only until ``rateable_until`` its day. The store writes the event."""
    event = rating(ticket, command, rules, now)
    if rateable_until(event.ticket.day) < now.astimezone(rules.tz).date():
        raise Rejected("not_rateable")
    return event


_HANDLERS: dict[type[c.Command], Callable[[SiteState, Any, datetime], Result]] = {
    c.IssueTicket: _issue,
    c.OpenCounter: _open,
    c.CloseCounter: _close,
    c.PauseCounter: _pause,
    c.ResumeCounter: _resume_counter,
    c.CallNext: _call_next,
    c.CallNumber: _call_number,
    c.Recall: _recall,
    c.ResumeHeld: _resume_held,
    c.StartService: _start,
    c.Finish: _finish,
    c.MarkAbsent: _absent,
    c.Hold: _hold,
    c.Transfer: _transfer,
    c.CancelTicket: _cancel,
    c.RateTicket: _rate,
}
