"""``xephang book`` and ``xephang checkin``: a reception desk books appointments and checks
citizens in from a shell, as ``xephang take`` issues numbers (issue 14; docs/booking.md).

Both log in as a manager or a clerk of the site (``--user``; the password from the first
line of stdin with ``--password-stdin``, else asked) and send the same messages as the
booking page and the kiosk (``book``, ``booking_slots``, ``checkin``); the server applies
every rule and records the channel "desk".

* ``xephang book SERVICE --day D`` lists the day's slots with the places left;
  ``xephang book SERVICE --day D --time HH:MM --name … --phone … --cccd …`` books one and
  prints the code (``XXXX-XXXX``) on the first line, then the slot and its check-in window.
* ``xephang checkin CODE`` (or ``--cccd NUMBER``: the holder's earliest booking today)
  issues the appointment's ticket and prints its number, the appointment time and the
  ticket page's address; a late arrival issued as a walk-in is said on stderr.

Exit status: 0 done, 1 refused by the server (its message in Vietnamese and English on
stderr), 2 bad arguments, 3 server unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
import uuid
from collections.abc import Callable
from datetime import date, datetime, time

from common import citizen_ids
from common import protocol as p
from common.cli_args import add_config_argument, add_server_argument, load_or_exit, websocket_url
from common.client import Offline, RequestFailed
from common.config import Config, Site
from common.errors import Rejected
from common.i18n import Translator
from server.admin_cli import day, service_code, site_code, username
from server.admin_session import AdminSession, admin_session

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
ATTEMPTS = 3  # a check-in whose link drops is sent again with the same idempotency key
TEXTS = Translator("admin")


# -- arguments --------------------------------------------------------------------------------------


def _clock(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:h](\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time HH:MM, e.g. 09:30")
    return time(int(match[1]), int(match[2]))


def _checked(normalize: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from a citizen_ids normaliser: its Vietnamese and English message."""

    def convert(text: str) -> str:
        try:
            return normalize(text)
        except Rejected as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc.message_vi} / {exc.message_en}") from None

    return convert


def _cccd(text: str) -> str:
    return _checked(lambda number: citizen_ids.normalize_cccd(number, date.today()))(text)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", type=site_code, metavar="SITE",
                        help="the site (default: the first site of the configuration)")
    parser.add_argument("--user", type=username, required=True, metavar="NAME",
                        help="a manager's or a clerk's username (the desk's account)")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of stdin (else asked)")
    add_server_argument(parser)
    add_config_argument(parser)


def book_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang book",
        description="Book an appointment at a reception desk and print its code; without --time, "
                    "list the day's slots and the places left.",
        epilog="Exit status: 0 booked (or listed), 1 refused by the server, 2 bad arguments, "
               "3 server unreachable.")
    parser.add_argument("service", type=service_code, metavar="SERVICE", help="service code, e.g. TP")
    parser.add_argument("--day", type=day, required=True, metavar="YYYY-MM-DD",
                        help="the day of the appointment")
    parser.add_argument("--time", type=_clock, metavar="HH:MM", help="the slot's start (local time)")
    parser.add_argument("--name", type=_checked(citizen_ids.normalize_name), metavar="NAME",
                        help="the citizen's full name")
    parser.add_argument("--phone", type=_checked(citizen_ids.normalize_phone), metavar="PHONE",
                        help="a Vietnamese mobile number, e.g. 0912345678")
    parser.add_argument("--cccd", type=_cccd, metavar="NUMBER", help="the citizen's CCCD number (12 digits)")
    _connection_options(parser)
    return parser


def checkin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang checkin",
        description="Check a booked citizen in at a reception desk: issue the appointment's ticket "
                    "and print its number.",
        epilog="Exit status: 0 issued, 1 refused by the server (too early, too late, cancelled, "
               "unknown code ...), 2 bad arguments, 3 server unreachable.")
    parser.add_argument("code", nargs="?", type=_checked(citizen_ids.normalize_booking_code),
                        metavar="CODE", help="the booking code, e.g. ACDE-FHJK (with or without the dash)")
    parser.add_argument("--cccd", type=_cccd, metavar="NUMBER",
                        help="instead of a code: the holder's CCCD number (their earliest booking today)")
    _connection_options(parser)
    return parser


# -- the commands -----------------------------------------------------------------------------------


def _hm(moment: datetime, config: Config) -> str:
    return moment.astimezone(config.tz).strftime("%H:%M")


async def book(session: AdminSession, config: Config, site: Site, args: argparse.Namespace) -> None:
    if args.time is None:
        asked = p.BookingSlotsRequest(site=site.code, service=args.service, day=args.day)
        reply = await session.request(asked)
        assert isinstance(reply, p.BookingSlots)
        for slot in reply.slots:
            print(f"{_hm(slot.start, config)}-{_hm(slot.end, config)}  {slot.left}")
        return
    start = datetime.combine(args.day, args.time, tzinfo=config.tz)
    reply = await session.request(p.Book(site=site.code, service=args.service, start=start, name=args.name,
                                         phone=args.phone, cccd=args.cccd))
    assert isinstance(reply, p.BookingView)
    print(citizen_ids.show_booking_code(reply.code))
    day = reply.start.astimezone(config.tz).strftime("%d/%m/%Y")
    print(f"{reply.service} {day} {_hm(reply.start, config)}-{_hm(reply.end, config)} "
          f"check-in {_hm(reply.checkin_opens, config)}-{_hm(reply.checkin_closes, config)}")


async def checkin(session: AdminSession, config: Config, site: Site, args: argparse.Namespace) -> None:
    message = p.CheckIn(code=args.code, cccd=args.cccd, idempotency_key=args.key, site=site.code)
    reply = await session.request(message)
    assert isinstance(reply, p.Result) and reply.ticket is not None
    ticket = reply.ticket
    print(ticket.number)
    if ticket.appointment_at is not None:
        print(TEXTS.text("desk_appointment", time=_hm(ticket.appointment_at, config)))
    print(reply.url or "")
    if reply.details.get("late"):
        print(" / ".join(TEXTS.both("desk_late_walk_in")), file=sys.stderr)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"{args.user} — " + " / ".join(TEXTS.both("password")) + ": ")


def _site_or_exit(parser: argparse.ArgumentParser, config: Config, code: str | None) -> Site:
    if code is None:
        return config.sites[0]
    site = config.site(code)
    if site is None:
        parser.error(f"no site {code!r}; sites: {', '.join(s.code for s in config.sites)}")
    return site


def run(command: str, argv: list[str]) -> int:
    parser = book_parser() if command == "book" else checkin_parser()
    args = parser.parse_args(argv)
    if command == "book" and args.time is not None:
        missing = [f"--{name}" for name in ("name", "phone", "cccd") if getattr(args, name) is None]
        if missing:
            parser.error(f"booking a slot needs {', '.join(missing)}")
    if command == "checkin" and (args.code is None) == (args.cccd is None):
        parser.error("give the booking CODE or --cccd NUMBER (one of them)")
    config = load_or_exit(args.config)
    site = _site_or_exit(parser, config, args.site)
    url = websocket_url(config, args.server)
    step = book if command == "book" else checkin
    args.key = uuid.uuid4().hex  # the same on every attempt: a check-in is made once

    async def go(password: str) -> None:
        async with admin_session(url, args.user, password, web_session=False) as session:
            await step(session, config, site, args)

    try:
        password = _password(args)
        for attempt in range(ATTEMPTS if command == "checkin" else 1):
            try:
                asyncio.run(go(password))
                break
            except Offline:
                if attempt + 1 >= (ATTEMPTS if command == "checkin" else 1):
                    raise
    except (RequestFailed, Rejected) as exc:
        print(f"xephang {command}: {exc.message_vi}\n{exc.message_en}", file=sys.stderr)
        return EXIT_REFUSED
    except Offline as exc:
        print(f"xephang {command}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (KeyboardInterrupt, EOFError):
        return EXIT_REFUSED
    return 0


def main(argv: list[str]) -> int:
    """``argv[0]`` is the command (book or checkin), as xephang's dispatcher passes it."""
    if not argv or argv[0] not in ("book", "checkin"):
        print("usage: xephang book|checkin ...", file=sys.stderr)
        return EXIT_USAGE
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
