"""Crash harness: a real server process under concurrent kiosks and counters, killed with
SIGKILL at random moments and restarted, with the invariants of ``crash_model`` checked
after every kill (on disk) and every restart (in a fresh snapshot).

One cycle:
  1. kiosks issue tickets (each with its own idempotency key) and clerks call and finish,
     as fast as the server answers, for a random 0.2-``max_run`` seconds;
  2. the harness closes the gate and SIGKILLs the server, wherever it is;
  3. when every client is parked, the database is read and checked against the ledger;
  4. the server is started again on the same database and a manager's snapshot is compared
     with the database;
  5. the gate opens: kiosks retry their unacknowledged issue with the SAME key, clerks log in
     again, select their counter and learn from it whether their last command took effect.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets import ConnectionClosed, InvalidHandshake
from websockets.asyncio.client import ClientConnection, connect

from tests.reliability.crash_model import (
    Issued,
    Ledger,
    check_against_ledger,
    check_snapshot,
    check_structure,
    read_database,
)
from tests.reliability.server_process import ServerProcess

log = logging.getLogger(__name__)

PASSWORD = "xephang"
# (device id, token, site, services it issues): every example kiosk.
KIOSKS = [
    ("kiosk-sanh-1", "r-dPIIJld2G0aI0GL3Fkm5S6", "tinh", ["TP", "DN", "CT", "GPLX", "BHXH", "XD", "KQ"]),
    ("kiosk-sanh-2", "sG82Nwe9UjlW9ZZvLYsKkzfW", "tinh", ["TP", "GD", "DD", "GPLX", "BHXH", "DIEN"]),
    ("kiosk-giavien", "azJrM71K1HPxp5lSNdzeijye", "giavien", ["HT", "DD", "XH"]),
]
# (username, site, counter): a clerk per counter, serving the services the kiosks issue.
CLERKS = [
    ("lan", "tinh", 1), ("hung", "tinh", 3), ("mai", "tinh", 5), ("tuan", "tinh", 9),
    ("ha", "tinh", 11), ("thao", "giavien", 1),
]
PRIORITIES = [None, None, None, None, "elderly", "disabled"]
NETWORK_ERRORS = (OSError, ConnectionClosed, InvalidHandshake, TimeoutError)


class Refused(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        self.code = reply.get("code", "?")
        super().__init__(f"{self.code}: {reply.get('message_en')}")


class Link:
    """One client's websocket: numbered requests, replies matched by id, pushes dropped."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def request(self, payload: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        request_id = f"c{next(self.ids)}"
        await self.ws.send(json.dumps({**payload, "id": request_id}))
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message.get("re") == request_id:
                    if message["type"] == "error":
                        raise Refused(message)
                    return message

    async def next_of(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == kind:
                    return message


@dataclass
class Figures:
    kills: int = 0
    restarts: int = 0
    database_checks: int = 0
    snapshot_checks: int = 0
    tickets_checked: int = 0
    tickets_total: int = 0
    commands_acknowledged: int = 0
    issues_acknowledged: int = 0
    retried_keys: int = 0
    in_flight_at_kill: int = 0
    reconnects: int = 0
    seconds: float = 0.0
    acknowledged_by_type: dict[str, int] = field(default_factory=dict)
    rejected_by_code: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.kills} SIGKILLs survived, {self.database_checks} database and "
                f"{self.snapshot_checks} snapshot checks passed, {self.tickets_total} tickets "
                f"({self.tickets_checked} ticket checks), {self.commands_acknowledged} commands "
                f"acknowledged, {self.retried_keys} issues retried with the same key, "
                f"{self.in_flight_at_kill} commands in flight at a kill, {self.seconds:.0f} s")


class CrashHarness:
    def __init__(self, server: ServerProcess, *, seed: int | None = None, max_run: float = 1.5) -> None:
        self.server = server
        self.ledger = Ledger()
        self.figures = Figures()
        self.random = random.Random(seed)
        self.max_run = max_run
        self.gate = asyncio.Event()
        self.stop = asyncio.Event()
        self.parked = 0
        self.workers = len(KIOSKS) * 2 + len(CLERKS)
        self.errors: list[BaseException] = []

    # -- clients ----------------------------------------------------------------------------------

    async def _connect(self) -> Link | None:
        """Wait for the gate, then connect; None when the run is over."""
        self.parked += 1
        try:
            await self.gate.wait()
        finally:
            self.parked -= 1
        if self.stop.is_set():
            return None
        ws = await connect(self.server.url, open_timeout=3, close_timeout=0.2, max_size=None,
                           ping_interval=None)
        self.figures.reconnects += 1
        return Link(ws)

    async def _run_client(self, body) -> None:
        while not self.stop.is_set():
            link = None
            try:
                link = await self._connect()
                if link is None:
                    return
                await body(link)
            except NETWORK_ERRORS:
                await asyncio.sleep(0.02)
            except BaseException as exc:  # a broken expectation: stop the run and report it
                if not isinstance(exc, asyncio.CancelledError):
                    self.errors.append(exc)
                    self.stop.set()
                    self.gate.set()
                raise
            finally:
                if link is not None:
                    await link.ws.close()

    def _open_for_business(self) -> None:
        if not self.gate.is_set():
            raise ConnectionResetError("gate closed: park")

    async def kiosk(self, lane: int, device: str, token: str, site: str, services: list[str]) -> None:
        numbers = itertools.count(1)
        pending: dict[str, Any] | None = None
        ledger = self.ledger

        async def body(link: Link) -> None:
            nonlocal pending
            await link.request({"type": "login_device", "v": 1, "token": token})
            while not self.stop.is_set():
                self._open_for_business()
                if pending is None:
                    pending = {
                        "type": "issue_ticket", "service": self.random.choice(services),
                        "priority": self.random.choice(PRIORITIES),
                        "idempotency_key": f"lane{lane}-{next(numbers):07d}",
                    }
                stored = f"{device}:{pending['idempotency_key']}"
                ledger.pending_keys.add(stored)
                ledger.sent_keys[stored] += 1
                try:
                    reply = await link.request(pending)
                except Refused as exc:
                    ledger.rejected[exc.code] += 1
                    if exc.code in ("rate_limited", "internal"):
                        await asyncio.sleep(0.05)
                        continue
                    raise AssertionError(f"issue refused: {exc}") from exc
                ticket = reply["ticket"]
                ack = Issued(key=stored, ticket_id=ticket["id"], number=ticket["number"], site=site,
                             service=ticket["service"])
                earlier = ledger.issued.get(stored)
                if earlier is not None and (earlier.ticket_id, earlier.number) != (ack.ticket_id, ack.number):
                    raise AssertionError(f"key {stored} answered {earlier} then {ack}")
                ledger.issued[stored] = ack
                ledger.know(ticket)
                ledger.pending_keys.discard(stored)
                ledger.acknowledged["issue_ticket"] += 1
                pending = None
                await asyncio.sleep(self.random.uniform(0, 0.03))

        await self._run_client(body)

    async def clerk(self, username: str, site: str, number: int) -> None:
        where = (site, number)
        ledger = self.ledger

        async def acknowledged(link: Link, command: str, ticket_id: str | None, payload: dict) -> dict:
            while True:
                ledger.pending_ops[where] = (command, ticket_id)
                try:
                    reply = await link.request(payload)
                except Refused as exc:
                    if exc.code != "rate_limited":  # refused before it reached the rules
                        raise
                    ledger.rejected[exc.code] += 1
                    ledger.pending_ops.pop(where, None)
                    await asyncio.sleep(0.1)
                    continue
                ledger.pending_ops.pop(where, None)
                ledger.acknowledged[payload["type"]] += 1
                return reply

        async def body(link: Link) -> None:
            await link.request({"type": "login", "v": 1, "username": username, "password": PASSWORD})
            await link.request({"type": "select_counter", "site": site, "counter": number})
            snapshot = await link.next_of("snapshot")
            # What the counter holds now settles the command that was in flight at the kill;
            # the ledger takes it in one step (no await), so a kill cannot split it.
            counter = next(c for c in snapshot["counters"] if c["number"] == number)
            tickets = {t["id"]: t for t in snapshot["tickets"]}
            active = counter["active_ticket"]
            settled = ledger.pending_ops.pop(where, None)
            for ticket_id in (settled[1] if settled else None, active):
                if ticket_id is not None:
                    ledger.know(tickets[ticket_id])
            ledger.opened.add(where)
            ledger.active[where] = active
            while not self.stop.is_set():
                await asyncio.sleep(self.random.uniform(0, 0.03))
                self._open_for_business()
                if ledger.active[where] is None:
                    try:
                        reply = await acknowledged(link, "call", None, {"type": "call_next"})
                    except Refused as exc:
                        ledger.pending_ops.pop(where, None)
                        ledger.rejected[exc.code] += 1
                        if exc.code != "queue_empty":
                            raise AssertionError(f"{username}: call_next refused: {exc}") from exc
                        await asyncio.sleep(0.03)
                        continue
                    ticket = reply["ticket"]
                    ledger.know(ticket)
                    ledger.active[where] = ticket["id"]
                    continue
                ticket_id = ledger.active[where]
                roll = self.random.random()
                if roll < 0.3 and ledger.states.get(ticket_id) == "called":
                    reply = await acknowledged(link, "start", ticket_id, {"type": "start_service"})
                elif roll < 0.4 and ledger.states.get(ticket_id) == "called":
                    reply = await acknowledged(link, "absent", ticket_id, {"type": "mark_absent"})
                    ledger.active[where] = None
                else:
                    outcome = self.random.choice(["received", "guided", "returned"])
                    reply = await acknowledged(link, "finish", ticket_id,
                                               {"type": "finish", "outcome": outcome})
                    ledger.active[where] = None
                ledger.know(reply["ticket"])

        await self._run_client(body)

    # -- checks -----------------------------------------------------------------------------------

    async def manager_snapshots(self) -> dict[str, dict[str, Any]]:
        async with connect(self.server.url, max_size=None) as ws:
            link = Link(ws)
            await link.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD})
            snapshots = {}
            for _ in range(2):
                snap = await link.next_of("snapshot")
                snapshots[snap["site"]["code"]] = snap
            return snapshots

    async def _wait_parked(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.parked < self.workers and not self.stop.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.parked}/{self.workers} clients parked")
            await asyncio.sleep(0.01)

    async def verify(self) -> None:
        """With every client parked: the disk, then (after a restart) a fresh snapshot."""
        db = read_database(self.server.db)
        self.figures.tickets_checked += check_against_ledger(db, self.ledger)
        self.figures.database_checks += 1
        self.figures.in_flight_at_kill += len(self.ledger.pending_keys) + len(self.ledger.pending_ops)
        await asyncio.to_thread(self.server.start)
        self.figures.restarts += 1
        snapshots = await self.manager_snapshots()
        check_snapshot(read_database(self.server.db), snapshots)
        self.figures.snapshot_checks += 1

    # -- the run ----------------------------------------------------------------------------------

    async def run(self, *, kills: int, deadline_seconds: float) -> Figures:
        """Kill the server ``kills`` times (or until the deadline), checking after each."""
        started = time.monotonic()
        self.server.start()
        tasks = [asyncio.create_task(self.kiosk(i, *k)) for i, k in enumerate(KIOSKS * 2)]
        tasks += [asyncio.create_task(self.clerk(*c)) for c in CLERKS]
        try:
            self.gate.set()
            while self.figures.kills < kills and not self.stop.is_set():
                if time.monotonic() - started > deadline_seconds:
                    break
                await asyncio.sleep(self.random.uniform(0.2, self.max_run))
                self.gate.clear()
                self.server.kill()
                self.figures.kills += 1
                await self._wait_parked()
                if self.stop.is_set():
                    break
                await self.verify()
                self.gate.set()
            # The end: let everyone settle their last command, stop cleanly, check once more.
            await asyncio.sleep(0.5)
            self.gate.clear()
            await asyncio.to_thread(self.server.terminate)
            await self._wait_parked()
            if not self.stop.is_set():
                db = read_database(self.server.db)
                self.figures.tickets_checked += check_against_ledger(db, self.ledger)
                self.figures.database_checks += 1
                check_structure(db)
                self.figures.tickets_total = len(db["tickets"])
        finally:
            self.stop.set()
            self.gate.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.server.close()
        if self.errors:
            raise self.errors[0]
        f = self.figures
        f.commands_acknowledged = self.ledger.commands_acknowledged
        f.issues_acknowledged = len(self.ledger.issued)
        f.retried_keys = self.ledger.retried_keys
        f.acknowledged_by_type = dict(self.ledger.acknowledged)
        f.rejected_by_code = dict(self.ledger.rejected)
        f.seconds = time.monotonic() - started
        return f


def run_crash_test(workdir: Path, *, kills: int, deadline_seconds: float, seed: int | None = None,
                   max_run: float = 1.5) -> Figures:
    from tests.reliability.config_gen import always_open_config

    config = always_open_config(workdir / "centre.toml")
    server = ServerProcess(config, workdir / "xephang.db")
    harness = CrashHarness(server, seed=seed, max_run=max_run)
    return asyncio.run(harness.run(kills=kills, deadline_seconds=deadline_seconds))
