"""The shared client connection (common/client.py) against a real server that goes away.

Displays and kiosks run unattended: when the server restarts or the network drops they must
come back by themselves (backoff with jitter, capped at 3 s), log in again and replace
what they show with a fresh snapshot, within 3 s of the server's return. While offline a
request fails at once with ``Offline``: nothing is queued to be sent later behind the
user's back.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import defaultdict

import msgspec
import pytest

from common import client as client_module
from common import protocol as p
from common.client import BACKOFF_MAX, Connection, Offline
from tests.helpers import DISPLAY_TOKEN, KIOSK_TOKEN
from tests.reliability import report_plugin
from tests.reliability.netproxy import NetProxy

RETURN_LIMIT = 3.0  # seconds from the server's return to a fresh snapshot (issue #7)
SLACK = 0.3  # connect + login + snapshot on a busy CI machine


@pytest.fixture
def report(request):
    report_plugin.pytest_configure(request.config)
    return report_plugin.record


async def until(condition, timeout: float = 10.0, what: str = "condition") -> float:
    """Wait (polling the event loop) until ``condition()`` is true; returns the time taken."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


class Device:
    """A display's view of the site, kept only from what the connection delivers."""

    def __init__(self, url: str, token: str = DISPLAY_TOKEN) -> None:
        self.token = token
        self.logins = 0
        self.statuses: list[tuple[float, str, str]] = []
        self.snapshots: list[tuple[float, p.Snapshot]] = []
        self.tickets: dict[str, p.TicketView] = {}
        self.counters: dict[int, p.CounterView] = {}
        self.connection = Connection(url, self.authenticate, self.on_message, self.on_status)
        self.task: asyncio.Task | None = None

    async def authenticate(self, conn: Connection) -> None:
        self.logins += 1
        await conn.request(p.LoginDevice(v=p.PROTOCOL_VERSION, token=self.token))

    def on_message(self, message: p.ServerMessage) -> None:
        if isinstance(message, p.Snapshot):
            self.snapshots.append((time.monotonic(), message))
            self.tickets = {t.id: t for t in message.tickets}
            self.counters = {c.number: c for c in message.counters}
        elif isinstance(message, p.Update):
            self.tickets.update({t.id: t for t in message.tickets})
            self.counters.update({c.number: c for c in message.counters})

    def on_status(self, status: str, detail: str) -> None:
        self.statuses.append((time.monotonic(), status, detail))

    @property
    def status(self) -> str:
        return self.connection.status

    def start(self) -> Device:
        self.task = asyncio.create_task(self.connection.run())
        return self

    async def stop(self) -> None:
        await self.connection.stop()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)


@pytest.fixture
def record_attempts(monkeypatch):
    """Every connection attempt of common.client, by URL: {url: [monotonic time, ...]}."""
    attempts: dict[str, list[float]] = defaultdict(list)
    real_connect = client_module.connect

    def counting_connect(url, *args, **kwargs):
        attempts[url].append(time.monotonic())
        return real_connect(url, *args, **kwargs)

    monkeypatch.setattr(client_module, "connect", counting_connect)
    return attempts


async def test_server_restart_reconnect_reauthenticate_resync_within_3s(harness, record_attempts, report):
    devices = [Device(f"{harness.url}?device={i}").start() for i in range(8)]
    await until(lambda: all(len(d.snapshots) == 1 and d.status == "online" for d in devices),
                what="first snapshots")

    assert all(len(record_attempts[d.connection.url]) == 1 for d in devices)
    await harness.stop()
    await until(lambda: all(d.status == "offline" for d in devices), what="offline")

    # Offline: a request fails at once, nothing is queued.
    started = time.monotonic()
    with pytest.raises(Offline):
        await devices[0].connection.request(p.Ping())
    assert time.monotonic() - started < 0.05

    # Back off until the delay reaches its cap: six failed attempts are enough.
    await until(lambda: all(len(record_attempts[d.connection.url]) >= 7 for d in devices),
                timeout=20, what="the backoff to reach its cap")
    await harness.start()
    back = time.monotonic()
    await until(lambda: all(len(d.snapshots) == 2 and d.status == "online" for d in devices), timeout=10,
                what="fresh snapshots")
    delays = [d.snapshots[1][0] - back for d in devices]
    assert max(delays) <= RETURN_LIMIT + SLACK, f"resync took {max(delays):.2f} s"
    assert all(d.logins == 2 and d.connection.connects == 2 and d.status == "online" for d in devices)

    # Backoff: the waits between attempts grow, and never exceed the cap.
    for d in devices:
        times = record_attempts[d.connection.url][1:7]  # the failed attempts, server down
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= BACKOFF_MAX + 0.25, gaps
        assert gaps[-1] > gaps[0] * 3, f"no exponential growth: {gaps}"
    # Jitter: the devices do not all come back at the same instant (no thundering herd).
    third = [record_attempts[d.connection.url][4] - record_attempts[d.connection.url][1] for d in devices]
    assert statistics.pstdev(third) > 0.02, third
    for d in devices:
        await d.stop()
    report("client resilience (server restart)",
           f"8 devices back online with a fresh snapshot {min(delays):.2f}-{max(delays):.2f} s "
           f"after the server's return (limit {RETURN_LIMIT} s)",
           resync_seconds=sorted(round(x, 3) for x in delays))


async def test_network_cut_while_the_queue_moves_resyncs_to_the_current_state(harness):
    proxy = await NetProxy("127.0.0.1", harness.port).start()
    display = Device(proxy.url()).start()
    await until(lambda: display.snapshots, what="first snapshot")
    kiosk = await harness.kiosk()
    clerk = await harness.clerk("lan", 1)

    proxy.cut()
    await until(lambda: display.status == "offline", what="offline")
    with pytest.raises(Offline):
        await display.connection.request(p.Ping())
    # The centre goes on without the display: tickets issued and called meanwhile.
    for i in range(3):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"cut-{i:05d}"})
    called = await clerk.request({"type": "call_next"})
    proxy.restore()
    back = time.monotonic()
    await until(lambda: len(display.snapshots) == 2, timeout=10, what="fresh snapshot")
    assert display.snapshots[1][0] - back <= RETURN_LIMIT + SLACK
    assert display.counters[1].active_number == called["ticket"]["number"]
    assert called["ticket"]["id"] in display.tickets  # a display's snapshot holds called tickets
    assert display.snapshots[1][1].recent_calls[-1].number == called["ticket"]["number"]
    await display.stop()
    await proxy.close()
    for c in (kiosk, clerk):
        await c.close()


async def test_revoked_device_is_told_and_keeps_trying_calmly_until_readmitted(harness, record_attempts):
    kiosk = Device(harness.url, token=KIOSK_TOKEN).start()
    await until(lambda: kiosk.snapshots, what="first snapshot")
    original = harness.config
    site = original.sites[0]
    revoked = msgspec.structs.replace(
        original, sites=[msgspec.structs.replace(site, kiosks=site.kiosks[1:]), *original.sites[1:]])
    await harness.restart(revoked)  # the kiosk removed from the settings (xephang config import)
    await until(lambda: kiosk.status == "rejected", what="rejected")
    detail = next(d for _, s, d in reversed(kiosk.statuses) if s == "rejected")
    assert detail == "Mã thiết bị không hợp lệ hoặc đã bị thu hồi"
    # It keeps trying, but at the capped pace, not in a tight loop.
    await until(lambda: sum(s == "rejected" for _, s, _ in kiosk.statuses) >= 2, timeout=10,
                what="a second refusal")
    times = record_attempts[harness.url][-2:]
    assert times[1] - times[0] >= BACKOFF_MAX * 0.9
    await harness.restart(original)
    await until(lambda: kiosk.status == "online" and len(kiosk.snapshots) >= 2, timeout=10, what="readmitted")
    await kiosk.stop()


async def test_request_in_flight_when_the_link_dies_fails_fast(harness):
    """A request whose reply can never come (link dead mid-request) raises Offline at once,
    not after the 10 s request timeout."""
    proxy = await NetProxy("127.0.0.1", harness.port).start()
    display = Device(proxy.url()).start()
    await until(lambda: display.status == "online", what="online")
    proxy.blackhole()  # the ping goes nowhere...
    pending = asyncio.create_task(display.connection.request(p.Ping()))
    await asyncio.sleep(0.2)
    assert not pending.done()
    proxy.cut()  # ...then the link is reset
    started = time.monotonic()
    with pytest.raises(Offline):
        await pending
    assert time.monotonic() - started < 1.0
    proxy.restore()
    await until(lambda: display.status == "online" and len(display.snapshots) == 2, timeout=10,
                what="back online")
    await display.stop()
    await proxy.close()


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.skipif(__import__("os").environ.get("XEPHANG_SLOW") != "1", reason="slow: set XEPHANG_SLOW=1")
async def test_half_dead_network_is_detected_by_keepalive(harness):
    """No RST, no FIN: only the websocket keepalive (10 s ping, 10 s timeout) notices."""
    proxy = await NetProxy("127.0.0.1", harness.port).start()
    display = Device(proxy.url()).start()
    await until(lambda: display.status == "online", what="online")
    proxy.blackhole()
    took = await until(lambda: display.status == "offline", timeout=30, what="offline")
    assert took <= 10 + 10 + 2 + 1  # ping interval + ping timeout + close timeout
    proxy.restore()
    await until(lambda: display.status == "online" and len(display.snapshots) == 2, timeout=10,
                what="back online")
    await display.stop()
    await proxy.close()
