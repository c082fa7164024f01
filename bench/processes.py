"""Starting and stopping the processes the benchmark measures: the queue server and the
bare websockets echo server (a baseline)."""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

from common.errors import BenchError

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A child process listening on 127.0.0.1:``port``; ``pid`` is the measured process."""

    def __init__(self, args: list[str], port: int, log_path: Path, ready_path: str) -> None:
        self.args, self.port, self.log_path, self.ready_path = args, port, log_path, ready_path
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *self.args], cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.args[1]} exited with {self.proc.returncode}; "
                                 f"see {self.log_path}")
            if self._ready():
                return
            time.sleep(0.05)
        self.stop()
        raise BenchError(f"{self.args[1]} did not start within {timeout:.0f} s; see {self.log_path}")

    def _ready(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            conn.request("GET", self.ready_path)
            return conn.getresponse().status < 500
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.args[1], timeout)
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)


def queue_server(config: Path, db: Path, port: int, log_path: Path) -> ServerProcess:
    args = ["-m", "bench.server_main", "--config", str(config), "--db", str(db),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--log-file", str(log_path.with_suffix(".server.log"))]
    return ServerProcess(args, port, log_path, "/healthz")


def echo_server(port: int, log_path: Path) -> ServerProcess:
    return ServerProcess(["-m", "bench.echo", str(port)], port, log_path, "/ready")
