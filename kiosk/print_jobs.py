"""The kiosk state's side of printing: jobs and status checks sent to the printer port,
how long they took, and the printer's state as the server is told it.

``PrintJobs`` is owned by ``KioskState``: it sends a ticket or a status check to the
``PrinterPort`` (``kiosk/print_service.py`` in the app), times it, keeps the
``PrinterMonitor`` current, then hands the outcome back; what the outcome means for the
screens is the state's business. While the kiosk is idle it checks the printer now and
then (``poll``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import protocol as p
from common.clock import Monotonic
from kiosk.ticket_image import PrintedTicket
from kiosk.values import PrinterPort, PrintOutcome, Request

Done = Callable[[PrintOutcome], None]
MIN_STATUS_INTERVAL = 5.0  # seconds between two status checks, at the least


class PrinterMonitor:
    """What the printer last said, told to the server (``printer_status``) when it changes.

    A report waits while the kiosk is offline and is repeated after every reconnect (the
    server may have restarted); "unknown" is not reported until something is learnt.
    """

    def __init__(self, request: Request, *, enabled: bool) -> None:
        self.request = request
        self.state = "unknown" if enabled else "disabled"
        self.detail = ""
        self.message_vi = ""
        self.online = False
        self._reported: str | None = None  # the last state the server acknowledged
        self._reporting: str | None = None

    def set_online(self, online: bool) -> None:
        self.online = online
        if online:
            self._reported = None
            self._report()

    def update(self, outcome: PrintOutcome, *, after_print: bool = False) -> None:
        state = outcome.state
        if after_print and outcome.ok and self.state == "paper_low":
            state = "paper_low"  # a good print does not mean the roll got longer
        self.state, self.detail, self.message_vi = state, outcome.detail, outcome.message_vi
        self._report()

    def _report(self) -> None:
        state = self.state
        if not self.online or state in (self._reported, self._reporting):
            return
        if state == "unknown" and self._reported is None:
            return
        self._reporting = state

        def done(_reply: Any) -> None:
            self._reported, self._reporting = state, None
            self._report()  # it may have changed again meanwhile

        def failed(_error: Any) -> None:
            self._reporting = None

        self.request(p.ReportPrinter(state=state, detail=self.detail[:200]), done, failed)  # type: ignore[arg-type]


class PrintJobs:
    """Tickets and status checks through the printer port; the monitor kept current."""

    def __init__(self, printer: PrinterPort, monitor: PrinterMonitor, *, clock: Monotonic,
                 status_interval: float) -> None:
        self.printer = printer
        self.monitor = monitor
        self.clock = clock
        self.status_interval = status_interval  # seconds between checks while idle (0: never)
        self.times_ms: list[float] = []  # how long each print took, in order
        self._next_status_check = clock()

    @property
    def enabled(self) -> bool:
        return self.printer.enabled

    def print_ticket(self, paper: PrintedTicket, on_done: Done) -> None:
        started = self.clock()

        def printed(outcome: PrintOutcome) -> None:
            self.times_ms.append((self.clock() - started) * 1000)
            self.monitor.update(outcome, after_print=True)
            on_done(outcome)

        self.printer.print_ticket(paper, printed)

    def check_status(self, on_done: Done) -> None:
        """Ask the printer how it is (``on_done`` is not called when there is no printer)."""
        self._next_status_check = self.clock() + max(self.status_interval, MIN_STATUS_INTERVAL)
        if not self.printer.enabled:
            self.monitor.update(PrintOutcome(False, "disabled", "no printer configured"))
            return

        def checked(outcome: PrintOutcome) -> None:
            self.monitor.update(outcome)
            on_done(outcome)

        self.printer.check_status(checked)

    def due(self, now: float) -> bool:
        """Time for the idle status check."""
        return bool(self.status_interval) and now >= self._next_status_check
