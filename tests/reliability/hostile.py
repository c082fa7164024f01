"""Loads of hostile clients against a server process: connections that never log in,
floods from one connection, and slowloris-style half-open HTTP requests.

Each function returns what happened to its connections, so a test can assert that the
server closed every one of them with the right code, in time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter as Tally
from dataclasses import dataclass, field

from websockets import ConnectionClosed
from websockets.asyncio.client import ClientConnection, connect


@dataclass
class Outcome:
    opened: int = 0
    failed_to_open: int = 0
    closes: Tally = field(default_factory=Tally)  # (code, reason) → connections
    replies: Tally = field(default_factory=Tally)  # message type or error code → count
    seconds_to_close: float = 0.0


async def _open(url: str, source: str) -> ClientConnection:
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((source, 0))
    await loop.sock_connect(sock, (host, int(port)))
    return await connect(url, sock=sock, proxy=None, open_timeout=20, ping_interval=None,
                         close_timeout=5, max_size=None, compression=None)


async def idle_connections(url: str, count: int, *, batch: int = 250, timeout: float = 60.0,
                           source_prefix: str = "127.0.4.") -> Outcome:
    """Open ``count`` websockets that never send a thing; wait until the server closes them."""
    outcome = Outcome()
    sockets: list[ClientConnection] = []
    started = time.monotonic()
    for first in range(0, count, batch):
        size = min(batch, count - first)
        results = await asyncio.gather(
            *[_open(url, f"{source_prefix}{1 + (first + i) % 250}") for i in range(size)],
            return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                outcome.failed_to_open += 1
            else:
                sockets.append(result)
    outcome.opened = len(sockets)

    async def closed(ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(timeout):
                await ws.wait_closed()
        except TimeoutError:
            outcome.closes[("still open", "")] += 1
            await ws.close()
            return
        outcome.closes[(ws.close_code, ws.close_reason)] += 1

    await asyncio.gather(*[closed(ws) for ws in sockets])
    outcome.seconds_to_close = time.monotonic() - started
    return outcome


async def flooders(url: str, count: int, messages: int, *, source_prefix: str = "127.0.5.") -> Outcome:
    """``count`` connections each sending ``messages`` pings as fast as they can, reading all
    replies, until the server closes them."""
    outcome = Outcome()
    started = time.monotonic()

    async def flood(i: int) -> None:
        ws = await _open(url, f"{source_prefix}{1 + i % 250}")
        outcome.opened += 1

        async def read() -> None:
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    outcome.replies[message.get("code") or message["type"]] += 1
            except ConnectionClosed:
                pass

        reader = asyncio.create_task(read())
        try:
            for n in range(messages):
                await ws.send(json.dumps({"type": "ping", "id": n}))
        except ConnectionClosed:
            pass
        await reader
        await ws.wait_closed()
        outcome.closes[(ws.close_code, ws.close_reason)] += 1

    await asyncio.gather(*[flood(i) for i in range(count)])
    outcome.seconds_to_close = time.monotonic() - started
    return outcome


async def slowloris(port: int, count: int, *, drip_every: float = 1.0, timeout: float = 30.0,
                    source_prefix: str = "127.0.6.") -> Outcome:
    """``count`` TCP connections: half send an HTTP upgrade request one header line at a time,
    never finishing it; half connect and send nothing. The server must hang up on all of them."""
    outcome = Outcome()
    started = time.monotonic()

    async def victim(i: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(f"{source_prefix}{1 + i % 250}", 0))
        except OSError:
            outcome.failed_to_open += 1
            return
        outcome.opened += 1
        dripping = i % 2 == 0
        try:
            async with asyncio.timeout(timeout):
                if dripping:
                    writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    await writer.drain()
                for line in range(10**6):
                    try:
                        data = await asyncio.wait_for(reader.read(4096), drip_every)
                    except TimeoutError:
                        if dripping:
                            writer.write(f"X-Slow-{line}: {'a' * 10}\r\n".encode())
                            await writer.drain()
                        continue
                    if not data:  # the server hung up
                        outcome.closes[("closed", "")] += 1
                        return
                    outcome.replies["http response"] += 1
        except TimeoutError:
            outcome.closes[("still open", "")] += 1
        except OSError:
            outcome.closes[("reset", "")] += 1
        finally:
            writer.close()

    await asyncio.gather(*[victim(i) for i in range(count)])
    outcome.seconds_to_close = time.monotonic() - started
    return outcome
