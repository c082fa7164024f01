"""The kiosk's printer outcomes and its staff screen (PIN, printer status, reprint).

Mixed into ``KioskState`` (which provides the screen, the clock and the listeners). A
print's outcome updates the ticket shown and the printer report; a failed print turns the
ticket's screen into the printer-problem screen. The staff screen is behind a PIN that
locks for a minute after ``PIN_ATTEMPTS`` wrong tries; it shows the printer's status and
reprints the last ticket.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from kiosk.printing import PrinterMonitor, PrintOutcome
from kiosk.values import IssuedTicket, KioskSettings, PrinterPort, PrintPhase, Screen

MAX_PIN_LENGTH = 8
PIN_ATTEMPTS = 5
PIN_LOCK_SECONDS = 60.0


class StaffAndPrinter:
    """Printing outcomes, the idle printer poll, and the PIN-guarded staff screen."""

    # Provided by KioskState:
    printer: PrinterPort
    clock: Callable[[], float]
    settings: KioskSettings
    screen: Screen
    issued: IssuedTicket | None
    last_ticket: IssuedTicket | None
    _deadline: float | None

    if TYPE_CHECKING:
        @property
        def busy(self) -> bool: ...
        def touch(self) -> None: ...
        def _show(self, screen: Screen, seconds: float | None = None) -> None: ...
        def _changed(self) -> None: ...

    def _start_staff_and_printer(self, printer_info: PrinterMonitor, now: float) -> None:
        self.printer_info = printer_info
        self.print_times_ms: list[float] = []
        self.pin = ""
        self.pin_failures = 0
        self.pin_locked_until = 0.0
        self.staff_message = ""
        self._next_status_check = now

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

    def _poll_printer(self, now: float) -> None:
        """The printer's part of ``tick``: a status check now and then while the kiosk is idle."""
        interval = self.settings.status_interval_seconds
        if interval and now >= self._next_status_check and self.screen == Screen.HOME and not self.busy:
            self.check_printer()

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
                self.pin_failures, self.pin_locked_until = 0, now + PIN_LOCK_SECONDS
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
