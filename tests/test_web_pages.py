"""The web pages over real HTTP against a running server (no browser): login and cookies,
access rules, parameter validation, exports, the ticket page, and one rating per ticket."""

from __future__ import annotations

import asyncio
import csv
import http.client
import io
import re
from datetime import date

import openpyxl
import pytest

from server import stats
from tests.helpers import PASSWORD

pytestmark = pytest.mark.asyncio
SHEETS = ["Tổng hợp", "Theo dịch vụ", "Theo quầy", "Theo cán bộ", "Theo giờ", "Theo ngày", "Lịch hẹn"]
TODAY = "site=tinh&from=2026-11-25&to=2026-11-25"


class Page:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


async def get(harness, path: str, cookie: str | None = None) -> Page:
    def fetch() -> Page:
        conn = http.client.HTTPConnection("127.0.0.1", harness.port, timeout=10)
        headers = {"Cookie": cookie} if cookie else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        page = Page(response.status, response.headers, response.read())
        conn.close()
        return page

    return await asyncio.to_thread(fetch)


async def web_login(harness, username: str) -> dict:
    client = await harness.client()
    try:
        return await client.request(
            {"type": "login", "v": 1, "username": username, "password": PASSWORD, "web_session": True},
            expect="welcome")
    finally:
        await client.close()


async def manager_cookie(harness, username: str = "giamdoc") -> str:
    welcome = await web_login(harness, username)
    page = await get(harness, f"/manager/session?code={welcome['web_code']}&next=/manager/report")
    assert page.status == 303 and page.headers["Location"] == "/manager/report"
    return page.headers["Set-Cookie"].split(";", 1)[0]


async def serve_some(harness, count: int = 3) -> list[dict]:
    """Issue ``count`` TP tickets; the clerk at counter 1 calls, serves and finishes the first."""
    kiosk = await harness.kiosk()
    issued = [
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"web-{i:04d}"})
        for i in range(count)]
    clerk = await harness.clerk("lan", 1)
    harness.clock.advance(minutes=4)
    await clerk.request({"type": "call_next"})
    await clerk.request({"type": "start_service"})
    harness.clock.advance(minutes=6)
    await clerk.request({"type": "finish", "outcome": "received"})
    await kiosk.close()
    await clerk.close()
    return issued


async def test_manager_pages_need_a_session(harness):
    page = await get(harness, "/manager/")
    assert page.status == 303 and page.headers["Location"] == "/manager/login?next=%2Fmanager%2F"
    assert (await get(harness, "/manager/report?site=tinh")).status == 303
    for path in ("/manager/export.csv", "/manager/export.xlsx", "/manager/api/overview", "/manager/live"):
        assert (await get(harness, path)).status == 401, path
    forged = await get(harness, "/manager/", cookie="xephang_manager=not-a-session")
    assert forged.status == 303
    login = await get(harness, "/manager/login")
    assert login.status == 200 and "Đăng nhập quản lý" in login.text


async def test_clerks_and_wrong_passwords_get_no_web_session(harness):
    client = await harness.client()
    refused = await client.error(
        {"type": "login", "v": 1, "username": "lan", "password": PASSWORD, "web_session": True})
    assert refused["code"] == "forbidden"
    # the refused login left the connection unauthenticated
    assert (await client.error({"type": "call_next"}))["code"] == "not_authenticated"
    wrong = await client.error(
        {"type": "login", "v": 1, "username": "giamdoc", "password": "nope", "web_session": True})
    assert wrong["code"] == "bad_credentials"
    await client.close()
    plain = await harness.client()  # a manager's ordinary login gets no code
    welcome = await plain.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD},
                                  expect="welcome")
    assert welcome["web_code"] is None
    await plain.close()


async def test_login_code_works_once_and_sets_a_strict_cookie(harness):
    welcome = await web_login(harness, "giamdoc")
    code = welcome["web_code"]
    assert len(code) >= 32
    first = await get(harness, f"/manager/session?code={code}&next=/manager/")
    cookie = first.headers["Set-Cookie"]
    assert re.match(r"xephang_manager=[A-Za-z0-9_-]{40,};", cookie)
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert attribute in cookie
    again = await get(harness, f"/manager/session?code={code}")
    assert again.status == 303 and again.headers["Location"].startswith("/manager/login")
    # an outside "next" is not followed
    other = await web_login(harness, "giamdoc")
    away = await get(harness, f"/manager/session?code={other['web_code']}&next=//evil.example/")
    assert away.headers["Location"] == "/manager/"


async def test_logout_ends_the_session(harness):
    cookie = await manager_cookie(harness)
    assert (await get(harness, "/manager/", cookie=cookie)).status == 200
    out = await get(harness, "/manager/logout", cookie=cookie)
    assert out.status == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert (await get(harness, "/manager/", cookie=cookie)).status == 303


async def test_a_manager_of_some_sites_sees_only_those(harness):
    cookie = await manager_cookie(harness, "quanly.giavien")
    overview = await get(harness, "/manager/", cookie=cookie)
    assert overview.status == 200 and "xã Gia Viễn" in overview.text
    assert "Tư pháp 1" not in overview.text  # a counter of the provincial site
    refused = await get(harness, "/manager/report?site=tinh", cookie=cookie)
    assert refused.status == 403 and "tinh" in refused.text
    assert (await get(harness, "/manager/api/overview?site=tinh", cookie=cookie)).status == 403
    assert (await get(harness, "/manager/export.csv?site=tinh", cookie=cookie)).status == 403
    both = await manager_cookie(harness, "giamdoc")
    assert (await get(harness, "/manager/report?site=tinh", cookie=both)).status == 200


@pytest.mark.parametrize(("query", "message"), [
    ("site=nowhere", "Không có điểm phục vụ “nowhere”"),
    ("from=2026-02-30", "không phải ngày hợp lệ"),
    ("from=25/11/2026", "không phải ngày hợp lệ"),
    ("to=yesterday", "không phải ngày hợp lệ"),
    ("from=2026-11-25&to=2026-11-01", "sau ngày kết thúc"),
    ("from=2024-01-01&to=2026-11-25", "dài quá 366 ngày"),
    ("group=service;drop", "Không có cách thống kê"),
])
async def test_report_parameters_are_validated(harness, query, message):
    cookie = await manager_cookie(harness)
    for path in ("/manager/report", "/manager/export.csv", "/manager/export.xlsx"):
        page = await get(harness, f"{path}?{query}", cookie=cookie)
        assert page.status == 400, (path, query)
        assert message in page.text
        assert "Traceback" not in page.text


async def test_report_page_shows_figures_charts_and_table(harness):
    await serve_some(harness, 3)
    cookie = await manager_cookie(harness)
    page = await get(harness, f"/manager/report?{TODAY}&group=service", cookie=cookie)
    assert page.status == 200
    text = page.text
    assert text.count("<svg") == 4  # hourly, histogram, per counter, satisfaction
    assert 'data-kpi="kpi_issued"' in text and re.search(r'kpi_issued.*?kpi-value">3<', text, re.S)
    assert "Lý lịch tư pháp, quốc tịch, hộ tịch" in text and "Tổng cộng" in text
    by_counter = await get(harness, "/manager/report?site=tinh&from=2026-11-25&to=2026-11-25&group=counter",
                           cookie=cookie)
    assert "Quầy 1 · Tư pháp 1" in by_counter.text
    english = await get(harness, "/manager/report?site=tinh&lang=en", cookie=cookie)
    assert "Statistics report" in english.text and "xephang_lang=en" in english.headers["Set-Cookie"]


async def test_csv_export_opens_in_excel(harness):
    await serve_some(harness, 3)
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/export.csv?site=tinh&from=2026-11-25&to=2026-11-25&group=service",
                     cookie=cookie)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/csv")
    assert 'filename="xephang-tinh-2026-11-25-2026-11-25-service.csv"' in page.headers["Content-Disposition"]
    assert page.body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Vietnamese
    rows = list(csv.reader(io.StringIO(page.body.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["Mã", "Lĩnh vực / dịch vụ", "Số phiếu cấp"]
    tp = rows[1]
    assert tp[0] == "TP" and tp[2] == "3" and tp[header.index("Đã phục vụ")] == "1"
    assert tp[header.index("Chờ TB (phút)")] == "4.0"  # called 4 minutes after issue
    assert tp[header.index("Phục vụ TB (phút)")] == "6.0"
    assert rows[-1][1] == "Tổng cộng" and rows[-1][2] == "3"


async def test_xlsx_export_has_a_summary_and_a_sheet_per_grouping(harness):
    await serve_some(harness, 3)
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/export.xlsx?site=tinh&from=2026-11-25&to=2026-11-25", cookie=cookie)
    assert page.status == 200
    book = openpyxl.load_workbook(io.BytesIO(page.body))
    assert book.sheetnames == SHEETS
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    assert summary["Số phiếu cấp"] == 3 and summary["Đã phục vụ"] == 1
    assert summary["Chờ TB (phút)"] == pytest.approx(4.0)
    sheet = book["Theo dịch vụ"]
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "Mã")
    header = [c.value for c in sheet[header_row]]
    tp = [c for c in sheet[header_row + 1]]
    assert tp[0].value == "TP" and tp[2].value == 3
    assert tp[header.index("Chờ TB (phút)")].number_format == "0.0"
    assert tp[header.index("Đạt thời gian chờ mục tiêu")].number_format == "0.0%"
    assert sheet.cell(header_row, 1).font.b and sheet.freeze_panes == f"C{header_row + 1}"
    assert sheet.column_dimensions["B"].width > 30


async def test_overview_follows_the_hall(harness):
    cookie = await manager_cookie(harness)
    before = await get(harness, "/manager/api/overview?site=tinh", cookie=cookie)
    assert before.status == 200
    import json

    data = json.loads(before.body)
    assert data["waiting"] == 0 and len(data["counters"]) == 14
    assert {k["id"] for k in data["kiosks"]} == {"kiosk-sanh-1", "kiosk-sanh-2"}
    kiosk = await harness.kiosk()
    await kiosk.request({"type": "printer_status", "state": "paper_out", "detail": "Hết giấy"})
    await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "overview-1"})
    harness.clock.advance(minutes=7)
    after = json.loads((await get(harness, "/manager/api/overview?site=tinh", cookie=cookie)).body)
    assert after["waiting"] == 1 and after["longest"] == {"number": "B001", "service": "DN", "minutes": 7.0}
    assert after["issued_today"] == 1 and after["served_today"] == 0
    kiosks = {k["id"]: k for k in after["kiosks"]}
    assert kiosks["kiosk-sanh-1"]["connected"] and kiosks["kiosk-sanh-1"]["printer_state"] == "paper_out"
    assert not kiosks["kiosk-sanh-2"]["connected"]
    live = await get(harness, "/manager/live?site=tinh", cookie=cookie)
    assert "B001" in live.text and "Hết giấy" in live.text
    await kiosk.close()


async def test_public_ticket_page(harness):
    issued = await serve_some(harness, 2)
    token = issued[1]["url"].rsplit("/", 1)[1]
    page = await get(harness, f"/t/{token}")
    assert page.status == 200 and "A002" in page.text and "ticket.js" in page.text
    assert '"ahead": 0' in page.text  # the first was served: nobody ahead
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for bad in ("/t/AAAAAAAAAAAAAAAAAAAAAA", "/t/short", "/t/<script>"):
        missing = await get(harness, bad)
        assert missing.status == 404 and "Không tìm thấy số thứ tự" in missing.text


async def test_a_ticket_of_an_earlier_day_says_so(harness):
    issued = await serve_some(harness, 1)
    harness.clock.advance(days=1)
    await harness.restart()  # the new day: yesterday's tokens are only in the database
    page = await get(harness, f"/t/{issued[0]['url'].rsplit('/', 1)[1]}")
    assert page.status == 200 and "A001" in page.text and "25/11/2026, đã hết hiệu lực" in page.text


async def test_rating_is_recorded_once_from_phone_or_counter(harness):
    issued = await serve_some(harness, 1)
    token = issued[0]["url"].rsplit("/", 1)[1]
    phone = await harness.client()
    await phone.request({"type": "watch_ticket", "v": 1, "token": token}, expect="welcome")
    status = await phone.next_of("ticket_status")
    assert status["ticket"]["state"] == "done" and status["ticket"]["rating"] is None
    assert [r["value"] for r in status["rating"]] == [4, 3, 2, 1]
    rated = await phone.request({"type": "rate", "value": 3})
    assert rated["ticket"]["rating"] == 3
    assert (await phone.error({"type": "rate", "value": 4}))["code"] == "already_rated"
    clerk = await harness.clerk("lan", 1)
    ticket_id = issued[0]["ticket"]["id"]
    again = await clerk.error({"type": "rate", "value": 1, "ticket_id": ticket_id})
    assert again["code"] == "already_rated"
    server = harness.server
    rows = await server.run_db(lambda: server.store.db.execute(
        "select rating, (select count(*) from events where type = 'ticket_rated' and ticket_id = ?) "
        "from tickets where id = ?", [ticket_id, ticket_id]).fetchone())
    assert tuple(rows) == (3, 1)
    report = await server.read_db(stats.report, server.config, "tinh", date(2026, 11, 25),
                              date(2026, 11, 25))
    assert report.summary["rated"] == 1 and report.summary["ratings"] == {3: 1}
    assert report.channels == {"phone": 1, "counter": 0}
    await phone.close()
    await clerk.close()


async def test_static_files_and_font(harness):
    css = await get(harness, "/web/app.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "max-age" in css.headers["Cache-Control"]
    font = await get(harness, "/fonts/BeVietnamPro-Regular.ttf")
    assert font.status == 200 and font.headers["Content-Type"] == "font/ttf" and len(font.body) > 100_000
    for bad in ("/web/..%2Fconfig%2Fexample.toml", "/web/missing.js", "/web/app.py", "/fonts/OFL.txt"):
        assert (await get(harness, bad)).status == 404, bad


async def test_a_failing_page_answers_500_without_a_traceback(harness, monkeypatch):
    async def broken(fn, *args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(harness.server, "compute", broken)  # the report process fails
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/report?site=tinh", cookie=cookie)
    assert page.status == 500 and "Lỗi máy chủ" in page.text
    assert "disk on fire" not in page.text and "Traceback" not in page.text
    assert (await get(harness, "/healthz")).status == 200  # the server carries on


@pytest.mark.parametrize("bad_next", ["/manager/%0D%0ASet-Cookie:%20x=1", "/manager/%00", "/manager/%FF%FE",
                                      "/manager/%E1%BB%9F", "/manager/\t"])
async def test_malformed_next_neither_fails_nor_burns_the_code(harness, bad_next):
    welcome = await web_login(harness, "giamdoc")
    next_path = bad_next.replace(chr(9), "%09")
    page = await get(harness, f"/manager/session?code={welcome['web_code']}&next={next_path}")
    assert page.status == 303 and page.headers["Location"] == "/manager/"
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    assert cookie.startswith("xephang_manager=") and len(cookie) > 40
    assert (await get(harness, "/manager/", cookie=cookie)).status == 200
    login = await get(harness, f"/manager/login?next={bad_next.replace(chr(9), '%09')}")
    assert login.status == 200 and '"next": "/manager/"' in login.text


async def test_a_web_login_gets_its_code_and_no_site_snapshots(harness):
    """The login page only needs the one-time code: a manager's web login is not sent a
    snapshot of every site they cover (a province manager's was 101 of them, ~4 MB)."""
    client = await harness.client()
    welcome = await client.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD,
                                    "web_session": True}, expect="welcome")
    assert welcome["web_code"]
    await client.request({"type": "ping"}, expect="pong")  # anything pushed before it is kept
    assert [m["type"] for m in client.inbox] == []
    await client.close()
    desktop = await harness.client()  # an ordinary manager login still follows every site
    await desktop.request({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD},
                          expect="welcome")
    await desktop.request({"type": "ping"}, expect="pong")
    assert {m["type"] for m in desktop.inbox} == {"snapshot"}
    await desktop.close()
