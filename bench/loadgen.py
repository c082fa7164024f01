"""Load-generator processes: simulated kiosks, counters, displays, managers and phones.

Each worker is a separate process with one asyncio loop holding many real websocket
connections (the same library and settings as the apps' ``common.client``: deflate
compression, pings every 10 s). The coordinator drives it through a pipe with small
commands and gets plain lists and dicts back.

To keep the generator cheap next to the server it measures, a worker decodes only what
it needs from each server message (``Envelope``: type, reply id, call ids) with msgspec,
which skips every other field without building Python objects for them.

Time stamps are ``time.monotonic()``: CLOCK_MONOTONIC is one clock for every process on
Linux, so a call sent in one process and received in another can be subtracted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

import msgspec
from websockets import ConnectionClosed
from websockets.asyncio.client import ClientConnection, connect

from bench import booking_load
from bench.procstat import raise_open_files
from common.errors import BenchError

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
CONNECT_CONCURRENCY = 48
REQUEST_TIMEOUT = 30.0


class CallRef(msgspec.Struct):
    ticket_id: str
    reason: str = ""


class TicketRef(msgspec.Struct):
    id: str


class Envelope(msgspec.Struct):
    """The few fields of a server message the load generator looks at."""

    type: str
    re: str | int | None = None
    code: str | None = None
    ticket: TicketRef | None = None
    calls: list[CallRef] = []
    url: str | None = None


_decode = msgspec.json.Decoder(Envelope).decode
_encode = msgspec.json.Encoder().encode


class Refused(BenchError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Client:
    """One connection as one device or person; ``kind`` is kiosk/display/clerk/manager/watcher
    (or echo for the baseline)."""

    def __init__(self, worker: Worker, spec: dict[str, Any]) -> None:
        self.worker = worker
        self.spec = spec
        self.kind: str = spec["kind"]
        self.site: str | None = spec.get("site")
        self.ws: ClientConnection | None = None
        self.pending: dict[str, asyncio.Future] = {}
        self.ids = itertools.count(1)
        self.key_prefix = secrets.token_hex(5)
        self.serials = itertools.count(1)  # idempotency keys never repeat on a connection
        self.snapshot = asyncio.get_running_loop().create_future()
        self.reader: asyncio.Task | None = None
        self.busy = False

    async def open(self, url: str) -> None:
        # Each device has its own address, as on a centre's network (the server throttles
        # logins per address): 127.0.0.0/8 is all loopback, so any of it can be the source.
        where = {"local_addr": (self.spec["ip"], 0)} if "ip" in self.spec else {}
        self.ws = await connect(url, max_size=None, open_timeout=60, ping_interval=10,
                                ping_timeout=30, close_timeout=2, proxy=None, **where)
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        worker = self.worker
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = time.monotonic()
                worker.received += 1
                message = _decode(raw)
                if message.re is not None:
                    future = self.pending.pop(str(message.re), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                        continue
                if message.type in ("snapshot", "ticket_status") and not self.snapshot.done():
                    self.snapshot.set_result(None)
                if message.calls and worker.recording:
                    for call in message.calls:
                        if call.reason == "next":
                            worker.arrivals.append((call.ticket_id, now))
        worker.dropped += not worker.closing

    async def request(self, payload: dict[str, Any]) -> Envelope:
        assert self.ws is not None
        request_id = str(next(self.ids))
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        await self.ws.send(_encode({**payload, "id": request_id}).decode())
        try:
            message = await asyncio.wait_for(future, REQUEST_TIMEOUT)
        finally:
            self.pending.pop(request_id, None)
        if message.type == "error":
            raise Refused(message.code or "?")
        return message

    async def authenticate(self, password: str) -> None:
        spec, kind = self.spec, self.kind
        if kind in ("kiosk", "display"):
            await self.request({"type": "login_device", "v": PROTOCOL_VERSION, "token": spec["token"]})
        elif kind in ("clerk", "manager"):
            await self.request({"type": "login", "v": PROTOCOL_VERSION, "username": spec["user"],
                                "password": password})
            if kind == "clerk":
                await self.request({"type": "select_counter", "site": spec["site"],
                                    "counter": spec["counter"]})
        elif kind == "watcher":
            await self.request({"type": "watch_ticket", "v": PROTOCOL_VERSION, "token": spec["token"]})
        if kind not in ("echo", "public"):  # public: an anonymous phone on /ws/public (booking)
            await asyncio.wait_for(self.snapshot, REQUEST_TIMEOUT)

    def issue_payload(self) -> dict[str, Any]:
        serial = next(self.serials)
        services = self.spec["services"]
        return {"type": "issue_ticket", "service": services[serial % len(services)],
                "idempotency_key": f"{self.key_prefix}-{serial:09d}"}

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class Worker:
    """Holds this process's clients; every ``cmd_*`` method is one coordinator command."""

    def __init__(self, url: str, password: str) -> None:
        self.url, self.password = url, password
        self.clients: list[Client] = []
        self.recording = False
        self.arrivals: list[tuple[str, float]] = []
        self.received = 0
        self.dropped = 0
        self.closing = False

    # -- connecting ---------------------------------------------------------------------

    async def cmd_connect(self, specs: list[dict[str, Any]], url: str | None = None) -> dict[str, Any]:
        """Open and authenticate a connection per spec; returns how many, how fast, failures."""
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures: Counter[str] = Counter()

        async def one(spec: dict[str, Any]) -> None:
            async with gate:
                client = Client(self, spec)
                try:
                    await client.open(url or self.url)
                    await client.authenticate(self.password)
                except Refused as exc:
                    failures[f"{spec['kind']}:{exc.code}"] += 1
                    await client.close()
                    return
                except (OSError, TimeoutError, ConnectionClosed) as exc:
                    failures[f"{spec['kind']}:{type(exc).__name__}"] += 1
                    await client.close()
                    return
                self.clients.append(client)

        await asyncio.gather(*(one(spec) for spec in specs))
        return {"connected": len(specs) - sum(failures.values()), "failures": dict(failures),
                "seconds": time.monotonic() - started, "total": len(self.clients)}

    def _of(self, kind: str) -> list[Client]:
        return [c for c in self.clients if c.kind == kind]

    # -- issuing --------------------------------------------------------------------------

    async def cmd_issue(self, count: int, start: float, end: float, warmup: float) -> dict[str, Any]:
        """The first ``count`` kiosks issue in a closed loop (the next request after the
        reply) from ``start - warmup`` until ``end``; latencies of replies within the window."""
        kiosks = self._of("kiosk")[:count]
        latencies: list[float] = []
        errors: Counter[str] = Counter()

        async def loop(kiosk: Client) -> None:
            await _sleep_until(start - warmup)
            while True:
                t0 = time.monotonic()
                if t0 >= end:
                    return
                try:
                    await kiosk.request(kiosk.issue_payload())
                except Refused as exc:
                    errors[exc.code] += 1
                    continue
                t1 = time.monotonic()
                if start <= t0 and t1 <= end:
                    latencies.append(t1 - t0)

        await asyncio.gather(*(loop(k) for k in kiosks))
        return {"latencies": latencies, "errors": dict(errors), "kiosks": len(kiosks)}

    async def cmd_seed(self, quotas: dict[str, int], keep_tokens: int) -> dict[str, Any]:
        """Each kiosk here issues ``quotas[its token]`` tickets, all kiosks at once, each as
        fast as it is answered (a busy morning); returns the rate and up to ``keep_tokens``
        tokens for phones to watch."""
        tokens: list[str] = []
        latencies: list[float] = []
        errors: Counter[str] = Counter()

        async def loop(kiosk: Client, count: int) -> None:
            for _ in range(count):
                t0 = time.monotonic()
                try:
                    reply = await kiosk.request(kiosk.issue_payload())
                except Refused as exc:
                    errors[exc.code] += 1
                    continue
                latencies.append(time.monotonic() - t0)
                if reply.url and len(tokens) < keep_tokens:
                    tokens.append(reply.url.rsplit("/", 1)[-1])

        jobs = [loop(k, quotas.get(k.spec["token"], 0)) for k in self._of("kiosk")]
        started = time.monotonic()
        await asyncio.gather(*jobs)
        return {"issued": len(latencies), "seconds": time.monotonic() - started,
                "latencies": latencies, "errors": dict(errors), "tokens": tokens}

    # -- calling ----------------------------------------------------------------------------

    async def cmd_record(self, on: bool) -> dict[str, Any]:
        self.recording = on
        if on:
            self.arrivals = []
        return {"arrivals": len(self.arrivals)}

    async def cmd_calls(self, start: float, duration: float, rate: float) -> dict[str, Any]:
        """Clerks here call ``rate`` tickets a second (each: call_next, then finish), round
        robin over the counters, from ``start`` for ``duration`` s. Returns each call's
        ticket id and send time; arrivals are recorded separately (``cmd_arrivals``)."""
        clerks = self._of("clerk")
        sends: dict[str, float] = {}
        errors: Counter[str] = Counter()
        tasks: set[asyncio.Task] = set()
        missed = 0
        order = itertools.cycle(range(len(clerks)))

        async def cycle(clerk: Client) -> None:
            clerk.busy = True
            try:
                t_send = time.monotonic()
                reply = await clerk.request({"type": "call_next"})
                if reply.ticket is not None:
                    sends[reply.ticket.id] = t_send
                await clerk.request({"type": "finish", "outcome": "received"})
            except Refused as exc:
                errors[exc.code] += 1
            finally:
                clerk.busy = False

        moment = start
        while clerks and moment < start + duration:
            await _sleep_until(moment)
            for _ in range(len(clerks)):
                clerk = clerks[next(order)]
                if not clerk.busy:
                    task = asyncio.create_task(cycle(clerk))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    break
            else:
                missed += 1
            moment += 1 / rate
        if tasks:
            await asyncio.gather(*tasks)
        return {"sends": sends, "errors": dict(errors), "missed": missed}

    async def cmd_arrivals(self) -> dict[str, Any]:
        return {"arrivals": self.arrivals, "received": self.received, "dropped": self.dropped}

    # -- booking (bench.booking_phase) ------------------------------------------------------

    async def cmd_slot_reads(self, reads: int, site: str, service: str, day: str,
                             start: float) -> dict[str, Any]:
        return await booking_load.slot_reads(self._of("public"), reads, site, service, day, start)

    async def cmd_booking_rush(self, people: list[dict[str, Any]], site: str, service: str,
                               starts: list[str], start: float) -> dict[str, Any]:
        return await booking_load.rush(self._of("public"), people, site, service, starts, start)

    # -- baseline -----------------------------------------------------------------------

    async def cmd_echo(self, url: str, clients: int, start: float, end: float,
                       warmup: float) -> dict[str, Any]:
        """Closed-loop round trips of an issue-sized text message on a bare echo server."""
        conns = [await connect(url, max_size=None, ping_interval=10, ping_timeout=30, proxy=None)
                 for _ in range(clients)]
        latencies: list[float] = []
        message = _encode({"type": "issue_ticket", "service": "HT",
                           "idempotency_key": secrets.token_hex(10), "id": "123"}).decode()

        async def loop(ws: ClientConnection) -> None:
            await _sleep_until(start - warmup)
            while (t0 := time.monotonic()) < end:
                await ws.send(message)
                await ws.recv()
                t1 = time.monotonic()
                if start <= t0 and t1 <= end:
                    latencies.append(t1 - t0)

        await asyncio.gather(*(loop(ws) for ws in conns))
        for ws in conns:
            await ws.close()
        return {"latencies": latencies}

    async def cmd_close(self) -> dict[str, Any]:
        self.closing = True
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        count = len(self.clients)
        self.clients = []
        return {"closed": count}


async def _serve(conn: Connection, worker: Worker) -> None:
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(conn.fileno(), readable.set)
    while True:
        await readable.wait()
        readable.clear()
        while conn.poll():
            name, kwargs = conn.recv()
            if name == "exit":
                await worker.cmd_close()
                conn.send({"ok": True})
                return
            try:
                result = await getattr(worker, f"cmd_{name}")(**kwargs)
            except Exception as exc:  # reported to the coordinator, which stops the run
                log.exception("command %s failed", name)
                result = {"failed": f"{type(exc).__name__}: {exc}"}
            conn.send(result)


def worker_main(conn: Connection, url: str, password: str) -> None:
    """Entry point of a load-generator process."""
    raise_open_files()
    logging.basicConfig(level=logging.WARNING, format="loadgen %(levelname)s %(message)s")
    asyncio.run(_serve(conn, Worker(url, password)))
