"""The API keys page (/manager/admin/api-keys) over HTTP: the administrator's alone, its forms
(create, edit, revoke) carrying the changes admin.js sends, no key hash anywhere, and the
texts in the catalogue."""

from __future__ import annotations

import pytest

from server.admin_changes import fingerprints
from tests.test_admin_pages import forms
from tests.test_api import config, create_key  # noqa: F401 - the API-on configuration
from tests.test_web_pages import get, manager_cookie

pytestmark = pytest.mark.asyncio


async def test_the_administrator_creates_edits_and_revokes_keys_there(harness):
    cookie = await manager_cookie(harness)
    empty = await get(harness, "/manager/admin/api-keys", cookie)
    assert empty.status == 200 and "Chưa có khóa API nào." in empty.text
    assert f"API tích hợp ở cổng {harness.server.config.server.api_port}." in empty.text
    (new,) = [f for f in forms(empty.text) if f["class"] == "api-key-new"]
    assert new["base"] == "" and new["change"]["kind"] == "api_key" and new["change"]["scopes"] == ["read"]
    assert "data-key-shown hidden" in empty.text  # where admin.js shows the new key once

    key = await create_key(harness, "motcua", ["read", "issue"], ["tinh"])
    page = await get(harness, "/manager/admin/api-keys", cookie)
    found = {f["class"]: f for f in forms(page.text)}
    prints = fingerprints(harness.server.config)
    assert found["api-key-edit"]["base"] == prints["api_key:motcua"]
    assert found["api-key-edit"]["change"] == {"kind": "api_key", "id": "motcua", "name": "Hệ thống motcua",
                                               "scopes": ["issue", "read"], "sites": ["tinh"],
                                               "rate_per_second": 10.0, "burst": 30}
    assert found["api-key-revoke"]["change"] == {"kind": "api_key_revoke", "id": "motcua"}
    assert key not in page.text and harness.server.config.api_keys[0].key_hash not in page.text

    local = await manager_cookie(harness, "quanly.giavien")
    refused = await get(harness, "/manager/admin/api-keys", local)
    assert refused.status == 403 and "Chỉ quản trị viên cấp tỉnh quản lý khóa API." in refused.text
    theirs = (await get(harness, "/manager/admin/users", local)).text
    assert "/manager/admin/api-keys" not in theirs and "/manager/admin/api-keys" in page.text
