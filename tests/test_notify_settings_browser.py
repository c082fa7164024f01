"""The citizen notifications' settings page in headless Chromium against a real server
(issue 16): the province administrator turns SMS on with its gateway and key (saved live,
the key then shown as •••), and the ticket page of a waiting citizen offers SMS at once;
saving again with the key left as ••• keeps it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.core import commands as c
from tests.test_admin_browser import admin_page, browser, saved, server  # noqa: F401 - fixtures
from tests.test_web_browser import PHONE

pytestmark = pytest.mark.browser


def issue(server, token: str) -> str:  # noqa: F811
    async def issued(s):
        await s.submit("tinh", c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service="TP",
                                             token=token))
        return token
    return server.threaded.call(issued)  # type: ignore[no-any-return]


def test_sms_turned_on_live_is_offered_on_the_ticket_page(browser, server):  # noqa: F811
    token = issue(server, "notify-settings-token-0001")
    citizen = browser.new_context(**PHONE).new_page()
    citizen.goto(f"{server.base}/t/{token}")
    expect(citizen.locator("#conn-text")).to_have_text("Đang cập nhật trực tiếp")
    expect(citizen.locator("#notify-sms")).to_have_count(0)  # nothing configured yet

    page = admin_page(browser, server, "/manager/admin/notifications")
    expect(page.get_by_role("link", name="Thông báo cho người dân")).to_have_attribute("aria-current", "page")
    sms = page.locator("#notify-sms")
    sms.get_by_label("Bật kênh này").check()
    sms.get_by_label("Địa chỉ cổng SMS").fill("https://sms.example.vn/send")
    sms.get_by_label("Tiêu đề HTTP").fill("X-Api-Key: khoa-cong-sms\nX-Brand: TTHCC")
    sms.get_by_label("Nội dung gửi đến cổng").fill('{"to": "{phone}", "text": "{text}"}')
    page.get_by_label("Số người phía trước").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu thiết lập thông báo").click()
    saved(page)
    settings = server.config.notifications
    assert settings.channels() == ["sms"] and settings.near_at == 2
    assert settings.sms.headers == {"X-Api-Key": "khoa-cong-sms", "X-Brand": "TTHCC"}
    headers = page.locator("#notify-sms").get_by_label("Tiêu đề HTTP")
    expect(headers).to_have_value("X-Api-Key: •••\nX-Brand: •••")
    assert "khoa-cong-sms" not in page.content()

    citizen.reload()
    expect(citizen.locator("#notify-sms")).to_be_visible()
    expect(citizen.locator("#notify")).to_contain_text("khi còn 2 người trước bạn")

    page.get_by_label("Số người phía trước").fill("3")  # the key left as •••: kept
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu thiết lập thông báo").click()
    saved(page)
    assert server.config.notifications.near_at == 3
    assert server.config.notifications.sms.headers == {"X-Api-Key": "khoa-cong-sms", "X-Brand": "TTHCC"}

    page.locator("#notify-sms").get_by_label("Tiêu đề HTTP").fill("X-Api-Key")  # no value: refused here
    page.get_by_role("button", name="Lưu thiết lập thông báo").click()
    expect(page.locator(".notify-form [data-error]")).to_contain_text("cần dạng tên: giá trị")
    actions = [row["action"] for row in server.audit()]
    assert actions.count("notifications.update") == 2
    page.context.close()
    citizen.context.close()

