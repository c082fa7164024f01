"""Small network probes for the security tests: a websocket from a chosen loopback address
(the server throttles per address), one login per connection, and raw HTTP GETs that follow
redirects only within the server."""

from __future__ import annotations

import asyncio
import json
import re
import socket

from websockets.asyncio.client import connect


async def connect_from(url: str, source: str):
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((source, 0))
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return await connect(url, sock=sock, proxy=None)


async def login_once(url: str, source: str, username: str, password: str) -> dict:
    """A fresh connection per attempt, as a password-guessing script would do."""
    async with await connect_from(url, source) as ws:
        await ws.send(json.dumps({"type": "login", "v": 1, "username": username, "password": password,
                                  "id": 1}))
        while True:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if reply.get("re") == 1:
                return reply


async def http_get(port: int, path: str, headers: str = "") -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    found = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    return int(lines[0].split()[1]), found, body


async def follow(port: int, path: str, headers: str = "") -> tuple[int, str, bytes]:
    """GET, following redirects on this server; returns the final status, path and body."""
    for _ in range(6):
        status, found, body = await http_get(port, path, headers)
        if status not in (301, 302, 303, 307, 308):
            return status, path, body
        location = found.get("location", "")
        local = re.sub(rf"^https?://127\.0\.0\.1:{port}", "", location)
        assert local.startswith("/") and not local.startswith("//"), f"{path} redirects off-site: {location}"
        path = local
    raise AssertionError(f"redirect loop from {path}")
