"""The ticker's booking work (server/app.py, at most once a minute): bookings whose check-in
window has closed become no-shows, and names and phones are deleted
``queue.booking_personal_data_days`` after the booked day. One ``Writer.exclusive`` step."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from server import booking_store as bs

if TYPE_CHECKING:
    from server.service import Service

SWEEP_SECONDS = 60.0


async def sweep(service: Service) -> int:
    """Returns how many bookings changed."""
    config = service.config
    now = service.clock()
    closed = {f"{site.code}:{s.code}": now - timedelta(minutes=s.booking.checkin_late_minutes)
              for site in config.sites for s in site.services if s.booking.bookable}
    keep_from = bs.retention_day(service.today(), config.queue.booking_personal_data_days)
    conn = service.store.db.conn

    def work() -> int:
        return bs.mark_no_shows(conn, closed, now) + bs.forget_personal_data(conn, keep_from)

    return await service.exclusive(lambda: service.run_db(bs.in_transaction, conn, work))
