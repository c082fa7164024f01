"""``xephang take SERVICE``: issue a ticket as a kiosk device and print it, from a shell.

Useful to test a printer, to issue numbers from a desk PC, or to script a kiosk without a
screen. Prints the number and the ticket's URL on stdout. Exit codes: 0 issued (and
printed), 1 refused by the server (closed, no numbers left ...), 2 bad arguments or
configuration, 3 server unreachable, 4 issued but not printed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import uuid
from dataclasses import dataclass

import msgspec
from websockets import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.asyncio.client import ClientConnection, connect

from common import protocol as p
from common.cli_args import (
    add_config_argument,
    add_log_level_argument,
    add_server_argument,
    load_or_exit,
    websocket_url,
)
from common.config import Config, Kiosk, Site
from common.errors import AppError
from common.i18n import Translator
from kiosk.print_service import PrinterSettings, PrintService, validate_uri
from kiosk.ticket_image import printed_ticket
from kiosk.values import PrintOutcome

log = logging.getLogger(__name__)

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_NOT_PRINTED = 1, 2, 3, 4
ATTEMPTS = 3  # a dropped connection is retried with the same idempotency key
TIMEOUT = 10.0


class TakeError(AppError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Issued:
    result: p.Result
    snapshot: p.Snapshot


def find_kiosk(config: Config, device_id: str | None) -> tuple[Site, Kiosk] | None:
    for site in config.sites:
        for kiosk in site.kiosks:
            if device_id is None or kiosk.id == device_id:
                return site, kiosk
    return None


def kiosk_or_exit(config: Config, device_id: str | None, prog: str) -> tuple[Site, Kiosk]:
    found = find_kiosk(config, device_id)
    if found is None:
        known = [k.id for s in config.sites for k in s.kiosks]
        what = f"no kiosk {device_id!r}" if device_id else "no kiosk is configured"
        hint = f"; configured kiosks: {', '.join(known)}" if known else ""
        print(f"{prog}: error: {what} in the configuration{hint}", file=sys.stderr)
        raise SystemExit(2)
    return found


def kiosk_and_printer_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace,
                              ) -> tuple[Config, Site, Kiosk, PrinterSettings]:
    """The configuration, the kiosk ``--device`` names and its printer (``--printer`` wins);
    a bad printer URI or an unknown kiosk is a usage error (exit 2)."""
    if args.printer and (problem := validate_uri(args.printer)):
        parser.error(problem)
    config = load_or_exit(args.config)
    site, kiosk = kiosk_or_exit(config, args.device, parser.prog)
    printer = PrinterSettings.from_kiosk(kiosk, args.printer)
    if problem := validate_uri(printer.uri):
        parser.error(f"kiosk {kiosk.id}: {problem}")
    return config, site, kiosk, printer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang take",
        description="Issue a ticket through the server as a kiosk device, print it, and show its number.",
        epilog="Exit status: 0 issued, 1 refused by the server, 2 bad arguments, 3 server unreachable, "
               "4 issued but not printed.")
    parser.add_argument("service", metavar="SERVICE", help="service code, e.g. TP (a wrong code lists them)")
    parser.add_argument("--priority", metavar="CLASS", help="priority class code, e.g. elderly")
    parser.add_argument("--printer", metavar="URI",
                        help="printer URI overriding the kiosk's (tcp://HOST[:PORT], usb://VID:PID, "
                             "serial:///dev/ttyUSB0, file:///path, none)")
    add_server_argument(parser)
    add_config_argument(parser)
    parser.add_argument("--device", metavar="ID",
                        help="issue as this kiosk (default: the first kiosk of the first site)")
    add_log_level_argument(parser, default="warning")
    return parser


async def _request(ws: ClientConnection, message: p.ClientMessage, ids: itertools.count) -> p.ServerMessage:
    """Send with a fresh id; the reply to it (pushed messages in between are skipped)."""
    request_id = f"take{next(ids)}"
    await ws.send(p.encode(msgspec.structs.replace(message, id=request_id)).decode())
    while True:
        reply = p.decode_server(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if getattr(reply, "re", None) == request_id:
            return reply


async def _next_snapshot(ws: ClientConnection) -> p.Snapshot:
    while True:
        message = p.decode_server(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if isinstance(message, p.Snapshot):
            return message


def _check_choice(snapshot: p.Snapshot, service: str, priority: str | None) -> None:
    codes = [s.code for s in snapshot.services]
    if service not in codes:
        listing = ", ".join(f"{s.code} ({s.name_vi})" for s in snapshot.services)
        where = snapshot.site.code
        raise TakeError(f"unknown service {service!r}; services at {where}: {listing}", EXIT_USAGE)
    classes = [c.code for c in snapshot.site.priority_classes]
    if priority is not None and priority not in classes:
        listing = ", ".join(f"{c.code} ({c.name_vi})" for c in snapshot.site.priority_classes) or "none"
        raise TakeError(f"unknown priority class {priority!r}; classes: {listing}", EXIT_USAGE)


async def issue(url: str, token: str, service: str, priority: str | None) -> Issued:
    """Log in as the kiosk and issue; a dropped link is retried with the same key."""
    key = uuid.uuid4().hex
    ids = itertools.count(1)
    last_problem = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(0.3 * attempt)
        try:
            async with connect(url, open_timeout=5, close_timeout=1, max_size=None) as ws:
                welcome = await _request(ws, p.LoginDevice(v=p.PROTOCOL_VERSION, token=token), ids)
                if isinstance(welcome, p.Error):
                    raise TakeError(f"the server refused this kiosk: {welcome.message_en}", EXIT_USAGE)
                snapshot = await _next_snapshot(ws)
                _check_choice(snapshot, service, priority)
                reply = await _request(ws, p.IssueTicket(service=service, priority=priority,
                                                         idempotency_key=key), ids)
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
            last_problem = str(exc) or type(exc).__name__
            log.info("attempt %d failed: %s", attempt + 1, last_problem)
            continue
        except InvalidURI as exc:
            raise TakeError(f"bad server address: {exc}", EXIT_USAGE) from exc
        if isinstance(reply, p.Error):
            raise TakeError(f"{reply.message_vi}\n{reply.message_en}", EXIT_REFUSED)
        assert isinstance(reply, p.Result)
        return Issued(reply, snapshot)
    raise TakeError(f"cannot reach the server at {url}: {last_problem}", EXIT_UNREACHABLE)


def print_ticket(issued: Issued, settings: PrinterSettings) -> PrintOutcome:
    snapshot, result = issued.snapshot, issued.result
    assert result.ticket is not None
    service = next((s for s in snapshot.services if s.code == result.ticket.service), None)
    priority = next((c for c in snapshot.site.priority_classes if c.code == result.ticket.priority), None)
    done: list[PrintOutcome] = []
    printer = PrintService(settings)
    try:
        printer.print_ticket(printed_ticket(result, snapshot.site, service, priority), done.append)
    finally:
        printer.shutdown(wait=True)
    return done[0]


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    config, _, kiosk, settings = kiosk_and_printer_or_exit(parser, args)
    url = websocket_url(config, args.server)
    try:
        issued = asyncio.run(issue(url, kiosk.token, args.service, args.priority))
    except TakeError as exc:
        print(f"xephang take: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    ticket = issued.result.ticket
    assert ticket is not None
    print(ticket.number)
    print(issued.result.url or "")
    sys.stdout.flush()
    if not settings.enabled:
        return 0
    outcome = print_ticket(issued, settings)
    if not outcome.ok:
        tr = Translator("kiosk", "vi")
        print(f"xephang take: {tr.text('printer_problem')}\n{outcome.message_vi} ({outcome.detail})",
              file=sys.stderr)
        return EXIT_NOT_PRINTED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

