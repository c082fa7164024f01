"""``xephang display``: the hall board, or with ``--counter N`` one counter's display.

    xephang display --server ws://10.0.0.5:8765      # a new display: shows its pairing code
    xephang display                                  # a paired one (its credential file)
    xephang display --device tv-tang-2 --server ws://10.0.0.5:8765   # from the configuration file
    xephang display --counter 3 --size 1280x720 --windowed
    xephang display --screenshot board.png           # connect, render once, exit

The display logs in with its own credential (``--credential``, written when a manager paired
it) or, with ``--config``/``--device``, with its token from the configuration file, and
follows the server by itself: it reconnects after any outage and resyncs from a fresh
snapshot.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.cli_args import (
    add_config_argument,
    add_log_level_argument,
    add_server_argument,
    load_or_exit,
    parsed,
    positive_int,
    websocket_url,
)
from common.config import Config
from common.device_args import Enrolled, add_credential_argument, enrolled_or_exit, uses_configuration
from common.qt_theme import platform_or_complain

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from display.app import DisplayApp
    from display.state import DisplayState

log = logging.getLogger(__name__)

MAX_SIZE = 8192


def window_size(text: str) -> tuple[int, int]:
    """``1920x1080`` → (1920, 1080)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        width, height = (int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1920x1080") from None
    if not (320 <= width <= MAX_SIZE and 180 <= height <= MAX_SIZE):
        raise argparse.ArgumentTypeError(f"{text!r}: width must be 320-{MAX_SIZE} and height 180-{MAX_SIZE}")
    return width, height


def number_list(text: str) -> list[int]:
    """``1,2,3`` → [1, 2, 3]."""
    try:
        numbers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of counter numbers like 1,2,3") from None
    if not numbers or any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of counter numbers like 1,2,3")
    return numbers


def code_list(text: str) -> list[str]:
    codes = [part.strip() for part in text.split(",") if part.strip()]
    if not codes:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of service codes like TP,DN")
    return codes


def seconds(text: str) -> float:
    value = parsed(text, float, "a number of seconds")
    if not 1 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{value:g} must be between 1 and 600 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang display",
        description="Run the hall board (every counter, the latest calls, waiting counts) or, with "
                    "--counter N, the display above one counter. Announces calls aloud. A new display "
                    "started with only --server shows a pairing code for a manager to approve, then "
                    "keeps its own credential (--credential); --config/--device run it from the "
                    "centre's configuration file instead.",
    )
    add_config_argument(parser)
    parser.add_argument("--device", metavar="ID",
                        help="display id from the configuration (default: the site's first display)")
    add_server_argument(parser)
    add_credential_argument(parser, "display")
    parser.add_argument("--counter", type=positive_int, metavar="N",
                        help="counter display mode: show only counter N, huge (silent unless --announce)")
    parser.add_argument("--counters", type=number_list, metavar="1,2,3",
                        help="show only these counters (default: the display's, else all)")
    parser.add_argument("--services", type=code_list, metavar="A,B",
                        help="show waiting counts for these services (default: the display's, else all)")
    parser.add_argument("--size", type=window_size, metavar="WxH",
                        help="window size, e.g. 1366x768 (default: full screen; 1920x1080 windowed)")
    parser.add_argument("--windowed", action="store_true", help="run in a window instead of full screen")
    sound = parser.add_mutually_exclusive_group()
    sound.add_argument("--mute", action="store_true", help="no chime and no spoken announcements")
    sound.add_argument("--announce", action="store_true",
                       help="speak announcements in counter display mode too (the hall board always does)")
    parser.add_argument("--recent", type=positive_int, default=6, metavar="N",
                        help="how many recent calls to list (default: 6)")
    parser.add_argument("--spotlight", type=seconds, default=10.0, metavar="SECONDS",
                        help="how long the newest call stays spotlighted (default: 10)")
    parser.add_argument("--lang", choices=["vi", "en"], default="vi",
                        help="language of the board's labels (default: vi; press L to switch)")
    parser.add_argument("--speech-cache", type=Path, metavar="DIR",
                        help="where spoken phrases are cached (default: ~/.cache/xephang/speech)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="connect, wait for the board (at most 8 s), save it as PNG and exit")
    add_log_level_argument(parser)
    return parser


@dataclass(frozen=True)
class Choice:
    """What the command line resolved to. ``token`` is None for an enrolled display (its
    credential file, ``enrolled``), which knows its site only from the server."""

    url: str
    counters: list[int] | None
    services: list[str] | None
    token: str | None = None
    name: str = ""
    title: str = ""  # shown until the first snapshot names the site
    subtitle: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    enrolled: Enrolled | None = None


def resolve(args: argparse.Namespace, config: Config) -> Choice:
    """Pick the display and check the filters against its site; ValueError explains."""
    displays = [(site, d) for site in config.sites for d in site.displays]
    if not displays:
        raise ValueError("the configuration has no [[sites.displays]]; add one (token: 'xephang token')")
    if args.device:
        found = [(site, d) for site, d in displays if d.id == args.device]
        if not found:
            known = ", ".join(d.id for _, d in displays)
            raise ValueError(f"no display {args.device!r} in the configuration (known: {known})")
        site, device = found[0]
    else:
        site, device = displays[0]
    numbers = {c.number for c in site.counters}
    if args.counter is not None and args.counters:
        raise ValueError("use either --counter N (one counter's display) or --counters (a board subset)")
    for n in [*(args.counters or []), *([args.counter] if args.counter is not None else [])]:
        if n not in numbers:
            known = ", ".join(map(str, sorted(numbers)))
            raise ValueError(f"site {site.code!r} has no counter {n} (counters: {known})")
    services = None
    if args.services:
        codes = {s.code.casefold(): s.code for s in site.services}
        services = []
        for code in args.services:
            if code.casefold() not in codes:
                known = ", ".join(codes.values())
                raise ValueError(f"site {site.code!r} has no service {code!r} (services: {known})")
            services.append(codes[code.casefold()])
    counters = [args.counter] if args.counter is not None else args.counters
    named = config.centre_name.casefold().startswith(site.name.casefold())
    subtitle = site.address if named else site.name
    return Choice(websocket_url(config, args.server), counters, services, token=device.token,
                  name=f"display {device.id}", title=config.centre_name, subtitle=subtitle,
                  timezone=config.timezone)


def enrolled_choice(args: argparse.Namespace, enrolled: Enrolled) -> Choice:
    """An enrolled display: its filters as given (its site, and so its counters and services,
    are known only once the server has sent it)."""
    counters = [args.counter] if args.counter is not None else args.counters
    credential = enrolled.credential
    name = f"display {credential.device} at {credential.site}" if credential else "new display (pairing)"
    return Choice(enrolled.url, counters, args.services, name=name, enrolled=enrolled)


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage and the problem (or --help)
        return int(exc.code or 0)
    try:
        if args.counter is not None and args.counters:
            raise ValueError("use either --counter N (one counter's display) or --counters (a board subset)")
        if uses_configuration(args):
            choice = resolve(args, load_or_exit(args.config))
        else:
            choice = enrolled_choice(args, enrolled_or_exit(parser, args, "display"))
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"xephang display: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # parser.error: the usage and the problem are printed
        return int(exc.code or 0)
    if not platform_or_complain(parser.prog, screenshot=args.screenshot is not None):
        return 2
    if not logging.getLogger().handlers:
        from common.logs import setup_logging

        setup_logging(args.log_level, json_lines=False)
    return run(args, choice)


def build(args: argparse.Namespace, choice: Choice) -> DisplayApp:
    """The ``DisplayApp`` the command line asks for (a QApplication must exist)."""
    from common.device_enrollment import DeviceEnrollment
    from common.i18n import Translator
    from display.app import DisplayApp, qt_announcer
    from display.board_state import BoardState

    translator = Translator("display", args.lang)
    counter_mode = args.counter is not None
    board = BoardState(counters=choice.counters, services=choice.services, recent_limit=args.recent,
                       spotlight_seconds=args.spotlight)
    silent = args.mute or args.screenshot is not None or (counter_mode and not args.announce)

    def view(display: DisplayState) -> QWidget:
        if counter_mode:
            from display.view_counter import CounterDisplay

            return CounterDisplay(display, translator, args.counter, server_label=choice.url,
                                  timezone=choice.timezone)
        from display.view_board import BoardView

        return BoardView(display, translator, fallback_title=choice.title, fallback_subtitle=choice.subtitle,
                         server_label=choice.url, timezone=choice.timezone)

    enrolled = choice.enrolled
    enrollment = DeviceEnrollment("display", enrolled.path, enrolled.credential) if enrolled else None
    announcer = None if silent else qt_announcer(cache_dir=args.speech_cache)
    display_app = DisplayApp(url=choice.url, token=choice.token, enrollment=enrollment, board=board,
                             view=view, announcer=announcer)
    display_app.screen.resize(*(args.size or ((1280, 720) if counter_mode else (1920, 1080))))
    return display_app


def run(args: argparse.Namespace, choice: Choice) -> int:
    from PySide6.QtWidgets import QApplication

    from common.qt_theme import install_fonts
    from display import screenshot

    app = QApplication.instance() or QApplication(["xephang-display"])
    install_fonts(app)
    display_app = build(args, choice)
    log.info("%s following %s", choice.name, choice.url)
    if args.screenshot is not None:
        return screenshot.take(display_app, args.screenshot)
    return display_app.run(full_screen=not (args.windowed or args.size))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
