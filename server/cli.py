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

from common.cli_args import add_config_argument, load_or_exit, port_number
from common.config import Config
from common.logs import setup_logging
from server.app import QueueServer
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
    return parser


def database_path(config: Config, override: Path | None) -> Path:
    return override or Path(config.server.data_dir) / "xephang.db"


def tls_context(config: Config) -> ssl.SSLContext | None:
    if not config.server.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config.server.tls_cert, config.server.tls_key)
    return context


async def serve(config: Config, db: Path, host: str, port: int) -> int:
    try:
        store = Store.open(db)
    except StoreError as exc:
        log.error("%s", exc)
        return 1
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
    log.info("serving on %s:%d, database %s", host, server.port, db)
    waiter = asyncio.create_task(stop.wait())
    closed = asyncio.create_task(server._server.wait_closed())  # type: ignore[union-attr]
    await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down")
    await server.stop()
    return 1 if server.failed else 0


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    # The database, its WAL, the log and their directories: the owner's only (0600/0700).
    os.umask(0o077)
    config = load_or_exit(args.config)
    db = database_path(config, args.db)
    log_file = args.log_file or Path(config.server.data_dir) / "server.log"
    try:
        setup_logging(args.log_level, log_file)
    except OSError as exc:
        print(f"error: cannot write the log file {log_file}: {exc.strerror}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    try:
        return asyncio.run(serve(config, db, host, port))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
