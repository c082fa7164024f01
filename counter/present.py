"""What the counter window shows, as plain values: texts already translated and timed.

Pure functions of the state (mirror + translator) and ``now``; the view only lays them
out. Keeping them here lets the tests check the words a clerk reads, with no window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from common import protocol as p
from counter.model import SERVING, elapsed, format_duration
from counter.state import CounterState

NEXT_ROWS = 8


@dataclass(frozen=True)
class TicketCard:
    """The big card: the active ticket, or the counter's idle/paused message."""

    kind: str  # "called" | "serving" | "idle" | "paused"
    number: str = ""
    title: str = ""  # service name, or the idle/paused headline
    badge: str = ""  # state label ("ĐANG GỌI") or empty
    priority: str = ""  # priority class name, "" when none
    lines: list[str] = field(default_factory=list)  # waited / served timers, notes


@dataclass(frozen=True)
class Row:
    number: str
    text: str
    detail: str = ""
    priority: bool = False
    mine: bool = False  # targeted to / held by this counter


def header(state: CounterState) -> tuple[str, str, str]:
    """(counter title, clerk line, status key) for the top bar."""
    counter = state.mirror.counter
    if counter is None:
        return "", "", ""
    title = state.text("counter_label", number=counter.number, name=counter.name_in(state.language))
    clerk = state.user.full_name if state.user else (counter.clerk_name or "")
    return title, clerk, counter.status


def ticket_card(state: CounterState, now: datetime) -> TicketCard:
    mirror = state.mirror
    counter = mirror.counter
    ticket = mirror.active_ticket
    lang = state.language
    if ticket is not None:
        lines = [_timers(state, ticket, now)]
        if ticket.appointment_at is not None:
            lines.append(_appointment(state, ticket))
        if ticket.transfers and ticket.origin_service != ticket.service:
            lines.append(state.text("card_transferred_from",
                                    service=mirror.service_name(ticket.origin_service, lang)))
        elif ticket.transfers:
            lines.append(state.text("card_transferred"))
        if ticket.recalls:
            lines.append(state.text("card_recalls", count=ticket.recalls))
        if ticket.note:
            lines.append(state.text("card_note", note=ticket.note))
        return TicketCard(
            kind=ticket.state, number=ticket.number, title=mirror.service_name(ticket.service, lang),
            badge=state.text(f"state_{ticket.state}"),
            priority=mirror.priority_name(ticket.priority, lang) or "", lines=lines,
        )
    if counter is not None and counter.status == "paused":
        since = elapsed(counter.since, now)
        return TicketCard(
            kind="paused", title=state.text("card_paused"), badge=state.text("state_paused"),
            lines=[counter.pause_reason or "", state.text("card_paused_for", time=format_duration(since))],
        )
    waiting = mirror.waiting_for_me()
    if not waiting:
        return TicketCard(kind="idle", title=state.text("card_idle"), lines=[state.text("card_idle_empty")])
    lines = [state.text("card_idle_waiting", count=len(waiting), shortcut="F1")]
    # Not "the next one": which ticket the server calls depends on rules the client does
    # not see (service preference, the priority streak). The longest wait is a plain fact.
    longest = min(waiting, key=lambda t: t.issued_at)
    star = "★ " if longest.priority else ""
    lines.append(state.text("card_idle_longest", number=f"{star}{longest.number}",
                            minutes=_minutes(elapsed(longest.issued_at, now))))
    return TicketCard(kind="idle", title=state.text("card_idle"), lines=lines)


def _appointment(state: CounterState, ticket: p.TicketView) -> str:
    """"Lịch hẹn 09:30 · Nguyễn Văn An · ••••••••1234": the booked slot's start and, for the
    clerk serving the citizen, the booking's name and masked CCCD (sent to counters only)."""
    assert ticket.appointment_at is not None
    time = state.mirror.local(ticket.appointment_at).strftime("%H:%M")
    if ticket.citizen:
        return state.text("card_appointment_citizen", time=time, citizen=ticket.citizen)
    return state.text("card_appointment", time=time)


def _timers(state: CounterState, ticket: p.TicketView, now: datetime) -> str:
    waited = elapsed(ticket.issued_at, ticket.first_called_at or ticket.called_at or now)
    parts = [state.text("card_waited", time=format_duration(waited))]
    if ticket.state == SERVING:
        parts.append(state.text("card_serving_for", time=format_duration(elapsed(ticket.started_at, now))))
    else:
        parts.append(state.text("card_called_for", time=format_duration(elapsed(ticket.called_at, now))))
    return "   ·   ".join(parts)


def service_rows(state: CounterState) -> list[Row]:
    """Waiting count per service this counter serves (its own order)."""
    rows = []
    for service in state.mirror.my_services:
        name = service.name_en if state.language == "en" else service.name_vi
        rows.append(Row(number=str(state.mirror.waiting_count(service.code)), text=name))
    targeted = state.mirror.targeted_to_me()
    if targeted:
        rows.append(Row(number=str(targeted), text=state.text("queue_targeted"), mine=True))
    return rows


def next_rows(state: CounterState, now: datetime, limit: int = NEXT_ROWS) -> list[Row]:
    mirror = state.mirror
    rows = []
    several = len(mirror.counter.services) > 1 if mirror.counter else False
    for ticket in mirror.waiting_for_me()[:limit]:
        detail = state.text("minutes_waiting", minutes=_minutes(elapsed(ticket.issued_at, now)))
        parts = []
        if ticket.appointment_at is not None:  # the name stays on the card of the one being served
            slot = mirror.local(ticket.appointment_at).strftime("%H:%M")
            parts.append(state.text("row_appointment", time=slot))
        if ticket.priority:
            parts.append(mirror.priority_name(ticket.priority, state.language) or "")
        if several or ticket.target_counter is not None:
            parts.append(mirror.service_name(ticket.service, state.language))
        if not parts:
            parts.append(state.text("issued_at", time=mirror.local(ticket.issued_at).strftime("%H:%M")))
        text = " · ".join(parts)
        rows.append(Row(number=ticket.number, text=text, detail=detail, priority=bool(ticket.priority),
                        mine=ticket.target_counter is not None))
    return rows


def held_rows(state: CounterState, now: datetime) -> list[Row]:
    mirror = state.mirror
    rows = []
    for ticket in mirror.held():
        mine = ticket.counter == mirror.counter_number
        text = ticket.note or mirror.service_name(ticket.service, state.language)
        where = state.text("held_here") if mine else state.text("held_at", counter=ticket.counter or "?")
        since = _minutes(elapsed(ticket.held_at, now))
        rows.append(Row(number=ticket.number, text=text, detail=f"{where} · {since}′",
                        priority=bool(ticket.priority), mine=mine))
    return rows


def absent_rows(state: CounterState, now: datetime) -> list[Row]:
    mirror = state.mirror
    return [
        Row(number=ticket.number, text=mirror.service_name(ticket.service, state.language),
            detail=state.text("absent_left", minutes=left), priority=bool(ticket.priority),
            mine=ticket.counter == mirror.counter_number)
        for ticket, left in mirror.absent_in_window(now)
    ]


def figures(state: CounterState) -> list[tuple[str, str]]:
    """(value, label) pairs: served, absent, average service time."""
    f = state.mirror.figures()
    average = format_duration(timedelta(seconds=f.average_seconds)) if f.average_seconds is not None else "–"
    return [
        (str(f.served), state.text("fig_served")),
        (str(f.absent), state.text("fig_absent")),
        (average, state.text("fig_average")),
    ]


def _minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0
