"""The administration pages in headless Chromium against a real server (the example centre,
08:00 on Wednesday 25/11/2026), each change made in the browser and checked where it shows:
a new clerk logs in over a real websocket and must choose a password, a counter calls
another service, a holiday is added, a new notice reaches a connected display's snapshot,
a device waiting with a pairing code is paired from the page and then revoked (its
connection closes), every change is on the audit log page, a stale edit (two pages) says
to reload, the server's refusals are shown in its own words, and a manager whose password
was reset chooses a new one on the login page.

``XEPHANG_WEB_SCREENSHOTS=docs/screenshots pytest tests/test_admin_browser.py -k screenshots``
rewrites docs/screenshots/web-admin-*.png.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.settings_store import audit_rows
from tests.helpers import (
    DISPLAY_TOKEN,
    KIOSK_TOKEN,
    PASSWORD,
    FakeClock,
    ThreadedServer,
    example_config,
    local_time,
)

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SAVED = "Đã lưu thay đổi."


class AdminServer:
    def __init__(self, tmp: Path) -> None:
        self.threaded = ThreadedServer(example_config(), tmp / "xephang.db",
                                       FakeClock(local_time(2026, 11, 25, 8, 0)))
        self.threaded.start()
        self.ws_url = self.threaded.url
        self.base = self.ws_url.removesuffix("/ws").replace("ws://", "http://")

    @property
    def config(self):
        return self.threaded.server.config

    def audit(self) -> list[dict]:
        return self.threaded.call(lambda s: s.read_db(audit_rows, None, 500))

    def close(self) -> None:
        self.threaded.close()


class Socket:
    """A raw websocket client (a device, a clerk, a manager's script)."""

    def __init__(self, server: AdminServer) -> None:
        self.stack = ExitStack()
        self.ws: ClientConnection = self.stack.enter_context(connect(server.ws_url))
        self.ids = 0

    def request(self, message: dict) -> dict:
        self.ids += 1
        message = {**message, "id": f"s{self.ids}"}
        self.ws.send(json.dumps(message))
        return self.next(lambda m: m.get("re") == message["id"])

    def next(self, wanted, timeout: float = 10) -> dict:
        while True:
            message = json.loads(self.ws.recv(timeout=timeout))
            if wanted(message):
                return message

    def close(self) -> None:
        self.stack.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = AdminServer(tmp_path_factory.mktemp("admin"))
    yield started
    started.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def admin_page(browser: Browser, server: AdminServer, path: str, username: str = "giamdoc",
               **context) -> Page:
    page = browser.new_context(**context).new_page()
    page.goto(f"{server.base}/manager/login?next={path.replace('?', '%3F').replace('&', '%26')}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(re.compile(re.escape(path) + "$"))
    return page


def saved(page: Page) -> None:
    expect(page.locator("#admin-saved")).to_have_text(SAVED)


def test_a_new_clerk_is_added_and_must_choose_a_password(browser, server):
    page = admin_page(browser, server, "/manager/admin/users")
    form = page.locator("#add-user form")
    form.get_by_label("Tên đăng nhập").fill("thu")
    form.get_by_label("Họ và tên").fill("Trần Thị Thu")
    form.get_by_label("Quầy").fill("13")
    form.get_by_label("Mật khẩu ban đầu").fill("ngan")
    form.locator("label.check", has_text="Trung tâm Phục vụ hành chính công tỉnh").click()
    form.get_by_role("button", name="Thêm người dùng").click()
    expect(form.locator("[data-error]")).to_have_text("Mật khẩu ban đầu: cần ít nhất 8 ký tự.")
    assert server.config.user("thu") is None  # the browser's check: nothing was sent
    form.get_by_label("Mật khẩu ban đầu").fill("tam-thoi-2026")
    form.get_by_role("button", name="Thêm người dùng").click()
    saved(page)
    row = page.locator('tr[data-user="thu"]')
    expect(row).to_contain_text("Trần Thị Thu")
    expect(row).to_contain_text("Phải đổi mật khẩu")
    clerk = Socket(server)
    with closing(clerk):
        welcome = clerk.request({"type": "login", "v": 1, "username": "thu", "password": "tam-thoi-2026"})
        assert welcome["type"] == "welcome" and welcome["must_change_password"] is True
    page.context.close()


def test_a_counter_moves_to_another_service(browser, server):
    page = admin_page(browser, server, "/manager/admin/services?site=tinh")
    page.click('tr[data-counter="1"] >> text=Sửa')
    form = page.locator("#edit-counter-1 form.counter-edit")
    form.locator("label.check", has_text="DD ·").click()
    form.locator("label.check", has_text="TP ·").click()
    form.get_by_role("button", name="Lưu thay đổi").click()
    saved(page)
    expect(page.locator('tr[data-counter="1"] td.services-cell')).to_have_text("DD")
    assert server.config.site("tinh").counter(1).services == ["DD"]
    page.context.close()


def test_a_holiday_is_added_and_the_notice_reaches_the_board(browser, server):
    display = Socket(server)
    with closing(display):
        display.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN})
        display.next(lambda m: m["type"] == "snapshot")
        page = admin_page(browser, server, "/manager/admin/hours?site=tinh")
        holiday = page.locator("form.holiday-add")
        holiday.get_by_label("Ngày nghỉ mới").fill("2026-12-24")
        holiday.get_by_role("button", name="Thêm ngày nghỉ").click()
        saved(page)
        expect(page.locator('#holiday-list li[data-day="2026-12-24"]')).to_contain_text("24/12/2026")
        assert "2026-12-24" in [d.isoformat() for d in server.config.site("tinh").holidays]
        notice = page.locator("form.notice-edit")
        notice.locator("textarea").fill("Chiều nay nghỉ từ 16:00 để tập huấn")
        notice.get_by_role("button", name="Lưu thông báo").click()
        pushed = display.next(lambda m: m["type"] == "snapshot"
                              and m["site"]["notice"] == "Chiều nay nghỉ từ 16:00 để tập huấn")
        assert pushed["site"]["code"] == "tinh"
        saved(page)
        bad = page.locator("form.site-edit")
        bad.get_by_label("Thứ Bảy").fill("11:00-07:30")
        bad.get_by_role("button", name="Lưu thay đổi").click()
        expect(bad.locator("[data-error]")).to_contain_text("không đúng dạng 07:00-11:15")
        page.context.close()


def test_a_device_is_paired_from_the_page_and_revoked(browser, server):
    device = Socket(server)
    with closing(device):
        shown = device.request({"type": "pair_request", "v": 1, "kind": "kiosk"})
        page = admin_page(browser, server, "/manager/admin/devices?site=tinh")
        form = page.locator("form.device-pair")
        form.get_by_label("Mã ghép nối").fill(shown["code"].lower())
        form.get_by_label("Mã thiết bị").fill("kiosk-tang-2")
        form.get_by_label("Tên thiết bị").fill("Kiosk tầng 2")
        form.get_by_label("Máy in").fill("tcp://127.0.0.1:9")
        form.get_by_label("Khổ giấy").select_option("58")
        form.get_by_role("button", name="Ghép nối").click()
        paired = device.next(lambda m: m["type"] == "paired")
        assert (paired["device"]["id"], paired["device"]["paper_width_mm"]) == ("kiosk-tang-2", 58)
        saved(page)
        welcome = device.request({"type": "login_device", "v": 1, "token": paired["token"]})
        assert welcome["type"] == "welcome" and welcome["device"]["id"] == "kiosk-tang-2"
        entry = page.locator('li[data-device="kiosk-tang-2"]')
        expect(entry).to_contain_text("tcp://127.0.0.1:9 · 58 mm")
        entry.get_by_role("button", name="Sửa").click()
        revoke = entry.locator("form.device-revoke")
        revoke.get_by_role("button", name="Thu hồi thiết bị").click()
        expect(revoke.get_by_role("button")).to_have_text("Bấm lần nữa để xác nhận")
        revoke.get_by_role("button").click()
        with pytest.raises(ConnectionClosed):
            device.next(lambda m: False, timeout=5)
        saved(page)
        expect(page.locator('li[data-device="kiosk-tang-2"]')).to_have_count(0)
        again = Socket(server)
        with closing(again):
            refused = again.request({"type": "login_device", "v": 1, "token": paired["token"]})
            assert refused["code"] == "bad_token"
        page.context.close()


def test_the_server_s_refusal_is_shown_in_its_words(browser, server):
    kiosk = Socket(server)
    with closing(kiosk):
        kiosk.request({"type": "login_device", "v": 1, "token": KIOSK_TOKEN})
        kiosk.request({"type": "issue_ticket", "service": "THUE", "idempotency_key": "admin-browser-0001"})
        page = admin_page(browser, server, "/manager/admin/services?site=tinh")
        page.click('tr[data-service="THUE"] >> text=Sửa')
        removal = page.locator("form.service-remove").filter(has=page.locator("button:visible"))
        removal.get_by_role("button", name="Xóa dịch vụ").click()
        removal.get_by_role("button", name="Bấm lần nữa để xác nhận").click()
        expect(removal.locator("[data-error]")).to_contain_text("Dịch vụ THUE còn 1 phiếu chưa xong hôm nay")
        assert server.config.site("tinh").service("THUE") is not None
        page.click('tr[data-service="TP"] >> text=Sửa')  # the file's validation, said in Vietnamese
        edit = page.locator("#edit-service-1 form.service-edit")
        edit.get_by_label("Chữ đầu").fill("B")  # DN's letter: both would print B001
        edit.get_by_role("button", name="Lưu thay đổi").click()
        expect(edit.locator("[data-error]")).to_contain_text(
            "Thiết lập không hợp lệ (Điểm «Trung tâm Phục vụ hành chính công tỉnh» › dịch vụ): "
            "hai dịch vụ 'TP' và 'DN' đều có thể in số 'B001'")
        assert server.config.site("tinh").service("TP").numbering.prefix == "A"
        page.context.close()


def test_a_stale_edit_says_to_reload(browser, server):
    first = admin_page(browser, server, "/manager/admin/hours?site=giavien")
    second = admin_page(browser, server, "/manager/admin/hours?site=giavien")
    first.locator("form.notice-edit textarea").fill("Thông báo của người thứ nhất")
    first.locator("form.notice-edit button[type=submit]").click()
    saved(first)
    late = second.locator("form.notice-edit")
    late.locator("textarea").fill("Thông báo thứ hai")
    late.locator("button[type=submit]").click()
    expect(late.locator("[data-error]")).to_contain_text("Tải lại trang để xem thay đổi đó")
    expect(late.locator("textarea")).to_have_value("Thông báo thứ hai")  # what they typed stays
    late.locator("[data-error] button", has_text="Tải lại trang").click()
    expect(second.locator("form.notice-edit textarea")).to_have_value("Thông báo của người thứ nhất")
    assert server.config.site("giavien").notice == "Thông báo của người thứ nhất"
    first.context.close()
    second.context.close()


def test_every_change_is_on_the_audit_log_page(browser, server):
    page = admin_page(browser, server, "/manager/admin/audit")
    rows = server.audit()[:50]
    entries = page.locator("li.audit-entry")
    expect(entries).to_have_count(len(rows))
    shown = entries.evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert shown == [r["seq"] for r in rows]
    actions = {r["action"] for r in rows}
    made_here = {"user.add", "counter.update", "site.update", "site.notice", "device.pair", "device.revoke"}
    assert made_here <= actions
    moved = page.locator("li.audit-entry", has_text="Sửa quầy").first
    expect(moved.locator("tr", has_text="Dịch vụ")).to_contain_text("TP")
    expect(moved.locator("tr", has_text="Dịch vụ").locator("td.after")).to_have_text("DD")
    assert "scrypt" not in page.content()
    page.locator("nav.site-chips a", has_text="xã Gia Viễn").click()
    expect(page.locator("li.audit-entry", has_text="Đổi thông báo").first).to_contain_text("người thứ nhất")
    page.context.close()


def test_a_reset_manager_chooses_a_new_password_on_the_login_page(browser, server):
    boss = Socket(server)
    with closing(boss):
        boss.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD})
        added = boss.request({"type": "admin_change", "base": None, "change": {
            "kind": "user", "username": "phogiamdoc", "full_name": "Phó Giám đốc", "role": "manager",
            "password": "tam-thoi-2026"}})
        assert added["type"] == "result"
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base}/manager/login?next=%2Fmanager%2Fadmin%2Fusers")
    page.fill("#username", "phogiamdoc")
    page.fill("#password", "tam-thoi-2026")
    page.click("#login-button")
    expect(page.locator("#must-change h2")).to_have_text("Chọn mật khẩu mới")
    expect(page.locator("#login-fields")).to_be_hidden()
    page.fill("#new-password", "mat-khau-moi-2026")
    page.fill("#new-password-again", "mat-khau-khac-2026")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_have_text("Hai lần nhập mật khẩu mới không giống nhau.")
    page.fill("#new-password", "tam-thoi-2026")
    page.fill("#new-password-again", "tam-thoi-2026")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_have_text("Mật khẩu mới phải khác mật khẩu cũ")  # the server's
    page.fill("#new-password", "mat-khau-moi-2026")
    page.fill("#new-password-again", "mat-khau-moi-2026")
    page.click("#login-button")
    page.wait_for_url(re.compile(r"/manager/admin/users$"))
    expect(page.locator('tr[data-user="phogiamdoc"] td.states')).not_to_contain_text("Phải đổi mật khẩu")
    assert any(k["name"] == "xephang_manager" for k in context.cookies())
    context.close()
    page = browser.new_context().new_page()  # and the new password is the one from now on
    page.goto(f"{server.base}/manager/login")
    page.fill("#username", "phogiamdoc")
    page.fill("#password", "mat-khau-moi-2026")
    page.click("#login-button")
    page.wait_for_url(re.compile(r"/manager/$"))
    page.context.close()


def test_screenshots(browser, server, tmp_path):
    """The administration pages as a manager sees them (docs/screenshots/web-admin-*.png)."""
    from tests.test_web_browser import shrink

    target = os.environ.get("XEPHANG_WEB_SCREENSHOTS")
    out = Path(target) if target else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = admin_page(browser, server, "/manager/admin/users", viewport={"width": 1440, "height": 900},
                      locale="vi-VN")
    shots = []
    page.click('tr[data-user="lan"] >> text=Sửa')
    shots.append(out / "web-admin-users.png")
    page.screenshot(path=shots[-1], full_page=True)
    page.goto(f"{server.base}/manager/admin/devices?site=tinh")
    shots.append(out / "web-admin-devices.png")
    page.screenshot(path=shots[-1], full_page=True)
    page.goto(f"{server.base}/manager/admin/audit")
    shots.append(out / "web-admin-audit.png")
    page.screenshot(path=shots[-1])
    page.context.close()
    for path in shots:
        shrink(path)
        assert path.stat().st_size < 400_000, path


def test_the_shared_rules_change_and_a_counter_s_next_snapshot_has_them(browser, server):
    clerk = Socket(server)
    with closing(clerk):
        clerk.request({"type": "login", "v": 1, "username": "lan", "password": PASSWORD})
        clerk.request({"type": "select_counter", "site": "tinh", "counter": 2})
        clerk.next(lambda m: m["type"] == "snapshot")
        page = admin_page(browser, server, "/manager/admin/rules")
        form = page.locator("form.centre-edit")
        form.get_by_label("Thời gian gọi lại số vắng mặt (phút)").fill("20")
        guided = form.locator("#outcomes li.row-item").filter(has=page.locator('input[value="guided"]'))
        guided.get_by_label("Tên (tiếng Việt)").fill("Hướng dẫn thủ tục")
        form.locator("#pause-reasons").get_by_role("button", name="Thêm lý do").click()
        form.locator("#pause-reasons li.row-item").last.get_by_label("Lý do").fill("Tập huấn")
        form.get_by_role("button", name="Lưu quy tắc chung").click()
        pushed = clerk.next(lambda m: m["type"] == "snapshot" and m["site"]["late_window_minutes"] == 20)
        saved(page)
        outcome = next(o for o in pushed["site"]["outcomes"] if o["code"] == "guided")
        assert outcome["name_vi"] == "Hướng dẫn thủ tục"
        assert pushed["site"]["pause_reasons"][-1] == "Tập huấn"
        queue = server.config.queue
        assert queue.late_window_minutes == 20 and queue.pause_reasons[-1] == "Tập huấn"
        assert next(o for o in queue.outcomes if o.code == "guided").name_vi == "Hướng dẫn thủ tục"
        expect(page.locator("#outcomes li.row-item").filter(has=page.locator('input[value="guided"]'))
               .get_by_label("Tên (tiếng Việt)")).to_have_value("Hướng dẫn thủ tục")
        page.context.close()


def test_the_shared_rules_form_says_what_is_wrong_before_sending(browser, server):
    page = admin_page(browser, server, "/manager/admin/rules")
    form = page.locator("form.centre-edit")
    error = form.locator("[data-error]")
    before = server.config.announcement
    template = form.get_by_label("Câu đọc khi gọi số")
    template.fill("Xin mời số {number}")
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Câu đọc khi gọi số: cần có cả {number} và {counter}.")
    expect(template).to_be_focused()
    template.fill("Mời {so} đến quầy {counter} {number}")
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Câu đọc khi gọi số: trong ngoặc nhọn chỉ dùng được {number} và {counter}, "
                               "không dùng được “{so}”.")
    template.fill(before.template)
    form.locator("#outcomes").get_by_role("button", name="Thêm kết quả").click()
    added = form.locator("#outcomes li.row-item").last
    added.get_by_label("Mã").fill("received")
    added.get_by_label("Tên (tiếng Việt)").fill("Nhận lại")
    added.get_by_label("Tên tiếng Anh").fill("Received again")
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Kết quả phục vụ, dòng 5 · Mã: “received” đã có ở dòng khác.")
    added.get_by_label("Mã").fill("da xong")
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Kết quả phục vụ, dòng 5 · Mã: 1–16 chữ, số, gạch dưới hoặc gạch ngang.")
    for _ in range(5):
        form.locator("#outcomes li.row-item").first.get_by_role("button", name="Xóa dòng").click()
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Kết quả phục vụ: cần ít nhất 1 dòng.")
    form.get_by_label("Tốc độ đọc (từ/phút)").fill("500")  # a field is checked before the lists
    form.get_by_role("button", name="Lưu quy tắc chung").click()
    expect(error).to_have_text("Tốc độ đọc (từ/phút): cần một số nguyên từ 80 đến 400.")
    assert server.config.announcement == before and server.config.queue.outcomes  # nothing was sent
    page.context.close()


def test_a_site_is_added_from_a_copy_of_giavien(browser, server):
    page = admin_page(browser, server, "/manager/admin/hours?site=tinh")
    page.get_by_text("Thêm điểm phục vụ", exact=True).first.click()
    form = page.locator("form.site-add")
    form.get_by_label("Mã điểm phục vụ").fill("giavien")
    form.get_by_label("Tên điểm phục vụ").fill("Bộ phận Một cửa xã Gia Lập")
    form.get_by_role("button", name="Thêm điểm phục vụ").click()
    expect(form.locator("[data-error]")).to_have_text("Mã điểm phục vụ: đã có điểm phục vụ mã “giavien”.")
    form.get_by_label("Mã điểm phục vụ").fill("gialap")
    form.get_by_label("Chép dịch vụ và quầy từ").select_option("giavien")
    form.get_by_label("Thứ Bảy").fill("07:30-11:30")
    form.get_by_role("button", name="Thêm điểm phục vụ").click()
    page.wait_for_url(re.compile(r"/manager/admin/hours\?site=gialap$"))
    saved(page)
    expect(page.locator("nav.site-chips a[aria-current=page]")).to_have_text("Bộ phận Một cửa xã Gia Lập")
    added, giavien = server.config.site("gialap"), server.config.site("giavien")
    assert added.services == giavien.services and added.counters == giavien.counters
    assert added.hours["sat"] == ["07:30-11:30"] and added.kiosks == [] and added.displays == []
    page.goto(f"{server.base}/manager/admin/services?site=gialap")
    expect(page.locator("tr[data-counter]")).to_have_count(len(giavien.counters))
    device = Socket(server)  # and a kiosk pairs to it
    with closing(device):
        code = device.request({"type": "pair_request", "v": 1, "kind": "kiosk"})["code"]
        page.goto(f"{server.base}/manager/admin/devices?site=gialap")
        pair = page.locator("form.device-pair")
        pair.get_by_label("Mã ghép nối").fill(code)
        pair.get_by_label("Mã thiết bị").fill("kiosk-gialap")
        pair.get_by_label("Tên thiết bị").fill("Kiosk xã Gia Lập")
        pair.get_by_role("button", name="Ghép nối").click()
        token = device.next(lambda m: m["type"] == "paired")["token"]
        assert device.request({"type": "login_device", "v": 1, "token": token})["device"]["site"] == "gialap"
    page.context.close()


def test_a_service_made_bookable_is_offered_on_the_booking_page_at_once(browser, server):
    """GD (Văn bằng, chứng chỉ) takes no appointments in the example centre: the manager turns
    them on with 3 places a slot, none kept for walk-ins, and the public booking page offers
    its slots at once (the same running server, no restart); the place count says 3."""
    assert not server.config.site("tinh").service("GD").booking.bookable
    citizen = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
    citizen.goto(f"{server.base}/book")
    citizen.locator("section.step:visible .choice", has_text="Trung tâm Phục vụ hành chính công tỉnh").click()
    expect(citizen.locator("section.step:visible .choice").first).to_be_visible()
    expect(citizen.locator("section.step:visible .choice", has_text="Văn bằng, chứng chỉ")).to_have_count(0)

    page = admin_page(browser, server, "/manager/admin/services?site=tinh")
    page.click('tr[data-service="GD"] >> text=Sửa')
    form = page.locator("form.service-edit").filter(has=page.locator("button:visible"))
    booking = form.locator("fieldset.booking-settings")
    expect(booking.locator("legend")).to_have_text("Đặt lịch hẹn")
    booking.get_by_label("Cho đặt lịch hẹn trước").check()
    booking.get_by_label("Số chỗ mỗi khung giờ (chỗ)").fill("0")
    form.get_by_role("button", name="Lưu thay đổi").click()  # the page's check: nothing is sent
    expect(form.locator("[data-error]")).to_have_text(
        "Số chỗ mỗi khung giờ (chỗ): cần một số nguyên từ 1 đến 500.")
    assert not server.config.site("tinh").service("GD").booking.bookable
    booking.get_by_label("Số chỗ mỗi khung giờ (chỗ)").fill("3")
    booking.get_by_label("Phần giữ cho người đến trực tiếp (%)").fill("0")
    form.get_by_role("button", name="Lưu thay đổi").click()
    saved(page)
    expect(page.locator('tr[data-service="GD"] td.booking-cell')).to_have_text("3 chỗ / 30 phút")
    rules = server.config.site("tinh").service("GD").booking
    assert (rules.bookable, rules.places_per_slot, rules.walk_in_share) == (True, 3, 0)
    assert rules.bookable_places == 3
    assert rules.slot_minutes == 30 and rules.days_ahead == 6  # what was not touched stays
    entry = next(r for r in server.audit() if r["action"] == "service.update" and r["target"] == "GD")
    assert entry["after"]["booking"]["places_per_slot"] == 3
    page.context.close()

    citizen.goto(f"{server.base}/book")
    citizen.locator("section.step:visible .choice", has_text="Trung tâm Phục vụ hành chính công tỉnh").click()
    citizen.locator("section.step:visible .choice", has_text="Văn bằng, chứng chỉ").click()
    citizen.locator("section.step:visible .choice", has_text="Ngày mai").first.click()
    slot = citizen.locator('#slot-choices .choice[data-start*="T09:00:"]')
    expect(slot).to_contain_text("Còn 3 chỗ")
    expect(citizen.locator("#slot-choices .choice")).to_have_count(14)  # 07:00-11:15, 13:15-16:30 in 30 min
    citizen.context.close()


def test_the_appointment_rules_change_and_a_kiosk_s_next_snapshot_has_them(browser, server):
    kiosk = Socket(server)
    with closing(kiosk):
        kiosk.request({"type": "login_device", "v": 1, "token": KIOSK_TOKEN})
        kiosk.next(lambda m: m["type"] == "snapshot")
        page = admin_page(browser, server, "/manager/admin/rules")
        form = page.locator("form.centre-edit")
        section = form.locator("#appointment-rules")
        expect(section.locator("h2")).to_have_text("Lịch hẹn")
        section.get_by_label("Tuổi được ưu tiên khi quét CCCD (tuổi)").fill("130")
        form.get_by_role("button", name="Lưu quy tắc chung").click()
        expect(form.locator("[data-error]")).to_have_text(
            "Tuổi được ưu tiên khi quét CCCD (tuổi): cần một số nguyên từ 40 đến 120.")
        section.get_by_label("Tuổi được ưu tiên khi quét CCCD (tuổi)").fill("65")
        section.get_by_label("Số lịch hẹn gọi liên tiếp tối đa (lượt)").fill("2")
        section.get_by_label("Thời gian chờ tối đa của người đến trực tiếp (phút)").fill("15")
        section.get_by_label("Đối tượng ưu tiên dành cho người cao tuổi").select_option("merit")
        section.get_by_label("Giữ họ tên và số điện thoại (ngày)").fill("60")
        form.get_by_role("button", name="Lưu quy tắc chung").click()
        pushed = kiosk.next(lambda m: m["type"] == "snapshot" and m["site"]["elderly_age"] == 65)
        saved(page)
        assert pushed["site"]["elderly_priority_class"] == "merit"
        queue = server.config.queue
        assert (queue.appointments_in_row, queue.walk_in_wait_limit_minutes, queue.elderly_age,
                queue.elderly_priority_class, queue.booking_personal_data_days) == (2, 15, 65, "merit", 60)
        expect(section.get_by_label("Giữ họ tên và số điện thoại (ngày)")).to_have_value("60")
        elderly_class = section.get_by_label("Đối tượng ưu tiên dành cho người cao tuổi")
        elderly_class.select_option("")  # back to the list's first class
        form.get_by_role("button", name="Lưu quy tắc chung").click()
        kiosk.next(lambda m: m["type"] == "snapshot" and m["site"]["elderly_priority_class"] != "merit")
        saved(page)
        assert server.config.queue.elderly_priority_class is None
        page.context.close()
