"""The integration API's route table: every path, its method, the scope a key needs, its
parameters (checked before the handler runs, and documented from the same definitions),
its body and its responses. server/api/server.py serves exactly these; server/api/openapi.py
documents exactly these (tests/test_api_openapi.py checks both ways).

Booking and check-in (issue 14) add their routes here, with the ``book`` scope, beside
``issue``: POST /api/v1/sites/{site}/bookings, DELETE /api/v1/sites/{site}/bookings/{id},
POST /api/v1/sites/{site}/bookings/{id}/check-in — once server/booking exists.
"""

from __future__ import annotations

from typing import Any

from common.config import CODE_PATTERN
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
)
