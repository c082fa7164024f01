"""The public booking pages in headless Chromium at a phone's size, against a real server
(the example centre at 08:00 on Wednesday 25/11/2026, appointments and remote numbers turned
on for a few services): a citizen books a slot step by step, sees the code and its QR, moves
the booking to another day and cancels it; takes a real number for today and lands on its
ticket page; mistyped details are said beside their field in Vietnamese; an unknown code and
a malformed one say the same thing.

``XEPHANG_WEB_SCREENSHOTS=docs/screenshots pytest tests/test_booking_browser.py -k screenshots``
rewrites docs/screenshots/web-book-{1-site,3-day,4-slot,5-details,6-booked}.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.booking_fixtures import BookingServer

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "vi-VN"}
NAME, PHONE_NO, CCCD = "Nguyễn Văn An", "0912 345 678", "001058012345"  # a Hà Nội man born in 1958


@pytest.fixture
def server(tmp_path):
    """A server of its own for each test: the public messages are paced per address (all
    from 127.0.0.1 here) and per CCCD, and each test is a citizen's visit of its own."""
    started = BookingServer(tmp_path)
    yield started
    started.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def phone(browser: Browser, server: BookingServer, path: str = "/book") -> Page:
    page = browser.new_context(**PHONE).new_page()
    page.goto(server.base + path)
    return page


def choose(page: Page, text: str) -> None:
    page.locator("section.step:visible .choice", has_text=text).first.click()


def choose_slot(page: Page, box: str, start: str) -> None:
    """The slot starting at ``start`` ("09:00") in the list ``box``."""
    page.locator(f'{box} .choice[data-start*="T{start}:"]').click()


def fill_details(page: Page, name: str = NAME, phone_no: str = PHONE_NO, cccd: str = CCCD) -> None:
    page.fill("#name", name)
    page.fill("#phone", phone_no)
    page.fill("#cccd", cccd)
    page.check("#consent")


def book_a_slot(page: Page, day: str, slot: str) -> str:
    """Through the steps to a booking of ``slot`` (e.g. "09:00") on ``day`` ("Ngày mai"); the
    booking's code from its page."""
    choose(page, "Trung tâm Phục vụ hành chính công tỉnh")
    choose(page, "Lý lịch tư pháp")
    choose(page, day)
    choose_slot(page, "#slot-choices", slot)
    fill_details(page)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/book/[A-Z0-9]{8}\?new=1$|/book/[A-Z0-9]{8}$"))
    expect(page.locator("#new-banner")).to_have_text("Đặt lịch thành công!")
    return page.url.split("/book/", 1)[1].split("?", 1)[0]


def test_book_then_move_then_cancel(browser, server):
    page = phone(browser, server)
    expect(page.locator("#step-site h2")).to_have_text("Bạn muốn làm thủ tục ở đâu?")
    expect(page.locator("#step-site .step-no")).to_have_text("Bước 1/5")
    code = book_a_slot(page, "Ngày mai", "09:00")
    expect(page.locator("#code")).to_have_text(f"{code[:4]}-{code[4:]}")
    expect(page.locator(".qr svg")).to_be_visible()
    facts = page.locator("#facts")
    expect(facts).to_contain_text("09:00 – 09:30, Ngày mai, Thứ Năm, 26/11/2026")
    expect(facts).to_contain_text("Nguyễn Văn An")
    expect(facts).to_contain_text("••••••••2345")
    expect(page.locator("#checkin")).to_have_text("Đưa mã vào máy lấy số từ 08:30 đến 09:10")
    booked = server.public({"type": "booking_lookup", "code": code})
    assert booked["status"] == "booked" and booked["start"].startswith("2026-11-26T09:00")

    # the calendar file: the slot in UTC, the code, no personal data
    ics = page.request.get(f"{server.base}/book/{code}.ics")
    assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
    text = ics.text()
    assert "DTSTART:20261126T020000Z" in text and "DTEND:20261126T023000Z" in text
    assert f"{code[:4]}-{code[4:]}" in text and "Nguyễn" not in text and "2345" not in text

    # moved to Friday 10:30: the same code, the new time
    page.click("#move")
    page.locator("#move-days .choice", has_text="Thứ Sáu").click()
    choose_slot(page, "#move-slots", "10:30")
    page.click("#move-confirm")
    expect(page.locator("#done")).to_have_text("Đã đổi giờ hẹn. Mã đặt lịch vẫn giữ nguyên.")
    expect(facts).to_contain_text("10:30 – 11:00, Thứ Sáu, 27/11/2026")
    assert server.public({"type": "booking_lookup", "code": code})["start"].startswith("2026-11-27T10:30")

    # a reload shows the booking as it is now, not "booked!" again
    page.reload()
    expect(facts).to_contain_text("10:30 – 11:00")
    expect(page.locator("#new-banner")).to_be_hidden()

    # cancelled after a second question
    page.click("#cancel")
    expect(page.locator("#cancel-confirm")).to_contain_text("Bạn có chắc muốn hủy lịch hẹn này không?")
    page.click("#cancel-yes")
    expect(page.locator("#state-banner")).to_have_text("Lịch hẹn này đã được hủy.")
    expect(page.locator(".qr svg")).to_be_hidden()
    expect(page.locator("#actions")).to_be_hidden()
    assert server.public({"type": "booking_lookup", "code": code})["status"] == "cancelled"
    page.context.close()


def test_a_slot_taken_meanwhile_sends_the_citizen_back_to_the_times(browser, server):
    page = phone(browser, server)
    choose(page, "Trung tâm Phục vụ hành chính công tỉnh")
    choose(page, "Lý lịch tư pháp")
    choose(page, "Thứ Hai")
    choose_slot(page, "#slot-choices", "15:15")
    fill_details(page, cccd="001058012311")
    for cccd in ("001058012312", "001058012313"):  # the slot's 2 bookable places go to others
        taken = server.public({"type": "book", "site": "tinh", "service": "TP",
                               "start": "2026-11-30T15:15:00+07:00", "name": "Trần Thị Bình",
                               "phone": "0987654321", "cccd": cccd})
        assert taken["type"] == "booking", taken
    page.click("#submit")
    expect(page.locator("#step-slot h2")).to_be_visible()
    expect(page.locator("#slot-status")).to_contain_text("hết chỗ")
    full = page.locator('#slot-choices .choice[data-start*="T15:15:"]')
    expect(full).to_be_disabled()
    expect(full).to_contain_text("Hết chỗ")
    page.context.close()


def test_a_number_for_today_from_the_phone(browser, server):
    page = phone(browser, server)
    choose(page, "Trung tâm Phục vụ hành chính công tỉnh")
    choose(page, "Lý lịch tư pháp")
    expect(page.locator("#remote-choice")).to_be_visible()
    page.click("#remote-choice")
    expect(page.locator("#step-details .step-no")).to_have_text("Bước 4/4")
    expect(page.locator("#submit")).to_have_text("Lấy số thứ tự")
    fill_details(page, cccd="001058012399")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/t/[A-Za-z0-9_-]+$"))
    expect(page.locator("#number")).to_have_text(re.compile(r"^A\d{3}$"))
    page.context.close()


def test_a_service_with_only_remote_numbers_offers_no_days(browser, server):
    page = phone(browser, server)
    choose(page, "Trung tâm Phục vụ hành chính công tỉnh")
    choose(page, "Giấy phép lái xe")
    expect(page.locator("#remote-choice")).to_be_visible()
    expect(page.locator("#or-book")).to_be_hidden()
    assert page.locator("#day-choices .choice").count() == 0
    page.context.close()


def test_mistakes_are_said_beside_their_field(browser, server):
    page = phone(browser, server)
    choose(page, "xã Gia Viễn")
    expect(page.locator("#step-service .step-no")).to_have_text("Bước 2/5")
    choose(page, "Hộ tịch, chứng thực")
    choose(page, "Ngày mai")
    page.locator("#slot-choices .choice:enabled").first.click()
    fill_details(page, name="A", phone_no="0212345678", cccd="00105801234")
    page.uncheck("#consent")
    page.click("#submit")
    expect(page.locator("#name-error")).to_contain_text("Vui lòng nhập họ và tên")
    expect(page.locator("#phone-error")).to_contain_text("bắt đầu bằng 03, 05, 07, 08 hoặc 09")
    expect(page.locator("#cccd-error")).to_have_text("Số CCCD phải có đúng 12 chữ số (bạn đã nhập 11)")
    expect(page.locator("#consent-error")).to_have_text("Vui lòng đánh dấu vào ô đồng ý để tiếp tục")
    expect(page.locator("#name")).to_be_focused()
    page.fill("#cccd", "000058012345")  # 000: no province has it
    page.click("#submit")
    expect(page.locator("#cccd-error")).to_contain_text("3 chữ số đầu là mã tỉnh")
    page.fill("#cccd", "001299012345")  # born in 2099
    page.click("#submit")
    expect(page.locator("#cccd-error")).to_contain_text("năm sinh")
    assert "book" not in page.evaluate("window.__xephangBooking.sent")  # nothing was sent
    # the phone's back button goes back one step
    page.go_back()
    expect(page.locator("#step-slot h2")).to_be_visible()
    page.context.close()


def test_unknown_and_malformed_codes_say_the_same(browser, server):
    for path in ("/book/ACDE-FH34", "/book/hello"):
        page = phone(browser, server, path)
        expect(page.locator(".not-found h1")).to_have_text("Không tìm thấy lịch hẹn")
        page.context.close()
    page = phone(browser, server)
    page.fill("#find-code", "ab12")
    page.click("#find-form button")
    expect(page.locator("#find-error")).to_have_text("Mã đặt lịch gồm 8 ký tự, ví dụ ACDE-FH34")
    page.context.close()


def test_screenshots(browser, server, tmp_path):
    """Each step as a citizen sees it (docs/screenshots/web-book-*.png)."""
    target = os.environ.get("XEPHANG_WEB_SCREENSHOTS")
    out = Path(target) if target else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = phone(browser, server)
    page.screenshot(path=out / "web-book-1-site.png")
    choose(page, "Trung tâm Phục vụ hành chính công tỉnh")
    page.screenshot(path=tmp_path / "web-book-2-service.png")  # drawn, not kept in the docs
    choose(page, "Lý lịch tư pháp")
    page.screenshot(path=out / "web-book-3-day.png")
    choose(page, "Ngày mai")
    page.locator("#slot-choices .choice").first.wait_for()
    page.screenshot(path=out / "web-book-4-slot.png")
    choose_slot(page, "#slot-choices", "14:15")
    page.fill("#name", NAME)
    page.fill("#phone", "0912 345 67")
    page.fill("#cccd", CCCD)
    page.click("#submit")
    page.screenshot(path=out / "web-book-5-details.png", full_page=True)
    page.fill("#phone", PHONE_NO)
    page.check("#consent")
    page.click("#submit")
    expect(page.locator("#new-banner")).to_be_visible()
    page.screenshot(path=out / "web-book-6-booked.png", full_page=True)
    page.click("#move")
    page.locator("#move-days .choice", has_text="Thứ Sáu").click()
    page.locator("#move-slots .choice").first.wait_for()
    page.screenshot(path=tmp_path / "web-book-7-move.png", full_page=True)
    page.context.close()
    for path in [*out.glob("web-book-*.png"), *tmp_path.glob("web-book-*.png")]:
        assert path.stat().st_size < 400_000, path
