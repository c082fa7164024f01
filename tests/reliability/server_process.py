"""The real queue server as a separate OS process: start, wait until healthy, kill, restart.

Each instance keeps one configuration file, database and port across restarts, so a
SIGKILL followed by ``start()`` is what a power cut and a reboot look like to the clients
(except that the operating system's page cache survives a process kill; see
docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on now (the server must be given one: it reports none)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class ServerProcess:
    def __init__(self, config: Path, db: Path, *, port: int | None = None, log_file: Path | None = None,
                 env: dict[str, str] | None = None, tls: bool = False, log_level: str = "warning") -> None:
        self.config, self.db = config, db
        self.port = port or free_port()
        self.log_file = log_file or db.with_suffix(".log")
        self.stderr_file = db.with_suffix(".stderr")
        self.env = env or {}
        self.tls = tls
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    # -- lifecycle ------------------------------------------------------------------------------

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "tests.reliability.launch", "--config", str(self.config),
            "--db", str(self.db), "--host", "127.0.0.1", "--port", str(self.port),
            "--log-file", str(self.log_file), "--log-level", self.log_level,
        ]

    def start(self, timeout: float = 15.0, ssl_context=None) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        with open(self.stderr_file, "ab") as stderr:
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
        self.starts += 1
        self.wait_healthy(timeout, ssl_context)

    def wait_healthy(self, timeout: float = 15.0, ssl_context=None) -> dict:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.stderr_tail()}")
            try:
                return self.health(ssl_context)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last = exc
                time.sleep(0.02)
        raise TimeoutError(f"server not healthy after {timeout} s: {last}; {self.stderr_tail()}")

    def health(self, ssl_context=None) -> dict:
        with urllib.request.urlopen(f"{self.http_url}/healthz", timeout=2, context=ssl_context) as reply:
            return json.loads(reply.read())

    def census(self) -> dict[str, int]:
        """Connection objects the server still holds (needs ``XEPHANG_TEST_CENSUS=1``; see launch.py)."""
        with urllib.request.urlopen(f"{self.http_url}/testz/census", timeout=10) as reply:
            return json.loads(reply.read())

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed by the server itself."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.kills += 1

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM: the graceful stop an operator's ``systemctl stop`` sends."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def log_entries(self, *levels: str) -> list[dict]:
        """The server's JSON log lines (from its stderr) at the given levels (all if none)."""
        try:
            lines = self.stderr_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"level": "unparsed", "message": line}
            if not levels or entry.get("level") in levels:
                entries.append(entry)
        return entries

    def stderr_tail(self, lines: int = 20) -> str:
        try:
            text = self.stderr_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
