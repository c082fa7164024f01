"""``KioskApp``: one kiosk device put together — the connection logged in as the device, the
printer port (its results brought back to the GUI thread), ``KioskState`` and the
``KioskWindow``.

``kiosk/cli.py`` builds one from the command line; the GUI tests and the benchmark build
the same against a live server.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from common import protocol as p
from common.clock import monotonic
from common.device_enrollment import DeviceEnrollment
from common.pairing_view import DeviceFrame
from common.qt_bridge import QtBridge
from common.qt_client import QtConnection, device_login
from common.qt_gc import collected_on_gui_thread
from kiosk.print_service import PrinterSettings, PrintService, validate_uri
from kiosk.state import KioskSettings, KioskState
from kiosk.view import KioskWindow

log = logging.getLogger(__name__)

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


class KioskApp:
    """Connection + printer + state + window for one kiosk device."""

    def __init__(self, *, url: str, printer: PrinterSettings, token: str | None = None,
                 enrollment: DeviceEnrollment | None = None, printer_override: bool = False,
                 settings: KioskSettings | None = None) -> None:
        """Log in with ``token`` (from the configuration file), or through ``enrollment``
        (the kiosk's own credential file, paired when it has none): exactly one of them."""
        if (token is None) == (enrollment is None):
            raise ValueError("a kiosk logs in with either a token or its enrollment")
        self.printer_override = printer_override
        self.bridge = QtBridge()
        self.printer = PrintService(printer, deliver=self.bridge.deliver)
        self.enrollment = enrollment
        if enrollment is not None:
            self.connection = QtConnection(url, enrollment.authenticate)
            enrollment.attach(self.connection)
        else:
            assert token is not None
            self.connection = QtConnection(url, device_login(token))
        self.state = KioskState(request=self.connection.request, printer=self.printer, clock=monotonic,
                                settings=settings, on_device=self._device)
        self.connection.message.connect(self.state.on_message)
        self.connection.status_changed.connect(self.state.set_connection)
        self.window = KioskWindow(self.state, printer_uri=lambda: self.printer.settings.uri)
        self.frame = DeviceFrame(enrollment.state, self.window, url) if enrollment is not None else None

    @property
    def screen(self) -> QWidget:
        """What goes on the screen: the window, or the frame showing pairing before it."""
        return self.frame if self.frame is not None else self.window

    @property
    def drawn(self) -> bool:
        """Something worth a screenshot: the home screen, or the pairing code."""
        if self.enrollment is not None and self.enrollment.state.pairing:
            return bool(self.enrollment.state.code)
        return self.state.site is not None

    def _device(self, device: p.DeviceView) -> None:
        """The server's settings for this kiosk's printer win over the local file's."""
        if self.printer_override:
            return
        fresh = self.printer.settings.with_device(device)
        problem = validate_uri(fresh.uri)
        if problem:
            log.error("server's printer setting for %s is unusable: %s", device.id, problem)
            return
        if fresh != self.printer.settings:
            log.info("printer for %s: %s (%d dots, QR %s)", device.id, fresh.uri, fresh.width_dots,
                     fresh.qr_mode)
            self.printer.configure(fresh)
            self.state.check_printer()

    def start(self) -> None:
        self.connection.start()

    def run(self, *, windowed: bool, orientation: str) -> int:
        """Show the window (full screen, or a window of ``orientation``'s shape) until the
        application quits; the exit code."""
        window = self.screen
        if windowed:
            width, height = SIZES[orientation]
            screen = QApplication.primaryScreen().availableGeometry()
            scale = min(1.0, 0.92 * screen.width() / width, 0.92 * screen.height() / height)
            window.resize(round(width * scale), round(height * scale))
            window.show()
        else:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)  # a touch screen shows no pointer
            window.showFullScreen()
        with collected_on_gui_thread():  # never on the printer's thread (see common/qt_gc.py)
            return QApplication.exec()

    def stop(self) -> None:
        self.window.timer.stop()
        if self.frame is not None:
            self.frame.stop()
        self.connection.stop()
        self.printer.shutdown()
