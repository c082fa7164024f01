"""The managers' appointment figures on a fixed, hand-checked set of bookings.

Site tinh (local time, Asia/Ho_Chi_Minh); "lead" is the slot's start − when it was booked:

  #  day    service slot   status      booked          checked in  lateness  lead   channel
  1  30/11  TP      08:00  checked_in  28/11 20:00     07:45       −15       36 h   web
  2  30/11  TP      08:00  no_show     30/11 07:00     –            –         1 h   web (same day)
  3  30/11  TP      08:30  checked_in  23/11 08:30     08:34        +4      168 h   desk
  4  30/11  TP      08:30  cancelled   29/11 08:30     –            –       (24 h)  web
  5  30/11  DN      08:00  checked_in  30/11 06:00     08:02        +2        2 h   api (same day)
  6  30/11  DN      09:00  booked      29/11 09:00     –            –        24 h   web
  7  01/12  TP      08:00  checked_in  30/11 08:00     07:50       −10       24 h   web

Lateness of the check-ins, sorted: −15 −10 +2 +4 → median −4.0, p90 3.4 (PERCENTILE.INC).
Lead times of the bookings not cancelled, sorted: 1 2 24 24 36 168 → median 24, p90 102.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from common.i18n import Translator
from server import booking_stats
from server.store import Store
from server.web import booking_report, export
from tests.helpers import example_config, local_time

MON, TUE = date(2026, 11, 30), date(2026, 12, 1)
BOOKINGS = [
    # code, day, service, slot (h, m), status, booked (d, m, h, min), checked in (h, m), channel
    ("AAAA0001", MON, "TP", (8, 0), "checked_in", (28, 11, 20, 0), (7, 45), "web"),
    ("AAAA0002", MON, "TP", (8, 0), "no_show", (30, 11, 7, 0), None, "web"),
    ("AAAA0003", MON, "TP", (8, 30), "checked_in", (23, 11, 8, 30), (8, 34), "desk"),
    ("AAAA0004", MON, "TP", (8, 30), "cancelled", (29, 11, 8, 30), None, "web"),
    ("AAAA0005", MON, "DN", (8, 0), "checked_in", (30, 11, 6, 0), (8, 2), "api"),
    ("AAAA0006", MON, "DN", (9, 0), "booked", (29, 11, 9, 0), None, "web"),
    ("AAAA0007", TUE, "TP", (8, 0), "checked_in", (30, 11, 8, 0), (7, 50), "web"),
]


def _utc(day: date, h: int, m: int) -> str:
    return local_time(day.year, day.month, day.day, h, m).astimezone(UTC).isoformat()


def insert_bookings(conn, site: str = "tinh") -> None:
    """The table's rows as the server writes them (names and phones already deleted)."""
    for code, day, service, (h, m), status, (bd, bm, bh, bmin), checked, channel in BOOKINGS:
        start = local_time(day.year, day.month, day.day, h, m)
        booked = local_time(2026, bm, bd, bh, bmin)
        conn.execute(
            "insert into bookings (code, site, service, day, slot_start, slot_end, status, name, phone, "
            "cccd_hash, cccd_last4, created_at, changed_at, checked_in_at, ticket_id, channel, lead_minutes) "
            "values (?, ?, ?, ?, ?, ?, ?, null, null, ?, ?, ?, ?, ?, null, ?, ?)",
            (code, site, service, day.isoformat(), start.astimezone(UTC).isoformat(),
             _utc(day, h, m + 30) if m < 30 else _utc(day, h + 1, 0), status, f"hash-{code}", "1234",
             booked.astimezone(UTC).isoformat(), booked.astimezone(UTC).isoformat(),
             _utc(day, *checked) if checked else None, channel,
             int((start - booked).total_seconds() // 60)))


@pytest.fixture
def conn(tmp_path):
    store = Store.open(tmp_path / "xephang.db")
    insert_bookings(store.db.conn)
    yield store.db.conn
    store.close()


def test_the_range_total(conn):
    report = booking_stats.booking_report(conn, example_config(), "tinh", MON, TUE)
    s = report.summary
    assert (s["made"], s["cancelled"], s["checked_in"], s["no_show"], s["open"]) == (7, 1, 4, 1, 1)
    assert s["no_show_share"] == pytest.approx(1 / 5)
    assert s["late"] == 2
    assert s["lateness_median"] == pytest.approx(-4.0) and s["lateness_p90"] == pytest.approx(3.4)
    assert s["lead_median_hours"] == pytest.approx(24.0) and s["lead_p90_hours"] == pytest.approx(102.0)
    assert s["same_day_share"] == pytest.approx(2 / 6)
    assert (s["web"], s["desk"], s["api"]) == (5, 1, 1)
    assert not report.empty


def test_per_slot_service_and_day(conn):
    report = booking_stats.booking_report(conn, example_config(), "tinh", MON, TUE)
    slots = {row["key"]: row for row in report.groups["slot"]}
    assert list(slots) == ["08:00", "08:30", "09:00"]
    assert (slots["08:00"]["made"], slots["08:00"]["checked_in"], slots["08:00"]["no_show"]) == (4, 3, 1)
    assert (slots["08:30"]["made"], slots["08:30"]["cancelled"], slots["08:30"]["checked_in"]) == (2, 1, 1)
    assert slots["09:00"]["open"] == 1 and slots["09:00"]["no_show_share"] is None
    assert [row["key"] for row in report.groups["service"]] == ["TP", "DN"]  # the site's order
    days = [(row["key"], row["made"]) for row in report.groups["day"]]
    assert days == [("2026-11-30", 6), ("2026-12-01", 1)]


def test_one_day_and_another_site(conn):
    monday = booking_stats.booking_report(conn, example_config(), "tinh", MON, MON)
    assert monday.summary["made"] == 6 and monday.summary["lateness_median"] == pytest.approx(2.0)
    elsewhere = booking_stats.booking_report(conn, example_config(), "giavien", MON, TUE)
    assert elsewhere.empty and elsewhere.summary["no_show_share"] is None


def test_the_csv_has_a_line_per_day_service_and_slot(conn):
    config = example_config()
    rows = booking_stats.day_service_slot_rows(conn, config, "tinh", MON, TUE)
    data = booking_report.csv_bytes(config, "tinh", rows, Translator("web", "vi"))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = lines[0]
    assert header[:4] == ["Ngày", "Mã", "Dịch vụ", "Khung giờ"]
    keys = [(line[0], line[1], line[3]) for line in lines[1:]]
    monday, tuesday = "2026-11-30", "2026-12-01"
    assert keys == [(monday, "TP", "08:00"), (monday, "TP", "08:30"), (monday, "DN", "08:00"),
                    (monday, "DN", "09:00"), (tuesday, "TP", "08:00")]
    tp_0830 = lines[2]
    assert tp_0830[header.index("Đã hủy")] == "1"
    assert tp_0830[header.index("Lệch giờ trung vị (phút)")] == "4.0"
    assert lines[1][header.index("Tỷ lệ không đến (%)")] == "50.0"


def test_the_workbook_sheet(conn):
    config = example_config()
    report = booking_stats.booking_report(conn, config, "tinh", MON, TUE)
    t = Translator("web", "vi")
    from server import stats

    result, groups = stats.all_groups(conn, config, "tinh", MON, TUE)
    data = export.xlsx_bytes(config, result, groups, t, datetime(2026, 12, 2, 8, 0),
                             booking_report.sheet_adder(config, report, t))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Lịch hẹn"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(row for row in values if row[0] == "Khung giờ")
    slot_rows = values[values.index(header) + 1: values.index(header) + 4]
    assert [row[0] for row in slot_rows] == ["08:00", "08:30", "09:00"]
    assert slot_rows[0][header.index("Đặt lịch")] == 4
    total = values[values.index(header) + 4]
    assert total[0] == "Tổng cộng" and total[header.index("Không đến")] == 1
    assert any(row[0] == "Dịch vụ" for row in values) and any(row[0] == "30/11/2026" for row in values)


def test_the_page_section(conn):
    config = example_config()
    html = booking_report.page_section(conn, config, "tinh", MON, TUE, Translator("web", "vi"),
                                       "/manager/bookings.csv?site=tinh")
    assert 'id="bookings-table"' in html and 'data-kpi="bk_kpi_no_show"' in html
    assert "20,0%" in html  # the no-show share, Vietnamese decimal comma
    empty = booking_report.page_section(conn, config, "giavien", MON, TUE, Translator("web", "en"), "/x")
    assert 'id="bookings-none"' in empty and "No appointments" in empty


@pytest.mark.asyncio
async def test_the_report_page_and_the_csv_download(harness):
    import sqlite3

    from tests.test_web_pages import get, manager_cookie

    conn = sqlite3.connect(harness.db, isolation_level=None)  # beside the running server (WAL)
    insert_bookings(conn)
    conn.close()
    cookie = await manager_cookie(harness)
    page = await get(harness, "/manager/report?site=tinh&from=2026-11-30&to=2026-12-01", cookie=cookie)
    assert page.status == 200
    assert 'id="bookings-table"' in page.text and "Lịch hẹn trực tuyến" in page.text
    assert 'href="/manager/bookings.csv?site=tinh&amp;from=2026-11-30&amp;to=2026-12-01' in page.text
    span = "site=tinh&from=2026-11-30&to=2026-12-01"
    download = await get(harness, f"/manager/bookings.csv?{span}", cookie=cookie)
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    name = 'filename="xephang-tinh-2026-11-30-2026-12-01-appointments.csv"'
    assert name in download.headers["Content-Disposition"]
    assert len(download.body.decode("utf-8-sig").splitlines()) == 1 + 5
    assert (await get(harness, "/manager/bookings.csv?site=tinh")).status == 401  # a session is needed
    bad = await get(harness, "/manager/bookings.csv?site=tinh&from=2026-12-01&to=2026-11-30", cookie=cookie)
    assert bad.status == 400
