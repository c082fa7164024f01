"""The integration API's bodies for appointments and check-in (issue 14; routes with the
``book`` scope in server/api/routes.py). The rules and their refusals are the websocket's
(server/handlers/booking.py): these structs only carry them over HTTP."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from server.api.schemas import TicketInfo


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class BookRequest(_Body, frozen=True, kw_only=True):
    """Book the slot of ``service`` starting at ``start`` (a start of GET …/slots) for a citizen."""

    service: str
    start: datetime  # with its offset, e.g. 2026-11-26T08:00:00+07:00
    name: str  # 2-80 letters and spaces
    phone: str  # a Vietnamese mobile number: 0912345678, +84912345678
    cccd: str  # the 12-digit citizen identity number (only its keyed hash and last 4 digits are kept)


class CheckInRequest(_Body, frozen=True, kw_only=True):
    """Check a booking in at the site: by its code, or by its holder's CCCD number (exactly one)."""

    code: str | None = None  # XXXX-XXXX, with or without the dash, any case
    cccd: str | None = None  # today's earliest booking of this person at the site
    idempotency_key: str | None = None  # 8-64 characters; a check-in is idempotent by booking anyway


class MoveRequest(_Body, frozen=True, kw_only=True):
    """Move the booking to the slot of its service starting at ``start`` (any bookable day)."""

    start: datetime  # a start of GET …/slots, with its offset


class RemoteRequest(_Body, frozen=True, kw_only=True):
    """A real number for today for a citizen who is not there yet (a service with remote numbers)."""

    service: str
    name: str  # 2-80 letters and spaces
    phone: str  # a Vietnamese mobile number
    cccd: str  # the 12-digit citizen identity number (only its keyed hash and last 4 digits are kept)


class Slot(_Body, frozen=True, kw_only=True):
    start: datetime  # local time with its offset
    end: datetime
    left: int  # bookable places left (0 when full or past)


class SlotList(_Body, frozen=True, kw_only=True):
    site: str
    service: str
    day: date
    slots: list[Slot]


class BookingInfo(_Body, frozen=True, kw_only=True):
    code: str  # 8 characters, without the dash
    site: str
    service: str
    start: datetime
    end: datetime
    status: Literal["booked", "cancelled", "checked_in", "no_show"]
    checkin_opens: datetime
    checkin_closes: datetime
    name: str | None  # None once deleted after queue.booking_personal_data_days
    phone_masked: str | None
    cccd_last4: str


class CheckedIn(_Body, frozen=True, kw_only=True):
    """The ticket a check-in issued (the same one again for a booking already checked in)."""

    booking: str  # the booking's code
    ticket: TicketInfo
    ahead: int
    estimated_wait_minutes: int | None
    url: str  # the ticket's page
    late: bool  # after the check-in window, issued as an ordinary walk-in number (late_arrival "walk_in")


class RemoteTaken(_Body, frozen=True, kw_only=True):
    """The number taken: waiting now, followed at ``url`` (the ticket's page, /t/<token>)."""

    ticket: TicketInfo
    url: str
