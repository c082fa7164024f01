"""Baseline: a bare websockets echo server, with the queue server's connection settings
(same library, same compression negotiation, same queue and ping settings) and nothing
else. ``python -m bench.echo PORT``."""

from __future__ import annotations

import asyncio
import http
import signal
import sys

from websockets.asyncio.server import ServerConnection, serve

from bench.procstat import raise_open_files


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


def ready(connection: ServerConnection, request):
    if request.path == "/ready":
        return connection.respond(http.HTTPStatus.OK, "ready\n")
    return None


async def serve_forever(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve(echo, "127.0.0.1", port, process_request=ready, max_size=65536,
                     max_queue=16, ping_interval=20, ping_timeout=20, close_timeout=5):
        await stop.wait()


def main(argv: list[str]) -> int:
    raise_open_files()
    asyncio.run(serve_forever(int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
