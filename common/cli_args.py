"""Argument types and helpers shared by every ``xephang`` subcommand."""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from common.assets import default_config_path
from common.config import Config, ConfigError, load_config

T = TypeVar("T")
SERVER_URL = re.compile(r"^wss?://[^/\s:]+(:\d{1,5})?(/\S*)?$")


def parsed(text: str, convert: Callable[[str], T], what: str) -> T:
    """``convert(text)``, or the argparse error "'text' is not <what>"."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def port_number(text: str) -> int:
    value = parsed(text, int, "a port number")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0-65535)")
    return value


def positive_int(text: str) -> int:
    value = parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def server_url(text: str) -> str:
    if not SERVER_URL.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a websocket address like ws://10.0.0.5:8765")
    return text.rstrip("/")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None,
        help="configuration file (default: $XEPHANG_CONFIG or the bundled example centre)",
    )


def add_server_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", type=server_url, default=None,
        help="server address, e.g. ws://10.0.0.5:8765 (default: from the configuration)",
    )


def add_log_level_argument(parser: argparse.ArgumentParser, default: str = "info") -> None:
    parser.add_argument("--log-level", default=default, choices=["debug", "info", "warning", "error"],
                        help=f"how much to log (default: {default})")


def is_loopback(host: str) -> bool:
    """True when a server listening on ``host`` is reachable from this machine only:
    ``localhost`` or a loopback address (127.0.0.0/8, ``::1``). Every other name, and
    ``0.0.0.0``, ``::`` or an empty host (every interface), is not (no name is resolved)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_or_exit(path: Path | None) -> Config:
    """Load the configuration, or print the problem (file, key, what) and exit 2."""
    try:
        return load_config(path or default_config_path())
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def websocket_url(config: Config, override: str | None = None) -> str:
    """The server's websocket endpoint: ``override`` (``/ws`` added when it has no path),
    else the configured host and port (``0.0.0.0`` meaning this machine)."""
    if override:
        return websocket_endpoint(override)
    host = config.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    scheme = "wss" if config.server.tls_cert else "ws"
    return f"{scheme}://{host}:{config.server.port}/ws"


def websocket_endpoint(server: str) -> str:
    """A ``--server`` address as the websocket endpoint: ``/ws`` added when it has no path."""
    return server if server.count("/") > 2 else f"{server}/ws"
