"""The web pages in headless Chromium (Playwright, Debian's browser) against a real server.

A server on a background thread holds two simulated working days of the example centre
(the second up to 08:00 on Wednesday 25/11/2026, the fake clock's now). Covered: login
required and enforced, clerks refused, filters change the tables, charts drawn, CSV and
Excel downloads opened and checked, the overview updating itself, the ticket page called
live and rated exactly once, and the screenshots of docs/screenshots/web-*.png
(``XEPHANG_WEB_SCREENSHOTS=docs/screenshots pytest tests/test_web_browser.py -k screenshots``
rewrites them from a richer dataset).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from websockets.sync.client import connect

from server import stats
from server.core import commands as c
from server.store import Store
from tests.helpers import FakeClock, ThreadedServer, example_config, local_time
from tests.web_fixtures import clerks_by_counter, populate, staffed_config, working_days

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "vi-VN"}
TODAY = date(2026, 11, 25)


class WebServer:
    def __init__(self, tmp: Path, *, days: int, at: tuple[int, int]) -> None:
        self.config = staffed_config(example_config())
        self.clock = FakeClock(local_time(2026, 11, 25, *at))
        db = tmp / "xephang.db"
        store = Store.open(db)
        now = self.clock()
        populate(store, self.config, "tinh", working_days(TODAY, days), until=now, rate=1.25)
        populate(store, self.config, "giavien", working_days(TODAY, days), until=now, rate=0.35, seed=7)
        store.record_device("kiosk-sanh-2", "tinh", "kiosk", "paper_low", "Giấy còn khoảng 10%", now)
        store.close()
        self.threaded = ThreadedServer(self.config, db, self.clock)
        self.threaded.start()
        self.ws_url = self.threaded.url
        self.base = self.ws_url.removesuffix("/ws").replace("ws://", "http://")

    def call(self, fn, *args):
        return self.threaded.call(fn, *args)

    def issue(self, service: str, token: str) -> dict:
        async def issue(server):
            await server.submit("tinh", c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1",
                                                      service=service, token=token))
            state = server.states["tinh"]
            return next(t for t in state.tickets.values() if t.token == token)

        return self.call(issue)

    def report(self, start: date, end: date, group: str = "service") -> stats.Report:
        return self.call(lambda s: s.read_db(stats.report, s.config, "tinh", start, end, group))

    def close(self) -> None:
        self.threaded.close()


class Clerk:
    """A clerk's raw websocket session (the counter app's messages)."""

    def __init__(self, server: WebServer, counter: int) -> None:
        self.stack = ExitStack()
        self.ws = self.stack.enter_context(connect(server.ws_url))
        self.ids = 0
        username = clerks_by_counter(server.config, "tinh")[counter]
        self.request({"type": "login", "v": 1, "username": username, "password": "xephang"})
        selected = self.request({"type": "select_counter", "site": "tinh", "counter": counter})
        assert selected["type"] == "result"
        self.request({"type": "finish", "outcome": "received"})  # whatever it was serving

    def request(self, message: dict) -> dict:
        self.ids += 1
        message = {**message, "id": f"c{self.ids}"}
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=10))
            if reply.get("re") == message["id"]:
                return reply

    def close(self) -> None:
        self.stack.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("web"), days=2, at=(8, 0))
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def logged_in(browser: Browser, web: WebServer, username: str = "giamdoc", **context) -> Page:
    page = browser.new_context(**context).new_page()
    page.goto(f"{web.base}/manager/")
    page.fill("#username", username)
    page.fill("#password", "xephang")
    page.click("#login-button")
    page.wait_for_url(re.compile(r".*/manager/(\?.*)?$"))
    return page


def test_login_is_required_and_enforced(browser, web):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{web.base}/manager/report?site=tinh")
    expect(page).to_have_url(re.compile(r"/manager/login\?next=%2Fmanager%2Freport"))
    page.fill("#username", "lan")  # a clerk
    page.fill("#password", "xephang")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("không có quyền quản lý")
    assert not context.cookies()
    page.fill("#username", "giamdoc")
    page.fill("#password", "sai-mat-khau")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    page.fill("#password", "xephang")
    page.click("#login-button")
    page.wait_for_url(re.compile(r"/manager/report\?site=tinh$"))
    expect(page.locator("h1")).to_have_text("Báo cáo thống kê")
    cookie = next(k for k in context.cookies() if k["name"] == "xephang_manager")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "xephang_manager" not in page.evaluate("document.cookie")
    stranger = browser.new_context()
    assert stranger.request.get(f"{web.base}/manager/export.csv?site=tinh").status == 401
    assert stranger.request.get(f"{web.base}/manager/api/overview").status == 401
    page.click("text=Đăng xuất")
    expect(page).to_have_url(re.compile(r"/manager/login$"))
    page.goto(f"{web.base}/manager/report")
    expect(page).to_have_url(re.compile(r"/manager/login"))


def test_report_filters_charts_and_exports(browser, web, tmp_path):
    page = logged_in(browser, web, accept_downloads=True)
    page.goto(f"{web.base}/manager/report?site=tinh&from=2026-11-24&to=2026-11-25&group=service")
    charts = page.locator("figure.chart svg")
    expect(charts).to_have_count(4)
    assert page.locator("#chart_hourly svg rect").count() > 10
    assert page.locator("#chart_histogram svg rect").count() >= 8
    expect(page.locator("#report-table thead th").first).to_have_text("Lĩnh vực / dịch vụ")
    expect(page.locator("#report-table tbody tr")).to_have_count(14)
    two_days = web.report(date(2026, 11, 24), TODAY)
    issued = page.locator('[data-kpi="kpi_issued"] .kpi-value')
    expect(issued).to_have_text(f"{two_days.summary['issued']:,}".replace(",", "."))

    page.select_option("select[name=group]", "counter")
    page.fill("input[name=from]", "2026-11-25")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"from=2026-11-25.*group=counter"))
    expect(page.locator("#report-table thead th").first).to_have_text("Quầy")
    expect(page.locator("#report-table tbody th", has_text="Quầy 1 · Tư pháp 1")).to_have_count(1)
    one_day = web.report(TODAY, TODAY, "counter")
    assert one_day.summary["issued"] < two_days.summary["issued"]
    expect(issued).to_have_text(str(one_day.summary["issued"]))

    with page.expect_download() as csv_download:
        page.click("#export-csv")
    path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(path)
    assert path.name == "xephang-tinh-2026-11-25-2026-11-25-counter.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][1] == "Quầy" and rows[-1][1] == "Tổng cộng"
    assert int(rows[-1][2]) == one_day.summary["issued"]
    by_counter = {r["key"]: r for r in one_day.rows}
    assert int(rows[1][rows[0].index("Đã phục vụ")]) == by_counter[1]["served"]

    with page.expect_download() as xlsx_download:
        page.click("#export-xlsx")
    book_path = tmp_path / "report.xlsx"
    xlsx_download.value.save_as(book_path)
    book = openpyxl.load_workbook(book_path)
    assert "Theo quầy" in book.sheetnames and "Tổng hợp" in book.sheetnames
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    assert summary["Số phiếu cấp"] == one_day.summary["issued"]
    assert summary["Chờ TB (phút)"] == pytest.approx(one_day.summary["wait_mean"])
    assert summary["Tỷ lệ hài lòng"] == pytest.approx(one_day.summary["satisfied_share"])


def test_overview_updates_by_itself(browser, web):
    page = logged_in(browser, web)
    waiting = page.locator('[data-kpi="live_waiting"] .kpi-value')
    before = int(waiting.inner_text().replace(".", ""))
    page.evaluate("window.__stillHere = true")
    web.issue("VH", "overview-test-token-0001")
    expect(waiting).to_have_text(str(before + 1), timeout=10_000)
    assert page.evaluate("window.__stillHere") is True  # updated in place, not reloaded
    expect(page.locator('tr[data-service="VH"] td.waiting')).not_to_have_text("0")


def test_ticket_page_called_live_and_rated_once(browser, web):
    ticket = web.issue("YT", "ticket-page-test-token-01")
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{web.base}/t/{ticket.token}")
    expect(page.locator("#number")).to_have_text(ticket.number)
    expect(page.locator("#status")).to_have_class(re.compile("waiting"))
    expect(page.locator("#conn-text")).to_have_text("Đang cập nhật trực tiếp")
    page.evaluate("window.__stillHere = true")
    clerk = Clerk(web, 7)
    assert clerk.request({"type": "call_number", "number": ticket.number})["type"] == "result"
    expect(page.locator("#status.called .counter-no")).to_have_text("7")
    expect(page.locator("#status .counter-name")).to_have_text("Y tế – Công Thương")
    page.click("#lang-toggle")  # the English name, though ticket_status carries only the Vietnamese one
    expect(page.locator("#status .counter-name")).to_have_text("Health – Industry & Trade")
    page.click("#lang-toggle")
    expect(page.locator("#status .counter-name")).to_have_text("Y tế – Công Thương")
    expect(page.locator("#status .call-lead")).to_have_text("Mời bạn đến quầy số")
    assert page.evaluate("window.__stillHere") is True
    assert page.evaluate("window.__xephang.alerts") == 1
    clerk.request({"type": "recall"})
    page.wait_for_function("window.__xephang.alerts === 2")  # a recall alerts again
    clerk.request({"type": "start_service"})
    expect(page.locator("#status")).to_contain_text("đang được phục vụ tại quầy số 7")
    clerk.request({"type": "finish", "outcome": "guided"})
    expect(page.locator("#status .level")).to_have_count(4)
    page.click('#status .level[data-value="3"]')
    expect(page.locator("#status .thanks")).to_have_text("Cảm ơn bạn đã đánh giá: Hài lòng")
    page.evaluate("window.__xephang.sendRate(4)")  # a second attempt, as a script could
    expect(page.locator("#status .note")).to_have_text(
        "Số này đã được đánh giá. Mỗi số chỉ đánh giá một lần.")
    refused = clerk.request({"type": "rate", "value": 1, "ticket_id": ticket.id})
    assert refused["code"] == "already_rated"
    rating, events = web.call(lambda s: s.run_db(lambda: s.store.db.execute(
        "select rating, (select count(*) from events where type = 'ticket_rated' and ticket_id = ?) "
        "from tickets where id = ?", [ticket.id, ticket.id]).fetchone()))
    assert (rating, events) == (3, 1)
    page.reload()
    expect(page.locator("#status .thanks")).to_have_text("Cảm ơn bạn đã đánh giá: Hài lòng")
    expect(page.locator("#status .level")).to_have_count(0)
    page.click("#lang-toggle")
    expect(page.locator("#status .thanks")).to_have_text("Thank you for your rating: Satisfied")
    clerk.close()
    page.goto(f"{web.base}/t/nosuchticketnosuchticket")
    expect(page.locator("h1")).to_have_text("Không tìm thấy số thứ tự")


def test_yesterdays_ticket_page_takes_a_rating(browser, web):
    token, ticket_id = web.call(lambda s: s.run_db(lambda: tuple(s.store.db.execute(
        "select token, id from tickets where site = 'tinh' and day = '2026-11-24' and state = 'done' "
        "and rating is null limit 1").fetchone())))
    page = browser.new_context(**PHONE).new_page()
    page.goto(f"{web.base}/t/{token}")
    expect(page.locator(".past-day")).to_have_text("Phiếu của ngày 24/11/2026, đã hết hiệu lực.")
    expect(page.locator("#status .level")).to_have_count(4)
    page.click('#status .level[data-value="4"]')
    expect(page.locator("#status .thanks")).to_have_text("Cảm ơn bạn đã đánh giá: Rất hài lòng")
    rating = web.call(lambda s: s.run_db(lambda: s.store.db.execute(
        "select rating from tickets where id = ?", [ticket_id]).fetchone()[0]))
    assert rating == 4


def test_screenshots(browser, web, tmp_path):
    """The pages people see, at the sizes they see them (docs/screenshots/web-*.png)."""
    target = os.environ.get("XEPHANG_WEB_SCREENSHOTS")
    out = Path(target) if target else tmp_path
    server = WebServer(tmp_path, days=6, at=(10, 30)) if target else web
    try:
        shots = capture(browser, server, out)
    finally:
        if server is not web:
            server.close()
    for path in shots:
        shrink(path)
        assert path.stat().st_size < 400_000, path


def shrink(path: Path) -> None:
    """Screenshots for the docs under 400 KB: big ones get a 256-colour palette (text stays
    sharp at a third of the size); small ones keep every colour."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
    if path.stat().st_size > 300_000:
        image = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    image.save(path, optimize=True)


def capture(browser: Browser, server: WebServer, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stack = ExitStack()
    kiosk = stack.enter_context(connect(server.ws_url))  # one kiosk online, printing
    kiosk.send(json.dumps({"type": "login_device", "v": 1, "token": "r-dPIIJld2G0aI0GL3Fkm5S6", "id": 1}))
    kiosk.recv(timeout=10)
    kiosk.send(json.dumps({"type": "printer_status", "state": "ok", "detail": "", "id": 2}))
    page = logged_in(browser, server, viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page.goto(f"{server.base}/manager/?site=tinh")
    shots = [out / "web-overview.png"]
    page.screenshot(path=shots[-1], full_page=True)
    page.goto(f"{server.base}/manager/report?site=tinh&from=2026-11-18&to=2026-11-25&group=service")
    shots.append(out / "web-report.png")
    page.screenshot(path=shots[-1], full_page=True)
    # a citizen a few places back in the longest queue that has a counter to call them
    state = server.call(lambda s: s.states["tinh"])
    site = server.config.site("tinh")
    waiting = sorted((t for t in state.tickets.values() if t.state.value == "waiting"),
                     key=lambda t: t.order)
    services = sorted({t.service for t in waiting}, key=lambda s: -sum(t.service == s for t in waiting))
    service = services[0]
    mine = [t for t in waiting if t.service == service]
    ticket = mine[min(5, len(mine) - 1)]
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{server.base}/t/{ticket.token}")
    expect(phone.locator("#status")).to_have_class(re.compile("waiting"))
    shots.append(out / "web-ticket-waiting.png")
    phone.screenshot(path=shots[-1])
    clerk = Clerk(server, site.counters_serving(service)[-1])
    clerk.request({"type": "call_number", "number": ticket.number})
    expect(phone.locator("#status.called")).to_be_visible()
    phone.wait_for_timeout(3200)  # let the arrival animation settle
    shots.append(out / "web-ticket-called.png")
    phone.screenshot(path=shots[-1])
    clerk.close()
    stack.close()
    return shots


BREAKOUT_NEXT = "/manager/<!--<script>"  # passes safe_next; before, it commented out the page data


def test_crafted_next_cannot_break_the_login_page(browser, web):
    """The page's data survives a `next` holding '<!--<script>': the script runs and logs in
    over the websocket; the password never appears in any request."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url} {r.post_data or ''}"))
    page.goto(f"{web.base}/manager/login?next=" + BREAKOUT_NEXT.replace("<", "%3C").replace("!", "%21"))
    data = json.loads(page.locator("#login-data").text_content())
    assert data["next"] == BREAKOUT_NEXT
    page.fill("#username", "giamdoc")
    page.fill("#password", "xephang")
    page.click("#login-button")
    page.wait_for_url(lambda url: "/manager/login" not in url)
    assert any(k["name"] == "xephang_manager" for k in context.cookies())
    assert len(seen) >= 3  # the page, its assets, the session exchange
    assert not [line for line in seen if "giamdoc" in line or "xephang" in line], seen
    context.close()


def test_login_form_without_scripts_sends_no_credentials(browser, web):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url} {r.post_data or ''}"))
    page.goto(f"{web.base}/manager/login")
    page.fill("#username", "giamdoc")
    page.fill("#password", "mat-khau-bi-mat")
    with page.expect_request(lambda r: (r.url.startswith(f"{web.base}/manager/login") and r.method != "GET")
                             or "username=" in r.url):
        page.click("#login-button")
    assert len(seen) >= 2
    assert not [line for line in seen if "mat-khau-bi-mat" in line or "giamdoc" in line], seen
    context.close()
