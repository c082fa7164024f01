"""Everything the kiosk does, as plain Python: no widgets, no socket, no clock reads of its own.

``KioskState`` receives server messages (``on_message``), connection changes
(``set_connection``), taps (``choose_service``, ``open_priority`` ...) and the passing of
time (``tick``), and tells its listeners that it ``changed``. It talks to the outside
through injected callables only: ``request(message, on_result, on_error)`` (the shape
of ``QtConnection.request``), a printer port (``PrintService``), a monotonic ``clock`` and
a ``wall_clock`` for the time shown on screen. The view only draws it.

This module holds the screens and what moves between them, the server's data and the
timeouts. It owns three parts, each given what it needs: the issuing flow
(``kiosk/issuing.py``: one tap, at most one ticket), the print jobs and the printer's
reported state (``kiosk/print_jobs.py``) and the staff screen's PIN and messages
(``kiosk/staff.py``). Printing is separate from issuing: a ticket is issued and shown even
when the printer is down.

Check-in (issue 14): a booking code typed on the keypad (``open_checkin``, ``code_key`` ...)
or scanned, or a CCCD's QR code scanned (``scanner_key``/``scanner_enter``: the USB scanner
types like a keyboard), goes to the server as a ``checkin`` through the issuing flow; the
parts without a screen are in ``kiosk/checkin.py`` and ``kiosk/scanner.py``. A scanned card
stays in the kiosk: only its 12-digit number is sent, and the card is forgotten when the
kiosk goes home.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from common import protocol as p
from common.cccd_qr import CccdCard
from common.client import RequestFailed
from common.clock import Monotonic, WallClock, utc_now
from common.i18n import Translator
from common.listeners import Listeners
from common.notice import Notice
from kiosk.checkin import (
    CheckinTarget,
    CodeEntry,
    MessageShown,
    checkin_notice,
    elderly_offer,
    unreadable_notice,
)
from kiosk.issuing import IssuingFlow
from kiosk.print_jobs import PrinterMonitor, PrintJobs
from kiosk.scanner import BookingCodeScan, CardScan, ScannerInput, read_scan
from kiosk.staff import StaffPanel
from kiosk.ticket_image import printed_ticket
from kiosk.values import (
    IDLE_SCREENS,
    SCAN_SCREENS,
    IssuedTicket,
    KioskSettings,
    PrinterPort,
    PrintOutcome,
    PrintPhase,
    Request,
    Screen,
)

log = logging.getLogger(__name__)

__all__ = ["KioskSettings", "KioskState", "PrintPhase", "Screen"]  # what the views and tests import

PAPER_SECONDS = 4.0  # a printed ticket stays on screen at least this long: time to take it
TEXTS = Translator("kiosk")


class KioskState:
    def __init__(self, *, request: Request, printer: PrinterPort, clock: Monotonic,
                 wall_clock: WallClock = utc_now, settings: KioskSettings | None = None,
                 on_device: Callable[[p.DeviceView], None] | None = None) -> None:
        self.printer = printer
        self.clock = clock
        self.wall_clock = wall_clock
        self.settings = settings = settings or KioskSettings()
        self.on_device = on_device
        self.changed = Listeners()
        self.language = settings.language
        self.connection = "connecting"
        self.connection_detail = ""
        self.device: p.DeviceView | None = None
        self.site: p.SiteInfo | None = None
        self.services: list[p.ServiceView] = []
        self.screen = Screen.CONNECTING
        self.priority: p.NamedOption | None = None  # chosen class on the priority path
        self.issued: IssuedTicket | None = None  # shown on ISSUED / PRINTER_PROBLEM
        self.last_ticket: IssuedTicket | None = None  # for the staff reprint
        self.notice: Notice | None = None
        self.message_title: tuple[str, str] | None = None  # (vi, en); None: "no number issued"
        self.code_entry = CodeEntry()
        self.scanner = ScannerInput(gap_seconds=settings.scan_gap_seconds)
        self.offer: p.NamedOption | None = None  # the priority class offered after a card scan
        self._card: CccdCard | None = None  # the scanned card, while its check-in is asked
        self._server_offset = timedelta(0)
        self._last_touch = clock()
        self._deadline: float | None = None
        self.issuing = IssuingFlow(request=request, clock=clock, settings=settings,
                                   online=lambda: self.online, outcomes=self)
        self.printer_info = PrinterMonitor(request, enabled=printer.enabled)
        self.printing = PrintJobs(printer, self.printer_info, clock=clock,
                                  status_interval=settings.status_interval_seconds)
        self.staff = StaffPanel(settings.staff_pin)

    # -- observers ----------------------------------------------------------------------------

    def _changed(self) -> None:
        self.changed.emit()

    def _show(self, screen: Screen, seconds: float | None = None) -> None:
        self.screen = screen
        self._deadline = self.clock() + seconds if seconds is not None else None

    # -- what the view asks -------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self.connection == "online"

    @property
    def ready(self) -> bool:
        """Citizens can take a number now."""
        return self.online and self.site is not None and not self.issuing.busy

    @property
    def busy(self) -> bool:
        """An issue is in progress."""
        return self.issuing.busy

    def issuing_for(self) -> float:
        return self.issuing.issuing_for()

    @property
    def waiting_for_link(self) -> bool:
        return self.issuing.waiting_for_link

    @property
    def checking_in(self) -> bool:
        """The request in flight is a check-in (the waiting screen says so)."""
        return self.issuing.checking_in

    @property
    def offers_checkin(self) -> bool:
        """A service of this site takes appointments: the home screen offers check-in."""
        return any(s.bookable for s in self.services)

    @property
    def priority_mode(self) -> bool:
        return self.screen == Screen.PRIORITY_SERVICES and self.priority is not None

    def offered(self, service: p.ServiceView) -> bool:
        """Whether this screen offers ``service``'s walk-in numbers: an "online only" service
        gives them to priority citizens only."""
        return not service.online_only or self.priority_mode

    def can_choose(self, service: p.ServiceView) -> bool:
        return self.ready and service.issuing and self.offered(service)

    def service(self, code: str) -> p.ServiceView | None:
        return next((s for s in self.services if s.code == code), None)

    def local_now(self) -> datetime:
        """Time to show: the server's clock (via the snapshot offset) in the site's zone."""
        now = self.wall_clock() + self._server_offset
        return now.astimezone(self.timezone)

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.timezone if self.site else "Asia/Ho_Chi_Minh")

    def seconds_left(self) -> int | None:
        if self._deadline is None:
            return None
        return max(0, round(self._deadline - self.clock()))

    # -- server and connection ----------------------------------------------------------------

    def set_connection(self, status: str, detail: str = "") -> None:
        self.connection, self.connection_detail = status, detail
        if status == "online":
            self.issuing.link_back()
        self.printer_info.set_online(status == "online")
        self._changed()

    def on_message(self, message: Any) -> None:
        if isinstance(message, p.Welcome):
            if message.device is not None:
                self.device = message.device
                if self.on_device:
                    self.on_device(message.device)
        elif isinstance(message, p.Snapshot):
            self.site = message.site
            self.services = list(message.services)
            self._server_offset = message.server_time - self.wall_clock()
            if self.screen == Screen.CONNECTING:
                self._show(Screen.HOME)
            self._changed()
        elif isinstance(message, p.Update) and message.services:
            fresh = {s.code: s for s in message.services}
            known = {s.code for s in self.services}
            self.services = [fresh.get(s.code, s) for s in self.services]
            self.services += [s for s in message.services if s.code not in known]
            self._changed()

    # -- taps ---------------------------------------------------------------------------------

    def touch(self) -> None:
        self._last_touch = self.clock()

    def toggle_language(self) -> None:
        self.touch()
        self.language = "en" if self.language == "vi" else "vi"
        self._changed()

    def open_priority(self) -> None:
        self.touch()
        if self.screen == Screen.HOME and self.site and self.site.priority_classes and not self.busy:
            self.priority = None
            self._show(Screen.PRIORITY)
            self._changed()

    def choose_priority(self, code: str) -> None:
        self.touch()
        if self.screen != Screen.PRIORITY or self.site is None:
            return
        chosen = next((c for c in self.site.priority_classes if c.code == code), None)
        if chosen is not None:
            self.priority = chosen
            self._show(Screen.PRIORITY_SERVICES)
            self._changed()

    def choose_service(self, code: str) -> bool:
        """A tap on a service tile. Returns whether it started an issue (False: ignored)."""
        self.touch()
        if self.screen not in (Screen.HOME, Screen.PRIORITY_SERVICES) or not self.ready:
            return False
        service = self.service(code)
        if service is None or not service.issuing or not self.offered(service):
            return False
        priority = self.priority.code if self.screen == Screen.PRIORITY_SERVICES and self.priority else None
        self._show(Screen.ISSUING)
        self.issuing.start(code, priority)
        self._changed()
        return True

    def back(self) -> None:
        """One step back on the priority path; home from anywhere else that allows it."""
        self.touch()
        if self.screen == Screen.PRIORITY_SERVICES and self.offer is None:
            self._show(Screen.PRIORITY)
        elif self.screen in (Screen.PRIORITY, Screen.STAFF_PIN, Screen.STAFF, Screen.MESSAGE,
                             Screen.ISSUED, Screen.PRINTER_PROBLEM, Screen.CHECKIN,
                             Screen.PRIORITY_OFFER, Screen.PRIORITY_SERVICES):
            self._go_home()
        self._changed()

    acknowledge = back

    # -- check-in: the keypad, the scanner, the elderly offer -----------------------------------

    def open_checkin(self) -> None:
        """The "have an appointment" entry: the keypad for the booking code."""
        self.touch()
        if self.screen == Screen.HOME and self.offers_checkin and not self.busy:
            self.code_entry.clear()
            self._show(Screen.CHECKIN)
            self._changed()

    def code_key(self, key: str) -> None:
        self.touch()
        if self.screen == Screen.CHECKIN and self.code_entry.type(key):
            self._changed()

    def code_erase(self) -> None:
        self.touch()
        if self.screen == Screen.CHECKIN:
            self.code_entry.erase()
            self._changed()

    def code_submit(self) -> bool:
        """Check in with the typed code; False when it is not complete or the kiosk not ready."""
        self.touch()
        if self.screen != Screen.CHECKIN or not self.code_entry.complete or not self.ready:
            return False
        self._start_checkin(CheckinTarget(code=self.code_entry.text))
        return True

    def scanner_key(self, text: str) -> None:
        """A keystroke from the scanner (or anything typing into the kiosk)."""
        self.scanner.key(text, self.clock())

    def scanner_enter(self) -> bool:
        """Enter after a scan: check in by the code or the card. Returns whether it started."""
        text = self.scanner.enter(self.clock())
        if text is None:
            return False
        self.touch()
        if self.screen not in SCAN_SCREENS or not self.ready:
            log.info("scan of %d characters ignored on %s", len(text), self.screen)
            return False
        scan = read_scan(text, today=self.local_now().date())
        log.info("scanned %s (%d characters)", type(scan).__name__, len(text))
        if isinstance(scan, BookingCodeScan):
            self._start_checkin(CheckinTarget(code=scan.code))
        elif isinstance(scan, CardScan):
            self._start_checkin(CheckinTarget(cccd=scan.card.number), scan.card)
        else:
            self._show_message(unreadable_notice(scan.reason))
            self._changed()
            return False
        return True

    def _start_checkin(self, target: CheckinTarget, card: CccdCard | None = None) -> None:
        self.priority, self.offer, self._card = None, None, card
        self.message_title = None
        self._show(Screen.ISSUING)
        self.issuing.start_checkin(target)
        self._changed()

    def accept_offer(self) -> None:
        """Yes to the elderly priority path: the services, with the class already chosen."""
        self.touch()
        if self.screen == Screen.PRIORITY_OFFER and self.offer is not None:
            self.priority = self.offer
            self._show(Screen.PRIORITY_SERVICES)
            self._changed()

    def _show_message(self, shown: MessageShown) -> None:
        self.message_title, self.notice = shown.title, shown.notice
        self._show(Screen.MESSAGE, self.settings.message_seconds)

    # -- how an issue ends (the IssuingFlow's outcomes) ---------------------------------------

    def ticket_issued(self, reply: p.Result) -> None:
        ticket = reply.ticket
        assert ticket is not None and self.site is not None
        service = self.service(ticket.service)
        priority = None
        if ticket.priority:
            priority = next((c for c in self.site.priority_classes if c.code == ticket.priority), None)
        paper = printed_ticket(reply, self.site, service, priority)
        phase = PrintPhase.PRINTING if self.printer.enabled else PrintPhase.DISABLED
        appointment = ticket.appointment_at.astimezone(self.timezone) if ticket.appointment_at else None
        shown = IssuedTicket(
            ticket=ticket, ahead=reply.ahead or 0, estimated_wait_minutes=reply.estimated_wait_minutes,
            url=reply.url or "", service=service, priority=priority, printed=paper, phase=phase,
            appointment_at=appointment, late=bool(reply.details.get("late")))
        self._card = None
        self.issued = self.last_ticket = shown
        self._show(Screen.ISSUED, self.settings.issued_seconds)
        if phase == PrintPhase.PRINTING:
            self.printing.print_ticket(paper, lambda outcome: self._printed(ticket.id, outcome))
        self._changed()

    def issue_refused(self, error: RequestFailed, checkin: CheckinTarget | None) -> None:
        card, self._card = self._card, None  # forgotten: only the offer below needed it
        if checkin is None:
            self.message_title, self.notice = None, Notice.from_refusal(error)
            self._show(Screen.MESSAGE, self.settings.message_seconds)
        elif (error.code == "booking_not_found" and checkin.by_card and card is not None
              and self.site is not None and any(s.issuing for s in self.services)
              and (offer := elderly_offer(card, self.site, self.local_now().date())) is not None):
            self.offer = offer  # no booking today, but old enough for the priority path
            self._show(Screen.PRIORITY_OFFER)
        else:
            self._show_message(checkin_notice(error, checkin, self.timezone))
        self._changed()

    def issue_given_up(self) -> None:
        self._card = None
        self.message_title = None
        self.notice = Notice("offline", *TEXTS.both("offline_failed"), code="offline")
        self._show(Screen.MESSAGE, self.settings.message_seconds)

    def may_show_late_ticket(self) -> bool:
        return self.screen in (Screen.MESSAGE, Screen.HOME)

    def issue_retrying(self) -> None:
        self._changed()

    # -- printing -----------------------------------------------------------------------------

    def _printed(self, ticket_id: str, outcome: PrintOutcome) -> None:
        """A print ended: the ticket's phase, and the printer-problem screen if it failed."""
        for name in ("issued", "last_ticket"):
            current: IssuedTicket | None = getattr(self, name)
            if current is not None and current.ticket.id == ticket_id:
                phase = PrintPhase.PRINTED if outcome.ok else PrintPhase.FAILED
                setattr(self, name, replace(current, phase=phase, problem_vi=outcome.message_vi,
                                            problem_en=outcome.message_en))
        shown = self.issued is not None and self.issued.ticket.id == ticket_id
        if outcome.ok and shown and self.screen == Screen.ISSUED and self._deadline is not None:
            self._deadline = max(self._deadline, self.clock() + PAPER_SECONDS)
        if not outcome.ok and shown and self.screen in (Screen.ISSUED, Screen.HOME) and not self.busy:
            self._show(Screen.PRINTER_PROBLEM, self.settings.problem_seconds)
        self._changed()

    def check_printer(self) -> None:
        self.printing.check_status(self._status_checked)

    def _status_checked(self, _outcome: PrintOutcome) -> None:
        if self.screen == Screen.STAFF:
            self.staff.message = "status"
        self._changed()

    # -- staff --------------------------------------------------------------------------------

    def staff_gesture(self) -> None:
        """The hidden long-press: ask for the staff PIN."""
        self.touch()
        if self.screen not in (Screen.HOME, Screen.CONNECTING) or self.busy:
            return
        self.staff.ask(self.clock())
        self._show(Screen.STAFF_PIN)
        self._changed()

    def pin_digit(self, digit: str) -> None:
        self.touch()
        if self.screen == Screen.STAFF_PIN and self.staff.digit(digit):
            self._changed()

    def pin_erase(self) -> None:
        self.touch()
        self.staff.erase()
        self._changed()

    def pin_submit(self) -> None:
        self.touch()
        if self.screen != Screen.STAFF_PIN:
            return
        if self.staff.submit(self.clock()):
            self._show(Screen.STAFF)
            self.check_printer()
        self._changed()

    def reprint_last(self) -> None:
        self.touch()
        last = self.last_ticket
        if self.screen != Screen.STAFF or last is None:
            return
        if not self.printer.enabled:
            self.staff.message = "no_printer"
        else:
            self.staff.message = "reprinting"
            self.printing.print_ticket(last.printed, self._reprinted)
        self._changed()

    def _reprinted(self, outcome: PrintOutcome) -> None:
        self._printed(self.last_ticket.ticket.id if self.last_ticket else "", outcome)
        if self.screen == Screen.STAFF:
            self.staff.message = "reprinted" if outcome.ok else "reprint_failed"
        self._changed()

    # -- time ---------------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second: timeouts, retries, the printer poll."""
        now = self.clock()
        changed = self.issuing.tick(now)
        idle = now - self._last_touch >= self.settings.idle_seconds
        timed_out = self._deadline is not None and now >= self._deadline and self._may_leave()
        if timed_out or (idle and self.screen in IDLE_SCREENS):
            self._go_home()
            changed = True
        elif idle and self.screen == Screen.HOME and self.language != self.settings.language:
            self.language = self.settings.language  # the next citizen starts in Vietnamese
            changed = True
        if self.screen == Screen.HOME and not self.busy and self.printing.due(now):
            self.check_printer()  # now and then while the kiosk is idle
        if changed:
            self._changed()

    def _may_leave(self) -> bool:
        # Keep the ticket up while it is still printing (the printer times out in seconds).
        return not (self.screen == Screen.ISSUED and self.issued is not None
                    and self.issued.phase == PrintPhase.PRINTING)

    def _go_home(self) -> None:
        self.priority, self.offer, self._card, self.message_title = None, None, None, None
        self.code_entry.clear()
        self.staff.clear()
        if self.screen in (Screen.ISSUED, Screen.PRINTER_PROBLEM, Screen.MESSAGE):
            self.language = self.settings.language
        self._show(Screen.HOME if self.site is not None else Screen.CONNECTING)
