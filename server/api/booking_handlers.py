"""The integration API's appointment and check-in routes (issue 14; scope ``book``; the table is
server/api/routes.py).

Nothing of the rules is here: each route calls the websocket's handler
(server/handlers/booking.py ``BookingRequests``) with a session of role ``api`` acting as
"api:<key id>" — the same validation (name, phone, CCCD, code), the same decisions and
limits (places per slot, per person per day, the per-CCCD attempt rate), the same single
exclusive step per change with its event row, and the same error codes. The booking's
channel is "api". A booking of a site the key does not cover is "booking_not_found", like
an unknown code (no enumeration across sites).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import msgspec

from common import protocol as p
from common.errors import Rejected
from server.api import booking_schemas as b
from server.api.handlers import ApiError, Call, today_info
from server.connections import Session
from server.handlers import booking as ws
from server.handlers.kiosk import TicketTokens

if TYPE_CHECKING:
    from server.service import Service

_requests: weakref.WeakKeyDictionary[Service, ws.BookingRequests] = weakref.WeakKeyDictionary()
RETRY_AFTER = 3600 // ws.PERSON_ATTEMPTS_PER_HOUR  # seconds: one more attempt for the same CCCD


def _handlers(service: Service) -> ws.BookingRequests:
    found = _requests.get(service)
    if found is None:
        found = _requests[service] = ws.BookingRequests(service, TicketTokens())
    return found


def _session(call: Call) -> Session:
    who = f"api:{call.key.id}" if call.key is not None else "api"
    sites = tuple(call.key.sites) if call.key is not None else ()
    return Session(remote=who, role=ws.API_ROLE, username=who, device=who, sites=sites)


async def _run(call: Call, handler: Any, message: Any) -> Any:
    """The websocket handler's reply; its per-CCCD rate refusal as a 429 with Retry-After."""
    try:
        return await handler(None, _session(call), message)
    except Rejected as exc:
        if exc.code == "rate_limited":
            raise ApiError(429, "rate_limited", seconds=RETRY_AFTER) from None
        raise


def _booking(view: p.BookingView) -> b.BookingInfo:
    fields = {f.name: getattr(view, f.name) for f in msgspec.structs.fields(b.BookingInfo)}
    return b.BookingInfo(**fields)


async def _found(call: Call) -> b.BookingInfo:
    """The path's booking, at the path's site (another site's: not found)."""
    handlers = _handlers(call.service)
    view = await _run(call, handlers.booking_lookup, p.BookingLookup(code=call.path["code"]))
    if view.site != call.path["site"]:
        raise Rejected("booking_not_found")
    return _booking(view)


# -- the routes --------------------------------------------------------------------------------


async def booking_slots(call: Call) -> b.SlotList:
    handlers = _handlers(call.service)
    reply = await _run(call, handlers.booking_slots, p.BookingSlotsRequest(
        site=call.path["site"], service=call.path["service"], day=call.query["day"]))
    return b.SlotList(site=reply.site, service=reply.service, day=reply.day,
                      slots=[b.Slot(start=s.start, end=s.end, left=s.left) for s in reply.slots])


async def book(call: Call) -> tuple[int, b.BookingInfo]:
    body: b.BookRequest = call.body
    handlers = _handlers(call.service)
    view = await _run(call, handlers.book, p.Book(
        site=call.path["site"], service=body.service, start=body.start, name=body.name, phone=body.phone,
        cccd=body.cccd))
    return 201, _booking(view)


async def booking_by_code(call: Call) -> b.BookingInfo:
    return await _found(call)


async def cancel_booking(call: Call) -> b.BookingInfo:
    await _found(call)
    handlers = _handlers(call.service)
    return _booking(await _run(call, handlers.booking_cancel, p.BookingCancel(code=call.path["code"])))


async def move_booking(call: Call) -> b.BookingInfo:
    body: b.MoveRequest = call.body
    await _found(call)
    handlers = _handlers(call.service)
    return _booking(await _run(call, handlers.booking_move, p.BookingMove(code=call.path["code"],
                                                                         start=body.start)))


async def take_remote(call: Call) -> tuple[int, b.RemoteTaken]:
    body: b.RemoteRequest = call.body
    handlers = _handlers(call.service)
    taken: p.RemoteTicket = await _run(call, handlers.take_remote, p.TakeRemote(
        site=call.path["site"], service=body.service, name=body.name, phone=body.phone, cccd=body.cccd))
    service, state = call.service, call.state()
    ticket = next(t for t in state.tickets.values() if t.token == taken.token)
    url = f"{service.config.server.public_url.rstrip('/')}/t/{taken.token}"
    return 201, b.RemoteTaken(ticket=today_info(service, state, ticket), url=url)


async def check_in(call: Call) -> tuple[int, b.CheckedIn]:
    body: b.CheckInRequest = call.body
    site = call.path["site"]
    again = False
    if body.code is not None and body.cccd is None:
        handlers = _handlers(call.service)
        view = await _run(call, handlers.booking_lookup, p.BookingLookup(code=body.code))
        if call.key is not None and not call.key.covers(view.site):
            raise Rejected("booking_not_found")
        again = view.status == "checked_in"
    who = call.key.id if call.key is not None else "api"
    retry = body.idempotency_key if body.idempotency_key is not None else f"api-checkin-{who}"[:64]
    handlers = _handlers(call.service)
    result: p.Result = await _run(call, handlers.checkin, p.CheckIn(
        code=body.code, cccd=body.cccd, idempotency_key=retry, site=site))
    assert result.ticket is not None and result.ahead is not None and result.url is not None
    service, state = call.service, call.state()
    ticket = state.tickets[result.ticket.id]
    reply = b.CheckedIn(booking=ticket.booking or "", ticket=today_info(service, state, ticket),
                        ahead=result.ahead, estimated_wait_minutes=result.estimated_wait_minutes,
                        url=result.url, late=bool(result.details.get("late")))
    return (200 if again else 201), reply
