"""``xephang admin``: the administration pages' operations from a shell, against a running
server (issue 13), for installers who set up many sites at once and for scripts.

It logs in as a manager over the websocket protocol and sends the same typed changes as the
pages (server/admin_session.py); the server applies its role matrix, validation and the
running day's rules, so a site manager changes only their sites here too. Each change is
made against the thing's fingerprint read just before it, so another manager's change is
never overwritten. Exit status: 0 done, 1 refused (the server's message in Vietnamese and
English on stderr), 2 bad arguments, 3 server unreachable. ``xephang device approve …`` is
``xephang admin device approve …``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from common import protocol as p
from common.cli_args import add_config_argument, load_or_exit, positive_int, server_url, websocket_url
from common.client import Offline, RequestFailed
from common.config import Counter
from common.errors import Rejected
from common.i18n import Translator
from common.printer_uri import PrinterConfigError, parse_printer_uri
from server.admin_session import AdminSession, admin_session

TEXTS = Translator("admin")  # assets/translations/admin.toml
EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
USERNAME = re.compile(r"^[a-z0-9._-]{2,32}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Command = Callable[[AdminSession, argparse.Namespace], Coroutine[Any, Any, None]]


# -- argument types ---------------------------------------------------------------------------------


def site_code(text: str) -> str:
    if not CODE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a site code (1-16 of A-Z a-z 0-9 _ -)")
    return text


def service_code(text: str) -> str:
    if not CODE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a service code (1-16 of A-Z a-z 0-9 _ -)")
    return text


def username(text: str) -> str:
    if not USERNAME.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a username (2-32 of a-z 0-9 . _ -)")
    return text


def counter_number(text: str) -> int:
    number = positive_int(text)
    if number > 999:
        raise argparse.ArgumentTypeError(f"{number} is not a counter number (1-999)")
    return number


def day(text: str) -> date:
    try:
        if not DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD, e.g. 2026-09-02") from None


def listed(convert: Callable[[str], Any], what: str) -> Callable[[str], list[Any]]:
    """A comma-separated list, e.g. ``TP,HT`` or ``1,2``: none empty, none twice."""

    def parse(text: str) -> list[Any]:
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}, e.g. A,B")
        values = [convert(item) for item in items]
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"{text!r} names one of its {what} twice")
        return values

    return parse


def pairing_code(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]{2,14}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a pairing code as a device shows it, e.g. K7M-4QX")
    return text


def printer_uri(text: str) -> str:
    try:
        parse_printer_uri(text)
    except PrinterConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def text_value(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


# -- reading what a command changes -----------------------------------------------------------------


def refused(key: str, **params: object) -> RequestFailed:
    """A refusal found before anything is sent (a site or user not among the manager's)."""
    vi, en = TEXTS.both(key, **params)
    return RequestFailed(p.Error(code=key, message_vi=vi, message_en=en))


def site_of(settings: p.Settings, code: str) -> dict[str, Any]:
    found = next((s for s in settings.config["sites"] if s["code"] == code), None)
    if found is None:
        raise refused("site_not_yours", site=code)
    return found  # type: ignore[no-any-return]


def user_of(settings: p.Settings, name: str) -> dict[str, Any]:
    found = next((u for u in settings.config["users"] if u["username"] == name), None)
    if found is None:
        raise refused("user_not_yours", username=name)
    return found  # type: ignore[no-any-return]


def user_change(user: dict[str, Any], **changed: Any) -> p.UserChange:
    kept = {"full_name": user["full_name"], "role": user["role"], "sites": user["sites"],
            "counters": user["counters"], "disabled": user["disabled"]}
    return p.UserChange(username=user["username"], **{**kept, **changed})


def read_line(path: Path) -> str:
    """The first line of ``path`` (a new user's first password), without its line end."""
    with path.open(encoding="utf-8") as handle:
        return handle.readline().rstrip("\r\n")


def new_password(args: argparse.Namespace) -> str:
    if args.new_password_file is not None:
        return read_line(args.new_password_file)
    first = getpass.getpass(" / ".join(TEXTS.both("user_password", username=args.username)) + ": ")
    if getpass.getpass(" / ".join(TEXTS.both("password_again")) + ": ") != first:
        raise refused("passwords_differ")
    return first


async def made(session: AdminSession, change: p.Change) -> None:
    version = await session.change(change)
    print(f"done: settings version {version}")


# -- the commands -----------------------------------------------------------------------------------


async def show(session: AdminSession, args: argparse.Namespace) -> None:
    settings = await session.settings()
    if args.json:
        print(json.dumps({"version": settings.version, "config": settings.config,
                          "fingerprints": settings.fingerprints}, ensure_ascii=False, indent=2))
        return
    config = settings.config
    print(f"settings version {settings.version}: {config['centre_name']} ({config['province']})")
    for site in config["sites"]:
        print(f"site {site['code']}: {site['name']}: {len(site['services'])} services, "
              f"{len(site['counters'])} counters, {len(site['kiosks'])} kiosks, "
              f"{len(site['displays'])} displays")
        if site["notice"]:
            print(f"  notice: {site['notice']}")
        print(f"  holidays: {', '.join(site['holidays']) or '-'}")
        for counter in site["counters"]:
            print(f"  counter {counter['number']}: {counter['name']} [{','.join(counter['services'])}]")
    for user in config["users"]:
        where = ",".join(user["sites"]) or "all sites"
        state = (", disabled" if user["disabled"]
                 else ", must change password" if user["must_change_password"] else "")
        print(f"user {user['username']}: {user['full_name']} ({user['role']}, {where}{state})")


async def notice(session: AdminSession, args: argparse.Namespace) -> None:
    await made(session, p.NoticeChange(site=args.site, notice=args.text))


async def holiday(session: AdminSession, args: argparse.Namespace) -> None:
    site = site_of(await session.settings(), args.site)
    holidays = [date.fromisoformat(d) for d in site["holidays"]]
    if (args.day in holidays) == (args.action == "add"):
        print(f"no change: {args.day} {'is' if args.action == 'add' else 'is not'} a holiday of {args.site}")
        return
    holidays = (sorted({*holidays, args.day}) if args.action == "add"
                else [d for d in holidays if d != args.day])
    await made(session, p.SiteChange(site=site["code"], name=site["name"], address=site["address"],
                                     hours=site["hours"], holidays=holidays, notice=site["notice"]))


async def user_add(session: AdminSession, args: argparse.Namespace) -> None:
    await made(session, p.UserChange(username=args.username, full_name=args.full_name, role=args.role,
                                     sites=args.site or [], counters=args.counter or [],
                                     password=args.new_password))


async def user_enable(session: AdminSession, args: argparse.Namespace) -> None:
    user = user_of(await session.settings(), args.username)
    await made(session, user_change(user, disabled=args.action == "disable"))


async def user_reset(session: AdminSession, args: argparse.Namespace) -> None:
    user = user_of(await session.settings(), args.username)
    await made(session, user_change(user, password=args.new_password))


async def counter_set(session: AdminSession, args: argparse.Namespace) -> None:
    settings = await session.settings()
    known = next((s for s in settings.config["sites"] if s["code"] == args.site), None)
    existing = next((c for c in known["counters"] if c["number"] == args.number), None) if known else None
    if existing is None and (args.name is None or args.services is None):
        raise refused("new_counter_needs", site=args.site, counter=args.number)
    current = (msgspec.convert(existing, Counter) if existing
               else Counter(number=args.number, name="", services=[]))
    changed: dict[str, Any] = {k: v for k, v in (("name", args.name), ("services", args.services)) if v}
    if args.name_en is not None:
        changed["name_en"] = args.name_en.strip() or None  # '' takes the English name away
    counter = msgspec.structs.replace(current, **changed)
    await made(session, p.CounterChange(site=args.site, counter=counter))


async def counter_remove(session: AdminSession, args: argparse.Namespace) -> None:
    site = site_of(await session.settings(), args.site)
    if not any(c["number"] == args.number for c in site["counters"]):
        raise Rejected("unknown_counter", counter=args.number)
    await made(session, p.CounterRemoval(site=args.site, number=args.number))


async def device_approve(session: AdminSession, args: argparse.Namespace) -> None:
    kiosk = {"printer": args.printer, "paper_width_mm": args.paper, "qr": args.qr}
    given = {key: value for key, value in kiosk.items() if value is not None}
    await made(session, p.DeviceApproval(code=args.code, site=args.site, id=args.id, name=args.name,
                                         counters=args.counters, services=args.services, **given))


async def device_revoke(session: AdminSession, args: argparse.Namespace) -> None:
    await made(session, p.DeviceRevocation(site=args.site, id=args.id))


async def device_list(session: AdminSession, args: argparse.Namespace) -> None:
    settings = await session.settings()
    sites = [site_of(settings, args.site)] if args.site else settings.config["sites"]
    for site in sites:
        for kiosk in site["kiosks"]:
            print(f"{site['code']}\tkiosk\t{kiosk['id']}\t{kiosk['name']}\tprinter={kiosk['printer']} "
                  f"paper={kiosk['paper_width_mm']} qr={kiosk['qr']}")
        for display in site["displays"]:
            counters = ",".join(str(n) for n in display["counters"]) if display["counters"] else "all"
            services = ",".join(display["services"]) if display["services"] else "all"
            print(f"{site['code']}\tdisplay\t{display['id']}\t{display['name']}\t"
                  f"counters={counters} services={services}")


def read_changes(path: Path) -> list[tuple[int, p.Change]]:
    """Every change of a JSON Lines file, with its line number (blank lines skipped);
    ValueError naming the first line that is not a change."""
    found = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                found.append((number, msgspec.json.decode(line, type=p.Change)))
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ValueError(f"{path}:{number}: not a change: {exc}") from None
    return found


async def apply_file(session: AdminSession, args: argparse.Namespace) -> None:
    changes = args.changes
    for done, (number, change) in enumerate(changes):
        try:
            version = await session.change(change)
        except RequestFailed:
            print(f"{args.file}:{number}: refused; the {done} changes before it were applied, "
                  f"none after it", file=sys.stderr)
            raise
        print(f"{args.file}:{number}: {change.__struct_config__.tag} done: settings version {version}")
    print(f"applied {len(changes)} changes")


# -- the command line -------------------------------------------------------------------------------


def _connection_options(parser: argparse.ArgumentParser, leaf: bool) -> None:
    """--server, --user, --password-stdin, --config: before the command or after it."""
    default = argparse.SUPPRESS if leaf else None
    parser.add_argument("--server", type=server_url, default=default, metavar="URL",
                        help="the server, e.g. ws://10.0.0.5:8765 (default: from the configuration)")
    parser.add_argument("--user", dest="admin", type=username, default=default, metavar="NAME",
                        help="a manager's username (a province administrator for everything)")
    parser.add_argument("--password-stdin", action="store_true", default=argparse.SUPPRESS if leaf else False,
                        help="read the manager's password from the first line of stdin (else asked)")
    if not leaf:
        add_config_argument(parser)


def _leaf(sub: Any, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(run=run)
    _connection_options(parser, leaf=True)
    return parser


def _new_password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--new-password-file", type=Path, metavar="FILE",
                        help="the user's first password: the first line of FILE (else asked twice)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang admin", description="Change a running server's settings as a manager.",
        epilog="Exit status: 0 done, 1 refused, 2 bad arguments, 3 server unreachable.")
    _connection_options(parser, leaf=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shown = _leaf(sub, "show", show, "the settings you may change, in short")
    shown.add_argument("--json", action="store_true", help="everything, as the server sends it")
    said = _leaf(sub, "notice", notice, "the notice that scrolls on a site's hall board")
    said.add_argument("site", type=site_code, metavar="SITE")
    said.add_argument("text", metavar="TEXT", help="the notice ('' for none)")

    days = _leaf(sub, "holiday", holiday, "add or remove a site's holiday (province administrator)")
    days.add_argument("action", choices=["add", "remove"])
    days.add_argument("site", type=site_code, metavar="SITE")
    days.add_argument("day", type=day, metavar="DATE", help="YYYY-MM-DD")

    users = sub.add_parser("user", help="add, disable, enable a user or reset a password")
    users_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = _leaf(users_sub, "add", user_add, "add a user (with a first password; they choose theirs at login)")
    add.add_argument("username", type=username, metavar="USERNAME")
    add.add_argument("--name", dest="full_name", type=text_value, required=True, help="full name")
    add.add_argument("--role", choices=["clerk", "manager"], required=True)
    add.add_argument("--site", type=site_code, action="append", help="a site of theirs (repeatable)")
    add.add_argument("--counter", type=counter_number, action="append",
                     help="a counter of theirs (repeatable)")
    _new_password_option(add)
    for action in ("disable", "enable"):
        switched = _leaf(users_sub, action, user_enable, f"{action} a user's login")
        switched.add_argument("username", type=username, metavar="USERNAME")
    reset = _leaf(users_sub, "reset-password", user_reset,
                  "give a user a temporary password (they choose their own at the next login)")
    reset.add_argument("username", type=username, metavar="USERNAME")
    _new_password_option(reset)

    counters = sub.add_parser("counter", help="add, change or remove a counter")
    counters_sub = counters.add_subparsers(dest="action", required=True, metavar="ACTION")
    put = _leaf(counters_sub, "set", counter_set, "add a counter or change its name and services")
    put.add_argument("site", type=site_code, metavar="SITE")
    put.add_argument("number", type=counter_number, metavar="NUMBER")
    put.add_argument("--name", type=text_value, help="its name (required for a new counter)")
    put.add_argument("--name-en", help="its English name ('' for none)")
    put.add_argument("--services", type=listed(service_code, "service codes"),
                     help="the services it calls, by preference, e.g. TP,HT (required for a new one)")
    gone = _leaf(counters_sub, "remove", counter_remove, "remove a counter")
    gone.add_argument("site", type=site_code, metavar="SITE")
    gone.add_argument("number", type=counter_number, metavar="NUMBER")

    devices = sub.add_parser("device", help="approve a pairing code, revoke or list devices")
    devices_sub = devices.add_subparsers(dest="action", required=True, metavar="ACTION")
    approve = _leaf(devices_sub, "approve", device_approve,
                    "make the device showing CODE a site's kiosk or display")
    approve.add_argument("code", type=pairing_code, metavar="CODE")
    approve.add_argument("--site", type=site_code, required=True)
    approve.add_argument("--id", type=site_code, required=True, help="its id at the site, e.g. kiosk-tang-2")
    approve.add_argument("--name", type=text_value, required=True)
    approve.add_argument("--printer", type=printer_uri,
                         help="a kiosk's printer: tcp://HOST, usb://VID:PID, serial://…, file://…, none")
    approve.add_argument("--paper", type=int, choices=[58, 80], help="a kiosk's paper width in mm")
    approve.add_argument("--qr", choices=["native", "raster"], help="a kiosk's QR code printing")
    approve.add_argument("--counters", type=listed(counter_number, "counter numbers"),
                         help="a display's counters, e.g. 1,2 (default: all)")
    approve.add_argument("--services", type=listed(service_code, "service codes"),
                         help="a display's services, e.g. TP,HT (default: those of its counters)")
    revoke = _leaf(devices_sub, "revoke", device_revoke, "end a device's credential and close its connection")
    revoke.add_argument("site", type=site_code, metavar="SITE")
    revoke.add_argument("id", type=site_code, metavar="ID")
    listing = _leaf(devices_sub, "list", device_list, "the kiosks and displays (of one site)")
    listing.add_argument("site", type=site_code, metavar="SITE", nargs="?")

    applied = _leaf(sub, "apply", apply_file,
                    "apply a JSON Lines file of changes in order, stopping at the first refused")
    applied.add_argument("file", type=Path, metavar="FILE",
                         help="one admin_change 'change' object per line (docs/protocol.md)")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """What argparse cannot say: the options that belong together, the file to apply."""
    if args.admin is None:
        parser.error("--user NAME is required: the manager to log in as")
    if args.run is device_approve:
        kiosk = [o for o, v in (("--printer", args.printer), ("--paper", args.paper), ("--qr", args.qr)) if v]
        display = [o for o, v in (("--counters", args.counters), ("--services", args.services)) if v]
        if kiosk and display:
            parser.error(f"{', '.join(kiosk)}: a kiosk's; {', '.join(display)}: a display's; give one kind")
    if args.run is apply_file:
        try:
            args.changes = read_changes(args.file)
        except OSError as exc:
            parser.error(f"cannot read {args.file}: {exc.strerror}")
        except ValueError as exc:
            parser.error(str(exc))
    new_password_file = getattr(args, "new_password_file", None)
    if new_password_file is not None and not new_password_file.is_file():
        parser.error(f"no file {new_password_file}")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(f"{args.admin} — " + " / ".join(TEXTS.both("password")) + ": ")


async def _run(url: str, args: argparse.Namespace, password: str) -> None:
    async with admin_session(url, args.admin, password) as session:
        run: Command = args.run
        await run(session, args)


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    url = websocket_url(load_or_exit(args.config), args.server)
    try:
        password = _password(args)
        if hasattr(args, "new_password_file"):  # asked before connecting
            args.new_password = new_password(args)
        asyncio.run(_run(url, args, password))
    except (RequestFailed, Rejected) as exc:
        print(f"error: {exc.message_vi}\n       {exc.message_en}", file=sys.stderr)
        return EXIT_REFUSED
    except Offline as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (KeyboardInterrupt, EOFError):
        return EXIT_REFUSED
    return 0
