"""The ESC/POS printer adapter, built on python-escpos: its transports (network, USB,
serial, device file), the job's bytes, and what the printer says about itself.

A printer is configured by a URI (see ``parse_printer_uri``). Each job is built
in memory first (``TicketPrinter.build_job``), then sent over a connection that is
opened for that job and closed after it, so a printer that was switched off and
on again works for the next ticket without restarting the kiosk. Every step has
a timeout; failures raise ``PrinterError`` and never hang the caller. What a fault
means for the citizen and the staff is a text of the kiosk's catalogue
(``assets/translations/kiosk.toml``), named by ``PrinterError.problem``.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import errno
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from common.errors import AppError
from common.i18n import Translator
from common.printer_uri import PrinterConfigError, PrinterTarget, parse_printer_uri

__all__ = [
    "PrinterConfigError", "PrinterError", "PrinterState", "PrinterStatus", "PrinterTarget",
    "TicketPrinter", "open_printer", "parse_printer_uri",
]


def _import_escpos() -> None:
    # escpos.capabilities calls logging.basicConfig() at import time, which would
    # make the application's own logging setup a no-op; undo just that handler.
    root = logging.getLogger()
    before = list(root.handlers)
    import escpos.printer  # noqa: F401

    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)


_import_escpos()

from escpos import capabilities, printer  # noqa: E402
from escpos.constants import QR_ECLEVEL_M, RT_STATUS_ONLINE, RT_STATUS_PAPER  # noqa: E402
from escpos.escpos import Escpos  # noqa: E402
from escpos.exceptions import DeviceNotFoundError  # noqa: E402
from escpos.exceptions import Error as EscposError  # noqa: E402

from kiosk.ticket_image import PrintedTicket, qr_module_dots, qr_target_dots, render_ticket  # noqa: E402

logger = logging.getLogger(__name__)

QrMode = Literal["native", "raster"]
CHUNK_BYTES = 4096  # each write must make progress within the timeout
FRAGMENT_ROWS = 256  # rows per GS v 0 block; small blocks suit small printer buffers
TCP_SEND_BUFFER = 8192  # keep little in the kernel so a stuck printer shows as a timeout
RT_STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"  # DLE EOT 2


class PrinterState(enum.StrEnum):
    OK = "ok"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    PAPER_LOW = "paper_low"
    ERROR = "error"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


_TEXTS = Translator("kiosk")


def state_problem(state: PrinterState) -> str:
    """The catalogue's text for what ``state`` means (``printer_status_<state>``)."""
    return f"printer_status_{state.value}"


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    detail: str = ""

    @property
    def can_print(self) -> bool:
        """False only when the printer is known to be unable to print."""
        return self.state in (PrinterState.OK, PrinterState.PAPER_LOW, PrinterState.UNKNOWN)

    @property
    def message_vi(self) -> str:
        return _TEXTS.both(state_problem(self.state))[0]

    @property
    def message_en(self) -> str:
        return _TEXTS.both(state_problem(self.state))[1]


class PrinterError(AppError):
    """A print job failed; the ticket itself stays issued.

    ``message_en`` is the technical detail (for the log and the staff screen); ``problem``
    names the catalogue's text for people, ``message_vi``/``problem_en`` in each language.
    """

    def __init__(self, message_en: str, problem: str,
                 state: PrinterState = PrinterState.ERROR) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.problem = problem
        self.state = state

    @property
    def message_vi(self) -> str:
        return _TEXTS.both(self.problem)[0]

    @property
    def problem_en(self) -> str:
        return _TEXTS.both(self.problem)[1]


def open_printer(uri: str, *, timeout: float = 3.0,
                 status_timeout: float = 1.0) -> TicketPrinter:
    """Validate uri and return a printer for it (connections are opened per job).

    timeout bounds each connect, write and confirmation; status_timeout is how
    long to wait for the answer to a status query before calling it "unknown".
    """
    target = parse_printer_uri(uri)
    if target.kind == "usb" and not printer.Usb.is_usable():
        raise PrinterConfigError(f"printer URI {uri!r} needs pyusb (pip install pyusb)")
    if target.kind == "serial" and not printer.Serial.is_usable():
        raise PrinterConfigError(f"printer URI {uri!r} needs pyserial (pip install pyserial)")
    return TicketPrinter(target, timeout=timeout, status_timeout=status_timeout)


# --- transports -------------------------------------------------------------------


class _DeadlineWriter:
    """Non-blocking writer whose writes give up after a timeout.

    python-escpos's File uses a blocking open(); writing to a /dev/usb/lp0 whose
    printer is off would then block forever.
    """

    def __init__(self, path: str, timeout: float) -> None:
        flags = os.O_WRONLY | os.O_NONBLOCK
        if not path.startswith("/dev/"):  # never create files for a vanished device
            flags |= os.O_CREAT | os.O_TRUNC
        self._fd = os.open(path, flags, 0o644)
        self._timeout = timeout

    def write(self, data: bytes) -> None:
        view, deadline = memoryview(data), time.monotonic() + self._timeout
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self._fd], [], remaining)[1]:
                raise TimeoutError(errno.ETIMEDOUT, "device did not accept data in time")
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                continue

    def flush(self) -> None:
        """Writes are unbuffered."""

    def close(self) -> None:
        os.close(self._fd)


class _TimedFile(printer.File):

    def __init__(self, devfile: str, timeout: float) -> None:
        super().__init__(devfile=devfile)
        self._timeout = timeout

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        try:
            self.device = _DeadlineWriter(self.devfile, self._timeout)
        except OSError as exc:
            self.device = None
            raise DeviceNotFoundError(f"Could not open {self.devfile}: {exc}") from exc


class _TcpPrinter(printer.Network):
    # Network.open() drops (without closing) its socket when connect fails, and
    # can only tune the socket after connecting.
    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:  # a small send buffer makes a printer that stops reading time out
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, TCP_SEND_BUFFER)
            sock.settimeout(self.timeout)
            sock.connect((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.device = sock


def _media_profile(width_dots: int) -> Any:
    # Give the job its own profile with a known paper width: with "Unknown"
    # python-escpos print()s a warning to stdout on every image.
    # Escpos() only accepts a capabilities.Profile instance, whose features start
    # empty (cut() would then send no cut command), so copy the default's data.
    profile = capabilities.Profile()
    profile.profile_data = copy.deepcopy(capabilities.get_profile_class("default").profile_data)
    profile.profile_data["media"]["width"] = {"pixels": width_dots, "mm": "Unknown"}
    profile.features = profile.profile_data["features"]
    return profile


def _status_byte(reply: bytes | None) -> int | None:
    """Last byte of a reply that looks like an ESC/POS status byte (0xx1xx10)."""
    for value in reversed(bytes(reply or b"")):
        if value & 0x93 == 0x12:
            return value
    return None


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__ == "USBTimeoutError"


# --- the printer ------------------------------------------------------------------


class TicketPrinter:
    """Prints PrintedTickets on one ESC/POS printer; safe to share between threads."""

    def __init__(self, target: PrinterTarget, *, timeout: float = 3.0,
                 status_timeout: float = 1.0) -> None:
        self.target = target
        self.timeout = timeout
        self.status_timeout = min(status_timeout, timeout)
        self._lock = threading.Lock()
        self._status_unanswered = False  # printer ignored DLE EOT: skip the pre-check

    @property
    def uri(self) -> str:
        return self.target.uri

    def build_job(self, ticket: PrintedTicket, *, width_dots: int = 576,
                  qr_mode: QrMode = "raster") -> bytes:
        """The complete ESC/POS byte stream for one ticket."""
        if qr_mode not in ("native", "raster"):
            raise ValueError(f"qr_mode must be 'native' or 'raster', not {qr_mode!r}")
        job = printer.Dummy(profile=_media_profile(width_dots))
        job.hw("INIT")
        image = render_ticket(ticket, width_dots=width_dots, include_qr=qr_mode == "raster")
        job.image(image, impl="bitImageRaster", fragment_height=FRAGMENT_ROWS)
        if qr_mode == "native":
            job.print_and_feed(1)  # quiet zone above the code
            job.set(align="center")  # qr(native=True, center=True) is not implemented
            size = max(3, qr_module_dots(ticket.url, qr_target_dots(width_dots)))
            job.qr(ticket.url, ec=QR_ECLEVEL_M, size=size, native=True)
            job.set(align="left")
        job.cut(mode="PART" if self.target.cut == "partial" else "FULL")  # ESC d 6, GS V
        return job.output

    def print_ticket(self, ticket: PrintedTicket, *, width_dots: int = 576,
                     qr_mode: QrMode = "raster") -> None:
        """Print one ticket or raise PrinterError. Blocks for at most a few timeouts."""
        if self.target.kind == "none":
            logger.info("no printer configured; ticket %s not printed", ticket.number)
            return
        data = self.build_job(ticket, width_dots=width_dots, qr_mode=qr_mode)
        started = time.monotonic()
        with self._lock, self._connection() as dev:
            answered = False
            if self.target.can_query_status and not self._status_unanswered:
                before = self._read_status(dev, self.status_timeout)
                self._raise_if_unusable(before, "before printing")
                answered = before.state != PrinterState.UNKNOWN
                self._status_unanswered = not answered
            self._guard(lambda: self._send(dev, data), "sending the ticket")
            if answered:  # a reply proves the printer received everything before it
                after = self._read_status(dev, self.timeout)
                if after.state == PrinterState.UNKNOWN:
                    raise PrinterError(
                        f"printer {self.uri} stopped answering while printing",
                        "printer_stopped_answering", PrinterState.OFFLINE)
                self._raise_if_unusable(after, "after printing")
        logger.info("printed ticket %s on %s (%d bytes, %.0f ms)", ticket.number, self.uri,
                    len(data), (time.monotonic() - started) * 1000)

    def status(self) -> PrinterStatus:
        """Current printer state from real-time status queries where the link allows."""
        if self.target.kind == "none":
            return PrinterStatus(PrinterState.DISABLED, "no printer configured")
        if self.target.kind == "file":
            if not os.path.exists(self.target.path) and self.target.path.startswith("/dev/"):
                return PrinterStatus(PrinterState.OFFLINE, f"{self.target.path} does not exist")
            return PrinterStatus(PrinterState.UNKNOWN, "a file target cannot report status")
        with self._lock:
            try:
                with self._connection() as dev:
                    result = self._read_status(dev, self.status_timeout)
            except PrinterError as exc:
                return PrinterStatus(exc.state, exc.message_en)
            self._status_unanswered = result.state == PrinterState.UNKNOWN
            return result

    # --- internals ----------------------------------------------------------------

    def _device(self) -> Escpos:
        t = self.target
        if t.kind == "tcp":
            return _TcpPrinter(host=t.host, port=t.port, timeout=self.timeout)
        if t.kind == "usb":  # pyusb timeouts are in milliseconds; 0 would mean "forever"
            return printer.Usb(t.vendor_id, t.product_id, timeout=int(self.timeout * 1000),
                               in_ep=t.in_ep, out_ep=t.out_ep)
        if t.kind == "serial":
            return printer.Serial(devfile=t.path, baudrate=t.baudrate, timeout=self.timeout,
                                  dsrdtr=t.flow == "dsrdtr", xonxoff=t.flow == "xonxoff")
        return _TimedFile(t.path, self.timeout)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Escpos]:
        """Open the device for one job and always close it afterwards."""
        dev = self._device()
        try:
            dev.open()
        except (OSError, EscposError, RuntimeError) as exc:
            raise PrinterError(
                f"cannot connect to printer {self.uri}: {exc}".replace("\n", " "),
                "printer_cannot_connect", PrinterState.OFFLINE) from exc
        link = dev.device
        if self.target.kind == "serial":  # python-escpos sets no write timeout, no RTS/CTS
            link.write_timeout = self.timeout + 15 * CHUNK_BYTES / self.target.baudrate
            link.rtscts = self.target.flow == "rtscts"
        try:
            yield dev
        finally:
            try:
                if self.target.kind == "serial":
                    self._drain_serial(link)
                dev.close()
            except Exception:  # closing a dead link must not mask the real error
                logger.debug("error while closing printer %s", self.uri, exc_info=True)

    def _drain_serial(self, link: Any) -> None:
        # Serial.close() flushes with tcdrain, which blocks forever while flow
        # control holds the line: wait a bounded time, then drop what is left.
        deadline = time.monotonic() + self.timeout
        while link.out_waiting and time.monotonic() < deadline:
            time.sleep(0.02)
        if link.out_waiting:
            logger.warning("printer %s left %d bytes unsent", self.uri, link.out_waiting)
            link.reset_output_buffer()

    def _guard(self, action: Any, doing: str) -> Any:
        try:
            return action()
        except PrinterError:
            raise
        except (OSError, EscposError, AssertionError, RuntimeError) as exc:
            # AssertionError: python-escpos asserts on a device that failed to open.
            timed_out = _is_timeout(exc)
            why = "timed out" if timed_out else f"{type(exc).__name__}: {exc}"
            raise PrinterError(
                f"printer {self.uri} failed while {doing}: {why}",
                "printer_no_answer" if timed_out else "printer_link_error", PrinterState.OFFLINE) from exc

    def _send(self, dev: Escpos, data: bytes) -> None:
        for start in range(0, len(data), CHUNK_BYTES):
            dev._raw(data[start:start + CHUNK_BYTES])

    def _query(self, dev: Escpos, request: bytes, wait: float) -> int | None:
        """Send a DLE EOT query; the status byte, or None when there is no answer."""
        link = dev.device
        kind = self.target.kind
        try:
            if kind == "tcp":
                link.setblocking(False)  # drop stray bytes so the reply matches the query
                with contextlib.suppress(BlockingIOError):
                    while link.recv(256):
                        pass
                link.settimeout(wait)
            elif kind == "serial":
                link.reset_input_buffer()
                # Serial._read() asks pyserial for 16 bytes, which waits out the whole
                # timeout for a 1-byte status reply: read exactly one byte instead.
                link.timeout = wait
                dev._raw(request)
                return _status_byte(link.read(1))
            elif kind == "usb" and hasattr(link, "default_timeout"):
                link.default_timeout = int(wait * 1000)
            return _status_byte(dev.query_status(request))
        except OSError as exc:
            if _is_timeout(exc):
                return None
            raise
        finally:
            if kind == "tcp":
                link.settimeout(self.timeout)

    def _read_status(self, dev: Escpos, wait: float) -> PrinterStatus:
        # Decoded here rather than with is_online()/paper_status(): those treat an
        # empty reply as "offline" and "paper adequate" respectively.
        def run() -> PrinterStatus:
            online = self._query(dev, RT_STATUS_ONLINE, wait)
            if online is None:
                return PrinterStatus(PrinterState.UNKNOWN, "no reply to status query (DLE EOT)")
            paper = self._query(dev, RT_STATUS_PAPER, wait) or 0
            if paper & 0x60:
                return PrinterStatus(PrinterState.PAPER_OUT, "paper end sensor")
            if online & 0x08:
                cause = self._query(dev, RT_STATUS_OFFLINE_CAUSE, wait) or 0
                if cause & 0x20:
                    return PrinterStatus(PrinterState.PAPER_OUT, "stopped: paper end")
                if cause & 0x40:
                    return PrinterStatus(PrinterState.ERROR, "printer error (cutter, head or mechanism)")
                if cause & 0x04:
                    return PrinterStatus(PrinterState.OFFLINE, "cover open")
                return PrinterStatus(PrinterState.OFFLINE, "printer reports offline")
            if paper & 0x0C:
                return PrinterStatus(PrinterState.PAPER_LOW, "paper near end")
            return PrinterStatus(PrinterState.OK, "online")

        return self._guard(run, "reading status")

    def _raise_if_unusable(self, status: PrinterStatus, when: str) -> None:
        if not status.can_print:
            raise PrinterError(f"printer {self.uri} reports {status.state} {when} "
                               f"({status.detail})", state_problem(status.state), status.state)
