"""The kiosk's printer port: one ESC/POS printer behind one worker thread.

``PrinterSettings`` says which printer (a URI), how wide its paper is and how the QR code
is drawn. ``PrintService`` owns the printer (``kiosk/escpos_printer.py``) and a single
worker thread: ``print_ticket`` and ``check_status`` return at once, and their
``PrintOutcome`` is handed to ``deliver(callback, outcome)``, which the app
(``kiosk/app.py``) uses to get back onto the GUI thread. Nothing here blocks the caller
or raises on a printer fault.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from common import protocol as p
from common.clock import utc_now
from common.config import Kiosk
from common.i18n import Translator
from kiosk.escpos_printer import (
    PrinterConfigError,
    PrinterError,
    PrinterState,
    TicketPrinter,
    open_printer,
    parse_printer_uri,
)
from kiosk.ticket_image import PrintedTicket
from kiosk.values import PrintOutcome

log = logging.getLogger(__name__)

QrMode = Literal["native", "raster"]
WIDTH_DOTS = {58: 384, 80: 576}  # 203 dpi thermal heads
Deliver = Callable[[Callable[[Any], None], Any], None]
_TEXTS = Translator("kiosk")


def _direct(callback: Callable[[Any], None], value: Any) -> None:
    callback(value)


@dataclass(frozen=True)
class PrinterSettings:
    """Which printer, how wide its paper is, and how the QR code is drawn."""

    uri: str = "none"
    width_dots: int = 576
    qr_mode: QrMode = "raster"

    @property
    def enabled(self) -> bool:
        return self.uri != "none"

    @classmethod
    def from_kiosk(cls, kiosk: Kiosk, uri_override: str | None = None) -> PrinterSettings:
        return cls(uri=uri_override or kiosk.printer, width_dots=WIDTH_DOTS[kiosk.paper_width_mm],
                   qr_mode=kiosk.qr)

    def with_device(self, device: p.DeviceView, uri_override: str | None = None) -> PrinterSettings:
        """The server's word on this kiosk's printer (its DeviceView), unless overridden locally."""
        width = WIDTH_DOTS.get(device.paper_width_mm or 0, self.width_dots)
        qr: QrMode = device.qr if device.qr in ("native", "raster") else self.qr_mode  # type: ignore[assignment]
        return PrinterSettings(uri=uri_override or device.printer or self.uri, width_dots=width, qr_mode=qr)


def validate_uri(uri: str) -> str | None:
    """None when ``uri`` is a usable printer URI, else what is wrong with it."""
    try:
        parse_printer_uri(uri)
    except PrinterConfigError as exc:
        return str(exc)
    return None


class PrintService:
    """One printer behind one worker thread; results come back through ``deliver``."""

    def __init__(self, settings: PrinterSettings, *, deliver: Deliver = _direct,
                 timeout: float = 3.0) -> None:
        self._deliver = deliver
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="printer")
        self.settings = settings
        self._printer: TicketPrinter | None = None
        self._config_problem = ""
        self.configure(settings)

    def configure(self, settings: PrinterSettings) -> None:
        """Switch to another printer (jobs already queued print on the old one)."""
        self.settings = settings
        self._printer, self._config_problem = None, ""
        if not settings.enabled:
            return
        try:
            self._printer = open_printer(settings.uri, timeout=self._timeout)
        except PrinterConfigError as exc:
            log.error("printer cannot be used: %s", exc)
            self._config_problem = str(exc)
            return
        printer = self._printer
        with contextlib.suppress(RuntimeError):  # load fonts and the QR encoder before the first citizen
            self._executor.submit(self._warm_up, printer, settings)

    @staticmethod
    def _warm_up(printer: TicketPrinter, settings: PrinterSettings) -> None:
        sample = PrintedTicket(
            centre_name="Trung tâm", site_name="Điểm", service_name="Dịch vụ", number="A000",
            people_ahead=0, estimated_wait_minutes=1, issued_at=utc_now(), counters=(1,),
            priority_label=None, url="http://127.0.0.1/t/warm-up-token-0000000")
        try:
            printer.build_job(sample, width_dots=settings.width_dots, qr_mode=settings.qr_mode)
        except Exception:  # only a warm-up: the real job reports any problem
            log.debug("printer warm-up failed", exc_info=True)

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def print_ticket(self, ticket: PrintedTicket, on_done: Callable[[PrintOutcome], None]) -> None:
        printer, settings = self._printer, self.settings
        self._submit(lambda: self._print(printer, settings, ticket), on_done)

    def check_status(self, on_done: Callable[[PrintOutcome], None]) -> None:
        printer = self._printer
        self._submit(lambda: self._status(printer), on_done)

    def shutdown(self, wait: bool = False) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    # -- worker side ----------------------------------------------------------------------

    def _submit(self, job: Callable[[], PrintOutcome], on_done: Callable[[PrintOutcome], None]) -> None:
        def run() -> None:
            try:
                outcome = job()
            except Exception as exc:  # a bug must not kill the worker or leave the screen waiting
                log.exception("printer job failed unexpectedly")
                outcome = PrintOutcome(False, "error", f"{type(exc).__name__}: {exc}",
                                       *_TEXTS.both("printer_failure"))
            self._deliver(on_done, outcome)

        try:
            self._executor.submit(run)
        except RuntimeError:  # shut down: the app is closing
            log.debug("printer service is shut down; job dropped")

    def _unusable(self) -> PrintOutcome | None:
        if not self.settings.enabled:
            return PrintOutcome(False, "disabled", "no printer configured")
        if self._config_problem:
            return PrintOutcome(False, "error", self._config_problem, *_TEXTS.both("printer_misconfigured"))
        return None

    def _print(self, printer: TicketPrinter | None, settings: PrinterSettings,
               ticket: PrintedTicket) -> PrintOutcome:
        started = time.monotonic()
        if printer is None:
            return self._unusable() or PrintOutcome(False, "error", "no printer")
        try:
            printer.print_ticket(ticket, width_dots=settings.width_dots, qr_mode=settings.qr_mode)
        except PrinterError as exc:
            log.warning("ticket %s not printed: %s", ticket.number, exc.message_en)
            return PrintOutcome(False, exc.state.value, exc.message_en, exc.message_vi, exc.problem_en,
                                (time.monotonic() - started) * 1000)
        elapsed = (time.monotonic() - started) * 1000
        return PrintOutcome(True, PrinterState.OK.value, "printed", elapsed_ms=elapsed)

    def _status(self, printer: TicketPrinter | None) -> PrintOutcome:
        if printer is None:
            return self._unusable() or PrintOutcome(False, "error", "no printer")
        status = printer.status()
        return PrintOutcome(status.can_print, status.state.value, status.detail, status.message_vi,
                            status.message_en)
