"""A server PROCESS, logging as in production (xephang server's JSON log): conditions that
repeat hundreds of times a second write a few lines, not one each.

Two floods: a client sending two HTTP requests per packet as fast as it can, and the process
running out of file descriptors, when asyncio fails to accept on every attempt.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import time

import pytest

from tests.reliability.config_gen import always_open_config
from tests.reliability.server_process import ServerProcess

TWO_REQUESTS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2


@pytest.fixture
def server(tmp_path):
    proc = ServerProcess(always_open_config(tmp_path / "centre.toml"), tmp_path / "xephang.db")
    with proc:
        yield proc


def _drain(sock: socket.socket) -> None:
    sock.settimeout(2)
    with contextlib.suppress(OSError):
        while sock.recv(4096):
            pass


@pytest.mark.timeout(60)
def test_a_flood_of_two_requests_per_packet_writes_one_line(server):
    before = len(server.log_entries())
    sent, deadline = 0, time.monotonic() + 2.0
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(TWO_REQUESTS)
            _drain(sock)
        sent += 1
    assert sent >= 50, "the flood was too slow to show anything"
    server.wait_healthy()
    # The outbox process shares the server's stderr and says when it has started: not the flood's.
    entries = [e for e in server.log_entries()[before:] if not e["logger"].startswith("server.outbox")]
    assert len(entries) <= 2, f"{len(entries)} log lines for {sent} bad packets: {entries[:3]}"
    assert all("exception" not in entry for entry in entries), entries
    assert all(entry["level"] == "warning" for entry in entries), entries


@pytest.mark.timeout(60)
def test_running_out_of_file_descriptors_logs_once_per_interval_without_a_traceback(server):
    highest = max(int(fd) for fd in os.listdir(f"/proc/{server.pid}/fd"))
    _, hard = resource.prlimit(server.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (highest + 6, hard))
    before = len(server.log_entries())
    clients = []
    try:
        for _ in range(30):  # the kernel completes these handshakes; the server runs out of fds
            clients.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(3.0)  # asyncio retries the accept every second, ~100 attempts a time
        entries = server.log_entries()[before:]
    finally:
        for sock in clients:
            sock.close()
    accepts = [entry for entry in entries if "accept" in entry["message"]]
    assert len(accepts) == 1, f"{len(accepts)} lines about accept() in 3 s: {accepts[:3]}"
    assert accepts[0]["level"] == "warning" and "Too many open files" in accepts[0]["message"]
    # Others may fail for want of a descriptor too (a checkpoint opening the WAL): once each.
    assert len(entries) <= 4, entries
    assert all("exception" not in entry for entry in entries), entries
    resource.prlimit(server.pid, resource.RLIMIT_NOFILE, (hard, hard))
    server.wait_healthy()  # once the connections are gone it accepts again
