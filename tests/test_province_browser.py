"""The province page in headless Chromium against a real server (the data of
tests/test_web_browser.py: working days at the provincial centre and at Gia Viễn): the
ranked sites, the language switch, the CSV and Excel downloads, and the screenshot
docs/screenshots/web-province.png (``XEPHANG_WEB_SCREENSHOTS=docs/screenshots pytest
tests/test_province_browser.py``)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.test_web_browser import CHROMIUM_ARGS, WebServer, logged_in, shrink

pytestmark = pytest.mark.browser
QUERY = "from=2026-11-18&to=2026-11-25"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("province-web"), days=4, at=(10, 30))
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_province_page_language_and_downloads(browser, web, tmp_path):
    page = logged_in(browser, web, accept_downloads=True, viewport={"width": 1440, "height": 900},
                     locale="vi-VN")
    page.click("nav.pages >> text=Toàn tỉnh")
    expect(page.locator("h1")).to_have_text("Báo cáo toàn tỉnh")
    page.goto(f"{web.base}/manager/province?{QUERY}")
    sites = page.locator("#province-sites tbody tr")
    expect(sites).to_have_count(2)
    expect(sites.first.locator("td.rank")).to_have_text("1")
    expect(page.locator("#province-sites")).to_contain_text("Trung tâm Phục vụ hành chính công tỉnh")
    expect(page.locator("#province-fields")).to_contain_text("Sở Tư pháp")
    expect(page.locator("#province-sites")).to_contain_text("Cách xếp hạng")
    if target := os.environ.get("XEPHANG_WEB_SCREENSHOTS"):
        shot = Path(target) / "web-province.png"
        page.screenshot(path=shot, full_page=True)
        shrink(shot)
        assert shot.stat().st_size < 400_000

    with page.expect_download() as csv_download:
        page.click("#export-csv-sites")
    path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(path)
    assert path.name == "xephang-province-2026-11-18-2026-11-25-sites.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0][1] == "Điểm phục vụ" and rows[-1][1] == "Tổng cộng"
    assert {r[0] for r in rows[1:-1]} == {"tinh", "giavien"}

    with page.expect_download() as xlsx_download:
        page.click("#export-xlsx")
    book_path = tmp_path / "province.xlsx"
    xlsx_download.value.save_as(book_path)
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["Tổng hợp", "Theo điểm", "Theo dịch vụ", "Theo lĩnh vực", "Điểm và dịch vụ"]

    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Province report")
    expect(page.locator("#province-sites h2")).to_have_text("Sites, ranked")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Báo cáo toàn tỉnh")
    # Vietnamese renders with the shipped font: the heading is as wide as its letters need
    width = page.evaluate("document.querySelector('h1').getBoundingClientRect().width")
    assert width > 100
