"""The command line of a kiosk or display that may keep its own credential (issue 13).

``--config FILE`` / ``--device ID`` (or ``$XEPHANG_CONFIG``) run the device from the centre's
configuration file, as before pairing existed. Otherwise the device is *enrolled*: it logs
in with the credential in its own file (``--credential FILE``, default
``$XDG_CONFIG_HOME/xephang/<kind>.json``) and, when there is none yet, shows a pairing code
on the server given with ``--server``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from common import device_credential
from common.cli_args import websocket_endpoint
from common.config import ConfigError
from common.device_credential import DeviceCredential, Kind


@dataclass(frozen=True)
class Enrolled:
    """Where an enrolled device connects, where its credential lives, and the credential."""

    url: str
    path: Path
    credential: DeviceCredential | None


def add_credential_argument(parser: argparse.ArgumentParser, kind: Kind) -> None:
    parser.add_argument(
        "--credential", type=Path, metavar="FILE",
        help=f"this {kind}'s own credential, written when a manager pairs it (default: "
             f"$XDG_CONFIG_HOME/xephang/{kind}.json, i.e. ~/.config/xephang/{kind}.json); "
             "used when no --config or --device is given")


def uses_configuration(args: argparse.Namespace) -> bool:
    """True when the device runs from the centre's configuration file (``--config``,
    ``--device`` or ``$XEPHANG_CONFIG``), False when it is enrolled."""
    if args.credential is not None:
        return False
    return args.config is not None or args.device is not None or bool(os.environ.get("XEPHANG_CONFIG"))


def enrolled_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace, kind: Kind) -> Enrolled:
    """The enrolled device's credential file and server; a usage error (exit 2) when the file
    cannot be used, or when there is none and no ``--server`` to pair with."""
    if args.credential is not None and (args.config is not None or args.device is not None):
        parser.error("--credential is for a paired device, --config/--device for one in the configuration "
                     "file: not both")
    path = args.credential or device_credential.default_path(kind)
    try:
        credential = device_credential.load(path, kind)
    except ConfigError as exc:
        parser.error(f"{exc} (remove it to pair this {kind} again)")
    if args.server:
        url = websocket_endpoint(args.server)
    elif credential is not None:
        url = credential.server
    else:
        parser.error(f"this {kind} is not paired yet ({path} does not exist): start it with "
                     f"--server ws://HOST:PORT to show a pairing code, or run it from the configuration "
                     f"file with --config FILE --device ID")
    return Enrolled(url=url, path=path, credential=credential)
