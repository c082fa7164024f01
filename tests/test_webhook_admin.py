"""Webhook subscriptions administered live (issue 16): ``admin_change`` ``webhook`` and
``webhook_remove`` (the province administrator's alone; the server makes the secret; the
audit log masks it) and ``webhook_replay`` (a request row the outbox process reads)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.outbox import state
from server.settings_store import audit_rows
from tests.helpers import PASSWORD, RawClient

pytestmark = pytest.mark.asyncio

HOOK = {"kind": "webhook", "id": "motcua", "url": "https://motcua.example/xephang",
        "events": ["ticket_finished", "ticket_rated"], "sites": ["tinh"], "description": "Một cửa tỉnh"}


async def manager(harness, username: str = "giamdoc") -> RawClient:
    client = await harness.client()
    await client.request({"type": "login", "v": 1, "username": username, "password": PASSWORD,
                          "web_session": True}, expect="welcome")
    return client


async def change(client: RawClient, thing: str | None, change: dict[str, Any],
                 expect: str = "result") -> dict:
    current = await client.request({"type": "read_settings"}, expect="settings")
    base = current["fingerprints"][thing] if thing else None
    payload = {"type": "admin_change", "base": base, "change": change}
    return await (client.error(payload) if expect == "error" else client.request(payload))


async def webhooks(client: RawClient) -> list[dict]:
    found = await client.request({"type": "read_settings"}, expect="settings")
    return found["config"]["webhooks"]  # type: ignore[no-any-return]


async def test_the_administrator_adds_rotates_and_removes_a_subscription(harness):
    admin = await manager(harness)
    await change(admin, None, HOOK)
    [hook] = await webhooks(admin)
    secret = hook["secret"]
    assert len(secret) == 43 and hook["events"] == ["ticket_finished", "ticket_rated"]
    assert harness.server.config.webhooks[0].secret == secret
    await change(admin, "webhook:motcua", {**HOOK, "description": "Hệ thống một cửa"})
    [hook] = await webhooks(admin)
    assert hook["secret"] == secret and hook["description"] == "Hệ thống một cửa"  # an edit keeps it
    await change(admin, "webhook:motcua", {**HOOK, "rotate_secret": True})
    [hook] = await webhooks(admin)
    assert hook["secret"] != secret and len(hook["secret"]) == 43
    await change(admin, "webhook:motcua", {"kind": "webhook_remove", "id": "motcua"})
    assert await webhooks(admin) == [] and harness.server.config.webhooks == []
    rows = audit_rows(harness.server.store.db.conn, None)
    actions = [r["action"] for r in rows]
    for action in ("webhook.add", "webhook.update", "webhook.rotate_secret", "webhook.remove"):
        assert action in actions
    text = repr(rows)
    assert secret not in text and hook["secret"] not in text and "•••" in text
    await admin.close()


async def test_a_bad_subscription_is_refused_with_its_place_and_problem(harness):
    admin = await manager(harness)
    error = await change(admin, None, {**HOOK, "url": "ftp://motcua.example"}, expect="error")
    assert error["code"] == "invalid_settings" and error["details"]["check"] == "bad_webhook_url"
    error = await change(admin, None, {**HOOK, "events": ["ticket_eaten"]}, expect="error")
    assert error["details"]["check"] == "unknown_webhook_event" and error["message_vi"]
    error = await change(admin, None, {**HOOK, "sites": ["hanoi"]}, expect="error")
    assert error["details"]["check"] == "unknown_site"
    error = await change(admin, None, {"kind": "webhook_remove", "id": "khong-co"}, expect="error")
    assert error["code"] == "unknown_webhook"
    await admin.close()


async def test_a_site_manager_neither_sees_nor_changes_subscriptions(harness):
    admin = await manager(harness)
    await change(admin, None, HOOK)
    site_manager = await manager(harness, "quanly.giavien")
    found = await site_manager.request({"type": "read_settings"}, expect="settings")
    assert "webhooks" not in found["config"]
    assert not any(key.startswith("webhook:") for key in found["fingerprints"])
    assert (await change(site_manager, None, {**HOOK, "id": "khac"}, expect="error"))["code"] == "forbidden"
    error = await site_manager.error({"type": "webhook_replay", "webhook": "motcua", "seq": 1})
    assert error["code"] == "forbidden"
    await admin.close()
    await site_manager.close()


async def test_a_replay_request_is_written_for_the_outbox_process(harness):
    admin = await manager(harness)
    await change(admin, None, HOOK)
    await admin.request({"type": "webhook_replay", "webhook": "motcua", "seq": 5})
    await admin.request({"type": "webhook_replay", "webhook": "motcua", "seq": 7, "single": True})
    replay = {"type": "webhook_replay", "webhook": "motcua", "seq": 5}
    assert (await admin.error({**replay, "webhook": "khac"}))["code"] == "unknown_webhook"
    assert (await admin.error({**replay, "seq": 0}))["code"] == "bad_message"
    conn = state.open_state(state.path_beside(harness.db))
    assert [(r.consumer, r.seq, r.single) for r in state.pending_replays(conn)] == [
        ("webhook:motcua", 5, False), ("webhook:motcua", 7, True)]
    conn.close()
    await admin.close()


async def test_the_webhooks_page_shows_each_subscription_s_secret_backlog_and_log(harness):
    from tests.test_admin_pages import forms
    from tests.test_web_pages import get, manager_cookie

    admin = await manager(harness)
    await change(admin, None, HOOK)
    await admin.close()
    secret = harness.server.config.webhooks[0].secret
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/admin/webhooks", cookie)
    assert page.status == 200 and secret in page.text
    assert "chưa bắt đầu" in page.text  # no outbox process has taken it up in this test
    conn = state.open_state(state.path_beside(harness.db))
    state.set_cursor(conn, "webhook:motcua", 0)
    state.log_attempts(conn, [
        state.Attempt("motcua", 1, "ticket_issued", 1, state.now_text(), None, 3,
                      "ClientConnectorError: refused", False),
        state.Attempt("motcua", 1, "ticket_issued", 2, state.now_text(), 204, 12, None, True)])
    conn.close()
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "page-0001"})
    await kiosk.close()
    page = await get(harness, "/manager/admin/webhooks", cookie)
    assert re.search(r'class="webhook-backlog">\d+</dd>', page.text)
    assert "ClientConnectorError: refused" in page.text and '<span class="pill good">204</span>' in page.text
    found = {f["class"]: f for f in forms(page.text)}
    assert found["webhook-edit"]["change"]["kind"] == "webhook" and found["webhook-edit"]["base"]
    assert found["webhook-rotate"]["change"]["rotate_secret"] is True
    assert found["webhook-remove"]["change"] == {"kind": "webhook_remove", "id": "motcua"}
    assert found["webhook-resend"]["change"] == {"webhook": "motcua", "seq": 1, "single": True}
    assert 'data-request="webhook_replay"' in page.text
    english = await get(harness, "/manager/admin/webhooks?lang=en", cookie)
    assert "Signing secret" in english.text
    local = await manager_cookie(harness, "quanly.giavien")
    refused = await get(harness, "/manager/admin/webhooks", local)
    assert refused.status == 403 and secret not in refused.text
    theirs = (await get(harness, "/manager/admin/users", local)).text
    assert "/manager/admin/webhooks" not in theirs
