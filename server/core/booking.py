"""Appointments: a service's slots, the places left, and the decisions on booking and
check-in. Pure: no clock (``now`` is given), no SQL (the counts are given); docs/booking.md.

A service's issuing hours (its own, else the site's) are divided into slots of
``booking.slot_minutes`` from the start of each hours range; a last piece shorter than a slot
is no slot. A holiday has no slots. Of a slot's ``places_per_slot``, ``bookable_places``
can be booked (the rest is kept for walk-ins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

from common.config import WEEKDAYS, Booking, Service, Site, parse_hours


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime  # aware, in the site's zone
    end: datetime


BookingRefusal = Literal["slot_full", "slot_past", "day_out_of_range", "not_bookable",
                         "person_limit", "closed_day", "no_such_slot"]
CheckinDecision = Literal["ok", "too_early", "too_late_walk_in", "too_late_refused", "not_today",
                          "cancelled", "already_checked_in"]


def slots_of_day(site: Site, service: Service, day: date, tz: tzinfo) -> list[Slot]:
    """The service's slots on ``day``, in time order (none on a holiday or a closed day)."""
    if day in site.holidays:
        return []
    length = timedelta(minutes=service.booking.slot_minutes)
    out = []
    for start, end in sorted(parse_hours(site.hours_for(service).get(WEEKDAYS[day.weekday()], []))):
        at = datetime.combine(day, start, tzinfo=tz)
        close = datetime.combine(day, end, tzinfo=tz)
        if end.hour == 23 and end.minute == 59 and end.second == 59:  # "24:00"
            close = datetime.combine(day + timedelta(days=1), start.replace(hour=0, minute=0), tzinfo=tz)
        while at + length <= close:
            out.append(Slot(at, at + length))
            at += length
    return out


def places_left(booking: Booking, booked: int, slot: Slot, now: datetime) -> int:
    """Bookable places left in ``slot`` with ``booked`` bookings in it; 0 once it has begun."""
    if slot.start <= now:
        return 0
    return max(0, booking.bookable_places - booked)


def held_in(slot: Slot, booked: Mapping[datetime, int]) -> int:
    """The places of ``slot`` held by bookings (``booked``: a booked slot's start → how many):
    those whose start falls in it, so a booking made before the slot length or the hours
    changed still holds its place in the slot its time now falls in."""
    return sum(count for start, count in booked.items() if slot.start <= start < slot.end)


def bookable_days(booking: Booking, today: date) -> tuple[date, date]:
    """The first and last day a booking may be for."""
    return today, today + timedelta(days=booking.days_ahead)


def find_slot(site: Site, service: Service, start: datetime, tz: tzinfo) -> Slot | None:
    """The slot of ``service`` that starts at ``start`` (any zone), if there is one."""
    local = start.astimezone(tz)
    return next((s for s in slots_of_day(site, service, local.date(), tz) if s.start == local), None)


def decide_booking(
    site: Site, service: Service, start: datetime, tz: tzinfo, now: datetime, *,
    booked_in_slot: int, person_bookings_that_day: int,
) -> Slot | BookingRefusal:
    """Whether a booking of the slot starting at ``start`` is accepted (the slot) or why not.
    ``booked_in_slot``: the slot's bookings still booked or checked in; ``person_bookings_that_day``:
    the person's bookings and remote numbers that day at the site (without the one moved)."""
    rules = service.booking
    if not rules.bookable:
        return "not_bookable"
    local = start.astimezone(tz)
    first, last = bookable_days(rules, now.astimezone(tz).date())
    if not first <= local.date() <= last:
        return "day_out_of_range"
    day_slots = slots_of_day(site, service, local.date(), tz)
    if not day_slots:
        return "closed_day"
    slot = next((s for s in day_slots if s.start == local), None)
    if slot is None:
        return "no_such_slot"
    if slot.start <= now:
        return "slot_past"
    if person_bookings_that_day >= rules.per_person_per_day:
        return "person_limit"
    if booked_in_slot >= rules.bookable_places:
        return "slot_full"
    return slot


@dataclass(frozen=True, slots=True)
class CheckinWindow:
    opens: datetime
    closes: datetime


def checkin_window(rules: Booking, slot_start: datetime) -> CheckinWindow:
    return CheckinWindow(slot_start - timedelta(minutes=rules.checkin_early_minutes),
                         slot_start + timedelta(minutes=rules.checkin_late_minutes))


def decide_checkin(status: str, slot_start: datetime, now: datetime, rules: Booking,
                   tz: tzinfo) -> CheckinDecision:
    """What a check-in of a booking in ``status`` for the slot at ``slot_start`` does now."""
    if status == "cancelled":
        return "cancelled"
    if status == "checked_in":
        return "already_checked_in"
    if slot_start.astimezone(tz).date() != now.astimezone(tz).date():
        return "not_today"
    window = checkin_window(rules, slot_start)
    if now < window.opens:
        return "too_early"
    if now > window.closes or status == "no_show":
        return "too_late_walk_in" if rules.late_arrival == "walk_in" else "too_late_refused"
    return "ok"


def no_show_before(now: datetime, rules_by_service: Mapping[str, Booking]) -> datetime:
    """Bookings whose slot started before this are past every service's check-in window
    (the ticker then checks each against its own service's window)."""
    latest = max((r.checkin_late_minutes for r in rules_by_service.values()), default=0)
    return now - timedelta(minutes=latest)
