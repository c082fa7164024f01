"""The integration API's route table: every path, its method, the scope a key needs, its
parameters (checked before the handler runs, and documented from the same definitions),
its body and its responses. server/api/server.py serves exactly these; server/api/openapi.py
documents exactly these (tests/test_api_openapi.py checks both ways).

Appointments and check-in (issue 14) have the ``book`` scope: a day's slots of a service,
booking, a booking by its code (GET, DELETE cancels, POST …/move moves it), a number for
today taken remotely, and checking in by code or CCCD; what
they do is the websocket's (server/api/booking_handlers.py).
"""

from __future__ import annotations

from typing import Any

from common.config import CODE_PATTERN
from server.api import booking_handlers as bh
from server.api import booking_schemas as bs
from server.api import handlers as h
from server.api import schemas as s
from server.api.openapi import document
from server.api.spec import Param, Route
from server.past_tickets import TOKEN

PREFIX = "/api/v1"


SITE = Param("site", "path", {"type": "string", "pattern": CODE_PATTERN.pattern}, "The site's code.")
NUMBER = Param("number", "path", {"type": "string", "pattern": r"^[A-Za-z0-9]{1,12}$"},
               "The ticket's printed number today (A025, 1025).")
TICKET_TOKEN = Param("token", "path", {"type": "string", "pattern": TOKEN.pattern},
                     "The ticket's token (its page's address /t/TOKEN, the QR code).")
DOSSIER = Param("code", "path", {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[^\s/]+$"},
                "The dossier code the clerk recorded at finish (the one-stop software's).")
SERVICE = Param("service", "path", {"type": "string", "pattern": CODE_PATTERN.pattern}, "The service's code.")
BOOKING_CODE = Param("code", "path", {"type": "string", "minLength": 1, "maxLength": 20,
                                      "pattern": r"^[A-Za-z0-9-]+$"},
                     "The booking's code, XXXX-XXXX (with or without the dash, any case).")
DAY = Param("day", "query", {"type": "string", "format": "date"}, "The local day (YYYY-MM-DD).")
FROM = Param("from", "query", {"type": "string", "format": "date"}, "First local day (YYYY-MM-DD).")
TO = Param("to", "query", {"type": "string", "format": "date"},
           "Last local day, inclusive (YYYY-MM-DD); at most 366 days after `from`.")


async def openapi_document(call: h.Call) -> dict[str, Any]:
    return document(ROUTES)


ROUTES: tuple[Route, ...] = (
    Route("GET", f"{PREFIX}/openapi.json", openapi_document, None, "This document (no key needed).", None,
          errors=()),
    Route("GET", f"{PREFIX}/sites", h.list_sites, "read", "The sites the key covers.", s.SiteList,
          errors=(401, 403, 429)),
    Route("GET", f"{PREFIX}/sites/{{site}}/queue", h.site_queue, "read",
          "Today's queue: per service the people waiting, the estimated wait and who is being served; "
          "every counter.", s.QueueView, (SITE,), errors=(400, 401, 403, 404, 429)),
    Route("GET", f"{PREFIX}/sites/{{site}}/tickets/{{number}}", h.ticket_by_number, "read",
          "Today's ticket with this number.", s.TicketInfo, (SITE, NUMBER), errors=(400, 401, 403, 404, 429)),
    Route("GET", f"{PREFIX}/tickets/by-token/{{token}}", h.ticket_by_token, "read",
          "The ticket with this token (today or an earlier day).", s.TicketInfo, (TICKET_TOKEN,),
          errors=(400, 401, 403, 404, 429)),
    Route("GET", f"{PREFIX}/tickets/by-dossier/{{code}}", h.tickets_by_dossier, "read",
          "The tickets finished with this dossier code, newest first (today and earlier days).",
          s.TicketList, (DOSSIER,), errors=(400, 401, 403, 429)),
    Route("GET", f"{PREFIX}/sites/{{site}}/stats", h.site_stats, "read",
          "A period's figures, in total and per service (docs/statistics.md).", s.Stats, (SITE, FROM, TO),
          errors=(400, 401, 403, 404, 429, 503)),
    Route("POST", f"{PREFIX}/sites/{{site}}/tickets", h.issue_ticket, "issue",
          "Issue a ticket (201; 200 when the idempotency key already issued it today).", s.IssuedTicket,
          (SITE,), body=s.IssueRequest, statuses=(200, 201), errors=(400, 401, 403, 404, 409, 413, 415, 429)),
    # -- appointments and check-in (issue 14) --
    Route("GET", f"{PREFIX}/sites/{{site}}/services/{{service}}/slots", bh.booking_slots, "book",
          "A bookable service's slots on a day, with the places left to book.", bs.SlotList,
          (SITE, SERVICE, DAY), errors=(400, 401, 403, 404, 409, 429)),
    Route("POST", f"{PREFIX}/sites/{{site}}/bookings", bh.book, "book",
          "Book a slot for a citizen (201): the same rules and limits as the booking page; channel \"api\".",
          bs.BookingInfo, (SITE,), body=bs.BookRequest, statuses=(201,),
          errors=(400, 401, 403, 404, 409, 413, 415, 429)),
    Route("GET", f"{PREFIX}/sites/{{site}}/bookings/{{code}}", bh.booking_by_code, "book",
          "The booking with this code at the site.", bs.BookingInfo, (SITE, BOOKING_CODE),
          errors=(400, 401, 403, 404, 429)),
    Route("DELETE", f"{PREFIX}/sites/{{site}}/bookings/{{code}}", bh.cancel_booking, "book",
          "Cancel the booking (its place is free again); a cancelled one answers as it is.", bs.BookingInfo,
          (SITE, BOOKING_CODE), errors=(400, 401, 403, 404, 409, 429)),
    Route("POST", f"{PREFIX}/sites/{{site}}/bookings/{{code}}/move", bh.move_booking, "book",
          "Move the booking to another slot of its service (any bookable day): the same rules and limits "
          "as booking.", bs.BookingInfo, (SITE, BOOKING_CODE),
          body=bs.MoveRequest, errors=(400, 401, 403, 404, 409, 413, 415, 429)),
    Route("POST", f"{PREFIX}/sites/{{site}}/remote-tickets", bh.take_remote, "book",
          "Take a number for today for a citizen on the way (201): a service with remote numbers, while it "
          "issues; the booking page's per-person limit; channel \"api\". Each call takes a new number.",
          bs.RemoteTaken, (SITE,), body=bs.RemoteRequest, statuses=(201,),
          errors=(400, 401, 403, 404, 409, 413, 415, 429)),
    Route("POST", f"{PREFIX}/sites/{{site}}/check-ins", bh.check_in, "book",
          "Check a booking in by its code or its holder's CCCD and issue its ticket (201; 200 with the "
          "same ticket when it was checked in already).", bs.CheckedIn, (SITE,), body=bs.CheckInRequest,
          statuses=(200, 201), errors=(400, 401, 403, 404, 409, 413, 415, 429)),
)
