"""A TCP proxy between clients and the server whose link the test can cut, like an unplugged
network cable or a dead switch, while the server itself keeps running.

* ``cut()``: every open link is reset and new connections are refused (closed at once);
* ``blackhole()``: links stay open but nothing passes (a half-dead network: no RST, no FIN);
* ``restore()``: traffic flows again for new connections.
"""

from __future__ import annotations

import asyncio
import contextlib


class NetProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "up"
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> NetProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/ws") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "cut":
            _reset(writer)
            return
        if self.mode == "blackhole":
            with contextlib.suppress(Exception):
                await reader.read()  # swallow everything until the client gives up
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        link = (writer, up_writer)
        self._links.add(link)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._links.discard(link)
            _reset(writer)
            _reset(up_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                while self.mode == "blackhole":
                    await asyncio.sleep(0.05)  # hold the bytes: nothing passes
                if self.mode == "cut":
                    break
                writer.write(data)
                await writer.drain()
        _reset(writer)

    def cut(self) -> None:
        self.mode = "cut"
        for client, upstream in list(self._links):
            _reset(client)
            _reset(upstream)

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        self.mode = "up"

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close at once (RST where possible), as a dropped link looks to the far end."""
    transport = writer.transport
    if transport.is_closing():
        return
    with contextlib.suppress(Exception):
        transport.abort()
