"""A webhook receiver for tests: a real aiohttp server on 127.0.0.1 that records every
delivery (its event id, headers and body), de-duplicates by the event id as a receiver
should, and can be made to fail (``status``) or to hold its answers (``hold``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Delivery:
    id: int
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    status: int = 200
    hold: asyncio.Event | None = None  # answers wait until it is set
    deliveries: list[Delivery] = field(default_factory=list)  # every one, duplicates included
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def unique(self) -> dict[int, Delivery]:
        """The first delivery of each event id (what a de-duplicating receiver keeps)."""
        found: dict[int, Delivery] = {}
        for d in self.deliveries:
            found.setdefault(d.id, d)
        return found

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.hold is not None:
            await self.hold.wait()
        if 200 <= self.status < 300:
            self.deliveries.append(Delivery(int(request.headers["X-Xephang-Event-Id"]),
                                            dict(request.headers), body))
            self.changed.set()
        return web.Response(status=self.status)

    async def wait_for(self, check: Any, timeout: float = 30.0) -> None:
        """Until ``check()`` is true (a deadline, never a fixed wait)."""
        deadline = time.monotonic() + timeout
        while not check():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not after {timeout} s; received {[d.id for d in self.deliveries]}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.2))
