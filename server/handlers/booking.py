"""Appointments, remote numbers and check-in (issue 14; docs/booking.md, docs/protocol.md).

The public booking page (anonymous, /ws/public), a kiosk (check-in) and a reception desk
(clerk or manager of the site: book, take_remote, checkin; channel "desk") send these.
Every booking change is one ``Writer.exclusive`` step (server/booking_store.py): counts read,
the pure decision (server/core/booking.py), the row and its event in one transaction.
Check-in issues the ticket through the writer with the booking code as its idempotency key,
so a retry or a second kiosk gets the same ticket.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection

from common import citizen_ids as ids
from common import protocol as p
from common.config import Booking, Site
from common.config import Service as ServiceConfig
from common.errors import Rejected
from server import booking_store as bs
from server import wire
from server.core import booking as core
from server.core import commands as c
from server.core.hours import is_issuing
from server.limits import TokenBucket

if TYPE_CHECKING:
    from server.connections import Session
    from server.handlers.dispatch import Handler
    from server.handlers.kiosk import TicketTokens
    from server.service import Service

log = logging.getLogger(__name__)

# Per address: the booking page's requests (lookups included: codes cannot be enumerated).
ADDRESS_RATE_PER_MINUTE = 30
ADDRESS_BURST = 15
# Per CCCD number: booking and remote-number attempts (successes are bounded by the limit).
PERSON_ATTEMPTS_PER_HOUR = 20
PERSON_BURST = 10
STAFF_ROLES = ("clerk", "manager")
# The integration API (server/api/booking_handlers.py) calls these handlers with a session of
# this role: channel "api", its key's own rate limit instead of the per-address one.
API_ROLE = "api"


class BookingRequests:
    def __init__(self, service: Service, tokens: TicketTokens,
                 kiosk_pace: Callable[[str], bool] | None = None) -> None:
        self.service = service
        self.tokens = tokens
        # A kiosk's check-ins count against its issuing pace (server.kiosk_issues_per_minute):
        # a kiosk serves one person at a time, and a stolen kiosk token cannot try codes fast.
        self.kiosk_pace = kiosk_pace
        self.by_address: dict[str, TokenBucket] = {}
        self.by_person: dict[str, TokenBucket] = {}
        self._key: bytes | None = None

    def table(self) -> dict[str, Handler]:
        return {
            "booking_options": self.booking_options,
            "booking_slots": self.booking_slots,
            "book": self.book,
            "booking_lookup": self.booking_lookup,
            "booking_cancel": self.booking_cancel,
            "booking_move": self.booking_move,
            "take_remote": self.take_remote,
            "checkin": self.checkin,
        }

    # -- helpers -----------------------------------------------------------------------------

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = bs.cccd_key(self.service.store.path)
        return self._key

    def _paced(self, session: Session) -> None:
        if session.role in STAFF_ROLES or session.role in ("kiosk", API_ROLE):
            return
        bucket = self.by_address.get(session.remote)
        if bucket is None:
            if len(self.by_address) > 50_000:
                self.by_address.clear()
            bucket = self.by_address[session.remote] = TokenBucket(
                ADDRESS_RATE_PER_MINUTE / 60, ADDRESS_BURST
            )
        if not bucket.take():
            raise Rejected("rate_limited")

    def _person_paced(self, chash: str) -> None:
        bucket = self.by_person.get(chash)
        if bucket is None:
            if len(self.by_person) > 50_000:
                self.by_person.clear()
            bucket = self.by_person[chash] = TokenBucket(PERSON_ATTEMPTS_PER_HOUR / 3600, PERSON_BURST)
        if not bucket.take():
            raise Rejected("rate_limited")

    def _citizen(self, name: str, phone: str, cccd: str, today: date) -> tuple[str, str, str, str]:
        """A booking's or remote number's citizen, checked (name, phone, CCCD and its keyed
        hash) and paced per person."""
        name, phone = ids.normalize_name(name), ids.normalize_phone(phone)
        number = ids.normalize_cccd(cccd, today)
        chash = bs.cccd_hash(self.key, number)
        self._person_paced(chash)
        return name, phone, number, chash

    def _site_service(self, site_code: str, service_code: str) -> tuple[Site, ServiceConfig]:
        site = self.service.config.site(site_code)
        if site is None:
            raise Rejected("unknown_site", site=site_code)
        service = site.service(service_code)
        if service is None:
            raise Rejected("unknown_service", service=service_code)
        return site, service

    def _staff_site(self, session: Session, site: str) -> None:
        """A desk acts only for its own sites (a manager without sites: every site)."""
        if session.role in STAFF_ROLES and session.sites and site not in session.sites:
            raise Rejected("forbidden")

    def _channel(self, session: Session) -> str:
        if session.role == API_ROLE:
            return "api"
        return "desk" if session.role in STAFF_ROLES else "web"

    def _view(self, b: bs.StoredBooking, re: p.RequestId) -> p.BookingView:
        tz = self.service.config.tz
        site = self.service.config.site(b.site)
        service = site.service(b.service) if site else None
        rules = service.booking if service else Booking()  # a service removed since
        window = core.checkin_window(rules, b.slot_start)
        return p.BookingView(
            re=re,
            code=b.code,
            site=b.site,
            service=b.service,
            start=b.slot_start.astimezone(tz),
            end=b.slot_end.astimezone(tz),
            status=b.status,  # type: ignore[arg-type]
            checkin_opens=window.opens.astimezone(tz),
            checkin_closes=window.closes.astimezone(tz),
            name=b.name,
            phone_masked=ids.mask_phone(b.phone) if b.phone else None,
            cccd_last4=b.cccd_last4,
        )

    async def _find(self, code_text: str) -> bs.StoredBooking:
        code = ids.normalize_booking_code(code_text)
        found = await self.service.run_db(bs.get, self.service.store.db.conn, code)
        if found is None or found.kind != "appointment":
            raise Rejected("booking_not_found")
        return found

    def _refuse(
        self, refusal: str, service: ServiceConfig, start: datetime, day: date | None = None
    ) -> Rejected:
        tz = self.service.config.tz
        local = start.astimezone(tz)
        last = core.bookable_days(service.booking, self.service.today())[1]
        table: dict[str, dict[str, Any]] = {
            "not_bookable": {"service": service.code},
            "slot_full": {"start": local.strftime("%H:%M")},
            "slot_past": {"start": local.strftime("%H:%M")},
            "no_such_slot": {"start": local.strftime("%H:%M %d/%m")},
            "day_out_of_range": {"last": last.strftime("%d/%m/%Y")},
            "closed_day": {"day": (day or local.date()).strftime("%d/%m/%Y")},
            "person_limit": {"limit": service.booking.per_person_per_day},
        }
        params = table[refusal]
        return Rejected(refusal, **params)

    # -- public reads ------------------------------------------------------------------------

    async def booking_options(
        self, ws: ServerConnection, session: Session, m: p.BookingOptionsRequest
    ) -> p.BookingOptions:
        self._paced(session)
        config = self.service.config
        if m.site is not None and config.site(m.site) is None:
            raise Rejected("unknown_site", site=m.site)
        sites = []
        for site in config.sites:
            if m.site is not None and site.code != m.site:
                continue
            services = [
                p.BookingServiceOption(
                    code=s.code,
                    name_vi=s.name_vi,
                    name_en=s.name_en,
                    bookable=s.booking.bookable,
                    remote_today=s.booking.remote_today,
                    days_ahead=s.booking.days_ahead,
                )
                for s in site.services
                if s.booking.bookable or s.booking.remote_today
            ]
            if services:
                sites.append(p.BookingSiteOption(code=site.code, name=site.name, services=services))
        return p.BookingOptions(re=m.id, sites=sites)

    async def booking_slots(
        self, ws: ServerConnection, session: Session, m: p.BookingSlotsRequest
    ) -> p.BookingSlots:
        self._paced(session)
        site, service = self._site_service(m.site, m.service)
        if not service.booking.bookable:
            raise Rejected("not_bookable", service=service.code)
        first, last = core.bookable_days(service.booking, self.service.today())
        if not first <= m.day <= last:
            raise Rejected("day_out_of_range", last=last.strftime("%d/%m/%Y"))
        tz = self.service.config.tz
        counts = await self.service.run_db(
            bs.booked_by_slot, self.service.store.db.conn, site.code, service.code, m.day
        )
        held = {datetime.fromisoformat(start): count for start, count in counts.items()}
        now = self.service.clock()
        slots = [
            p.SlotView(
                start=s.start,
                end=s.end,
                left=core.places_left(service.booking, core.held_in(s, held), s, now),
            )
            for s in core.slots_of_day(site, service, m.day, tz)
        ]
        return p.BookingSlots(re=m.id, site=site.code, service=service.code, day=m.day, slots=slots)

    async def booking_lookup(
        self, ws: ServerConnection, session: Session, m: p.BookingLookup
    ) -> p.BookingView:
        self._paced(session)
        return self._view(await self._find(m.code), m.id)

    # -- changes (each one exclusive step) ----------------------------------------------------

    async def book(self, ws: ServerConnection, session: Session, m: p.Book) -> p.BookingView:
        self._paced(session)
        site, service = self._site_service(m.site, m.service)
        self._staff_site(session, site.code)
        if not service.booking.bookable:
            raise Rejected("not_bookable", service=service.code)
        today = self.service.today()
        name, phone, cccd, chash = self._citizen(m.name, m.phone, m.cccd, today)
        tz = self.service.config.tz
        conn = self.service.store.db.conn
        channel, actor = self._channel(session), session.actor

        def work() -> bs.StoredBooking | str:
            now = self.service.clock()
            local_day = m.start.astimezone(tz).date()
            slot = core.find_slot(site, service, m.start, tz)
            decided = core.decide_booking(
                site,
                service,
                m.start,
                tz,
                now,
                booked_in_slot=bs.booked_in_slot(
                    conn, site.code, service.code, slot.start.astimezone(UTC), slot.end.astimezone(UTC)
                )
                if slot
                else 0,
                person_bookings_that_day=bs.person_count(conn, site.code, chash, local_day),
            )
            if isinstance(decided, str):
                return decided
            booking = bs.StoredBooking(
                code=ids.new_booking_code(),
                site=site.code,
                service=service.code,
                day=local_day,
                slot_start=decided.start.astimezone(UTC),
                slot_end=decided.end.astimezone(UTC),
                status="booked",
                name=name,
                phone=phone,
                cccd_hash=chash,
                cccd_last4=cccd[-4:],
                created_at=now,
                changed_at=now,
                checked_in_at=None,
                ticket_id=None,
                channel=channel,
                lead_minutes=int((decided.start - now).total_seconds() // 60),
                kind="appointment",
            )
            while bs.get(conn, booking.code) is not None:  # 24^8 codes: practically never
                booking = dataclasses.replace(booking, code=ids.new_booking_code())
            bs.insert(conn, booking)
            bs.add_event(conn, "booking_made", booking, now, actor, session.device)
            return booking

        result = await self._exclusive(work)
        if isinstance(result, str):
            raise self._refuse(result, service, m.start)
        log.info(
            "booking %s… made for %s/%s at %s (%s)",
            result.code[:2],
            site.code,
            service.code,
            result.slot_start.isoformat(),
            channel,
        )
        return self._view(result, m.id)

    async def _exclusive(self, work: Any) -> Any:
        conn = self.service.store.db.conn
        return await self.service.exclusive(lambda: self.service.run_db(bs.in_transaction, conn, work))

    async def booking_cancel(
        self, ws: ServerConnection, session: Session, m: p.BookingCancel
    ) -> p.BookingView:
        self._paced(session)
        code = ids.normalize_booking_code(m.code)
        conn = self.service.store.db.conn

        def work() -> bs.StoredBooking:
            found = bs.get(conn, code)
            if found is None or found.kind != "appointment":
                raise Rejected("booking_not_found")
            if found.status == "checked_in":
                raise Rejected("booking_checked_in")
            if found.status == "no_show":
                raise Rejected("booking_no_show")
            if found.status == "booked":
                now = self.service.clock()
                bs.update(conn, code, now, status="cancelled")
                bs.add_event(conn, "booking_cancelled", found, now, session.actor, session.device)
            return bs.get(conn, code) or found

        return self._view(await self._exclusive(work), m.id)

    async def booking_move(self, ws: ServerConnection, session: Session, m: p.BookingMove) -> p.BookingView:
        self._paced(session)
        code = ids.normalize_booking_code(m.code)
        conn = self.service.store.db.conn
        tz = self.service.config.tz
        config = self.service.config

        def work() -> bs.StoredBooking | tuple[str, ServiceConfig]:
            found = bs.get(conn, code)
            if found is None or found.kind != "appointment":
                raise Rejected("booking_not_found")
            for status, error in (
                ("cancelled", "booking_cancelled"),
                ("checked_in", "booking_checked_in"),
                ("no_show", "booking_no_show"),
            ):
                if found.status == status:
                    raise Rejected(error)
            site = config.site(found.site)
            service = site.service(found.service) if site else None
            if site is None or service is None:
                raise Rejected("booking_not_found")
            now = self.service.clock()
            slot = core.find_slot(site, service, m.start, tz)
            same = slot is not None and slot.start <= found.slot_start < slot.end  # it holds a place there
            decided = core.decide_booking(
                site,
                service,
                m.start,
                tz,
                now,
                booked_in_slot=(
                    bs.booked_in_slot(
                        conn, site.code, service.code, slot.start.astimezone(UTC), slot.end.astimezone(UTC)
                    )
                    - (1 if same else 0)
                )
                if slot
                else 0,
                person_bookings_that_day=bs.person_count(
                    conn, site.code, found.cccd_hash, m.start.astimezone(tz).date(), without=code
                ),
            )
            if isinstance(decided, str):
                return decided, service
            start = decided.start.astimezone(UTC)
            bs.update(
                conn,
                code,
                now,
                slot_start=start,
                slot_end=decided.end.astimezone(UTC),
                day=decided.start.date(),
                lead_minutes=int((decided.start - now).total_seconds() // 60),
            )
            moved = bs.get(conn, code)
            assert moved is not None
            bs.add_event(
                conn,
                "booking_moved",
                moved,
                now,
                session.actor,
                session.device,
                from_slot_start=found.slot_start.isoformat(),
            )
            return moved

        result = await self._exclusive(work)
        if isinstance(result, tuple):
            raise self._refuse(result[0], result[1], m.start)
        return self._view(result, m.id)

    # -- remote numbers ----------------------------------------------------------------------

    async def take_remote(self, ws: ServerConnection, session: Session, m: p.TakeRemote) -> p.RemoteTicket:
        self._paced(session)
        site, service = self._site_service(m.site, m.service)
        self._staff_site(session, site.code)
        if not service.booking.remote_today:
            raise Rejected("remote_not_offered", service=service.code)
        tz = self.service.config.tz
        now = self.service.clock()
        if not is_issuing(site, service, now.astimezone(tz)):
            raise Rejected("service_not_issuing", service=service.code)
        today = self.service.today()
        name, phone, cccd, chash = self._citizen(m.name, m.phone, m.cccd, today)
        conn = self.service.store.db.conn
        channel = self._channel(session)

        def reserve() -> bs.StoredBooking | None:
            at = self.service.clock()
            if bs.person_count(conn, site.code, chash, today) >= service.booking.per_person_per_day:
                return None
            row = bs.StoredBooking(
                code=ids.new_booking_code(),
                site=site.code,
                service=service.code,
                day=today,
                slot_start=at.astimezone(UTC),
                slot_end=at.astimezone(UTC),
                status="checked_in",
                name=name,
                phone=phone,
                cccd_hash=chash,
                cccd_last4=cccd[-4:],
                created_at=at,
                changed_at=at,
                checked_in_at=at,
                ticket_id=None,
                channel=channel,
                lead_minutes=0,
                kind="remote",
            )
            bs.insert(conn, row)
            return row

        row = await self._exclusive(reserve)
        if row is None:
            raise Rejected("person_limit", limit=service.booking.per_person_per_day)
        command = c.IssueTicket(
            actor=session.actor,
            device=session.device,
            service=service.code,
            idempotency_key=f"remote:{row.code}",
            token=self.tokens.new(),
        )
        try:
            outcome = await self.service.submit(site.code, command)
        except Rejected as exc:
            await self._exclusive(lambda: bs.delete(conn, row.code))
            if exc.code in ("service_closed", "holiday", "daily_cap_reached"):
                raise Rejected("service_not_issuing", service=service.code) from None
            raise
        ticket = outcome.state.tickets[outcome.state.keys[f"remote:{row.code}"]]
        await self._exclusive(lambda: bs.update(conn, row.code, self.service.clock(), ticket_id=ticket.id))
        return p.RemoteTicket(
            re=m.id, token=ticket.token, number=ticket.number, site=site.code, service=service.code
        )

    # -- check-in ----------------------------------------------------------------------------

    async def checkin(self, ws: ServerConnection, session: Session, m: p.CheckIn) -> p.Result:
        if (m.code is None) == (m.cccd is None):
            raise Rejected("bad_message", detail="give exactly one of code and cccd")
        if not 8 <= len(m.idempotency_key) <= 64:
            raise Rejected("bad_message", detail="idempotency_key must be 8-64 characters")
        if session.role == "kiosk" and self.kiosk_pace is not None:
            assert session.device is not None
            if not self.kiosk_pace(session.device):
                raise Rejected("issuing_too_fast")
        site_code = session.site if session.role == "kiosk" else (m.site or session.site)
        if site_code is None or self.service.config.site(site_code) is None:
            raise Rejected("unknown_site", site=m.site or "?")
        self._staff_site(session, site_code)
        conn = self.service.store.db.conn
        today = self.service.today()
        if m.code is not None:
            booking = await self._find(m.code)
        else:
            chash = bs.cccd_hash(self.key, ids.normalize_cccd(m.cccd or "", today))
            found = await self.service.run_db(bs.earliest_open_today, conn, site_code, chash, today)
            if found is None:
                raise Rejected("booking_not_found")
            booking = found
        config = self.service.config
        if booking.site != site_code:
            other = config.site(booking.site)
            raise Rejected("booking_other_site", site_name=other.name if other else booking.site)
        site = config.site(site_code)
        assert site is not None
        service = site.service(booking.service)
        if service is None:
            raise Rejected("booking_not_found")
        now, tz = self.service.clock(), config.tz
        decision = core.decide_checkin(booking.status, booking.slot_start, now, service.booking, tz)
        if decision == "cancelled":
            raise Rejected("booking_cancelled")
        if decision == "not_today":
            raise Rejected("checkin_not_today", day=booking.slot_start.astimezone(tz).strftime("%d/%m/%Y"))
        if decision == "too_early":
            opens = core.checkin_window(service.booking, booking.slot_start).opens.astimezone(tz)
            raise Rejected("checkin_too_early", opens=opens.strftime("%H:%M"), opens_at=opens.isoformat())
        if decision == "too_late_refused":
            raise Rejected("checkin_too_late")
        late = decision == "too_late_walk_in"
        key = f"booking:{booking.code}"
        command = c.IssueTicket(
            actor=session.actor,
            device=session.device,
            service=service.code,
            idempotency_key=key,
            token=self.tokens.new(),
            appointment_at=None if late else booking.slot_start,
            booking=booking.code,
        )
        if booking.name:  # the counter's view of it (server/fanout.py), before it is issued
            shown = f"{booking.name} · {ids.mask_cccd(booking.cccd_last4)}"
            self.service.fanout.citizens[booking.code] = shown
        outcome = await self.service.submit(site_code, command)
        state = outcome.state
        ticket = state.tickets[state.keys[key]]
        if booking.status != "checked_in":

            def mark() -> None:
                current = bs.get(conn, booking.code)
                if current is None or current.status == "checked_in":
                    return
                at = self.service.clock()
                bs.update(conn, booking.code, at, status="checked_in", checked_in_at=at, ticket_id=ticket.id)
                bs.add_event(
                    conn,
                    "booking_checked_in",
                    current,
                    at,
                    session.actor,
                    session.device,
                    ticket_id=ticket.id,  # the line says which number the appointment became
                    number=ticket.number,
                    **({"late": True} if late else {}),
                )

            await self._exclusive(mark)
        latest = outcome.latest or state
        ahead = self.service.fanout.waiting_lines(site_code, latest).ahead(ticket)
        return p.Result(
            re=m.id,
            ticket=wire.ticket_view(ticket),
            ahead=ahead,
            estimated_wait_minutes=self.service.fanout.estimates.ticket(
                site_code, latest, ticket.service, ahead
            ),
            url=f"{config.server.public_url.rstrip('/')}/t/{ticket.token}",
            details={"late": True} if late else {},
        )
