"""Changing the centre's settings on a running server (issue 13): a real server, real
websocket clients, the changes sent as ``admin_change`` and checked where they show."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from server.settings_store import audit_rows
from tests.helpers import DISPLAY_TOKEN, PASSWORD, RawClient

pytestmark = pytest.mark.asyncio


async def manager(harness, username: str = "giamdoc") -> RawClient:
    client = await harness.client()
    await client.request({"type": "login", "v": 1, "username": username, "password": PASSWORD,
                          "web_session": True}, expect="welcome")
    return client


async def settings(client: RawClient) -> dict[str, Any]:
    return await client.request({"type": "read_settings"}, expect="settings")


async def change(client: RawClient, thing: str | None, change: dict[str, Any],
                 expect: str = "result") -> dict[str, Any]:
    current = await settings(client)
    base = current["fingerprints"][thing] if thing else None
    payload = {"type": "admin_change", "base": base, "change": change}
    return await (client.error(payload) if expect == "error" else client.request(payload))


def counter(harness, number: int, site: str = "tinh") -> dict[str, Any]:
    found = harness.server.config.site(site).counter(number)
    return msgspec.to_builtins(found)


async def test_a_new_notice_scrolls_on_the_board_within_a_second_and_survives_a_restart(harness):
    display = await harness.client()
    await display.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
    await display.next_of("snapshot")
    boss = await manager(harness)
    before = (await settings(boss))["version"]
    done = await change(boss, "site:tinh", {"kind": "notice", "site": "tinh",
                                            "notice": "Chiều nay nghỉ từ 16:00 để tập huấn"})
    assert done["version"] == before + 1
    pushed = await display.next_of("snapshot", timeout=1.0)
    assert pushed["site"]["notice"] == "Chiều nay nghỉ từ 16:00 để tập huấn"
    rows = await harness.server.read_db(audit_rows, None)
    assert (rows[0]["action"], rows[0]["actor"], rows[0]["site"]) == ("site.notice", "giamdoc", "tinh")
    assert rows[0]["after"] == {"notice": "Chiều nay nghỉ từ 16:00 để tập huấn"}
    await harness.restart()
    assert harness.server.config.site("tinh").notice == "Chiều nay nghỉ từ 16:00 để tập huấn"


async def test_a_new_clerk_logs_in_chooses_a_password_and_works_at_a_counter(harness):
    boss = await manager(harness)
    await change(boss, None, {"kind": "user", "username": "thu", "full_name": "Trần Thị Thu", "role": "clerk",
                              "sites": ["tinh"], "counters": [13], "password": "tam-thoi-2026"})
    clerk = await harness.client()
    welcome = await clerk.request({"type": "login", "v": 1, "username": "thu", "password": "tam-thoi-2026"},
                                  expect="welcome")
    assert welcome["must_change_password"] is True and welcome["counters"] == []
    refused = await clerk.error({"type": "select_counter", "site": "tinh", "counter": 13})
    assert refused["code"] == "password_change_required"
    short = await clerk.error({"type": "change_password", "old_password": "tam-thoi-2026",
                               "new_password": "x"})
    assert short["code"] == "password_too_short"
    welcome = await clerk.request({"type": "change_password", "old_password": "tam-thoi-2026",
                                   "new_password": "mat-khau-cua-thu"}, expect="welcome")
    assert welcome["must_change_password"] is False and [c["number"] for c in welcome["counters"]] == [13]
    await clerk.request({"type": "select_counter", "site": "tinh", "counter": 13})
    await clerk.close()
    again = await harness.client()
    await again.request({"type": "login", "v": 1, "username": "thu", "password": "mat-khau-cua-thu"},
                        expect="welcome")
    actions = [r["action"] for r in await harness.server.read_db(audit_rows, None)]
    assert actions[:2] == ["user.password_change", "user.add"]
    rows = await harness.server.read_db(audit_rows, None)
    assert rows[1]["after"]["password_hash"] == "•••"  # never a hash in the audit log


async def test_a_counter_moved_to_another_service_calls_it_from_its_next_call(harness):
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "DD", "idempotency_key": "moved-0001"})
    clerk = await harness.clerk("lan", 1)
    assert (await clerk.error({"type": "call_next"}))["code"] == "queue_empty"  # counter 1 serves TP only
    boss = await manager(harness)
    moved = {**counter(harness, 1), "services": ["DD"]}
    await change(boss, "counter:tinh:1", {"kind": "counter", "site": "tinh", "counter": moved})
    called = await clerk.request({"type": "call_next"})
    assert called["ticket"]["service"] == "DD" and called["ticket"]["counter"] == 1


async def test_a_stale_edit_is_refused_and_the_first_one_is_kept(harness):
    first, second = await manager(harness), await manager(harness)
    shown = await settings(second)  # the second manager's page, loaded before the first saves
    await change(first, "site:tinh", {"kind": "notice", "site": "tinh",
                                      "notice": "Thông báo của người thứ nhất"})
    late = await second.error({"type": "admin_change", "base": shown["fingerprints"]["site:tinh"],
                               "change": {"kind": "notice", "site": "tinh", "notice": "Thông báo thứ hai"}})
    assert late["code"] == "stale_edit" and "Tải lại trang" in late["message_vi"]
    assert harness.server.config.site("tinh").notice == "Thông báo của người thứ nhất"


async def test_a_site_manager_changes_only_their_site_and_its_clerks(harness):
    local = await manager(harness, "quanly.giavien")
    shown = await settings(local)
    assert [s["code"] for s in shown["config"]["sites"]] == ["giavien"]
    assert {u["username"] for u in shown["config"]["users"]} == {"nga", "thao"}
    assert not [k for k in shown["fingerprints"] if ":tinh" in k]
    other = await local.error({"type": "admin_change", "base": None, "change": {
        "kind": "notice", "site": "tinh", "notice": "x"}})
    assert other["code"] == "forbidden"
    boss = await local.error({"type": "admin_change", "base": None, "change": {
        "kind": "user", "username": "sep", "full_name": "Sếp", "role": "manager", "sites": ["giavien"],
        "password": "mat-khau-sep-1"}})
    assert boss["code"] == "forbidden"
    await change(local, "site:giavien", {"kind": "notice", "site": "giavien", "notice": "Xã Gia Viễn"})
    clerk = await harness.client()
    refused = await clerk.error({"type": "read_settings"})
    assert refused["code"] == "not_authenticated"


async def test_a_service_with_people_waiting_cannot_be_removed(harness):
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "KQ", "idempotency_key": "waiting-0001"})
    boss = await manager(harness)
    refused = await change(boss, "service:tinh:KQ", {"kind": "service_remove", "site": "tinh", "code": "KQ"},
                           expect="error")
    assert refused["code"] in ("service_in_use", "invalid_settings")
    assert harness.server.config.site("tinh").service("KQ") is not None


async def test_a_clerk_disabled_while_serving_is_signed_off_and_their_citizen_waits_on_hold(harness):
    kiosk = await harness.kiosk()
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "disable-0001"})
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "call_next"})
    boss = await manager(harness)
    lan = msgspec.to_builtins(harness.server.config.user("lan"))
    await change(boss, "user:lan", {"kind": "user", "username": "lan", "full_name": lan["full_name"],
                                    "role": "clerk", "sites": lan["sites"], "counters": lan["counters"],
                                    "disabled": True})
    await asyncio.wait_for(clerk.ws.wait_closed(), 1.0)
    assert clerk.ws.close_code == 1008
    for _ in range(100):
        state = harness.server.states["tinh"]
        if state.counters[1].status.value == "closed":
            break
        await asyncio.sleep(0.01)
    ticket = state.tickets[issued["ticket"]["id"]]
    assert state.counters[1].status.value == "closed" and ticket.state.value == "held"
    again = await harness.client()
    refused = await again.error({"type": "login", "v": 1, "username": "lan", "password": PASSWORD})
    assert refused["code"] == "account_disabled"


async def test_a_manager_page_s_websocket_logs_in_with_the_page_s_cookie(harness):
    from websockets.asyncio.client import connect

    from tests.test_web_pages import get, manager_cookie

    cookie = await manager_cookie(harness, "quanly.giavien")
    ws = await connect(harness.url, additional_headers={"Cookie": cookie})
    page = RawClient(ws)
    welcome = await page.request({"type": "web_login", "v": 1}, expect="welcome")
    assert welcome["role"] == "manager" and welcome["web_code"] is None
    assert [s["code"] for s in (await settings(page))["config"]["sites"]] == ["giavien"]
    stranger = await harness.client()  # no cookie
    assert (await stranger.error({"type": "web_login", "v": 1}))["code"] == "session_expired"
    boss = await manager(harness)
    local = msgspec.to_builtins(harness.server.config.user("quanly.giavien"))
    await change(boss, "user:quanly.giavien", {"kind": "user", "username": "quanly.giavien",
                                                "full_name": local["full_name"], "role": "manager",
                                                "sites": local["sites"], "disabled": True})
    await asyncio.wait_for(ws.wait_closed(), 1.0)  # the disabled manager's page is closed
    assert (await get(harness, "/manager/report", cookie)).status == 303  # and their cookie is over
    again = RawClient(await connect(harness.url, additional_headers={"Cookie": cookie}))
    assert (await again.error({"type": "web_login", "v": 1}))["code"] == "session_expired"


async def test_a_new_commune_site_is_added_live_and_a_kiosk_paired_to_it_issues(harness):
    boss = await manager(harness)
    shown = await settings(boss)
    giavien = next(s for s in shown["config"]["sites"] if s["code"] == "giavien")
    commune = {**giavien, "code": "xa-moi", "name": "Bộ phận Một cửa xã Mới", "kiosks": [], "displays": []}
    await boss.request({"type": "admin_change", "base": None,
                        "change": {"kind": "site_add", "site": commune}})
    device = await harness.client()
    shown_code = await device.request({"type": "pair_request", "v": 1, "kind": "kiosk"}, expect="pairing")
    code = shown_code["code"]
    await boss.request({"type": "admin_change", "base": None, "change": {
        "kind": "device_approve", "code": code, "site": "xa-moi", "id": "kiosk-xa-moi",
        "name": "Kiosk xã Mới"}})
    token = (await device.next_of("paired"))["token"]
    await device.request({"type": "login_device", "v": 1, "token": token}, expect="welcome")
    snapshot = await device.next_of("snapshot")
    assert snapshot["site"]["name"] == "Bộ phận Một cửa xã Mới"
    service = snapshot["services"][0]["code"]
    issued = await device.request({"type": "issue_ticket", "service": service,
                                   "idempotency_key": "xa-moi-0001"})
    assert issued["ticket"]["id"].startswith("xa-moi:")
    await harness.restart()  # the new site is in the database's settings
    assert harness.server.config.site("xa-moi") is not None
    assert harness.server.states["xa-moi"].tickets


async def test_a_renamed_service_reaches_the_kiosk_tiles_at_once(harness):
    kiosk = await harness.kiosk()
    boss = await manager(harness)
    tp = msgspec.to_builtins(harness.server.config.site("tinh").service("TP"))
    await change(boss, "service:tinh:TP", {"kind": "service", "site": "tinh",
                                           "service": {**tp, "name_vi": "Tư pháp – Hộ tịch – Chứng thực"}})
    pushed = await kiosk.next_of("snapshot", timeout=1.0)
    tile = next(s for s in pushed["services"] if s["code"] == "TP")
    assert tile["name_vi"] == "Tư pháp – Hộ tịch – Chứng thực"
