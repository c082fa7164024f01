"""Everything the kiosk does, as plain Python: no widgets, no socket, no clock reads of its own.

``KioskState`` receives server messages (``on_message``), connection changes
(``set_connection``), taps (``choose_service``, ``open_priority`` ...) and the passing of
time (``tick``), and tells its listeners that it ``changed``. It talks to the outside
through injected callables only: ``request(message, on_result, on_error)`` (the shape
of ``QtConnection.request``), a printer port (``PrintService``), a monotonic ``clock`` and
a ``wall_clock`` for the time shown on screen. The view only draws it.

Issuing guarantees: one tap makes at most one ticket (taps are ignored while a request
is in flight); a request that fails for want of a connection is resent with the SAME
idempotency key once the link is back, so the server never issues it twice; if the
citizen gives up and taps the same service again soon after, that key is reused too.
Printing is separate: a ticket is issued and shown even when the printer is down.
"""

from __future__ import annotations

import enum
import hmac
import logging
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from common import protocol as p
from common.client import RequestFailed
from kiosk.printing import PrinterMonitor, PrintOutcome, printed_ticket
from kiosk.ticket_image import PrintedTicket

log = logging.getLogger(__name__)

Request = Callable[[Any, Callable[[Any], None] | None, Callable[[Any], None] | None], None]
TRANSIENT_CODES = frozenset({"not_authenticated", "rate_limited"})  # resend with the same key
MAX_PIN_LENGTH = 8
PIN_ATTEMPTS = 5


class PrinterPort(Protocol):
    @property
    def enabled(self) -> bool: ...
    def print_ticket(self, ticket: PrintedTicket, on_done: Callable[[PrintOutcome], None]) -> None: ...
    def check_status(self, on_done: Callable[[PrintOutcome], None]) -> None: ...


class Screen(enum.StrEnum):
    CONNECTING = "connecting"  # no snapshot yet: nothing to offer
    HOME = "home"
    PRIORITY = "priority"  # choose the priority class
    PRIORITY_SERVICES = "priority_services"  # then the service
    ISSUING = "issuing"
    ISSUED = "issued"
    PRINTER_PROBLEM = "printer_problem"
    MESSAGE = "message"  # the server refused, or the link did not come back in time
    STAFF_PIN = "staff_pin"
    STAFF = "staff"


class PrintPhase(enum.StrEnum):
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"
    DISABLED = "disabled"  # this kiosk has no printer: the screen is the ticket


IDLE_SCREENS = frozenset({Screen.PRIORITY, Screen.PRIORITY_SERVICES, Screen.STAFF_PIN, Screen.STAFF})


@dataclass(frozen=True)
class KioskSettings:
    issued_seconds: float = 10.0  # the issued ticket stays on screen this long
    problem_seconds: float = 90.0  # ... and this long when it could not be printed
    message_seconds: float = 15.0
    idle_seconds: float = 30.0  # sub-screens fall back to home after this much inactivity
    give_up_seconds: float = 20.0  # an issue that cannot reach the server ends with a message
    retry_delay_seconds: float = 1.0
    same_choice_seconds: float = 120.0  # the same tap soon after a give-up reuses its key
    status_interval_seconds: float = 60.0  # printer status poll while idle (0: never)
    staff_pin: str = "1234"
    language: str = "vi"


@dataclass(frozen=True)
class IssuedTicket:
    ticket: p.TicketView
    ahead: int
    estimated_wait_minutes: int | None
    url: str
    service: p.ServiceView | None
    priority: p.NamedOption | None
    printed: PrintedTicket
    phase: PrintPhase
    problem_vi: str = ""
    problem_en: str = ""


@dataclass(frozen=True)
class Notice:
    code: str
    message_vi: str
    message_en: str


@dataclass
class _Pending:
    """An issue in progress; once abandoned (``given_up_at``) its key may still hold a ticket."""

    key: str
    service: str
    priority: str | None
    started: float
    in_flight: bool = False
    retry_at: float | None = None
    attempts: int = 0
    waiting_for_link: bool = False
    given_up_at: float | None = None


class KioskState:
    def __init__(self, *, request: Request, printer: PrinterPort, clock: Callable[[], float],
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 settings: KioskSettings | None = None,
                 on_device: Callable[[p.DeviceView], None] | None = None) -> None:
        self.request = request
        self.printer = printer
        self.clock = clock
        self.wall_clock = wall_clock
        self.settings = settings or KioskSettings()
        self.on_device = on_device
        self.listeners: list[Callable[[], None]] = []
        self.language = self.settings.language
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
        self.printer_info = PrinterMonitor(request, enabled=printer.enabled)
        self.pin = ""
        self.pin_failures = 0
        self.pin_locked_until = 0.0
        self.staff_message = ""
        self.print_times_ms: list[float] = []
        self._pending: _Pending | None = None
        self._given: _Pending | None = None
        self._server_offset = timedelta(0)
        now = clock()
        self._last_touch = now
        self._deadline: float | None = None
        self._next_status_check = now

    # -- observers ----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        self.listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

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
        return self.online and self.site is not None and self._pending is None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def issuing_for(self) -> float:
        """Seconds since the issue in progress started (0 when none is)."""
        return self.clock() - self._pending.started if self._pending else 0.0

    @property
    def waiting_for_link(self) -> bool:
        return self._pending is not None and self._pending.waiting_for_link

    def service(self, code: str) -> p.ServiceView | None:
        return next((s for s in self.services if s.code == code), None)

    def can_choose(self, service: p.ServiceView) -> bool:
        return self.ready and service.issuing

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
            pending = self._pending
            if pending is not None and not pending.in_flight:
                self._send_issue()
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

    def back(self) -> None:
        """One step back on the priority path; home from anywhere else that allows it."""
        self.touch()
        if self.screen == Screen.PRIORITY_SERVICES:
            self._show(Screen.PRIORITY)
        elif self.screen in (Screen.PRIORITY, Screen.STAFF_PIN, Screen.STAFF, Screen.MESSAGE,
                             Screen.ISSUED, Screen.PRINTER_PROBLEM):
            self._go_home()
        self._changed()

    acknowledge = back

    def choose_service(self, code: str) -> bool:
        """A tap on a service tile. Returns whether it started an issue (False: ignored)."""
        self.touch()
        if self.screen not in (Screen.HOME, Screen.PRIORITY_SERVICES) or not self.ready:
            return False
        service = self.service(code)
        if service is None or not service.issuing:
            return False
        priority = self.priority.code if self.screen == Screen.PRIORITY_SERVICES and self.priority else None
        now = self.clock()
        given = self._given
        if (given and given.service == code and given.priority == priority and given.given_up_at
                and now - given.given_up_at <= self.settings.same_choice_seconds):
            key = given.key  # the abandoned request may have made a ticket: ask for that one
        else:
            key = uuid.uuid4().hex
        self._given = None
        self._pending = _Pending(key=key, service=code, priority=priority, started=now)
        self._show(Screen.ISSUING)
        self._send_issue()
        self._changed()
        return True

    # -- issuing ------------------------------------------------------------------------------

    def _send_issue(self) -> None:
        pending = self._pending
        assert pending is not None
        pending.in_flight, pending.retry_at, pending.waiting_for_link = True, None, False
        pending.attempts += 1
        key = pending.key
        log.info("issuing %s (priority %s), key %s, attempt %d", pending.service, pending.priority,
                 key, pending.attempts)
        message = p.IssueTicket(service=pending.service, priority=pending.priority, idempotency_key=key)
        self.request(message, lambda reply: self._issue_result(key, reply),
                     lambda error: self._issue_failed(key, error))

    def _issue_result(self, key: str, reply: Any) -> None:
        pending = self._pending
        if not isinstance(reply, p.Result) or reply.ticket is None:
            log.warning("unexpected reply to issue_ticket: %r", reply)
            return
        if pending is None or pending.key != key:
            given = self._given
            if given is None or given.key != key or self.screen not in (Screen.MESSAGE, Screen.HOME):
                log.warning("ticket %s arrived after its issue was abandoned", reply.ticket.number)
                return
            self._given = None  # the citizen may still be here: show the ticket after all
        self._pending = None
        self._given = None
        service = self.service(reply.ticket.service)
        priority = None
        if reply.ticket.priority and self.site:
            priority = next((c for c in self.site.priority_classes if c.code == reply.ticket.priority), None)
        assert self.site is not None
        paper = printed_ticket(reply, self.site, service, priority)
        phase = PrintPhase.PRINTING if self.printer.enabled else PrintPhase.DISABLED
        issued = IssuedTicket(
            ticket=reply.ticket, ahead=reply.ahead or 0, estimated_wait_minutes=reply.estimated_wait_minutes,
            url=reply.url or "", service=service, priority=priority, printed=paper, phase=phase)
        self.issued = self.last_ticket = issued
        self._show(Screen.ISSUED, self.settings.issued_seconds)
        if phase == PrintPhase.PRINTING:
            started = self.clock()
            ticket_id = reply.ticket.id
            self.printer.print_ticket(paper, lambda outcome: self._printed(ticket_id, started, outcome))
        self._changed()

    def _issue_failed(self, key: str, error: Exception) -> None:
        pending = self._pending
        if pending is None or pending.key != key:
            return
        pending.in_flight = False
        if isinstance(error, RequestFailed) and error.code not in TRANSIENT_CODES:
            self._pending = None
            self.notice = Notice(error.code, error.message_vi, error.message_en)
            self._show(Screen.MESSAGE, self.settings.message_seconds)
            self._changed()
            return
        log.info("issue %s not answered (%s); will resend with the same key", key, error)
        if self.online:
            pending.retry_at = self.clock() + self.settings.retry_delay_seconds
        else:
            pending.waiting_for_link = True
        self._changed()

    def _give_up(self) -> None:
        pending = self._pending
        assert pending is not None
        log.warning("giving up issue %s after %d attempt(s)", pending.key, pending.attempts)
        self._pending = None
        pending.given_up_at = self.clock()
        self._given = pending
        self.notice = Notice("offline", "", "")
        self._show(Screen.MESSAGE, self.settings.message_seconds)

    # -- printing -----------------------------------------------------------------------------

    def _printed(self, ticket_id: str, started: float, outcome: PrintOutcome) -> None:
        self.print_times_ms.append((self.clock() - started) * 1000)
        self.printer_info.update(outcome, after_print=True)
        for name in ("issued", "last_ticket"):
            current: IssuedTicket | None = getattr(self, name)
            if current is not None and current.ticket.id == ticket_id:
                phase = PrintPhase.PRINTED if outcome.ok else PrintPhase.FAILED
                setattr(self, name, replace(current, phase=phase, problem_vi=outcome.message_vi,
                                            problem_en=outcome.message_en))
        shown = self.issued is not None and self.issued.ticket.id == ticket_id
        if outcome.ok and shown and self.screen == Screen.ISSUED and self._deadline is not None:
            self._deadline = max(self._deadline, self.clock() + 4.0)  # time to take the paper
        if not outcome.ok and shown and self.screen in (Screen.ISSUED, Screen.HOME) and not self.busy:
            self._show(Screen.PRINTER_PROBLEM, self.settings.problem_seconds)
        self._changed()

    def check_printer(self) -> None:
        self._next_status_check = self.clock() + max(self.settings.status_interval_seconds, 5.0)
        if not self.printer.enabled:
            self.printer_info.update(PrintOutcome(False, "disabled", "no printer configured"))
            return
        self.printer.check_status(self._status_checked)

    def _status_checked(self, outcome: PrintOutcome) -> None:
        self.printer_info.update(outcome)
        if self.screen == Screen.STAFF:
            self.staff_message = "status"
        self._changed()

    # -- time ---------------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second: timeouts, retries, the printer poll."""
        now = self.clock()
        changed = False
        pending = self._pending
        if pending is not None:
            if not pending.in_flight and now - pending.started >= self.settings.give_up_seconds:
                self._give_up()
                changed = True
            elif pending.retry_at is not None and now >= pending.retry_at and self.online:
                self._send_issue()
                changed = True
        idle = now - self._last_touch >= self.settings.idle_seconds
        timed_out = self._deadline is not None and now >= self._deadline and self._may_leave()
        if timed_out or (idle and self.screen in IDLE_SCREENS):
            self._go_home()
            changed = True
        elif idle and self.screen == Screen.HOME and self.language != self.settings.language:
            self.language = self.settings.language  # the next citizen starts in Vietnamese
            changed = True
        interval = self.settings.status_interval_seconds
        if interval and now >= self._next_status_check and self.screen == Screen.HOME and not self.busy:
            self.check_printer()
        if changed:
            self._changed()

    def _may_leave(self) -> bool:
        # Keep the ticket up while it is still printing (the printer times out in seconds).
        return not (self.screen == Screen.ISSUED and self.issued is not None
                    and self.issued.phase == PrintPhase.PRINTING)

    def _go_home(self) -> None:
        self.priority = None
        self.pin = ""
        self.staff_message = ""
        if self.screen in (Screen.ISSUED, Screen.PRINTER_PROBLEM, Screen.MESSAGE):
            self.language = self.settings.language
        self._show(Screen.HOME if self.site is not None else Screen.CONNECTING)

    # -- staff --------------------------------------------------------------------------------

    def staff_gesture(self) -> None:
        """The hidden long-press: ask for the staff PIN."""
        self.touch()
        if self.screen not in (Screen.HOME, Screen.CONNECTING) or self.busy:
            return
        self.pin = ""
        self.staff_message = "locked" if self.clock() < self.pin_locked_until else ""
        self._show(Screen.STAFF_PIN)
        self._changed()

    def pin_digit(self, digit: str) -> None:
        self.touch()
        if self.screen == Screen.STAFF_PIN and digit.isdigit() and len(self.pin) < MAX_PIN_LENGTH:
            self.pin += digit
            if self.staff_message == "wrong_pin":
                self.staff_message = ""
            self._changed()

    def pin_erase(self) -> None:
        self.touch()
        self.pin = self.pin[:-1]
        self._changed()

    def pin_submit(self) -> None:
        self.touch()
        if self.screen != Screen.STAFF_PIN:
            return
        now = self.clock()
        if now < self.pin_locked_until:
            self.staff_message, self.pin = "locked", ""
        elif hmac.compare_digest(self.pin.encode(), self.settings.staff_pin.encode()):
            self.pin, self.pin_failures, self.staff_message = "", 0, ""
            self._show(Screen.STAFF)
            self.check_printer()
        else:
            self.pin_failures += 1
            self.pin, self.staff_message = "", "wrong_pin"
            if self.pin_failures >= PIN_ATTEMPTS:
                self.pin_failures, self.pin_locked_until = 0, now + 60.0
                self.staff_message = "locked"
        self._changed()

    def reprint_last(self) -> None:
        self.touch()
        last = self.last_ticket
        if self.screen != Screen.STAFF or last is None:
            return
        if not self.printer.enabled:
            self.staff_message = "no_printer"
        else:
            self.staff_message = "reprinting"
            started = self.clock()
            self.printer.print_ticket(last.printed, lambda outcome: self._reprinted(started, outcome))
        self._changed()

    def _reprinted(self, started: float, outcome: PrintOutcome) -> None:
        self._printed(self.last_ticket.ticket.id if self.last_ticket else "", started, outcome)
        if self.screen == Screen.STAFF:
            self.staff_message = "reprinted" if outcome.ok else "reprint_failed"
        self._changed()


