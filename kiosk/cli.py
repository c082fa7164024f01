"""``xephang kiosk``: the touch-screen ticket kiosk, and the wiring that builds it.

``KioskApp`` joins the pieces: a ``QtConnection`` logged in as the kiosk device, the
``PrintService`` (results brought back to the GUI thread), ``KioskState`` and the
``KioskWindow``. Tests build the same ``KioskApp`` against a live server.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from common import protocol as p
from common.cli_args import (
    add_config_argument,
    add_log_level_argument,
    add_server_argument,
    positive_int,
    websocket_url,
)
from common.client import Connection
from common.logs import setup_logging
from common.qt_bridge import QtBridge
from common.qt_client import QtConnection
from common.qt_gc import collected_on_gui_thread
from common.qt_theme import install_fonts, platform_or_complain
from kiosk.printing import PrinterSettings, PrintService, validate_uri
from kiosk.state import KioskSettings, KioskState
from kiosk.take_cli import kiosk_and_printer_or_exit
from kiosk.view import KioskWindow

log = logging.getLogger(__name__)

DEFAULT_PIN = "1234"
PIN_ENV = "XEPHANG_KIOSK_PIN"
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
SCREENSHOT_WAIT_MS = 8000


class KioskApp:
    """Connection + printer + state + window for one kiosk device."""

    def __init__(self, *, url: str, token: str, printer: PrinterSettings, printer_override: bool = False,
                 settings: KioskSettings | None = None) -> None:
        self.token = token
        self.printer_override = printer_override
        self.bridge = QtBridge()
        self.printing = PrintService(printer, deliver=self.bridge.deliver)
        self.connection = QtConnection(url, self._authenticate)
        self.state = KioskState(request=self.connection.request, printer=self.printing, clock=time.monotonic,
                                settings=settings, on_device=self._device)
        self.connection.message.connect(self.state.on_message)
        self.connection.status_changed.connect(self.state.set_connection)
        self.window = KioskWindow(self.state, printer_uri=lambda: self.printing.settings.uri)

    async def _authenticate(self, conn: Connection) -> None:
        await conn.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=self.token))

    def _device(self, device: p.DeviceView) -> None:
        """The server's settings for this kiosk's printer win over the local file's."""
        if self.printer_override:
            return
        fresh = self.printing.settings.with_device(device)
        problem = validate_uri(fresh.uri)
        if problem:
            log.error("server's printer setting for %s is unusable: %s", device.id, problem)
            return
        if fresh != self.printing.settings:
            log.info("printer for %s: %s (%d dots, QR %s)", device.id, fresh.uri, fresh.width_dots,
                     fresh.qr_mode)
            self.printing.configure(fresh)
            self.state.check_printer()

    def start(self) -> None:
        self.connection.start()

    def stop(self) -> None:
        self.window.timer.stop()
        self.connection.stop()
        self.printing.shutdown()


# -- command line ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang kiosk",
        description="Run the touch-screen ticket kiosk (full screen; portrait or landscape).")
    add_config_argument(parser)
    parser.add_argument("--device", metavar="ID",
                        help="kiosk id from the configuration (default: the first kiosk of the first site)")
    add_server_argument(parser)
    parser.add_argument("--printer", metavar="URI",
                        help="printer URI overriding the configuration: tcp://HOST[:PORT], usb://VID:PID, "
                             "serial:///dev/ttyUSB0, file:///dev/usb/lp0 or none")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--portrait", dest="orientation", action="store_const", const="portrait",
                       help="1080x1920 layout (the default for --windowed and --screenshot)")
    shape.add_argument("--landscape", dest="orientation", action="store_const", const="landscape",
                       help="1920x1080 layout")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--windowed", action="store_true", help="run in a window instead of full screen")
    mode.add_argument("--fullscreen", action="store_true", help="run full screen (the default)")
    parser.add_argument("--lang", choices=["vi", "en"], default="vi",
                        help="language citizens see first (an on-screen button switches; default vi)")
    parser.add_argument("--staff-pin", metavar="DIGITS",
                        help=f"PIN for the staff reprint screen (default: ${PIN_ENV}, else {DEFAULT_PIN})")
    parser.add_argument("--issued-seconds", type=positive_int, default=10, metavar="N",
                        help="how long an issued ticket stays on screen (default 10)")
    parser.add_argument("--idle-seconds", type=positive_int, default=30, metavar="N",
                        help="inactivity before a sub-screen returns home (default 30)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="connect, wait for the first snapshot (at most 8 s), save it as PNG, exit")
    add_log_level_argument(parser)
    return parser


def staff_pin(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    pin = args.staff_pin or os.environ.get(PIN_ENV) or DEFAULT_PIN
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        parser.error("the staff PIN must be 4 to 8 digits")
    if pin == DEFAULT_PIN:
        log.warning("the staff PIN is the default %s: set %s or --staff-pin", DEFAULT_PIN, PIN_ENV)
    return pin


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    config, site, kiosk, printer = kiosk_and_printer_or_exit(parser, args)
    setup_logging(args.log_level, json_lines=False)
    settings = KioskSettings(issued_seconds=args.issued_seconds, idle_seconds=args.idle_seconds,
                             staff_pin=staff_pin(args, parser), language=args.lang)

    if not platform_or_complain(parser.prog, screenshot=args.screenshot is not None):
        return 2
    app = QApplication.instance() or QApplication(["xephang-kiosk"])
    install_fonts(app)
    kiosk_app = KioskApp(url=websocket_url(config, args.server), token=kiosk.token, printer=printer,
                         printer_override=bool(args.printer), settings=settings)
    window = kiosk_app.window
    log.info("kiosk %s at %s, server %s, printer %s", kiosk.id, site.code,
             kiosk_app.connection.connection.url, printer.uri)
    kiosk_app.start()
    for signum in (signal.SIGINT, signal.SIGTERM):  # handled between the window's timer ticks
        signal.signal(signum, lambda *_: app.quit())
    try:
        if args.screenshot:
            return _screenshot(kiosk_app, args.screenshot, args.orientation or "portrait")
        if args.windowed:
            width, height = SIZES[args.orientation or "portrait"]
            screen = app.primaryScreen().availableGeometry()
            scale = min(1.0, 0.92 * screen.width() / width, 0.92 * screen.height() / height)
            window.resize(round(width * scale), round(height * scale))
            window.show()
        else:
            app.setOverrideCursor(Qt.CursorShape.BlankCursor)  # a touch screen shows no pointer
            window.showFullScreen()
        with collected_on_gui_thread():  # never on the printer's thread (see common/qt_gc.py)
            return app.exec()
    finally:
        kiosk_app.stop()


def _screenshot(kiosk_app: KioskApp, path: Path, orientation: str) -> int:
    window = kiosk_app.window
    window.setFixedSize(*SIZES[orientation])
    window.show()
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    kiosk_app.state.subscribe(lambda: loop.quit() if kiosk_app.state.site is not None else None)
    if kiosk_app.state.site is None:
        deadline.start(SCREENSHOT_WAIT_MS)
        loop.exec()
    QApplication.processEvents()
    if not window.grab().save(str(path)):
        print(f"xephang kiosk: error: cannot write {path}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
