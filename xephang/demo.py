"""``xephang demo``: the example centre running on one machine.

Starts the server on a demo copy of the example configuration (issuing at any hour, so
the demo works at night too), a little simulated traffic so the hall looks alive, and
the three apps. On a machine without a screen each app writes its screenshot instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common.assets import asset_path
from common.cli_args import is_loopback, port_number
from common.config import ConfigError, parse_config

log = logging.getLogger(__name__)

ALL_DAY = "\n".join(f'{day} = ["00:00-24:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def demo_config_text(example: str, port: int) -> str:
    """The example configuration, open every day at every hour, on ``port`` (its integration
    API on the next port); its kiosks may issue a morning's queue at once (the simulated
    traffic fills the hall in seconds, which a real kiosk's human pace would refuse)."""
    text = re.sub(r"(?m)^(mon|tue|wed|thu|fri|sat|sun) = .*\n", "", example)
    text = re.sub(r"(?m)^\[sites\.hours\]\n", f"[sites.hours]\n{ALL_DAY}\n", text)
    text = re.sub(r"(?m)^holidays = .*$", "holidays = []", text)
    pace = "kiosk_issues_per_minute = 600\nkiosk_issue_burst = 60"
    api = f"api_port = {port + 1}"  # the integration API (docs/integration.md): 8766 by default
    text = re.sub(r"(?m)^port = \d+$", f"port = {port}\n{pace}\n{api}", text)
    text = re.sub(r'(?m)^public_url = ".*"$', f'public_url = "http://127.0.0.1:{port}"', text)
    return text


def server_arguments(host: str) -> list[str]:
    """How the demo's server listens: on ``host``, with ``--demo`` when that reaches beyond
    this machine (the example centre's passwords and tokens are public; see docs/configuration.md)."""
    return ["--host", host] if is_loopback(host) else ["--host", host, "--demo"]


def has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_healthy(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = f"http://{host}:{port}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as reply:
            if reply.status == 200:
                return True
        time.sleep(0.2)
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang demo", description="Run the server, simulated traffic and the three apps.")
    parser.add_argument("--port", type=port_number, default=8765, help="server port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the server listens on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 opens the demo, and its public passwords, to the network)")
    parser.add_argument("--data", type=Path, default=Path("data/demo"), help="demo data directory")
    parser.add_argument("--no-apps", action="store_true", help="start only the server and traffic")
    parser.add_argument("--no-traffic", action="store_true", help="no simulated citizens and clerks")
    parser.add_argument("--screenshots", action="store_true",
                        help="write each app's screenshot and exit (the default without a screen)")
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.data.mkdir(parents=True, exist_ok=True)
    config_file = args.data / "config.toml"
    text = demo_config_text(asset_path("config", "example.toml").read_text("utf-8"), args.port)
    try:
        parse_config(text, str(config_file))
    except ConfigError as exc:
        print(f"error: the demo configuration is invalid: {exc}", file=sys.stderr)
        return 1
    config_file.write_text(text, "utf-8")
    db = args.data / "xephang.db"
    if args.fresh:  # the queue's database and the outbox's state of its events go together
        for name in (db.name, "outbox.sqlite"):
            for suffix in ("", "-wal", "-shm"):
                (args.data / f"{name}{suffix}").unlink(missing_ok=True)

    xephang = [sys.executable, "-m", "xephang"]
    reach = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # where the apps connect
    url = f"ws://{reach}:{args.port}"
    children: list[subprocess.Popen] = []

    def spawn(*command: str) -> subprocess.Popen:
        child = subprocess.Popen([*xephang, *command])
        children.append(child)
        return child

    def stop_all(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(10)

    signal.signal(signal.SIGTERM, lambda *a: (stop_all(), sys.exit(0)))
    server = spawn("server", "--config", str(config_file), "--db", str(db),
                   "--log-file", str(args.data / "server.log"), *server_arguments(args.host))
    if not wait_healthy(args.port, host=reach):
        print("error: the server did not start; see the log above", file=sys.stderr)
        stop_all()
        return 1
    print(f"Server: http://{reach}:{args.port}/  (websocket {url}/ws; integration API "
          f"http://{reach}:{args.port + 1}/api/v1/openapi.json)")
    if not args.no_traffic:
        children.append(subprocess.Popen(
            [sys.executable, "-m", "xephang.demo_traffic", "--server", url, "--config", str(config_file)]))
    common = ["--config", str(config_file), "--server", url]
    try:
        if args.no_apps:
            print("Apps not started (--no-apps). Ctrl+C stops the demo.")
            server.wait()
            return 0
        if args.screenshots or not has_screen():
            shots = args.data / "screenshots"
            shots.mkdir(exist_ok=True)
            print(f"No screen here: writing the apps' screenshots to {shots}/ instead of opening windows.")
            time.sleep(3)  # let the simulated morning put some tickets on the board
            runs = [
                ("kiosk", ["kiosk", *common, "--screenshot", str(shots / "kiosk.png")], None),
                ("counter", ["counter", *common, "--user", "lan", "--password-stdin", "--counter", "1",
                             "--screen", "serving", "--screenshot", str(shots / "counter.png")], "xephang\n"),
                ("display", ["display", *common, "--mute", "--screenshot", str(shots / "display.png")], None),
            ]
            for name, command, stdin in runs:
                result = subprocess.run([*xephang, *command], input=stdin, text=True, timeout=120)
                status = "written" if result.returncode == 0 else f"failed (exit {result.returncode})"
                print(f"  {name}: {status}")
            if has_screen() or args.screenshots:
                return 0
            print("The server keeps running with simulated traffic; Ctrl+C stops it.")
            server.wait()
            return 0
        spawn("display", *common, "--windowed")
        spawn("kiosk", *common, "--windowed")
        spawn("counter", *common)
        print("Counter app: log in as 'lan' with password 'xephang'. Ctrl+C stops everything.")
        server.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()
