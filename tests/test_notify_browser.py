"""The ticket page's notifications opt-in in headless Chromium against a real server
(issue 16): the citizen types a phone number and chooses SMS (or Zalo), sees it on, a bad
number is refused in Vietnamese, "stop" withdraws it; the service worker that shows Web Push
messages registers under /t/. A centre with no channel shows no opt-in at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from common.notify_config import Notifications, SmsSettings, WebPushSettings, ZaloSettings, ZaloTemplate
from server.core import commands as c
from server.core.model import Ticket
from tests.helpers import FakeClock, ThreadedServer, example_config, local_time
from tests.test_web_browser import CHROMIUM_ARGS, PHONE

pytestmark = pytest.mark.browser


class Centre:
    def __init__(self, tmp: Path, notifications: Notifications) -> None:
        self.tmp = tmp
        config = msgspec.structs.replace(example_config(), notifications=notifications)
        self.threaded = ThreadedServer(config, tmp / "xephang.db", FakeClock(local_time(2026, 11, 25, 8, 0)))
        self.threaded.start()
        self.base = self.threaded.url.removesuffix("/ws").replace("ws://", "http://")

    def issue(self, token: str) -> Ticket:
        async def issue(server):
            await server.submit("tinh", c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1",
                                                      service="TP", token=token))
            return next(t for t in server.states["tinh"].tickets.values() if t.token == token)
        return self.threaded.call(issue)

    def optins(self, ticket: Ticket) -> list[tuple[str, str]]:
        conn = sqlite3.connect(self.tmp / "outbox.sqlite")
        try:
            return conn.execute("select channel, target from notify_optins where ticket_id = ? "
                                "order by channel", [ticket.id]).fetchall()
        finally:
            conn.close()


ALL_CHANNELS = Notifications(
    near_at=3,
    webpush=WebPushSettings(enabled=True, subject="mailto:ops@xephang.example.vn"),
    zalo=ZaloSettings(enabled=True, access_token="zalo-oa-token",
                      templates=[ZaloTemplate(message="called", template_id="1")]),
    sms=SmsSettings(enabled=True, gateway_url="http://127.0.0.1:9/sms?to={phone}&text={text}"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def centre(tmp_path_factory) -> Iterator[Centre]:
    found = Centre(tmp_path_factory.mktemp("notify"), ALL_CHANNELS)
    yield found
    found.threaded.close()


def test_a_citizen_opts_in_by_sms_and_stops(browser: Browser, centre: Centre):
    ticket = centre.issue("notify-page-token-000001")
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{centre.base}/t/{ticket.token}")
    expect(page.locator("#conn-text")).to_have_text("Đang cập nhật trực tiếp")
    notify = page.locator("#notify")
    expect(notify.locator(".notify-heading")).to_have_text("Nhận thông báo khi sắp đến lượt")
    expect(notify).to_contain_text("khi còn 3 người trước bạn")
    expect(notify).to_contain_text("được xóa khi hết ngày")
    page.fill("#notify-phone", "12345")
    page.click("#notify-zalo")
    expect(notify.locator(".note.error")).to_contain_text("Số điện thoại phải là số di động Việt Nam")
    page.fill("#notify-phone", "0912 345 678")
    page.click("#notify-sms")
    expect(notify.locator(".notify-on")).to_have_text("Sẽ nhắn SMS đến 0912 345 678")
    assert centre.optins(ticket) == [("sms", "84912345678")]
    expect(page.locator("#notify-zalo")).to_be_visible()  # the other phone channel is still offered
    page.reload()  # the server remembers; the page does not keep the number
    expect(notify.locator(".notify-on")).to_have_text("Đã bật nhắn tin qua SMS")
    page.click("#lang-toggle")
    expect(notify.locator(".notify-heading")).to_have_text("Get notified when your turn is near")
    page.click("#notify-stop-sms")
    expect(notify.locator(".notify-on")).to_have_count(0)
    assert centre.optins(ticket) == []


def test_the_push_service_worker_registers_under_the_ticket_pages(browser: Browser, centre: Centre):
    ticket = centre.issue("notify-page-token-000002")
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{centre.base}/t/{ticket.token}")
    expect(page.locator("#notify-push")).to_have_text("Nhận thông báo trên điện thoại này")
    scope = page.evaluate("navigator.serviceWorker.register('/t/notify-sw.js', {scope: '/t/'})"
                          ".then(function (r) { return r.scope; })")
    assert scope == f"{centre.base}/t/"
    assert page.evaluate("navigator.serviceWorker.ready.then(function (r) { return !!r.active; })")
    key = page.evaluate("JSON.parse(document.getElementById('ticket-data').textContent).notify.vapid_key")
    assert len(key) == 87  # 65 bytes, base64url without padding


def test_a_centre_without_channels_shows_no_opt_in(browser: Browser, tmp_path: Path):
    centre = Centre(tmp_path, Notifications())
    try:
        ticket = centre.issue("notify-page-token-000003")
        page = browser.new_context(**PHONE).new_page()
        page.goto(f"{centre.base}/t/{ticket.token}")
        expect(page.locator("#conn-text")).to_have_text("Đang cập nhật trực tiếp")
        expect(page.locator("#notify")).to_be_hidden()
        assert page.locator("#notify *").count() == 0
        assert not (tmp_path / "vapid_private.pem").exists()
    finally:
        centre.threaded.close()
