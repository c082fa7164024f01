"""``xephang kiosk``: the touch-screen ticket kiosk's command line, checked, then the
``KioskApp`` (``kiosk/app.py``) it builds, run or photographed (``kiosk/screenshot.py``).

    xephang kiosk --server ws://10.0.0.5:8765      # a new kiosk: shows its pairing code
    xephang kiosk                                  # a paired one (its credential file)
    xephang kiosk --config centre.toml --device kiosk-sanh-1   # from the configuration file
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from common.cli_args import (
    add_config_argument,
    add_log_level_argument,
    add_server_argument,
    positive_int,
    websocket_url,
)
from common.device_args import add_credential_argument, enrolled_or_exit, uses_configuration
from common.device_enrollment import DeviceEnrollment
from common.logs import setup_logging
from common.qt_theme import install_fonts, platform_or_complain
from kiosk import screenshot
from kiosk.app import KioskApp
from kiosk.print_service import PrinterSettings, validate_uri
from kiosk.state import KioskSettings
from kiosk.take_cli import kiosk_and_printer_or_exit

log = logging.getLogger(__name__)

DEFAULT_PIN = "1234"
PIN_ENV = "XEPHANG_KIOSK_PIN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang kiosk",
        description="Run the touch-screen ticket kiosk (full screen; portrait or landscape). A new "
                    "kiosk started with only --server shows a pairing code for a manager to approve, "
                    "then keeps its own credential (--credential); --config/--device run it from the "
                    "centre's configuration file instead.")
    add_config_argument(parser)
    parser.add_argument("--device", metavar="ID",
                        help="kiosk id from the configuration (default: the first kiosk of the first site)")
    add_server_argument(parser)
    add_credential_argument(parser, "kiosk")
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
                        help="connect, wait for the first snapshot or the pairing code (at most 8 s), "
                             "save it as PNG, exit")
    parser.add_argument("--screen", choices=["home", "checkin"], default="home",
                        help="with --screenshot: the screen to photograph (checkin: the booking "
                             "code keypad, for a site with a bookable service; default home)")
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
    setup_logging(args.log_level, json_lines=False)
    settings = KioskSettings(issued_seconds=args.issued_seconds, idle_seconds=args.idle_seconds,
                             staff_pin=staff_pin(args, parser), language=args.lang)
    enrollment: DeviceEnrollment | None = None
    token: str | None = None
    if uses_configuration(args):
        config, site, kiosk, printer = kiosk_and_printer_or_exit(parser, args)
        url, token, who = websocket_url(config, args.server), kiosk.token, f"kiosk {kiosk.id} at {site.code}"
    else:
        if args.printer and (problem := validate_uri(args.printer)):
            parser.error(problem)
        enrolled = enrolled_or_exit(parser, args, "kiosk")
        printer = PrinterSettings(uri=args.printer or "none")  # the server's settings follow its welcome
        url, credential = enrolled.url, enrolled.credential
        who = f"kiosk {credential.device} at {credential.site}" if credential else "new kiosk (pairing)"

    if not platform_or_complain(parser.prog, screenshot=args.screenshot is not None):
        return 2
    app = QApplication.instance() or QApplication(["xephang-kiosk"])
    install_fonts(app)
    if token is None:
        enrollment = DeviceEnrollment("kiosk", enrolled.path, enrolled.credential)
    kiosk_app = KioskApp(url=url, token=token, enrollment=enrollment, printer=printer,
                         printer_override=bool(args.printer), settings=settings)
    log.info("%s, server %s, printer %s", who, kiosk_app.connection.connection.url, printer.uri)
    kiosk_app.start()
    for signum in (signal.SIGINT, signal.SIGTERM):  # handled between the window's timer ticks
        signal.signal(signum, lambda *_: app.quit())
    orientation = args.orientation or "portrait"
    try:
        if args.screenshot:
            return screenshot.take(kiosk_app, args.screenshot, orientation, args.screen)
        return kiosk_app.run(windowed=args.windowed, orientation=orientation)
    finally:
        kiosk_app.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
