"""``xephang counter``: the clerk's counter app — its command line, checked, then the
``CounterApp`` (``counter/app.py``) it builds, run or photographed (``counter/screenshot.py``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from common.cli_args import (
    add_config_argument,
    add_server_argument,
    load_or_exit,
    positive_int,
    websocket_url,
)
from counter.screenshot import SCREENS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang counter",
        description="The clerk's counter app: log in, open a counter, call and serve numbers "
                    "(F1 call next … F10 held number; see docs/counter.md).",
    )
    add_config_argument(parser)
    add_server_argument(parser)
    parser.add_argument("--user", metavar="NAME", help="username (prefilled; logs in with --password-stdin)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input and log in")
    parser.add_argument("--counter", type=positive_int, metavar="N",
                        help="open this counter right after logging in")
    parser.add_argument("--site", metavar="CODE", help="the site of --counter when the clerk has several")
    parser.add_argument("--lang", choices=("vi", "en"), default=None,
                        help="interface language (default: the last one used, else vi)")
    parser.add_argument("--rating-window", action="store_true",
                        help="also open the citizen rating window (full screen on a second screen)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="render one screen to a PNG file and exit (see --screen)")
    parser.add_argument("--screen", choices=SCREENS, default=None,
                        help="which screen --screenshot renders (default: idle when logging in, else login)")
    parser.add_argument("--verbose", action="store_true", help="log debugging details")
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.password_stdin and not args.user:
        parser.error("--password-stdin needs --user NAME")
    if args.site and args.counter is None:
        parser.error("--site is only used with --counter N")
    if args.screen and not args.screenshot:
        parser.error("--screen only applies with --screenshot FILE")
    if args.screenshot is not None:
        if args.screenshot.suffix.lower() != ".png":
            parser.error(f"--screenshot {args.screenshot}: the file name must end in .png")
        if not args.screenshot.resolve().parent.is_dir():
            parser.error(f"--screenshot {args.screenshot}: folder {args.screenshot.parent} does not exist")
        if args.screen not in (None, "login") and not args.password_stdin:
            parser.error(f"--screen {args.screen} logs in: give --user NAME and --password-stdin")


def read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    password = read_password() if args.password_stdin else None
    if args.password_stdin and not password:
        print("error: no password on standard input", file=sys.stderr)
        return 2
    if args.server and args.config is None:
        url = websocket_url(None, args.server)  # type: ignore[arg-type]
    else:
        url = websocket_url(load_or_exit(args.config), args.server)

    from PySide6.QtWidgets import QApplication

    from common.qt_theme import install_fonts, platform_or_complain

    if not platform_or_complain(parser.prog, screenshot=args.screenshot is not None):
        return 2
    from counter.app import CounterApp, QtSettingsStore
    from counter.settings import MemorySettings

    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C in a terminal quits
    app = QApplication.instance() or QApplication(["xephang-counter"])
    app.setOrganizationName("xephang")
    app.setApplicationName("counter")
    install_fonts(app)
    settings = None
    if args.screenshot is not None:  # a screenshot run leaves the clerk's settings alone
        real = QtSettingsStore()
        settings = MemorySettings({k: v for k in ("last_username", "last_counter", "last_outcome")
                                   if (v := real.value(k)) is not None})
    counter_app = CounterApp(url, settings=settings, language=args.lang, counter=args.counter,
                             site=args.site)
    if args.screenshot is not None:
        from counter.screenshot import take

        screen = args.screen or ("idle" if password else "login")
        try:
            return take(counter_app, screen, args.screenshot, args.user, password)
        finally:
            counter_app.shutdown()
    return counter_app.run(username=args.user, password=password, rating_window=args.rating_window)
