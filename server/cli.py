"""``xephang server``: run the queue server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
from pathlib import Path

from common.assets import default_config_path
from common.cli_args import add_config_argument, is_loopback, load_or_exit, port_number
from common.config import Config
from common.example_secrets import ExampleSecrets, example_secrets
from common.logs import setup_logging
from server import database_lock, loop_errors
from server.app import QueueServer
from server.outbox.launcher import OutboxProcess
from server.store import Store, StoreError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xephang server", description="Run the queue server.")
    add_config_argument(parser)
    parser.add_argument("--db", type=Path, help="SQLite database file (default: DATA_DIR/xephang.db)")
    parser.add_argument("--host", help="address to listen on (default: from the configuration)")
    parser.add_argument("--port", type=port_number, help="TCP port (default: from the configuration)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-file", type=Path, help="also log here, rotated (default: DATA_DIR/server.log)")
    parser.add_argument("--demo", action="store_true",
                        help="listen beyond this machine even with the example centre's public passwords "
                             "and tokens (a demonstration, never a real centre)")
    return parser


def database_path(config: Config, override: Path | None) -> Path:
    return override or Path(config.server.data_dir) / "xephang.db"


def example_secrets_refusal(found: ExampleSecrets, config_file: Path, host: str, demo: bool) -> str | None:
    """Why the server must not start: it would listen beyond this machine with secrets that
    anyone can read in the example centre's file; None when it may."""
    if not found or demo or is_loopback(host):
        return None
    return (f"{config_file} holds the example centre's public secrets ({found.describe()}): anyone who "
            f"has the code can log in with them, so the server will not listen on {host or 'every interface'}"
            f", beyond this machine. Replace them ('xephang user add' for each user, 'xephang token' for "
            f"each device), or listen on this machine only (--host 127.0.0.1), or pass --demo to show "
            f"the example centre on a network.")


def tls_context(config: Config) -> ssl.SSLContext | None:
    if not config.server.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config.server.tls_cert, config.server.tls_key)
    return context


async def serve(config: Config, db: Path, host: str, port: int) -> int:
    """Run until SIGINT/SIGTERM, holding the database's lock (server/database_lock.py: no
    second server and no ``xephang config import`` on it meanwhile)."""
    try:
        with database_lock.exclusive(db):
            return await _serve_locked(config, db, host, port)
    except StoreError as exc:
        log.error("%s", exc)
        return 1


async def _serve_locked(config: Config, db: Path, host: str, port: int) -> int:
    loop_errors.install(asyncio.get_running_loop())  # accept() out of fds: a warning, not a flood
    store = Store.open(db)
    server = QueueServer(config, store)
    try:
        context = tls_context(config)
    except (OSError, ssl.SSLError) as exc:
        log.error("cannot load TLS certificate/key: %s", exc)
        return 1
    try:
        await server.start(host, port, ssl=context)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc.strerror)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server.reports.warm()  # the report process, started beside the queue, not at the first report
    outbox = OutboxProcess(db)  # webhooks and notifications (server/outbox/), from the event log
    outbox.start()
    log.info("serving on %s:%d, database %s", host, server.port, db)
    waiter = asyncio.create_task(stop.wait())
    closed = asyncio.create_task(server.closed())
    await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    await loop.run_in_executor(None, outbox.stop)
    await server.stop()
    return 1 if server.failed else 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    # The database, its WAL, the log and their directories: the owner's only (0600/0700).
    os.umask(0o077)
    config = load_or_exit(args.config)
    host = args.host or config.server.host
    found = example_secrets(config)
    refusal = example_secrets_refusal(found, args.config or default_config_path(), host, args.demo)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    db = database_path(config, args.db)
    log_file = args.log_file or Path(config.server.data_dir) / "server.log"
    try:
        setup_logging(args.log_level, log_file)
    except OSError as exc:
        print(f"error: cannot write the log file {log_file}: {exc.strerror}", file=sys.stderr)
        return 2
    if found:
        log.warning("the configuration holds the example centre's public secrets (%s); %s", found.describe(),
                    "shown on a network for a demonstration (--demo)" if not is_loopback(host)
                    else "listening on this machine only")
    port = args.port if args.port is not None else config.server.port
    try:
        return asyncio.run(serve(config, db, host, port))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
