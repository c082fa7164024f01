"""Issue 13's "done when", as one story: a newcomer runs the centre from the browser only,
without restarting anything, while the real apps (offscreen) are connected to a real server.

In headless Chromium, logged in as the province administrator, they add a clerk (who logs in
at the real counter app, chooses a password and opens a counter), move that counter to
another service, add a holiday, change the hall notice (the real display app shows it), pair
a new kiosk (the real kiosk app, started with only the server's address, shows the code) and
issue a ticket from it that the clerk calls at the moved counter, then revoke the kiosk (it
goes back to its pairing screen). Every change is on the audit log page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from PySide6.QtCore import Qt

from common import device_credential
from common.device_enrollment import DeviceEnrollment
from common.i18n import Translator
from common.pairing_state import PairingPhase
from counter.actions import Phase
from counter.app import CounterApp
from counter.settings import MemorySettings
from display.app import DisplayApp
from display.board_state import BoardState
from display.view_board import BoardView
from kiosk.app import KioskApp
from kiosk.print_service import PrinterSettings
from kiosk.state import Screen
from server.settings_store import audit_rows
from tests.helpers import DISPLAY_TOKEN, PASSWORD
from tests.test_admin_browser import CHROMIUM_ARGS, SAVED
from tests.test_counter_gui import press, wait_active
from tests.test_counter_password_gui import type_login, type_new_password

pytestmark = [pytest.mark.browser, pytest.mark.gui]
pytest_plugins = ["tests.kiosk_fixtures"]

WAIT = 15_000  # ms
NOTICE = "Chiều nay nghỉ từ 16:00 để tập huấn nghiệp vụ"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def saved(page: Page) -> None:
    expect(page.locator("#admin-saved")).to_have_text(SAVED)


def test_a_newcomer_runs_the_centre_from_the_browser(qtbot, qapp, live_server, home):
    from tests.kiosk_fixtures import FAST, KioskDriver

    base = live_server.url.removesuffix("/ws").replace("ws://", "http://")
    display = DisplayApp(url=live_server.url, token=DISPLAY_TOKEN, board=(board := BoardState()),
                         view=lambda shown: BoardView(shown, Translator("display", "vi")))
    qtbot.addWidget(display.screen)
    display.screen.resize(1366, 768)
    display.screen.show()
    display.start()
    counter = CounterApp(live_server.url, settings=MemorySettings())
    qtbot.addWidget(counter.window)
    counter.show()
    path = device_credential.default_path("kiosk")
    kiosk_app = KioskApp(url=live_server.url, enrollment=DeviceEnrollment("kiosk", path),
                         printer=PrinterSettings(), settings=FAST)
    qtbot.addWidget(kiosk_app.screen)
    kiosk_app.screen.setFixedSize(1080, 1920)
    kiosk_app.screen.show()
    kiosk_app.start()
    kiosk = KioskDriver(kiosk_app, qtbot)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(f"{base}/manager/login")
            page.fill("#username", "giamdoc")
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_url(re.compile(r"/manager/$"))
            page.click("nav.pages >> text=Quản trị")

            # 1. A new clerk, who logs in at the counter app and chooses their own password.
            page.click("text=Người dùng")
            form = page.locator("#add-user form")
            form.get_by_label("Tên đăng nhập").fill("thu")
            form.get_by_label("Họ và tên").fill("Trần Thị Thu")
            form.get_by_label("Quầy").fill("2")
            form.get_by_label("Mật khẩu ban đầu").fill("tam-thoi-2026")
            form.locator("label.check", has_text="Trung tâm Phục vụ hành chính công tỉnh").click()
            form.get_by_role("button", name="Thêm người dùng").click()
            saved(page)
            type_login(qtbot, counter, "thu", "tam-thoi-2026")
            qtbot.waitUntil(lambda: counter.state.phase is Phase.CHANGE_PASSWORD, timeout=WAIT)
            type_new_password(qtbot, counter, "mat-khau-cua-thu", "mat-khau-cua-thu")
            qtbot.waitUntil(lambda: counter.state.phase is Phase.CHOOSE and not counter.state.pending,
                            timeout=WAIT)
            assert [c.number for c in counter.state.choices] == [2]
            choose = counter.window.counter_page
            button = next(b for b in choose.group.buttons() if b.property("number") == 2)
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            qtbot.keyClick(choose, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda: counter.state.phase is Phase.READY, timeout=WAIT)

            # 2. Counter 2 (justice and education, both served elsewhere too) moves to land (DD).
            page.click("text=Quầy và dịch vụ")
            page.click('tr[data-counter="2"] >> text=Sửa')
            edit = page.locator("#edit-counter-2 form.counter-edit")
            for code in live_server.call(lambda s: s.config.site("tinh").counter(2).services):
                edit.locator("label.check", has_text=f"{code} ·").click()
            edit.locator("label.check", has_text="DD ·").click()
            edit.get_by_role("button", name="Lưu thay đổi").click()
            saved(page)

            # 3. A holiday, and 4. the notice on the hall's board.
            page.click("text=Giờ làm việc, ngày nghỉ, thông báo")
            holiday = page.locator("form.holiday-add")
            holiday.get_by_label("Ngày nghỉ mới").fill("2026-12-31")
            holiday.get_by_role("button", name="Thêm ngày nghỉ").click()
            saved(page)
            notice = page.locator("form.notice-edit")
            notice.locator("textarea").fill(NOTICE)
            notice.get_by_role("button", name="Lưu thông báo").click()
            saved(page)
            qtbot.waitUntil(lambda: board.notice == NOTICE, timeout=WAIT)

            # 5. The new kiosk shows its code; the manager pairs it; it issues a DD ticket,
            # which the new clerk calls at the moved counter.
            enrollment = kiosk_app.enrollment
            assert enrollment is not None
            qtbot.waitUntil(lambda: enrollment.state.phase is PairingPhase.SHOWING, timeout=WAIT)
            page.click("text=Thiết bị")
            pair = page.locator("form.device-pair")
            pair.get_by_label("Mã ghép nối").fill(enrollment.state.code)
            pair.get_by_label("Mã thiết bị").fill("kiosk-tang-2")
            pair.get_by_label("Tên thiết bị").fill("Kiosk tầng 2")
            pair.get_by_role("button", name="Ghép nối").click()
            saved(page)
            kiosk.wait_screen(Screen.HOME, timeout=WAIT)
            kiosk.tap_service("DD")
            kiosk.wait_screen(Screen.ISSUED, timeout=WAIT)
            issued = kiosk.state.issued
            assert issued is not None
            press(qtbot, counter, Qt.Key.Key_F1)
            wait_active(qtbot, counter, issued.ticket.number, "called")

            # 6. Revoked: the kiosk is disconnected at once and back on its pairing screen.
            entry = page.locator('li[data-device="kiosk-tang-2"]')
            entry.get_by_role("button", name="Sửa").click()
            revoke = entry.locator("form.device-revoke")
            revoke.get_by_role("button", name="Thu hồi thiết bị").click()
            expect(revoke.get_by_role("button")).to_have_text("Bấm lần nữa để xác nhận")
            revoke.get_by_role("button").click()
            saved(page)
            qtbot.waitUntil(lambda: kiosk_app.frame.currentWidget() is kiosk_app.frame.pairing_screen,
                            timeout=WAIT)
            assert not path.exists()

            # Every change is on the audit log page.
            page.click("text=Nhật ký thay đổi")
            log = page.locator("main")
            for shown in ("thu", "tinh", "kiosk-tang-2"):
                expect(log).to_contain_text(shown)
            actions = [row["action"] for row in live_server.call(lambda s: s.read_db(audit_rows, None))]
            for action in ("user.add", "user.password_change", "counter.update", "site.update",
                           "site.notice", "device.pair", "device.revoke"):
                assert action in actions, (action, actions)
        finally:
            browser.close()
            kiosk_app.stop()
            counter.shutdown()
            display.stop()
