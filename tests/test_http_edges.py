"""The HTTP side's edges, over real sockets against a real server: several requests in one
packet, methods other than GET, and the Origin of browsers' websocket handshakes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from server.access import WEBSOCKET_PATHS
from tests.helpers import KIOSK_TOKEN, ServerHarness

pytestmark = pytest.mark.asyncio


def page(path: str = "/healthz", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def upgrade(path: str = "/ws") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


async def exchange(port: int, data: bytes, *, half_close: bool = False) -> bytes:
    """Send ``data`` in one write; everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    if half_close:
        writer.write_eof()
    received = b""
    with contextlib.suppress(ConnectionResetError):  # closed with unread bytes: a reset
        received = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return received


def head_and_body(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    return int(lines[0].split()[1]), headers, body


# -- A: two requests in one packet --------------------------------------------------------------


@pytest.mark.parametrize("packet", [
    pytest.param(lambda: page() + page(), id="page+page"),
    pytest.param(lambda: page() + upgrade(), id="page+upgrade"),
    pytest.param(lambda: upgrade() + page(), id="upgrade+page"),
    pytest.param(lambda: page("/manager/login") + b"GE", id="page+two-bytes"),
])
async def test_two_requests_in_one_packet_close_the_connection_with_one_warning(harness, caplog, packet):
    caplog.set_level(logging.WARNING)
    answer = await exchange(harness.port, packet())
    assert b"101 Switching Protocols" not in answer  # no websocket opened on a failed connection
    logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert all(r.exc_info is None for r in caplog.records), logged  # no traceback
    assert [(name, level) for name, level, _ in logged] == [("server.http", "WARNING")], logged
    assert "127.0.0.1" in logged[0][2]
    status, _, _ = head_and_body(await exchange(harness.port, page()))
    assert status == 200  # the server carries on
    await asyncio.sleep(0.1)
    assert harness.server.connections.sessions == {}  # no connection handler kept for the dropped one


async def test_a_request_followed_by_a_half_close_is_dropped_quietly(harness, caplog):
    caplog.set_level(logging.WARNING)
    await exchange(harness.port, page(), half_close=True)
    assert all(r.levelno < logging.ERROR and r.exc_info is None for r in caplog.records), caplog.text


async def test_requests_one_after_the_other_still_work(harness, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        status, _, body = head_and_body(await exchange(harness.port, page()))
        assert status == 200 and b'"status": "ok"' in body
    assert caplog.records == []


# -- D: methods ---------------------------------------------------------------------------------


async def test_head_gets_the_headers_of_get_and_no_body(harness):
    _, get_headers, get_body = head_and_body(await exchange(harness.port, page("/manager/login")))
    status, headers, body = head_and_body(await exchange(harness.port, page("/manager/login", "HEAD")))
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(get_body)) == get_headers["content-length"]
    assert headers["content-type"] == get_headers["content-type"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
@pytest.mark.parametrize("path", ["/healthz", "/manager/login", "/manager/report?site=tinh",
                                  "/t/AAAAAAAAAAAAAAAAAAAAAA", "/web/app.css"])
async def test_other_methods_get_405_with_allow(harness, method, path):
    status, headers, body = head_and_body(await exchange(harness.port, page(path, method)))
    assert status == 405 and headers["allow"] == "GET, HEAD", (method, path, status)
    assert b"Method not allowed" in body


async def test_an_unknown_path_is_404_whatever_the_method(harness):
    for method in ("GET", "POST", "HEAD"):
        status, _, _ = head_and_body(await exchange(harness.port, page("/no/such/page", method)))
        assert status == 404


@pytest.mark.parametrize("path", sorted(WEBSOCKET_PATHS))
async def test_the_websocket_paths_take_only_get(harness, path):
    for method in ("POST", "HEAD"):
        status, headers, _ = head_and_body(await exchange(harness.port, page(path, method)))
        assert status == 405 and headers["allow"] == "GET"


# -- E: Origin of websocket handshakes ----------------------------------------------------------


async def login_kiosk(url: str, **options) -> dict:
    async with connect(url, **options) as ws:
        await ws.send(json.dumps({"type": "login_device", "v": 1, "token": KIOSK_TOKEN, "id": 1}))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.parametrize("origin", ["http://evil.example", "https://evil.example", "null",
                                    "http://127.0.0.1", "http://127.0.0.1:1", "http://127.0.0.1.evil.example",
                                    "http://127.0.0.1:99999", "file://", "chrome-extension://abc"])
@pytest.mark.parametrize("path", sorted(WEBSOCKET_PATHS))
async def test_a_browser_from_another_origin_is_refused(harness, caplog, origin, path):
    caplog.set_level(logging.WARNING)
    with pytest.raises(InvalidStatus) as refused:
        await login_kiosk(f"ws://127.0.0.1:{harness.port}{path}", origin=origin)
    assert refused.value.response.status_code == 403
    assert harness.server.connections.sessions == {}
    assert [r.levelname for r in caplog.records] == ["WARNING"]


@pytest.mark.parametrize("path", sorted(WEBSOCKET_PATHS))
async def test_the_servers_own_pages_and_desktop_apps_connect(harness, path):
    url = f"ws://127.0.0.1:{harness.port}{path}"
    same = await login_kiosk(url, origin=f"http://127.0.0.1:{harness.port}")  # a page served here
    assert same["type"] in ("welcome", "error")  # the handshake passed; what /ws/public allows is its own
    desktop = await login_kiosk(url)  # websockets' client sends no Origin
    assert desktop["type"] == same["type"]
    if path == "/ws":
        assert same["type"] == "welcome"


async def test_the_configured_public_url_is_an_allowed_origin(tmp_path, clock, config):
    public = msgspec.structs.replace(config.server, public_url="https://xephang.ninhbinh.gov.vn/")
    harness = ServerHarness(msgspec.structs.replace(config, server=public), tmp_path / "x.db", clock)
    await harness.start()
    try:
        reply = await login_kiosk(harness.url, origin="https://xephang.ninhbinh.gov.vn")
        assert reply["type"] == "welcome"
        reply = await login_kiosk(harness.url, origin="https://XEPHANG.ninhbinh.gov.vn:443")
        assert reply["type"] == "welcome"
        with pytest.raises(InvalidStatus):
            await login_kiosk(harness.url, origin="http://xephang.ninhbinh.gov.vn:8443")
    finally:
        await harness.stop()
