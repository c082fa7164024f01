"""The webhooks page in headless Chromium against a real server (issue 16): the province
administrator adds a subscription (the server makes its secret, shown on the page), rotates
the secret, asks for a replay from an event and a resend (rows the outbox process reads),
pauses and removes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.outbox import state
from tests.test_admin_browser import admin_page, browser, saved, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_the_administrator_adds_rotates_replays_and_removes_a_webhook(browser, server):  # noqa: F811
    page = admin_page(browser, server, "/manager/admin/webhooks")
    form = page.locator("#webhook-add form")
    form.get_by_label("Mã").fill("motcua")
    form.get_by_label("Địa chỉ nhận").fill("https://motcua.example/xephang")
    form.get_by_label("Mô tả").fill("Một cửa tỉnh")
    with page.expect_navigation():  # the page reloads with what was saved
        form.get_by_role("button", name="Thêm webhook").click()
    saved(page)
    hook = server.config.webhooks[0]
    assert hook.id == "motcua" and hook.events == ["*"] and len(hook.secret) == 43
    item = page.locator('li[data-webhook="motcua"]')
    expect(item.locator(".webhook-secret")).to_have_text(hook.secret)

    item.get_by_role("button", name="Sửa").click()
    rotate = item.locator("form.webhook-rotate")
    rotate.get_by_role("button", name="Đổi khóa ký").click()  # asks to confirm: a second click
    with page.expect_navigation():
        rotate.get_by_role("button").click()
    saved(page)
    rotated = server.config.webhooks[0].secret
    assert rotated != hook.secret
    expect(page.locator('li[data-webhook="motcua"] .webhook-secret')).to_have_text(rotated)

    item = page.locator('li[data-webhook="motcua"]')
    replay = item.locator("form.webhook-replay")
    replay.get_by_label("Gửi lại từ sự kiện số").fill("3")
    replay.get_by_role("button", name="Phát lại").click()
    with page.expect_navigation():
        replay.get_by_role("button").click()
    saved(page)
    conn = state.open_state(state.path_beside(server.threaded.server.store.path))
    requested = [(r.consumer, r.seq, r.single) for r in state.pending_replays(conn)]
    assert requested == [("webhook:motcua", 3, False)]
    conn.close()

    item = page.locator('li[data-webhook="motcua"]')
    item.get_by_role("button", name="Sửa").click()
    edit = item.locator("form.webhook-edit")
    edit.get_by_label("Tạm dừng gửi").check()
    with page.expect_navigation():
        edit.get_by_role("button", name="Lưu thay đổi").click()
    saved(page)
    assert server.config.webhooks[0].disabled and server.config.webhooks[0].secret == rotated
    item = page.locator('li[data-webhook="motcua"]')
    expect(item).to_contain_text("Tạm dừng")
    item.get_by_role("button", name="Sửa").click()
    remove = item.locator("form.webhook-remove")
    remove.get_by_role("button", name="Xóa").click()
    with page.expect_navigation():
        remove.get_by_role("button").click()
    saved(page)
    assert server.config.webhooks == []
    expect(page.locator("#webhooks-empty")).to_be_visible()
    page.context.close()
