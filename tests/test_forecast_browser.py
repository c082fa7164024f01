"""The staffing forecast page in headless Chromium against a real server whose database
holds half a year of the provincial centre's history (synthetic, tests/forecast_fixtures.py;
the fake clock says 08:00 on Wednesday 25/11/2026): the page renders with its chart,
tables and accuracy line, switches to English, explains a bad parameter, keeps a site
manager to their sites, and downloads CSV and Excel with the page's figures.

``XEPHANG_WEB_SCREENSHOTS=docs/screenshots pytest tests/test_forecast_browser.py -k screenshot``
rewrites docs/screenshots/web-forecast.png.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.forecast_fixtures import Pattern, synthetic_history, write_history
from tests.helpers import FakeClock, ThreadedServer, example_config, local_time

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLOW = 30_000  # ms: the first forecast starts the report process


class ForecastServer:
    def __init__(self, tmp: Path) -> None:
        self.config = example_config()
        site = self.config.site("tinh")
        assert site is not None
        weights = {s.code: 1.0 + (i % 5) for i, s in enumerate(site.services)}
        pattern = Pattern(base=300, services=weights, month_start=1.25, holidays=frozenset(site.holidays))
        db = tmp / "xephang.db"
        write_history(db, "tinh", synthetic_history(pattern, date(2026, 5, 4), date(2026, 11, 25)),
                      handling_minutes=5.0)
        self.threaded = ThreadedServer(self.config, db, FakeClock(local_time(2026, 11, 25, 8, 0)))
        self.threaded.start()
        self.base = self.threaded.url.removesuffix("/ws").replace("ws://", "http://")

    def close(self) -> None:
        self.threaded.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    started = ForecastServer(tmp_path_factory.mktemp("forecast"))
    yield started
    started.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def logged_in(browser: Browser, server: ForecastServer, username: str = "giamdoc", **context) -> Page:
    page = browser.new_context(**context).new_page()
    page.goto(f"{server.base}/manager/")
    page.fill("#username", username)
    page.fill("#password", "xephang")
    page.click("#login-button")
    page.wait_for_url(re.compile(r".*/manager/(\?.*)?$"))
    return page


def test_the_page_shows_the_next_working_day_and_switches_language(browser, server):
    page = logged_in(browser, server)
    page.click("nav.pages >> text=Dự báo")
    expect(page.locator("h1")).to_have_text("Dự báo lượt khách và số quầy cần mở", timeout=SLOW)
    expect(page.locator("nav.pages a[aria-current]")).to_have_text("Dự báo")
    expect(page.locator("main .page-head .muted")).to_contain_text("T5 26/11/2026")  # tomorrow, a Thursday
    expect(page.locator("#forecast-accuracy")).to_contain_text("Độ chính xác 8 tuần gần nhất")
    tickets = page.locator('[data-kpi="fc_kpi_tickets"] .kpi-value').inner_text()
    assert 240 <= int(tickets.replace(".", "")) <= 360  # an ordinary Thursday: 300 expected
    assert page.locator("#fc_chart svg rect").count() >= 9
    assert page.locator("#fc_chart svg circle").count() >= 9
    expect(page.locator("#forecast-hours tbody tr")).to_have_count(9)  # 07h..16h but the empty lunch hour
    expect(page.locator("#forecast-counters tbody tr")).to_have_count(6)  # the example's service groups
    expect(page.locator("#forecast-services tbody tr")).to_have_count(14)

    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Staffing forecast", timeout=SLOW)
    expect(page.locator("#forecast-accuracy")).to_contain_text("Last 8 weeks: off by")
    expect(page.locator("#forecast-hours thead th").nth(2)).to_have_text("Counters needed")

    page.click("a.chip >> nth=4")  # Monday 30/11
    expect(page).to_have_url(re.compile(r"day=2026-11-30"), timeout=SLOW)
    expect(page.locator("main .page-head .muted")).to_contain_text("Mon 30/11/2026", timeout=SLOW)
    page.goto(f"{server.base}/manager/forecast?site=tinh&day=2026-11-29&lang=vi")  # a Sunday
    expect(page.locator("#forecast-closed")).to_contain_text("điểm phục vụ nghỉ", timeout=SLOW)


@pytest.mark.parametrize(("query", "status", "text"), [
    ("site=tinh&day=2026-13-01", 400, "không phải ngày hợp lệ"),
    ("site=tinh&day=26/11/2026", 400, "không phải ngày hợp lệ"),
    ("site=tinh&day=2026-11-25", 400, "Chỉ dự báo được từ ngày mai đến 09/12/2026"),
    ("site=tinh&day=2026-12-10", 400, "nằm ngoài khoảng 26/11/2026 – 09/12/2026"),
    ("site=khong-co&day=2026-11-26", 400, "Không có điểm phục vụ “khong-co”"),
    ("site=tinh&day=2026-11-26&format=pdf", 400, "“pdf”"),
])
def test_a_bad_parameter_gets_a_page_saying_which(browser, server, query, status, text):
    page = logged_in(browser, server)
    response = page.goto(f"{server.base}/manager/forecast?{query}")
    assert response is not None and response.status == status
    expect(page.locator(".error-card")).to_contain_text(text)


def test_a_site_manager_sees_only_their_site_and_strangers_nothing(browser, server):
    page = logged_in(browser, server, "quanly.giavien")
    response = page.goto(f"{server.base}/manager/forecast?site=tinh")
    assert response is not None and response.status == 403
    stranger = browser.new_context()
    assert stranger.request.get(f"{server.base}/manager/forecast?site=tinh&format=csv").status == 401
    stranger.new_page().goto(f"{server.base}/manager/forecast?site=tinh")


def test_downloads_carry_the_page_figures(browser, server, tmp_path):
    page = logged_in(browser, server, accept_downloads=True)
    page.goto(f"{server.base}/manager/forecast?site=tinh&day=2026-12-01")  # the first working day of December
    expect(page.locator("h1")).to_have_text("Dự báo lượt khách và số quầy cần mở", timeout=SLOW)
    expect(page.locator('[data-kpi="fc_kpi_tickets"] .kpi-detail')).to_contain_text("ngày làm việc thứ 1")
    shown = int(page.locator('[data-kpi="fc_kpi_tickets"] .kpi-value').inner_text().replace(".", ""))

    with page.expect_download(timeout=SLOW) as csv_download:
        page.click("#export-csv")
    path = tmp_path / "forecast.csv"
    csv_download.value.save_as(path)
    assert csv_download.value.suggested_filename == "xephang-du-bao-tinh-2026-12-01.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Giờ", "Mã", "Lĩnh vực / dịch vụ", "Lượt dự kiến"]
    hours = [r for r in rows[1:] if r[2] == "Tất cả lĩnh vực"]
    assert round(sum(float(r[3]) for r in hours)) == pytest.approx(shown, abs=1)
    assert max(int(r[4]) for r in hours) > 0
    cells = [r for r in rows[1:] if r[1]]
    assert sum(float(r[3]) for r in cells) == pytest.approx(sum(float(r[3]) for r in hours), abs=0.5)

    with page.expect_download(timeout=SLOW) as xlsx_download:
        page.click("#export-xlsx")
    book_path = tmp_path / "forecast.xlsx"
    xlsx_download.value.save_as(book_path)
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["Theo giờ", "Theo lĩnh vực", "Quầy cần mở", "Độ chính xác"]
    accuracy = [r for r in book["Độ chính xác"].iter_rows(values_only=True) if r[0] and r[1]]
    assert accuracy[-2][0].startswith("Mức nền cùng thứ") and accuracy[-2][1] == 48
    assert 0 < accuracy[-2][2] < 0.15  # day WAPE, stored as a share


def test_screenshot(browser, server, tmp_path):
    target = os.environ.get("XEPHANG_WEB_SCREENSHOTS")
    out = Path(target) if target else tmp_path
    page = logged_in(browser, server, viewport={"width": 1440, "height": 900}, locale="vi-VN")
    page.goto(f"{server.base}/manager/forecast?site=tinh&day=2026-12-01")
    expect(page.locator("#fc_chart svg")).to_be_visible(timeout=SLOW)
    path = out / "web-forecast.png"
    page.screenshot(path=path, full_page=True)
    from tests.test_web_browser import shrink

    shrink(path)
    assert path.stat().st_size < 400_000
