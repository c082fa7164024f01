"""The booking pages' handlers: ``/book``, ``/book/<code>`` and ``/book/<code>.ics``.

``/book/<code>`` is built from the code alone (no database read: a page for any code well
formed), so it tells nothing about which codes exist; its script asks for the booking
(``booking_lookup``) over the rate-limited public websocket and says "not found" the same
way for an unknown and a wrong code. The calendar file has to read the booking; its misses
are bounded for the whole server (``ICS_MISSES``), so codes cannot be tried through it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from websockets.http11 import Request, Response

from common.citizen_ids import (
    BOOKING_CODE_ALPHABET,
    PROVINCE_CODES,
    normalize_booking_code,
    show_booking_code,
)
from common.config import Booking
from common.errors import Rejected
from common.i18n import Translator
from server.http import text_response
from server.limits import LoginThrottle
from server.web.booking.frame import render, translator
from server.web.booking.ics import CalendarEvent, calendar_file
from server.web.booking.options import booking_sites
from server.web.booking.qr import qr_svg
from server.web.html import download

if TYPE_CHECKING:
    from server.service import Service

# Calendar files asked for codes that are not booked, for the whole server: past this many in
# a minute the route answers 429 for a while. A phone gets its own file at once; someone
# trying codes gets about 86,000 tries a day, against 24^8 (1.1e11) codes.
ICS_MISSES = LoginThrottle(limit=60, window=60.0)
ICS_KEY = "ics"


def _page_data(server: Service, t: Translator) -> dict[str, Any]:
    """What both pages' script needs: the sites and services on offer, the site-local today
    and the server's clock (the phone's may be wrong), and the shapes it checks as typed."""
    now = server.clock()
    return {
        "sites": booking_sites(server.config, now, t.language),
        "today": now.astimezone(server.config.tz).date().isoformat(),
        "now": now.isoformat(),
        "timezone": server.config.timezone,
        "province_codes": sorted(PROVINCE_CODES),
        "code_alphabet": BOOKING_CODE_ALPHABET,
    }


def _privacy(server: Service) -> dict[str, Any]:
    return {"privacy_days": server.config.queue.booking_personal_data_days,
            "centre": server.config.centre_name}


def book_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    t = translator(request, query)
    data = _page_data(server, t)
    return render(t, query, "book.html", title=t.text("title"), data={**data, "page": "book"},
                  values={"sites": data["sites"], **_privacy(server)})


async def booking_route(server: Service, request: Request, query: dict[str, str]) -> Response:
    """``/book/<code>`` or ``/book/<code>.ics``."""
    tail = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
    if tail.endswith(".ics"):
        return await calendar(server, request, query, tail.removesuffix(".ics"))
    return manage_page(server, request, query, tail)


def _not_found(server: Service, t: Translator, query: dict[str, str]) -> Response:
    return render(t, query, "not_found.html", title=t.text("m_not_found"), data={"page": "none"},
                  values={"centre": server.config.centre_name}, status=404)


def manage_page(server: Service, request: Request, query: dict[str, str], tail: str) -> Response:
    t = translator(request, query)
    try:
        code = normalize_booking_code(tail)
    except Rejected:
        return _not_found(server, t, query)
    shown = show_booking_code(code)
    data = {**_page_data(server, t), "page": "manage", "code": code, "new": query.get("new") == "1"}
    qr = Markup(qr_svg(code, t.text("m_qr", code=shown)))  # qr_svg escapes its label
    return render(t, query, "manage.html", title=f"{shown} – {t.text('m_title')}", data=data,
                  values={"centre": server.config.centre_name, "code": code, "shown": shown, "qr": qr})


def _calendar_row(conn: sqlite3.Connection, code: str) -> tuple[str, str, str, str, str] | None:
    """(site, service, slot_start, slot_end, status) of the booking ``code``, or None."""
    row = conn.execute("SELECT site, service, slot_start, slot_end, status FROM bookings WHERE code = ?",
                       (code,)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]))


async def calendar(server: Service, request: Request, query: dict[str, str], tail: str) -> Response:
    """The booking's calendar file; the same 404 page for a malformed code, an unknown one and
    a booking no longer booked (nothing to put in a calendar)."""
    t = translator(request, query)
    if ICS_MISSES.retry_after([ICS_KEY]):
        return text_response(429, " / ".join(t.both("ics_busy")))
    try:
        code = normalize_booking_code(tail)
    except Rejected:
        ICS_MISSES.failed([ICS_KEY])
        return _not_found(server, t, query)
    row = await server.read_db(_calendar_row, code)
    if row is None or row[4] != "booked":
        ICS_MISSES.failed([ICS_KEY])
        return _not_found(server, t, query)
    site_code, service_code, start_text, end_text, _ = row
    start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    site = server.config.site(site_code)
    service = site.service(service_code) if site else None
    rules = service.booking if service else Booking()
    name = (service.name_en if t.language == "en" else service.name_vi) if service else service_code
    local = server.config.tz
    opens = (start - timedelta(minutes=rules.checkin_early_minutes)).astimezone(local).strftime("%H:%M")
    closes = (start + timedelta(minutes=rules.checkin_late_minutes)).astimezone(local).strftime("%H:%M")
    url = f"{server.config.server.public_url.rstrip('/')}/book/{code}"
    shown = show_booking_code(code)
    where = ", ".join(part for part in ((site.name, site.address) if site else (site_code,)) if part)
    event = CalendarEvent(
        uid=f"{code}@xephang", start=start, end=end, stamp=server.clock(),
        summary=t.text("ics_summary", service=name), location=where,
        description=t.text("ics_description", code=shown, opens=opens, closes=closes, url=url),
        url=url, alarm=t.text("ics_alarm"))
    return download(calendar_file(event), "text/calendar; charset=utf-8", f"lich-hen-{shown}.ics")

