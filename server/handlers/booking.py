"""Appointments, remote numbers and check-in (issue 14; docs/booking.md, docs/protocol.md).

The public booking page (anonymous, /ws/public), a kiosk (check-in) and a reception desk
(clerk or manager: book, take_remote, checkin) send these messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected

if TYPE_CHECKING:
    from server.connections import Session
    from server.handlers.dispatch import Handler
    from server.service import Service


class BookingRequests:
    def __init__(self, service: Service) -> None:
        self.service = service

    def table(self) -> dict[str, Handler]:
        return {
            "booking_options": self.booking_options, "booking_slots": self.pending,
            "book": self.pending, "booking_lookup": self.pending, "booking_cancel": self.pending,
            "booking_move": self.pending, "take_remote": self.pending, "checkin": self.pending,
        }

    async def booking_options(self, ws: ServerConnection, session: Session,
                              m: p.BookingOptionsRequest) -> p.BookingOptions:
        config = self.service.config
        sites = []
        for site in config.sites:
            if m.site is not None and site.code != m.site:
                continue
            services = [
                p.BookingServiceOption(code=s.code, name_vi=s.name_vi, name_en=s.name_en,
                                       bookable=s.booking.bookable, remote_today=s.booking.remote_today,
                                       days_ahead=s.booking.days_ahead)
                for s in site.services if s.booking.bookable or s.booking.remote_today]
            if services:
                sites.append(p.BookingSiteOption(code=site.code, name=site.name, services=services))
        if m.site is not None and config.site(m.site) is None:
            raise Rejected("unknown_site", site=m.site)
        return p.BookingOptions(re=m.id, sites=sites)

    async def pending(self, ws: ServerConnection, session: Session, m: Any) -> Any:
        """Not served yet: the rest of the booking handlers are being written (issue 14)."""
        raise Rejected("internal")
