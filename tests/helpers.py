"""Test helpers: a fake clock, a server harness, and a small raw protocol client."""

from __future__ import annotations

import asyncio
import itertools
import json
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from common import protocol as p
from common.assets import asset_path
from common.config import Booking, Config, load_config
from server.app import QueueServer
from server.store import Store

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "xephang"  # every example user's password
KIOSK_TOKEN = "r-dPIIJld2G0aI0GL3Fkm5S6"  # kiosk-sanh-1 at site "tinh"
DISPLAY_TOKEN = "vpw-NmCfYqcryXDPG38uVUy5"  # tv-sanh at site "tinh"
COMMUNE_KIOSK_TOKEN = "azJrM71K1HPxp5lSNdzeijye"


def local_time(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


# Tests drive kiosks far faster than citizens can use them; the kiosk pace limit
# (server.kiosk_issues_per_minute) has tests of its own with the real setting.
MACHINE_PACE = {"kiosk_issues_per_minute": 100_000, "kiosk_issue_burst": 100_000}


def example_config(*, human_pace: bool = False) -> Config:
    """The example centre; its kiosks issue at machine pace unless ``human_pace``."""
    config = load_config(asset_path("config", "example.toml"))
    if human_pace:
        return config
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, **MACHINE_PACE))


def walk_in_only(config: Config) -> Config:
    """``config`` with appointments and remote numbers turned off for every service (the
    example centre books a few): for tests of what a centre without bookings shows, and a
    base that tests turn on exactly the bookings they need."""
    sites = [msgspec.structs.replace(site, services=[msgspec.structs.replace(s, booking=Booking())
                                                     for s in site.services])
             for site in config.sites]
    return msgspec.structs.replace(config, sites=sites)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set_local(self, *args: int) -> None:
        self.now = local_time(*args).astimezone(UTC)


class ServerHarness:
    def __init__(self, config: Config, db: Path, clock: FakeClock) -> None:
        self.config, self.db, self.clock = config, db, clock
        self.server: QueueServer | None = None
        self.port = 0

    async def start(self) -> QueueServer:
        self.server = QueueServer(self.config, Store.open(self.db), clock=self.clock)
        await self.server.start("127.0.0.1", self.port)
        self.port = self.server.port
        return self.server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart(self, config: Config | None = None) -> QueueServer:
        """Stop and start again; with ``config``, imported into the stopped server's database
        first, as ``xephang config import`` does (the database holds the settings)."""
        await self.stop()
        if config is not None:
            from server.config_io import store_import

            store_import(self.db, config, at=self.clock())
            self.config = config
        return await self.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def client(self) -> RawClient:
        return await RawClient.open(self.url)

    async def kiosk(self, token: str = KIOSK_TOKEN) -> RawClient:
        client = await self.client()
        await client.request({"type": "login_device", "v": 1, "token": token}, expect="welcome")
        await client.next_of("snapshot")
        return client

    async def clerk(self, username: str, counter: int, site: str = "tinh") -> RawClient:
        client = await self.client()
        await client.request({"type": "login", "v": 1, "username": username, "password": PASSWORD},
                             expect="welcome")
        await client.request({"type": "select_counter", "site": site, "counter": counter})
        await client.next_of("snapshot")
        return client


class RawClient:
    """A real websocket client speaking raw JSON, for protocol-level tests."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.inbox: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str) -> RawClient:
        return cls(await connect(url, max_size=None))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        if self.inbox:
            return self.inbox.pop(0)
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        message = json.loads(raw)
        p.decode_server(raw)  # every server message must also be valid protocol
        return message

    async def next_of(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of type ``kind``; others are kept for later ``recv`` calls."""
        for i, message in enumerate(self.inbox):
            if message["type"] == kind:
                return self.inbox.pop(i)
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            p.decode_server(raw)
            message = json.loads(raw)
            if message["type"] == kind:
                return message
            self.inbox.append(message)

    async def request(self, payload: dict[str, Any], expect: str = "result",
                      timeout: float = 10.0) -> dict[str, Any]:
        """Send with a fresh id; return the reply to it (raises AssertionError on mismatch)."""
        request_id = f"t{next(self.ids)}"
        await self.ws.send(json.dumps({**payload, "id": request_id}))
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            p.decode_server(raw)
            message = json.loads(raw)
            if message.get("re") == request_id:
                if message["type"] != expect:
                    raise AssertionError(f"expected {expect}, got {message}")
                return message
            self.inbox.append(message)

    async def error(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.request(payload, expect="error")

    async def close(self) -> None:
        await self.ws.close()


class ThreadedServer:
    """A real server on its own thread and event loop, for synchronous (Qt) tests."""

    def __init__(self, config: Config, db: Path, clock: FakeClock) -> None:
        import threading

        self.harness = ServerHarness(config, db, clock)
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _run(self, coroutine, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> None:
        self._run(self.harness.start())

    def stop(self) -> None:
        self._run(self.harness.stop())

    def call(self, fn, *args):
        """Run ``fn(server, *args)`` (sync or async) on the server's loop and return its result."""

        async def invoke():
            result = fn(self.harness.server, *args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return self._run(invoke())

    @property
    def url(self) -> str:
        return self.harness.url

    @property
    def server(self) -> QueueServer:
        assert self.harness.server is not None
        return self.harness.server

    def close(self) -> None:
        if self.harness.server is not None:
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
