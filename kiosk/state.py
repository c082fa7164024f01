"""Everything the kiosk does, as plain Python: no widgets, no socket, no clock reads of its own.

``KioskState`` receives server messages (``on_message``), connection changes
(``set_connection``), taps (``choose_service``, ``open_priority`` ...) and the passing of
time (``tick``), and tells its listeners that it ``changed``. It talks to the outside
through injected callables only: ``request(message, on_result, on_error)`` (the shape
of ``QtConnection.request``), a printer port (``PrintService``), a monotonic ``clock`` and
a ``wall_clock`` for the time shown on screen. The view only draws it.

This module holds the screens' navigation, the server's data and the timeouts; the
issuing flow is in ``kiosk/issuing.py`` and the printer and staff screen in
``kiosk/staff_printer.py``, both mixed in. Printing is separate from issuing: a ticket is
issued and shown even when the printer is down.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from common import protocol as p
from kiosk.issuing import IssuingFlow
from kiosk.printing import PrinterMonitor
from kiosk.staff_printer import StaffAndPrinter
from kiosk.values import (
    IDLE_SCREENS,
    IssuedTicket,
    KioskSettings,
    Notice,
    PrinterPort,
    PrintPhase,
    Request,
    Screen,
)

log = logging.getLogger(__name__)

__all__ = ["KioskSettings", "KioskState", "PrintPhase", "Screen"]  # what the views and tests import


class KioskState(IssuingFlow, StaffAndPrinter):
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
        self._server_offset = timedelta(0)
        now = clock()
        self._last_touch = now
        self._deadline: float | None = None
        self._start_issuing()
        self._start_staff_and_printer(PrinterMonitor(request, enabled=printer.enabled), now)

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
            self._resend_when_online()
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

    # -- taps (choose_service is in kiosk/issuing.py, the staff screen's in staff_printer.py) --

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

    # -- time ---------------------------------------------------------------------------------

    def tick(self) -> None:
        """Called a few times a second: timeouts, retries, the printer poll."""
        now = self.clock()
        changed = self._retry_or_give_up(now)
        idle = now - self._last_touch >= self.settings.idle_seconds
        timed_out = self._deadline is not None and now >= self._deadline and self._may_leave()
        if timed_out or (idle and self.screen in IDLE_SCREENS):
            self._go_home()
            changed = True
        elif idle and self.screen == Screen.HOME and self.language != self.settings.language:
            self.language = self.settings.language  # the next citizen starts in Vietnamese
            changed = True
        self._poll_printer(now)
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
