"""Device enrollment (server/pairing.py): a new kiosk shows a code, a manager approves it,
the kiosk gets its own credential and works; codes are single-use, expire and are bounded."""

from __future__ import annotations

import asyncio

import pytest

from server import connections as server_connections
from server.pairing import ALPHABET, CODE_LENGTH, CODE_SECONDS, PairingBusy, Pairings
from server.settings_store import audit_rows
from tests.test_admin_live import manager


def approval(code: str, device_id: str = "kiosk-tang-2") -> dict:
    return {"type": "admin_change", "base": None, "change": {
        "kind": "device_approve", "code": code, "site": "tinh", "id": device_id, "name": "Kiosk tầng 2",
        "printer": "tcp://127.0.0.1:9", "paper_width_mm": 58, "qr": "native"}}


@pytest.mark.asyncio
async def test_a_new_kiosk_is_paired_by_a_manager_and_issues_with_its_own_token(harness, monkeypatch):
    monkeypatch.setattr(server_connections, "AUTH_TIMEOUT", 0.2)
    device = await harness.client()
    shown = await device.request({"type": "pair_request", "v": 1, "kind": "kiosk"}, expect="pairing")
    assert len(shown["code"]) == CODE_LENGTH and set(shown["code"]) <= set(ALPHABET)
    await asyncio.sleep(0.4)  # past the login timeout: a device showing its code stays connected
    boss = await manager(harness)
    typed = shown["code"][:3].lower() + "-" + shown["code"][3:]  # as a person types it
    done = await boss.request(approval(typed))
    assert done["version"] >= 2
    paired = await device.next_of("paired", timeout=1.0)
    device_view = paired["device"]
    assert (device_view["id"], device_view["kind"], device_view["site"]) == ("kiosk-tang-2", "kiosk", "tinh")
    assert (device_view["printer"], device_view["paper_width_mm"], device_view["qr"]) == (
        "tcp://127.0.0.1:9", 58, "native")
    token = paired["token"]
    assert len(token) >= 22 and all(token != k.token for s in harness.config.sites for k in s.kiosks)
    await device.request({"type": "login_device", "v": 1, "token": token}, expect="welcome")
    issued = await device.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "paired-0001"})
    assert harness.server.states["tinh"].tickets[issued["ticket"]["id"]].issued_by == "kiosk-tang-2"
    again = await boss.error(approval(shown["code"], "kiosk-tang-3"))
    assert again["code"] == "unknown_pairing_code"  # once only
    row = (await harness.server.read_db(audit_rows, None))[0]
    assert (row["action"], row["target"], row["after"]["token"]) == ("device.pair", "kiosk-tang-2", "•••")


@pytest.mark.asyncio
async def test_unknown_codes_and_taken_ids_are_refused(harness):
    boss = await manager(harness)
    assert (await boss.error(approval("ACDEFG")))["code"] == "unknown_pairing_code"
    device = await harness.client()
    shown = await device.request({"type": "pair_request", "v": 1, "kind": "display"}, expect="pairing")
    taken = await boss.error(approval(shown["code"], "kiosk-sanh-1"))
    assert taken["code"] == "device_id_taken"
    await device.close()
    await asyncio.sleep(0.05)
    gone = await boss.error(approval(shown["code"], "tv-tang-2"))
    assert gone["code"] == "unknown_pairing_code"  # its device went away: the code went with it


@pytest.mark.asyncio
async def test_one_address_cannot_farm_codes(harness):
    devices = [await harness.client() for _ in range(4)]
    for device in devices[:3]:
        await device.request({"type": "pair_request", "v": 1, "kind": "kiosk"}, expect="pairing")
    refused = await devices[3].error({"type": "pair_request", "v": 1, "kind": "kiosk"})
    assert refused["code"] == "pairing_busy"
    login = await devices[0].error({"type": "read_settings"})
    assert login["code"] == "not_authenticated"  # a device showing its code is nobody yet


def test_codes_expire_and_asking_again_replaces_the_code():
    now = [1000.0]
    pairings = Pairings(clock=lambda: now[0])
    connection = object()
    first = pairings.request("kiosk", "10.0.0.9", connection)
    second = pairings.request("kiosk", "10.0.0.9", connection)
    assert pairings.find(first.code) is None and pairings.find(second.code) is second
    now[0] += CODE_SECONDS + 1
    assert pairings.find(second.code) is None
    for _ in range(3):
        pairings.request("display", "10.0.0.9", object())
    with pytest.raises(PairingBusy):
        pairings.request("display", "10.0.0.9", object())
