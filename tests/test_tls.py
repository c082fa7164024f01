"""Optional TLS: with server.tls_cert and server.tls_key in the configuration the server
speaks only wss:// and https://. A self-signed certificate is made here with openssl; clients
that trust it connect, clients that do not (or that speak plain ws://) are refused, and the
server carries on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from common import protocol as p
from common.cli_args import websocket_url
from common.client import Connection
from common.config import load_config
from tests.helpers import KIOSK_TOKEN
from tests.reliability.config_gen import always_open_config
from tests.reliability.server_process import ROOT, ServerProcess, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=xephang-test",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tls")
    cert, key = make_certificate(workdir)
    port = free_port()
    config = always_open_config(workdir / "centre.toml", tls_cert=str(cert), tls_key=str(key),
                                public_url=f"https://127.0.0.1:{port}")
    trusted = ssl.create_default_context(cafile=str(cert))
    proc = ServerProcess(config, workdir / "xephang.db", port=port, tls=True)
    proc.start(ssl_context=trusted)
    yield proc, trusted, config
    proc.close()


async def _kiosk_over(url: str, context: ssl.SSLContext | None) -> dict:
    async with connect(url, ssl=context, proxy=None, open_timeout=5) as ws:
        await ws.send(json.dumps({"type": "login_device", "v": 1, "token": KIOSK_TOKEN, "id": 1}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome"
        await ws.send(json.dumps({"type": "issue_ticket", "service": "TP", "idempotency_key": "tls-0001",
                                  "id": 2}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("re") == 2:
                return reply


async def test_wss_with_the_trusted_certificate_works(tls_server):
    server, trusted, config = tls_server
    assert websocket_url(load_config(config)).startswith("wss://")
    reply = await _kiosk_over(server.url, trusted)
    assert reply["type"] == "result" and reply["url"].startswith("https://127.0.0.1:")


def test_healthz_over_https(tls_server):
    server, trusted, _ = tls_server
    with urllib.request.urlopen(f"https://127.0.0.1:{server.port}/healthz", context=trusted, timeout=5) as r:
        assert r.status == 200 and json.loads(r.read())["status"] == "ok"


async def test_plain_ws_and_http_are_refused_and_the_server_carries_on(tls_server):
    server, trusted, _ = tls_server
    with pytest.raises(Exception) as info:
        await _kiosk_over(f"ws://127.0.0.1:{server.port}/ws", None)
    assert not isinstance(info.value, AssertionError)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=5).read()
    assert (await _kiosk_over(server.url, trusted))["type"] == "result"


async def test_an_untrusted_certificate_is_refused_by_clients(tls_server):
    server, _, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        await _kiosk_over(server.url, ssl.create_default_context())


async def test_the_shared_client_connection_runs_over_wss(tls_server):
    server, trusted, _ = tls_server
    snapshots: list[p.Snapshot] = []

    async def authenticate(conn: Connection) -> None:
        await conn.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=KIOSK_TOKEN))

    connection = Connection(server.url, authenticate,
                            lambda m: snapshots.append(m) if isinstance(m, p.Snapshot) else None,
                            ssl_context=trusted)
    task = asyncio.create_task(connection.run())
    deadline = time.monotonic() + 10
    while not (snapshots and connection.status == "online"):
        assert time.monotonic() < deadline, connection.status
        await asyncio.sleep(0.01)
    assert isinstance(await connection.request(p.Ping()), p.Pong)
    await connection.stop()
    await asyncio.wait_for(task, 5)


def test_the_tls_server_logged_no_errors(tls_server):
    server, _, _ = tls_server
    errors = server.log_entries("error", "critical", "unparsed")
    assert not errors, errors[:3]


def test_a_missing_certificate_stops_the_server_with_a_clear_message(tmp_path):
    config = always_open_config(tmp_path / "centre.toml", tls_cert=str(tmp_path / "none.crt"),
                                tls_key=str(tmp_path / "none.key"))
    result = subprocess.run(
        [sys.executable, "-m", "xephang", "server", "--config", str(config), "--db", str(tmp_path / "x.db"),
         "--host", "127.0.0.1", "--port", str(free_port()), "--log-file", str(tmp_path / "s.log")],
        capture_output=True, text=True, timeout=30, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "cannot load TLS certificate/key" in result.stderr and "Traceback" not in result.stderr
