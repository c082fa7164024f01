"""Hostile clients in numbers, and the access-control guarantees behind the login screens.

Against a server PROCESS (so its memory can be measured from /proc): 2,000 connections
that never log in are closed after the authentication timeout (shortened to 3 s here by
tests/reliability/launch.py), 20 connections flooding at once are rate-limited then closed
with 1008, 300 slowloris connections are dropped by the handshake timeout, while a canary
kiosk and clerk keep working. Two more rounds with all three at once must leave no connection
objects behind in the server, nor grow its memory.

Access control: scrypt hashes, failed-login throttling across reconnects and across
usernames, unguessable and revocable tokens, no SQL built from input, manager pages behind
a login.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from pathlib import Path

import pytest

from common.assets import asset_path
from common.config import load_config, parse_config
from common.passwords import N, hash_password, verify_password
from server import connections as server_connections
from server.handlers.kiosk import TicketTokens
from tests.helpers import KIOSK_TOKEN, PASSWORD
from tests.reliability import report_plugin
from tests.reliability.config_gen import always_open_config
from tests.reliability.fuzz import Canary
from tests.reliability.hostile import flooders, idle_connections, slowloris
from tests.reliability.server_process import ROOT, ServerProcess
from tests.reliability.sql_check import sql_offenders
from tests.reliability.web_probe import connect_from, follow, http_get, login_once

AUTH_TIMEOUT = 3.0
IDLE = 2000
FLOODERS, FLOOD_MESSAGES = 20, 1000
SLOW = 300
HANDSHAKE_TIMEOUT = 10.0  # websockets' default open_timeout, which the server keeps
MIB = 1024
ROUND_CONNECTIONS = IDLE + FLOODERS + SLOW
RSS: dict[str, int] = {}
CENSUS: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    report_plugin.pytest_configure(request.config)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile")
    proc = ServerProcess(always_open_config(workdir / "centre.toml"), workdir / "xephang.db",
                         env={"XEPHANG_TEST_AUTH_TIMEOUT": str(AUTH_TIMEOUT), "XEPHANG_TEST_CENSUS": "1"})
    with proc:
        yield proc


@pytest.fixture(scope="module")
def canary(server):
    bird = Canary(server.url)
    bird.start()
    deadline = time.monotonic() + 10
    while bird.ok["finish"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    RSS["baseline"] = server.rss_kib()
    CENSUS["baseline"] = server.census()
    yield bird
    bird.stop()


def _settled(server: ServerProcess, seconds: float = 20.0) -> dict[str, int]:
    """What the server holds beyond the canary's baseline, once it has finished closing (empty:
    nothing). A client sees its close frame before the server has run its handler's clean-up
    and the close handshake (close_timeout 5 s), so wait for that before counting."""
    deadline = time.monotonic() + seconds
    while True:
        now = server.census()
        excess = {k: v - CENSUS["baseline"][k] for k, v in now.items() if v > CENSUS["baseline"][k]}
        if not excess or time.monotonic() > deadline:
            return excess
        time.sleep(0.5)


def _processes_per_core() -> float:
    """Runnable processes per core over the last minute, at least 1: how much slower than
    on a machine of its own a CPU-bound stretch of the server runs now."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _canary_alive(canary: Canary) -> None:
    before = canary.ok["issue_ticket"]
    deadline = time.monotonic() + 10
    while canary.ok["issue_ticket"] < before + 3 and time.monotonic() < deadline and not canary.failures:
        time.sleep(0.02)
    assert not canary.failures, canary.failures
    assert canary.ok["issue_ticket"] >= before + 3, "the canary stalled"


@pytest.mark.timeout(180)
def test_thousands_of_idle_connections_are_closed_after_the_auth_timeout(server, canary):
    peak: list[int] = []

    async def run():
        task = asyncio.create_task(idle_connections(server.url, IDLE))
        while not task.done():
            peak.append(server.rss_kib())
            await asyncio.sleep(0.2)
        return await task

    outcome = asyncio.run(run())
    assert outcome.opened == IDLE, f"{outcome.failed_to_open} could not even connect"
    assert outcome.closes == {(1008, "authentication timeout"): IDLE}, outcome.closes
    assert outcome.seconds_to_close < AUTH_TIMEOUT + 30
    left = _settled(server)  # only the canary's connections remain
    assert not left, f"the server still holds closed connections: {left}"
    _canary_alive(canary)
    RSS["idle peak"] = max(peak)
    RSS["after idle"] = server.rss_kib()


@pytest.mark.timeout(120)
def test_many_flooders_are_rate_limited_then_closed_and_nobody_else_notices(server, canary):
    worst_before, load_before = canary.worst_ms / 1000, _processes_per_core()
    started = time.monotonic()
    outcome = asyncio.run(flooders(server.url, FLOODERS, FLOOD_MESSAGES))
    during = canary.latencies_between(started, time.monotonic())
    load = max(load_before, _processes_per_core())
    assert outcome.closes == {(1008, "flooding"): FLOODERS}, outcome.closes
    assert outcome.replies["rate_limited"] == FLOODERS * server_connections.FLOOD_CLOSE_AFTER
    assert set(outcome.replies) == {"pong", "rate_limited"}
    _canary_alive(canary)
    # The canary's rounds that overlapped the flood (each ~3 commits, paced to 0.1 s). A
    # flooder's queued messages are handled without yielding to other connections, so extra
    # work per message shows as one long stall of the canary: 0.5 ms per refused message
    # stalled it 3.8 s, where the real server's worst is 35-160 ms. A stall stretches with the
    # processes sharing each core (one of 2 s was seen while other test runs shared the
    # machine), so the 2 s bound and the 0.5 s median scale with that number.
    slow = [f"{1000 * s:.0f}" for s in during]
    assert during, "the canary did not get a round in during the flood"
    report_plugin.record("flood", f"{FLOODERS} flooders closed after {outcome.seconds_to_close:.1f} s; the "
                         f"canary's {len(during)} rounds meanwhile took {slow[len(slow) // 2]} ms (median), "
                         f"{slow[-1]} ms at worst; {load:.1f} processes a core", canary_rounds_ms=slow)
    seen = f"canary rounds during the flood (ms): {slow}; {load:.1f} processes a core"
    assert during[len(during) // 2] < 0.5 * load, seen
    assert during[-1] < max(2.0 * load, worst_before), seen
    RSS["after flood"] = server.rss_kib()


@pytest.mark.timeout(120)
def test_slowloris_half_open_requests_are_dropped_by_the_handshake_timeout(server, canary):
    outcome = asyncio.run(slowloris(server.port, SLOW, timeout=HANDSHAKE_TIMEOUT + 15))
    assert outcome.opened == SLOW
    assert outcome.closes["still open"] == 0, outcome.closes
    assert sum(outcome.closes.values()) == SLOW
    assert outcome.seconds_to_close < HANDSHAKE_TIMEOUT + 10
    _canary_alive(canary)
    RSS["after slowloris"] = server.rss_kib()


@pytest.mark.timeout(120)
def test_one_ticket_cannot_hold_more_than_a_few_watching_connections(server, canary):
    """A ticket's QR token is seen by whoever sees the paper; 300 connections watching it
    must not all stay: the oldest give way, the newest five follow the ticket."""
    from server.handlers.watching import MAX_WATCHERS_PER_TICKET

    async def run():
        kiosk = await connect_from(server.url, "127.0.20.1")
        await kiosk.send(json.dumps({"type": "login_device", "v": 1, "token": KIOSK_TOKEN, "id": 0}))

        async def issue(key: str) -> dict:
            await kiosk.send(json.dumps({"type": "issue_ticket", "service": "XD", "idempotency_key": key,
                                         "id": key}))
            while True:
                reply = json.loads(await kiosk.recv())
                if reply.get("re") == key:
                    return reply

        token = (await issue("watched-ticket"))["url"].rsplit("/t/", 1)[1]
        watchers = []
        for i in range(300):
            ws = await connect_from(server.url, f"127.0.21.{1 + i % 250}")
            await ws.send(json.dumps({"type": "watch_ticket", "v": 1, "token": token, "id": 1}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            assert json.loads(await ws.recv())["type"] == "ticket_status"
            watchers.append(ws)
        started = time.monotonic()
        await issue("behind-the-watched")  # same service: every watcher is told
        latency = time.monotonic() - started
        open_ones = watchers[-MAX_WATCHERS_PER_TICKET:]
        for ws in open_ones:
            status = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert status["type"] == "ticket_status"
        for ws in watchers[:-MAX_WATCHERS_PER_TICKET]:
            await asyncio.wait_for(ws.wait_closed(), 10)
            assert (ws.close_code, ws.close_reason) == (1008, "followed on another device")
        for ws in [*open_ones, kiosk]:
            await ws.close()
        return latency

    latency = asyncio.run(run())
    assert latency < 1.0
    _canary_alive(canary)


async def _everything(server: ServerProcess, round_number: int):
    prefix = f"127.{10 + round_number}."
    return await asyncio.gather(
        idle_connections(server.url, IDLE, source_prefix=prefix + "1."),
        flooders(server.url, FLOODERS, FLOOD_MESSAGES, source_prefix=prefix + "2."),
        slowloris(server.port, SLOW, timeout=HANDSHAKE_TIMEOUT + 15, source_prefix=prefix + "3."),
    )


@pytest.mark.timeout(300)
def test_repeated_rounds_of_all_of_it_at_once_do_not_grow_memory(server, canary):
    """After each round (all three loads at once) the server must hold no object of a closed
    connection: counted exactly (launch.py's census), since RSS cannot show a small leak.

    RSS is a coarse second check: Python keeps freed memory for reuse, so a round's high-water
    mark stays in the RSS, and that mark depends on how many connections happened to be open
    at once, i.e. on the timing of the machine. Measured on a shared 2-core machine, the RSS
    after the first round ranged over 67-84 MiB from run to run, and grew by up to 10 MiB
    from the first round to the second in a run that leaked nothing. Leaking
    every connection of a round adds its full cost (~9 KiB each, ~20 MiB a round): the bound."""
    after = []
    for round_number in range(2):
        idle, flood, slow = asyncio.run(_everything(server, round_number))
        assert idle.closes == {(1008, "authentication timeout"): IDLE}, (idle.failed_to_open, idle.closes)
        assert flood.closes == {(1008, "flooding"): FLOODERS}, flood.closes
        assert slow.closes["still open"] == 0, slow.closes
        _canary_alive(canary)
        left = _settled(server)
        assert not left, f"round {round_number + 1}: the server still holds closed connections: {left}"
        after.append(server.rss_kib())
    RSS["after concurrent round 1"], RSS["after concurrent round 2"] = after
    growth_mib = (after[1] - after[0]) / MIB
    total_mib = (after[1] - RSS["baseline"]) / MIB
    report_plugin.record(
        "hostile clients",
        f"{IDLE} idle connections closed after the {AUTH_TIMEOUT:.0f} s auth timeout, {FLOODERS} flooders "
        f"closed with 1008, {SLOW} slowloris sockets dropped: one kind at a time, then all at once twice; "
        f"canary 0 failures (slowest round {canary.worst_ms:.0f} ms); server RSS {RSS['baseline'] / MIB:.0f} "
        f"MiB at rest, {RSS.get('idle peak', 0) / MIB:.0f} MiB with {IDLE} idle connections, "
        f"{after[0] / MIB:.0f} MiB after a round of all at once, {after[1] / MIB:.0f} MiB after a second "
        f"({growth_mib:+.1f} MiB)",
        rss_kib=dict(RSS), canary=dict(canary.ok), canary_worst_ms=round(canary.worst_ms))
    # What one connection costs the server, from the idle test: 2,000 open at once measured
    # 15-24 MiB over the baseline, the lower figures where the machine was too busy to have all
    # of them open at once before the first were closed; so at least 9 KiB.
    per_connection_kib = max(9.0, (RSS.get("idle peak", 0) - RSS["baseline"]) / IDLE)
    leak_mib = ROUND_CONNECTIONS * per_connection_kib / MIB
    assert growth_mib < leak_mib, (
        f"memory grew {growth_mib:.1f} MiB in an identical second round, as much as leaking all its "
        f"{ROUND_CONNECTIONS} connections ({leak_mib:.0f} MiB): {RSS}")
    assert total_mib < 120, f"memory grew {total_mib:.1f} MiB over the hostile rounds: {RSS}"
    errors = server.log_entries("error", "critical", "unparsed")
    assert not errors, errors[:3]


@pytest.mark.slow
@pytest.mark.timeout(0)
@pytest.mark.skipif(os.environ.get("XEPHANG_SLOW") != "1", reason="long run: set XEPHANG_SLOW=1")
def test_memory_plateaus_over_many_rounds(server, canary):
    rounds = int(os.environ.get("XEPHANG_HOSTILE_ROUNDS", "6"))
    after = []
    for round_number in range(rounds):
        idle, flood, slow = asyncio.run(_everything(server, 2 + round_number))
        assert idle.closes == {(1008, "authentication timeout"): IDLE}
        assert flood.closes == {(1008, "flooding"): FLOODERS}
        assert slow.closes["still open"] == 0
        _canary_alive(canary)
        assert not _settled(server)
        after.append(server.rss_kib())
    growth_mib = (after[-1] - after[1]) / MIB
    report_plugin.record(
        "hostile clients (long)",
        f"{rounds} rounds of {IDLE} idle + {FLOODERS} flooding + {SLOW} slowloris connections at once: "
        f"RSS after each {', '.join(f'{a / MIB:.0f}' for a in after)} MiB; canary 0 failures",
        rss_kib_after_each_round=after)
    assert growth_mib < 12, f"memory kept growing: {[round(a / MIB, 1) for a in after]} MiB"


FROZEN_DISPLAY = """
import json, sys, time
from websockets.sync.client import connect
ws = connect(sys.argv[1], proxy=None, max_size=None)
ws.send(json.dumps({"type": "login_device", "v": 1, "token": "vpw-NmCfYqcryXDPG38uVUy5", "id": 1}))
print(json.loads(ws.recv())["type"], flush=True)
while True:
    ws.recv()
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.skipif(os.environ.get("XEPHANG_SLOW") != "1", reason="slow: set XEPHANG_SLOW=1")
def test_a_frozen_display_is_dropped_by_the_keepalive_and_slows_no_one(server, canary):
    """A hall display PC that hangs (here: its process is stopped with SIGSTOP) keeps its TCP
    connection but reads nothing; updates pile up for it alone until the server's keepalive
    (20 s ping, 20 s timeout) closes it. Everyone else carries on meanwhile."""
    import signal
    import subprocess
    import sys

    display = subprocess.Popen([sys.executable, "-c", FROZEN_DISPLAY, server.url], stdout=subprocess.PIPE,
                               text=True, cwd=ROOT)
    try:
        assert display.stdout.readline().strip() == "welcome"
        connections = server.health()["connections"]
        display.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        before = canary.ok["issue_ticket"]
        while server.health()["connections"] >= connections:
            assert time.monotonic() - started < 60, "the frozen display was never dropped"
            assert not canary.failures, canary.failures
            time.sleep(0.5)
        dropped_after = time.monotonic() - started
        assert dropped_after <= 20 + 20 + 5 + 5  # ping interval + ping timeout + close timeout
        assert canary.ok["issue_ticket"] > before + 50  # the centre went on meanwhile
        _canary_alive(canary)
    finally:
        display.send_signal(signal.SIGKILL)
        display.wait(10)
    report_plugin.record("frozen display", f"a SIGSTOPped display was dropped after {dropped_after:.0f} s "
                         "(20 s ping + 20 s timeout + 5 s close); the canary carried on")


# -- passwords ---------------------------------------------------------------------------------------

SCRYPT = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


def _scrypt_parts(stored: str) -> tuple[int, int, int, bytes, bytes]:
    m = SCRYPT.match(stored)
    assert m, f"not an scrypt hash: {stored[:20]}…"
    return (int(m[1]), int(m[2]), int(m[3]), base64.b64decode(m[4]), base64.b64decode(m[5]))


def test_passwords_are_stored_as_salted_scrypt_with_a_serious_cost():
    fresh = hash_password("mật khẩu của Lan")
    n, r, p, salt, digest = _scrypt_parts(fresh)
    assert (n, r, p) == (N, 8, 1) and n >= 2**14  # ~16 MiB of memory per guess
    assert len(salt) == 16 and len(digest) == 32
    assert hash_password("mật khẩu của Lan") != fresh  # a new salt every time
    assert verify_password("mật khẩu của Lan", fresh) and not verify_password("mat khau cua Lan", fresh)
    config = load_config(asset_path("config", "example.toml"))
    for user in config.users:
        n, r, p, salt, digest = _scrypt_parts(user.password_hash)
        assert n >= 2**14 and r >= 8 and len(salt) >= 16 and len(digest) >= 32, user.username
    assert "xephang" not in Path(asset_path("config", "example.toml")).read_text().split("password_hash")[1]
    started = time.perf_counter()
    verify_password("guess", fresh)
    assert time.perf_counter() - started > 0.005  # each guess costs real work


def test_a_plain_text_or_weak_hash_in_the_configuration_is_refused():
    text = Path(asset_path("config", "example.toml")).read_text(encoding="utf-8")
    first_hash = re.search(r'password_hash = "([^"]+)"', text)[1]
    for weak in ["xephang", "md5$abc", "scrypt$2$1$1$AAAA$AAAA", "scrypt$1024$1$1$!!$AAAA"]:
        with pytest.raises(Exception, match="password_hash"):
            parse_config(text.replace(first_hash, weak, 1))


# -- throttling across reconnects -----------------------------------------------------------------


async def test_failed_logins_are_throttled_across_reconnects(harness):
    for _ in range(5):
        reply = await login_once(harness.url, "127.0.0.1", "lan", "wrong-password")
        assert reply["code"] == "bad_credentials"
    reply = await login_once(harness.url, "127.0.0.1", "lan", PASSWORD)
    assert reply["code"] == "throttled" and 1 <= reply["details"]["seconds"] <= 300
    # The lock is on the account from that address: its owner at their own PC still logs in
    # (a lock on the account alone let anyone lock a clerk out; issue 11, finding 7).
    assert (await login_once(harness.url, "127.0.0.2", "lan", PASSWORD))["type"] == "welcome"
    # Other accounts are not locked out.
    assert (await login_once(harness.url, "127.0.0.3", "hung", PASSWORD))["type"] == "welcome"


async def test_spraying_many_usernames_from_one_address_is_throttled(harness):
    for i in range(20):
        reply = await login_once(harness.url, "127.0.0.9", f"user{i:02d}", "guess")
        assert reply["code"] == "bad_credentials"
    assert (await login_once(harness.url, "127.0.0.9", "hung", PASSWORD))["code"] == "throttled"
    assert (await login_once(harness.url, "127.0.0.10", "hung", PASSWORD))["type"] == "welcome"


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory):
    """The server with its real 20 s authentication timeout: on a loaded machine a clerk's
    login queued behind 20 password checks can take longer than the 3 s given above, and the
    server closes a connection still not logged in at the deadline, mid-check or not."""
    workdir = tmp_path_factory.mktemp("patient")
    with ServerProcess(always_open_config(workdir / "centre.toml"), workdir / "xephang.db") as proc:
        yield proc


def _password_check_seconds() -> float:
    """What one scrypt check costs on this machine now (the median of three)."""
    stored = hash_password("calibration")
    took = []
    for _ in range(3):
        started = time.perf_counter()
        verify_password("wrong", stored)
        took.append(time.perf_counter() - started)
    return sorted(took)[1]


@pytest.mark.timeout(120)
def test_a_burst_of_concurrent_wrong_logins_cannot_outrun_the_throttle(patient_server):
    """200 wrong logins sent at once from one address: each password check (scrypt) is slow,
    so a throttle that counts failures only after the check would let all 200 through and
    keep a real clerk waiting for seconds. At most 20 may be checked."""
    server = patient_server

    async def run():
        attackers = await asyncio.gather(*[connect_from(server.url, "127.0.30.1") for _ in range(200)])

        async def attempt(ws, i: int) -> str:
            await ws.send(json.dumps({"type": "login", "v": 1, "username": f"guess{i}", "password": "x",
                                      "id": 1}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("re") == 1:
                    await ws.close()
                    return reply.get("code", reply["type"])

        burst = [asyncio.create_task(attempt(ws, i)) for i, ws in enumerate(attackers)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        clerk = await login_once(server.url, "127.0.31.1", "hung", PASSWORD)
        waited = time.monotonic() - started
        return clerk, waited, [await task for task in burst]

    clerk, waited, codes = asyncio.run(run())
    check = _password_check_seconds()
    assert clerk["type"] == "welcome"
    assert codes.count("bad_credentials") <= 20 and codes.count("throttled") >= 180, sorted(set(codes))
    # Behind at most 20 checks on the server's 2 password threads the clerk waits for ~11
    # checks; behind 200, for ~100. 3 s on a quiet machine (a check takes ~30 ms); on a busy
    # one every check slows down alike, so the bound is 30 checks' time as measured here now.
    assert waited < max(3.0, 30 * check), f"a real clerk waited {waited:.1f} s behind the burst " \
        f"(one password check takes {1000 * check:.0f} ms here)"


async def test_successful_logins_do_not_use_up_the_address_budget(harness):
    for _ in range(25):  # a counter PC that reconnects often logs in again each time
        assert (await login_once(harness.url, "127.0.0.12", "hung", PASSWORD))["type"] == "welcome"


async def test_guessing_ticket_tokens_is_throttled(harness):
    client = await connect_from(harness.url, "127.0.0.11")
    codes = []
    for i in range(25):
        await client.send(json.dumps({"type": "watch_ticket", "v": 1, "token": f"guess{i:017d}", "id": i}))
        while True:
            reply = json.loads(await asyncio.wait_for(client.recv(), 10))
            if reply.get("re") == i:
                codes.append(reply["code"])
                break
    await client.close()
    assert set(codes[:20]) == {"ticket_not_found"}
    # After 20 misses the address is throttled for device logins too (the same counter).
    async with await connect_from(harness.url, "127.0.0.11") as ws:
        await ws.send(json.dumps({"type": "login_device", "v": 1, "token": KIOSK_TOKEN, "id": 1}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply["code"] == "throttled"


# -- tokens ---------------------------------------------------------------------------------------------

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def _bits(token: str) -> int:
    return len(token) * 6  # URL-safe base64: 6 bits a character


async def test_ticket_tokens_are_unguessable(harness):
    kiosk = await harness.kiosk()
    tokens = []
    for i in range(60):
        issued = await kiosk.request({"type": "issue_ticket", "service": "KQ",
                                      "idempotency_key": f"tok-{i:05d}"})
        tokens.append(issued["url"].rsplit("/t/", 1)[1])
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert URLSAFE.match(token) and _bits(token) >= 128, token
    # Not derived from the ticket: no shared prefixes as a counter or a clock would leave.
    assert len({t[:4] for t in tokens}) > 50
    tickets = TicketTokens()  # the kiosk handler's token source
    assert all(_bits(tickets.new()) >= 128 for _ in range(100))


def test_device_tokens_from_xephang_token_are_unguessable():
    import contextlib
    import io

    from server.cli_admin import main

    made = set()
    for _ in range(20):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["token"]) == 0
        token = out.getvalue().strip()
        assert URLSAFE.match(token) and _bits(token) >= 128
        made.add(token)
    assert len(made) == 20
    for site in load_config(asset_path("config", "example.toml")).sites:
        for device in [*site.kiosks, *site.displays]:
            assert _bits(device.token) >= 128, device.id


async def test_a_revoked_device_is_closed_at_once_and_stays_revoked(harness):
    kiosk = await harness.kiosk()  # kiosk-sanh-1 works, and stays connected
    site = harness.config.sites[0]
    manager = await harness.client()
    await manager.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                           "web_session": True}, expect="welcome")
    settings = await manager.request({"type": "read_settings"}, expect="settings")
    for device in ("kiosk-sanh-1", site.displays[0].id):
        key = f"device:tinh:{device}"
        await manager.request({"type": "admin_change", "base": settings["fingerprints"][key],
                               "change": {"kind": "device_revoke", "site": "tinh", "id": device}})
    closed = await asyncio.wait_for(kiosk.ws.wait_closed(), 1.0)  # within a second
    assert closed is None and kiosk.ws.close_code == 1008 and kiosk.ws.close_reason == "device revoked"
    await harness.restart()  # the database keeps it: the configuration file still names the kiosk
    client = await harness.client()
    refused = await client.error({"type": "login_device", "v": 1, "token": KIOSK_TOKEN})
    assert refused["code"] == "bad_token"
    assert refused["message_vi"] == "Mã thiết bị không hợp lệ hoặc đã bị thu hồi"
    refused = await client.error({"type": "login_device", "v": 1, "token": site.displays[0].token})
    assert refused["code"] == "bad_token"
    # The other kiosk is untouched.
    await client.request({"type": "login_device", "v": 1, "token": site.kiosks[1].token}, expect="welcome")
    await client.close()


# -- no SQL built from input ----------------------------------------------------------------------------

def test_no_sql_text_is_built_from_input():
    offenders = sql_offenders(ROOT)
    assert not offenders, "SQL built at run time (use ? parameters):\n" + "\n".join(offenders)
    # And the allowed names really come from the Ticket dataclass, not from anything else.
    store = (ROOT / "server" / "store.py").read_text(encoding="utf-8")
    for name in ("placeholders", "updates", "quoted"):
        assignment = re.search(rf"^\s+{name} = (.+)$", store, re.MULTILINE)
        assert assignment and "columns" in assignment[1], name
    assert "ticket_upsert_text(TICKET_COLUMNS) != _TICKET_UPSERT" in store
    assert "TICKET_COLUMNS = [f.name for f in dataclasses.fields(Ticket)]" in store


def test_the_sql_check_catches_text_built_from_a_message(tmp_path):
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "bad.py").write_text(
        'FIXED = "select * from tickets where number = ?"\n'
        "TABLES = {'a': 'tickets'}\n"
        "def good(db, m, kind):\n"
        "    table = TABLES[kind]\n"
        "    db.execute(FIXED, [m.number])\n"
        "    db.execute('select 1 from {t}'.format(t=table))\n"
        "def bad(db, m):\n"
        "    db.execute(f\"select * from tickets where number = '{m.number}'\")\n"
        "    db.execute('select * from tickets where number = ' + m.number)\n"
        "    db.execute('select * from %s' % m.table)\n"
        "    db.query('select {}'.format(m.number))\n"
        "    sql = 'select ' + m.column\n"
        "    db.execute(sql)\n")
    found = sql_offenders(tmp_path)
    assert len(found) == 5 and all(" in bad()" in f for f in found), found


def test_sql_injection_text_is_stored_verbatim(tmp_path):
    """Belt and braces: hostile text in every free-text field lands in the database as text."""
    import sqlite3

    from tests.reliability.crash_model import read_database

    hostile = "'); drop table tickets; --"

    async def run():
        from tests.helpers import FakeClock, ServerHarness, example_config, local_time

        h = ServerHarness(example_config(), tmp_path / "x.db", FakeClock(local_time(2026, 11, 25, 8, 0)))
        await h.start()
        kiosk = await h.kiosk()
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": hostile})
        clerk = await h.clerk("lan", 1)
        await clerk.request({"type": "call_next"})
        await clerk.request({"type": "hold", "note": hostile})
        await clerk.request({"type": "resume_held", "number": "A001"})
        await clerk.request({"type": "finish", "outcome": "received", "dossier_code": hostile})
        await clerk.request({"type": "pause_counter", "reason": hostile})
        await h.stop()

    asyncio.run(run())
    db = read_database(tmp_path / "x.db")
    (ticket,) = db["tickets"]
    assert ticket["idempotency_key"].endswith(hostile) and ticket["dossier_code"] == hostile
    assert ticket["note"] == hostile
    assert any(c["pause_reason"] == hostile for c in db["counters"])
    assert sqlite3.connect(tmp_path / "x.db").execute("pragma integrity_check").fetchone() == ("ok",)


# -- manager pages --------------------------------------------------------------------------------------


MANAGER_PATHS = [
    "/manager", "/manager/", "/manager/live", "/manager/api/overview", "/manager/report",
    "/manager/report?from=2026-11-01&to=2026-11-30&site=tinh", "/manager/export.csv", "/manager/export.xlsx",
    "/manager/session?code=forged-code-0000000000", "/manager/session",
]
FORGED = ["", "Cookie: session=forged; xephang_session=forged; sid=forged\r\n",
          "Authorization: Basic Z2lhbWRvYzp4ZXBoYW5n\r\n"]  # giamdoc:xephang, as HTTP basic auth


async def test_manager_pages_require_a_login(harness):
    if (await http_get(harness.port, "/manager/"))[0] == 404:
        pytest.skip("no /manager pages in this build yet (server/web/ is being written)")
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "mgr-00001"})
    for path in MANAGER_PATHS:
        for headers in FORGED:
            status, final, body = await follow(harness.port, path, headers)
            assert status in (401, 403) or (status == 200 and final.startswith("/manager/login")), (
                f"{path} with {headers!r} ended at {final}: HTTP {status}")
            assert b"A001" not in body, f"{path} leaked queue data before login"


def _cookie(found: dict[str, str]) -> str:
    return found.get("set-cookie", "").split(";", 1)[0]


async def test_only_managers_get_a_web_session_and_each_code_works_once(harness):
    from common import protocol as p

    if "web_session" not in p.Login.__struct_fields__:
        pytest.skip("the manager pages' login (login.web_session) is not in this build yet")
    client = await harness.client()
    refused = await client.error({"type": "login", "v": 1, "username": "lan", "password": PASSWORD,
                                  "web_session": True})
    assert refused["code"] == "forbidden"  # a clerk cannot open the manager pages
    welcome = await client.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                                    "web_session": True}, expect="welcome")
    code = welcome["web_code"]
    assert code and URLSAFE.match(code) and _bits(code) >= 128
    status, found, _ = await http_get(harness.port, f"/manager/session?code={code}&next=//evil.example/x")
    assert status in (302, 303)
    assert found["location"].startswith("/") and not found["location"].startswith("//")
    cookie = _cookie(found)
    assert cookie and "HttpOnly" in found["set-cookie"] and "SameSite=Strict" in found["set-cookie"]
    status, final, _ = await follow(harness.port, "/manager/", f"Cookie: {cookie}\r\n")
    assert status == 200 and final == "/manager/"
    # The code was spent: a second use (someone who saw the URL) gets the login page.
    status, final, _ = await follow(harness.port, f"/manager/session?code={code}")
    assert final.startswith("/manager/login")
    # A cookie value that was never issued is worthless.
    name, token = cookie.split("=", 1)
    forged = f"{name}={'y' if token[0] == 'x' else 'x'}{token[1:]}"  # one character changed, surely
    status, final, _ = await follow(harness.port, "/manager/", f"Cookie: {forged}\r\n")
    assert final.startswith("/manager/login") or status in (401, 403)
    await client.close()
