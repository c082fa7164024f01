"""Findings of the security probe (issue 11) that live in the server's own guards: each test
failed before its fix. See docs/reliability.md, "Security probe"."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

import server.connections
from common.config import Config
from server.web.html import script_data
from tests.helpers import KIOSK_TOKEN, PASSWORD, RawClient, example_config
from tests.test_past_ratings import issue_and_serve, roll_over_to, token_of
from tests.test_web_pages import get


def test_page_data_cannot_end_or_comment_its_script_block():
    hostile = "</script><!--<script>&amp;\u2028\u2029>"
    block = script_data("d", {"next": hostile, "note": hostile})
    inner = re.fullmatch(r'<script type="application/json" id="d">(.*)</script>', block, re.S)
    assert inner is not None
    text = inner.group(1)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == {"next": hostile, "note": hostile}


# -- the server: a real one on 127.0.0.1 (tests/conftest.py), real websocket clients --------

def with_server(**settings) -> Config:
    config = example_config(human_pace="kiosk_issues_per_minute" not in settings)
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, **settings))


async def client_from(url: str, address: str, path: str = "/ws", *,
                      forwarded_for: str | None = None) -> RawClient:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
    return RawClient(await connect(url.removesuffix("/ws") + path, max_size=None, local_addr=(address, 0),
                                   additional_headers=headers))


async def watch_from(harness, token: str, address: str, path: str = "/ws") -> tuple[RawClient, dict]:
    phone = await client_from(harness.url, address, path)
    await phone.request({"type": "watch_ticket", "v": 1, "token": token}, expect="welcome")
    return phone, await phone.next_of("ticket_status")


async def status_until(phone: RawClient, state: str) -> dict:
    """The phone's next ``ticket_status`` with the ticket in ``state``."""
    while True:
        status = await phone.next_of("ticket_status")
        if status["ticket"]["state"] == state:
            return status


async def closed(client: RawClient, timeout: float = 5.0) -> tuple[int | None, str | None]:
    await asyncio.wait_for(client.ws.wait_closed(), timeout)
    return client.ws.close_code, client.ws.close_reason


# Finding 1: one old ticket let one address hold thousands of connections.

@pytest.mark.asyncio
async def test_an_earlier_days_ticket_has_the_same_watcher_bound(harness):
    from server.handlers.watching import MAX_WATCHERS_PER_TICKET

    issued = await issue_and_serve(harness, 1, served=1)
    await roll_over_to(harness, 2026, 11, 26, 7, 30)
    token = token_of(issued[0])
    assert token not in harness.server.writer.tokens  # an earlier day's: only the database knows it
    phones = [(await watch_from(harness, token, "127.0.1.1"))[0] for _ in range(MAX_WATCHERS_PER_TICKET + 3)]
    for phone in phones[:3]:
        assert await closed(phone) == (1008, "followed on another device")
    for phone in phones[3:]:
        assert phone.ws.close_code is None
        await phone.close()


@pytest.mark.asyncio
async def test_a_finished_tickets_phone_is_let_go_once_it_has_nothing_to_hear(harness, monkeypatch):
    monkeypatch.setattr(server.connections, "FINISHED_WATCH_SECONDS", 1.5)  # the rating's time, shortened
    issued = await issue_and_serve(harness, 3, served=2)
    # Finished and rated: nothing more can happen to it; the phone is closed normally.
    rated, status = await watch_from(harness, token_of(issued[0]), "127.0.1.2")
    assert status["ticket"]["state"] == "done"
    assert (await rated.request({"type": "rate", "value": 4}))["ticket"]["rating"] == 4
    assert await closed(rated) == (1000, "ticket finished")
    # Finished, not rated: kept for the rating's time, then closed.
    waiting_for_rating, _ = await watch_from(harness, token_of(issued[1]), "127.0.1.2")
    await asyncio.sleep(0.5)
    assert waiting_for_rating.ws.close_code is None
    assert await closed(waiting_for_rating) == (1000, "ticket finished")
    # Still waiting: followed as long as it takes; cancelled by a clerk: let go at once.
    waiting, status = await watch_from(harness, token_of(issued[2]), "127.0.1.3")
    assert status["ticket"]["state"] == "waiting"
    await asyncio.sleep(2)
    assert waiting.ws.close_code is None
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "cancel_ticket", "number": issued[2]["ticket"]["number"], "reason": "trùng"})
    await status_until(waiting, "cancelled")
    assert await closed(waiting) == (1000, "ticket finished")
    await clerk.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("config", [with_server(max_public_connections_per_address=4)])
async def test_connections_not_logged_in_are_bounded_per_address(harness):
    server_ = harness.server
    idle = [await client_from(harness.url, "127.0.2.1") for _ in range(4)]
    with pytest.raises(InvalidStatus) as refused:
        await client_from(harness.url, "127.0.2.1")
    assert refused.value.response.status_code == 429
    other = await client_from(harness.url, "127.0.2.2")  # another address is not affected
    # A kiosk that logs in no longer counts: the address has room again.
    await idle[0].request({"type": "login_device", "v": 1, "token": KIOSK_TOKEN}, expect="welcome")
    await idle[0].next_of("snapshot")
    extra = await client_from(harness.url, "127.0.2.1")
    assert server_.connections.public_connections["127.0.2.1"] == 4
    for client in [*idle, other, extra]:
        await client.close()
    for _ in range(100):
        if not server_.connections.public_connections:
            break
        await asyncio.sleep(0.02)
    assert dict(server_.connections.public_connections) == {}


@pytest.mark.asyncio
@pytest.mark.parametrize("config", [with_server(max_public_connections_per_address=2,
                                                trusted_proxies=["127.0.9.1"])])
async def test_behind_a_trusted_proxy_the_bound_is_per_phone(harness):
    proxy = "127.0.9.1"
    phones = [await client_from(harness.url, proxy, forwarded_for="198.51.100.1") for _ in range(2)]
    with pytest.raises(InvalidStatus):
        await client_from(harness.url, proxy, forwarded_for="10.9.9.9, 198.51.100.1")  # the proxy's entry
    phones.append(await client_from(harness.url, proxy, forwarded_for="198.51.100.2"))
    # Anyone else's X-Forwarded-For is ignored: it cannot dodge the bound by naming others.
    spoofer = [await client_from(harness.url, "127.0.9.2", forwarded_for=f"203.0.113.{i}") for i in range(2)]
    with pytest.raises(InvalidStatus):
        await client_from(harness.url, "127.0.9.2", forwarded_for="203.0.113.99")
    for client in [*phones, *spoofer]:
        await client.close()


# Finding 2: a copied kiosk token issued 60 tickets in 0.1 s and emptied a daily cap.

@pytest.mark.asyncio
@pytest.mark.parametrize("config", [example_config(human_pace=True)])
async def test_a_kiosk_cannot_issue_faster_than_a_person(harness, caplog):
    burst = harness.config.server.kiosk_issue_burst
    kiosk = await harness.kiosk()
    copy = await harness.kiosk()  # the same device token on a second connection
    issued = [await kiosk.request({"type": "issue_ticket", "service": "TP",
                                   "idempotency_key": f"pace-{i:03d}"}) for i in range(burst)]
    with caplog.at_level(logging.WARNING, logger="server.handlers.kiosk"):
        refused = await copy.error({"type": "issue_ticket", "service": "TP", "idempotency_key": "pace-extra"})
    assert refused["code"] == "issuing_too_fast" and refused["message_en"].startswith("Please wait")
    assert any("kiosk-sanh-1" in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    # A retry of an issued key is answered with its ticket, not counted.
    again = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "pace-000"})
    assert again["ticket"]["id"] == issued[0]["ticket"]["id"]
    other = await harness.kiosk("sG82Nwe9UjlW9ZZvLYsKkzfW")  # kiosk-sanh-2 has its own pace
    await other.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "other-001"})
    tickets = harness.server.states["tinh"].tickets
    assert len(tickets) == burst + 1
    for client in (kiosk, copy, other):
        await client.close()


# Finding 6: the phone's status carried the clerk, the hold note, the cancel reason, the dossier.

STAFF_FIELDS = ("clerk", "dossier_code", "outcome")


@pytest.mark.asyncio
async def test_watchers_get_only_what_the_ticket_page_shows(harness):
    kiosk = await harness.kiosk()
    issued = [await kiosk.request({"type": "issue_ticket", "service": "TP",
                                   "idempotency_key": f"public-{i:03d}"}) for i in range(2)]
    phone, status = await watch_from(harness, token_of(issued[0]), "127.0.3.1")
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "call_next"})
    await clerk.request({"type": "hold", "note": "Bản sao CCCD"})
    held = await status_until(phone, "held")
    assert held["ticket"]["state"] == "held" and held["ticket"]["note"] == "Bản sao CCCD"  # shown
    assert held["ticket"]["clerk"] is None
    await clerk.request({"type": "resume_held", "number": issued[0]["ticket"]["number"]})
    await clerk.request({"type": "start_service"})
    await clerk.request({"type": "finish", "outcome": "received",
                         "dossier_code": "000.00.31.H42-261125-0001"})
    status = await status_until(phone, "done")
    assert all(status["ticket"][f] is None for f in (*STAFF_FIELDS, "note")), status["ticket"]
    rated = await phone.request({"type": "rate", "value": 4})
    assert rated["ticket"]["rating"] == 4
    assert all(rated["ticket"][f] is None for f in (*STAFF_FIELDS, "note")), rated["ticket"]
    page = await get(harness, f"/t/{token_of(issued[0])}")
    for secret in ('"lan"', "000.00.31.H42", "Bản sao CCCD", '"received"'):
        assert secret not in page.text, secret
    # A cancel reason is the staff's too.
    other, _ = await watch_from(harness, token_of(issued[1]), "127.0.3.2")
    await clerk.request({"type": "cancel_ticket", "number": issued[1]["ticket"]["number"],
                         "reason": "Công dân có hành vi gây rối"})
    cancelled = await status_until(other, "cancelled")
    assert cancelled["ticket"]["note"] is None
    for client in (kiosk, phone, clerk, other):
        await client.close()


@pytest.mark.asyncio
async def test_the_public_websocket_path_follows_tickets_and_refuses_logins(harness):
    kiosk = await harness.kiosk()
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "public-path"})
    phone, status = await watch_from(harness, token_of(issued), "127.0.4.1", path="/ws/public")
    assert status["ticket"]["number"] == issued["ticket"]["number"]
    assert (await phone.request({"type": "ping"}, expect="pong"))["type"] == "pong"
    for login in ({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD},
                  {"type": "login_device", "v": 1, "token": KIOSK_TOKEN}):
        outsider = await client_from(harness.url, "127.0.4.2", path="/ws/public")
        refused = await outsider.error(login)
        assert refused["code"] == "public_endpoint"
        await outsider.close()
    for client in (kiosk, phone):
        await client.close()


# Finding 7: a lockout by account alone, and an unbounded queue of password checks.

async def login_from(harness, address: str, username: str, password: str) -> dict:
    """The server's reply (welcome or error) to one login from ``address``."""
    client = await client_from(harness.url, address)
    try:
        await client.send_raw(json.dumps(
            {"type": "login", "id": "l", "v": 1, "username": username, "password": password}))
        while True:
            reply = await client.recv(timeout=30)
            if reply.get("re") == "l":
                return reply
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_wrong_passwords_from_elsewhere_do_not_lock_a_clerk_out_of_their_pc(harness):
    for _ in range(8):
        reply = await login_from(harness, "127.0.5.66", "lan", "doan-mo")
        assert reply["code"] in ("bad_credentials", "throttled")
    assert reply["code"] == "throttled"
    assert (await login_from(harness, "127.0.5.1", "lan", PASSWORD))["type"] == "welcome"


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The passwords the server checks, in the order the checks start."""
    import server.handlers.logins

    checks: list[str] = []
    real_verify = server.handlers.logins.verify_password

    def counted(password: str, stored: str) -> bool:
        checks.append(password)
        return real_verify(password, stored)

    monkeypatch.setattr(server.handlers.logins, "verify_password", counted)
    return checks


async def wrong_logins(harness, addresses: list[str]) -> tuple[list[RawClient], list[asyncio.Task]]:
    """One wrong login from each of ``addresses``, all at once (replies still to come)."""
    attackers = [await client_from(harness.url, address) for address in addresses]
    replies = [asyncio.create_task(a.request(
        {"type": "login", "v": 1, "username": f"ten-bia-{i}", "password": f"doan-{i}"}, expect="error",
        timeout=60)) for i, a in enumerate(attackers)]
    return attackers, replies


@pytest.mark.asyncio
async def test_a_flood_of_logins_never_queues_password_checks_ahead_of_a_known_clerk(
        harness, password_checks):
    checks = password_checks
    assert (await login_from(harness, "127.0.6.1", "hung", PASSWORD))["type"] == "welcome"  # her PC
    checks.clear()
    attackers, replies = await wrong_logins(harness, [f"127.0.7.{1 + i % 100}" for i in range(200)])
    while len(checks) < 4:  # the flood is being checked
        await asyncio.sleep(0.01)
    before = len(checks)
    assert (await login_from(harness, "127.0.6.1", "hung", PASSWORD))["type"] == "welcome"
    ahead = checks.index(PASSWORD) - before
    codes = [r["code"] for r in await asyncio.gather(*replies)]
    # In one queue all 200 checks would run before the clerk's, on the two password threads;
    # her PC is known, so her check is the next to start: at most the two running finish first
    # (and a few more start while her login travels).
    assert ahead <= 6, f"{ahead} password checks started while the clerk waited"
    # Every attempt is answered; past 60 failures a minute (or 1,000 waiting) the rest are
    # refused unchecked.
    assert codes.count("bad_credentials") == len(checks) - 1  # all but the clerk's check
    assert set(codes) <= {"bad_credentials", "throttled", "login_busy"} and len(codes) == 200
    for attacker in attackers:
        await attacker.close()


@pytest.mark.asyncio
async def test_a_first_login_waits_for_one_check_per_flooding_address_not_for_the_flood(
        harness, password_checks):
    """A clerk at a PC the server does not know yet (say, after a restart), while two addresses
    each fire 20 wrong logins: her check waits for one of each address's, not for all 40."""
    checks = password_checks
    attackers, replies = await wrong_logins(harness, [f"127.0.10.{1 + i % 2}" for i in range(40)])
    while len(checks) < 2:
        await asyncio.sleep(0.01)
    before = len(checks)
    assert (await login_from(harness, "127.0.10.9", "hung", PASSWORD))["type"] == "welcome"
    ahead = checks.index(PASSWORD) - before
    assert ahead <= 6, f"{ahead} password checks started while the clerk waited"
    assert {r["code"] for r in await asyncio.gather(*replies)} == {"bad_credentials"}
    for attacker in attackers:
        await attacker.close()


def test_past_a_server_wide_failure_rate_only_known_addresses_get_password_checks():
    from concurrent.futures import ThreadPoolExecutor

    from common.errors import Rejected
    from server.login_guard import GLOBAL_FAILURES_PER_MINUTE, LoginGuard

    now = [1000.0]
    guard = LoginGuard(ThreadPoolExecutor(1), clock=lambda: now[0])
    guard.end(guard.begin("hung", "10.1.0.5"), ok=True)  # her counter PC: known from now on
    for i in range(GLOBAL_FAILURES_PER_MINUTE):  # a guessing run, a new address each time
        guard.end(guard.begin(f"ten-{i}", f"203.0.113.{i % 250}"), ok=False)
    with pytest.raises(Rejected) as refused:
        guard.begin("lan", "198.51.100.7")
    assert refused.value.code == "throttled" and 1 <= refused.value.params["seconds"] <= 61
    guard.end(guard.begin("hung", "10.1.0.5"), ok=True)  # the known PC is still checked
    now[0] += 61  # a quiet minute later everyone is checked again
    guard.end(guard.begin("lan", "198.51.100.7"), ok=True)


# Finding 10: failed logins, lockouts, bad device tokens and manager sessions left no trace.

@pytest.mark.asyncio
async def test_logins_leave_an_audit_trail_without_secrets(harness, caplog):
    caplog.set_level(logging.INFO, logger="xephang.audit")
    for _ in range(5):
        await login_from(harness, "127.0.8.1", "lan", "mat-khau-sai")
    assert (await login_from(harness, "127.0.8.1", "lan", "mat-khau-sai"))["code"] == "throttled"
    device = await client_from(harness.url, "127.0.8.2")
    assert (await device.error({"type": "login_device", "v": 1, "token": "khong-phai-ma-nay-12345"}))[
        "code"] == "bad_token"
    await device.close()
    manager = await client_from(harness.url, "127.0.8.3")
    await manager.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                           "web_session": True}, expect="welcome")
    await manager.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "xephang.audit"]
    assert sum("failed login of 'lan' from 127.0.8.1" in line for line in lines) == 5
    assert any("'lan'" in line and "127.0.8.1" in line and "throttled" in line for line in lines)
    assert any("bad device token from 127.0.8.2" in line for line in lines)
    assert any("giamdoc" in line and "127.0.8.3" in line and "web session" in line for line in lines)
    # A name nobody has is not logged: it is often a password typed one field too early.
    assert (await login_from(harness, "127.0.8.4", "Matkhau2026!", "lan"))["code"] == "bad_credentials"
    lines = [r.getMessage() for r in caplog.records if r.name == "xephang.audit"]
    assert any("failed login of an unknown username from 127.0.8.4" in line for line in lines)
    every = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("mat-khau-sai", PASSWORD, "khong-phai-ma-nay-12345", "Matkhau2026!"):
        assert secret not in every


def test_the_demos_simulated_kiosk_may_fill_a_morning_queue_at_once():
    """The demo's traffic bot issues a morning's crowd in seconds: its configuration lifts the
    human pace that the example (and every real centre) keeps."""
    from common.assets import asset_path
    from common.config import parse_config
    from xephang.demo import demo_config_text

    example = asset_path("config", "example.toml").read_text("utf-8")
    demo = parse_config(demo_config_text(example, 9999), "demo.toml")
    assert demo.server.port == 9999 and demo.server.kiosk_issue_burst >= 28  # the bot's first burst
    assert parse_config(example, "example.toml").server.kiosk_issue_burst == 6
