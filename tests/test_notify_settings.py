"""The citizen notifications' settings changed live (issue 16): ``admin_change``
``notifications`` (the province administrator's alone), the Zalo token and the SMS gateway's
header values shown as ``•••`` and kept when sent back so, the audit log masking them, the
same validation as the configuration file, and the ticket page's channels following at once."""

from __future__ import annotations

from typing import Any

import pytest

from server.settings_store import audit_rows
from tests.test_webhook_admin import change, manager

pytestmark = pytest.mark.asyncio
MASK = "•••"


def sms_on(**sms: Any) -> dict[str, Any]:
    return {"near_at": 2,
            "webpush": {"enabled": False, "subject": ""},
            "zalo": {"enabled": True, "endpoint": "https://business.openapi.zalo.me/message/template",
                     "access_token": "zalo-token-bi-mat",
                     "templates": [{"message": "called", "template_id": "301",
                                    "params": {"so_phieu": "number", "quay": "counter"}}]},
            "sms": {"enabled": True, "gateway_url": "https://sms.example.vn/send", "method": "POST",
                    "headers": {"X-Api-Key": "khoa-cong-sms"}, "body_format": "json",
                    "body": '{"to": "{phone}", "text": "{text}"}', **sms}}


async def shown(client) -> dict[str, Any]:
    found = await client.request({"type": "read_settings"}, expect="settings")
    return found["config"]["notifications"]  # type: ignore[no-any-return]


async def test_the_administrator_turns_channels_on_and_the_secrets_stay_hidden_and_kept(harness):
    admin = await manager(harness)
    assert harness.server.config.notifications.channels() == []
    await change(admin, "notifications", {"kind": "notifications", "notifications": sms_on()})
    settings = harness.server.config.notifications
    assert settings.channels() == ["zalo", "sms"] and settings.near_at == 2
    assert settings.zalo.access_token == "zalo-token-bi-mat"
    assert settings.sms.headers == {"X-Api-Key": "khoa-cong-sms"}
    seen = await shown(admin)
    assert seen["zalo"]["access_token"] == MASK and seen["sms"]["headers"] == {"X-Api-Key": MASK}
    assert seen["zalo"]["templates"][0]["params"] == {"so_phieu": "number", "quay": "counter"}
    # the page sends back what it showed, with one change: the secrets keep their values
    await change(admin, "notifications", {"kind": "notifications",
                                          "notifications": {**seen, "near_at": 4}})
    settings = harness.server.config.notifications
    assert settings.near_at == 4 and settings.zalo.access_token == "zalo-token-bi-mat"
    assert settings.sms.headers == {"X-Api-Key": "khoa-cong-sms"}
    seen = await shown(admin)
    replaced = sms_on(headers={"X-Api-Key": "khoa-moi", "X-Brand": "TTHCC"})
    replaced["zalo"]["access_token"] = MASK
    await change(admin, "notifications", {"kind": "notifications", "notifications": replaced})
    settings = harness.server.config.notifications
    assert settings.zalo.access_token == "zalo-token-bi-mat"
    assert settings.sms.headers == {"X-Api-Key": "khoa-moi", "X-Brand": "TTHCC"}
    rows = audit_rows(harness.server.store.db.conn, None)
    rows = [r for r in rows if r["action"] == "notifications.update"]
    assert len(rows) == 3
    text = repr(rows)
    for secret in ("zalo-token-bi-mat", "khoa-cong-sms", "khoa-moi"):
        assert secret not in text
    assert MASK in text and "sms.example.vn" in text
    await admin.close()


async def test_a_bad_setting_or_an_unknown_masked_header_is_refused(harness):
    admin = await manager(harness)
    error = await change(admin, "notifications", {"kind": "notifications", "notifications": sms_on(
        gateway_url="ftp://sms.example.vn")}, expect="error")
    assert (error["code"], error["details"]["check"]) == ("invalid_settings", "notify_bad_url")
    error = await change(admin, "notifications", {"kind": "notifications", "notifications": sms_on(
        body="{text}")}, expect="error")
    assert error["details"]["check"] == "notify_sms_fields_missing"
    no_token = sms_on()
    no_token["zalo"]["access_token"] = MASK  # nothing stored to keep: the token is missing
    error = await change(admin, "notifications", {"kind": "notifications", "notifications": no_token},
                         expect="error")
    assert error["details"]["check"] == "notify_token_missing"
    error = await change(admin, "notifications", {"kind": "notifications", "notifications": sms_on(
        headers={"X-Api-Key": MASK})}, expect="error")
    assert (error["code"], error["details"]) == ("notify_header_unknown", {"name": "X-Api-Key"})
    assert error["message_vi"].startswith("Tiêu đề X-Api-Key")
    error = await change(admin, "notifications", {"kind": "notifications", "notifications": {"near_at": 0}},
                         expect="error")
    assert error["details"]["check"] == "not_between"
    error = await admin.error({"type": "admin_change", "base": "0" * 16, "change": {
        "kind": "notifications", "notifications": sms_on()}})
    assert error["code"] == "stale_edit"
    assert harness.server.config.notifications.channels() == []
    await admin.close()


async def test_a_site_manager_cannot_change_them(harness):
    site_manager = await manager(harness, "quanly.giavien")
    found = await site_manager.request({"type": "read_settings"}, expect="settings")
    assert "notifications" not in found["fingerprints"]
    error = await site_manager.error({"type": "admin_change", "base": None, "change": {
        "kind": "notifications", "notifications": sms_on()}})
    assert error["code"] == "forbidden"
    assert harness.server.config.notifications.channels() == []
    await site_manager.close()


async def test_the_page_shows_the_settings_masked_to_the_administrator_alone(harness):
    from tests.test_admin_pages import forms
    from tests.test_web_pages import get, manager_cookie

    admin = await manager(harness)
    await change(admin, "notifications", {"kind": "notifications", "notifications": sms_on()})
    await admin.close()
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/admin/notifications", cookie)
    assert page.status == 200 and "Thông báo cho người dân" in page.text
    [form] = forms(page.text)
    assert form["change"]["kind"] == "notifications"
    assert form["change"]["notifications"]["zalo"]["access_token"] == MASK
    assert "zalo-token-bi-mat" not in page.text and "khoa-cong-sms" not in page.text
    assert "X-Api-Key: •••" in page.text and "so_phieu=number; quay=counter" in page.text
    english = await get(harness, "/manager/admin/notifications?lang=en", cookie)
    assert "Citizen notifications" in english.text and "Save the notification settings" in english.text
    local = await manager_cookie(harness, "quanly.giavien")
    refused = await get(harness, "/manager/admin/notifications", local)
    assert refused.status == 403 and "zalo-token" not in refused.text
    assert "/manager/admin/notifications" not in (await get(harness, "/manager/admin/users", local)).text
