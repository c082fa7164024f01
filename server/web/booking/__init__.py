"""The public booking pages (issue 14; docs/booking.md): ``/book`` (a citizen chooses the
site, the service, the day and a slot with places left, or takes a number for today, and
gives name, phone and CCCD) and ``/book/<code>`` (the booking: its QR, the calendar file at
``/book/<code>.ics``, moving and cancelling it). The pages only read the configuration;
their script (assets/web/booking.js) sends the booking messages over ``/ws/public``, where
the server checks, rate-limits and answers them."""

from __future__ import annotations

from server.http import Handler
from server.web.booking import pages

ROUTES: dict[str, Handler] = {
    "/book": pages.book_page,
    "/book/": pages.booking_route,
}
