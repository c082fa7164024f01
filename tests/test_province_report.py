"""The province report: its figures are the merge of the sites' own reports over the same
tickets (counts, means, medians and p90s exactly), sites are ranked as documented, a site
manager sees only their sites, and bad parameters are explained (web and CLI)."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date

import openpyxl
import pytest

from common.i18n import Translator
from server import province_report, report_cli, stats
from server.store import Store
from server.web import province_export
from tests.helpers import example_config, local_time
from tests.test_web_pages import get, manager_cookie
from tests.web_fixtures import populate, staffed_config, working_days

END = date(2026, 11, 24)
START = date(2026, 11, 20)
FIGURES = (*stats.COUNTS, "wait_mean", "wait_median", "wait_p90", "wait_max", "service_mean",
           "service_median", "service_p90", "service_max", "within_target_share", "rating_mean",
           "satisfied_share", "ratings")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three working days at the provincial centre and at Gia Viễn, by the real rules."""
    config = staffed_config(example_config())
    path = tmp_path_factory.mktemp("province") / "xephang.db"
    store = Store.open(path)
    days = working_days(END, 3)
    populate(store, config, "tinh", days, rate=1.0)
    populate(store, config, "giavien", days, rate=0.35, seed=7)
    store.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield config, conn, path
    conn.close()


def _province(data, sites=("tinh", "giavien")):
    config, conn, _ = data
    return province_report.province_report(conn, config, sites, START, END)


def _same(row: dict, expected: dict) -> None:
    for name in FIGURES:
        assert row[name] == expected[name], name


def test_each_site_row_is_that_sites_report(data):
    config, conn, _ = data
    result = _province(data)
    assert result.sites == ["tinh", "giavien"]
    for row in result.levels["sites"]:
        own = stats.report(conn, config, row["key"], START, END)
        assert own.summary["issued"] > 20
        _same(row, own.summary)


def test_each_site_service_row_is_that_sites_service_line(data):
    config, conn, _ = data
    result = _province(data)
    rows = {r["key"]: r for r in result.levels["site_services"]}
    for code in result.sites:
        for line in stats.report(conn, config, code, START, END, "service").rows:
            _same(rows[(code, line["key"])], line)


def test_the_total_and_the_fields_merge_every_ticket(data):
    config, conn, _ = data
    result = _province(data)
    reports = [stats.report(conn, config, code, START, END).summary for code in result.sites]
    for name in stats.COUNTS:
        assert result.total[name] == sum(r[name] for r in reports), name
    assert result.total["wait_max"] == max(r["wait_max"] for r in reports)
    # the median of every wait of both sites, from the tickets themselves
    waits = sorted(w for (w,) in conn.execute(
        "select unixepoch(first_called_at) - unixepoch(issued_at) from tickets "
        "where day between ? and ? and first_called_at is not null", [START.isoformat(), END.isoformat()]))
    assert result.total["wait_median"] == stats.percentile([w / 60.0 for w in waits], 0.5)
    assert result.total["wait_p90"] == stats.minutes_percentile(waits, 0.9)
    for level in ("services", "fields"):
        assert sum(r["issued"] for r in result.levels[level]) == result.total["issued"]
    agencies = {r["key"] for r in result.levels["fields"]}
    assert {"Sở Tư pháp", "Công an tỉnh", "Tư pháp – Hộ tịch"} <= agencies


def test_sites_are_ranked_by_the_mean_of_target_and_satisfaction(data):
    result = _province(data)
    ranked = result.ranked
    assert [r["rank"] for r in ranked] == [1, 2]
    for row in ranked:
        assert row["score"] == pytest.approx((row["within_target_share"] + row["satisfied_share"]) / 2)
    assert ranked[0]["score"] >= ranked[1]["score"]
    assert province_report.score({"within_target_share": 0.5, "satisfied_share": None}) == 0.5
    assert province_report.rank([{"within_target_share": None, "satisfied_share": None, "served": 0}])[0][
        "rank"] is None


@pytest.mark.parametrize(("sites", "start", "end", "message"), [
    (["nowhere"], START, END, "unknown site(s): nowhere"),
    ([], START, END, "no site"),
    (["tinh"], END, START, "after it ends"),
    (["tinh"], date(2025, 1, 1), END, "longer than 366 days"),
])
def test_bad_parameters_are_refused(data, sites, start, end, message):
    config, conn, _ = data
    with pytest.raises(province_report.ProvinceReportError) as refused:
        province_report.province_report(conn, config, sites, start, end)
    assert message in str(refused.value)


def test_exports_have_every_level(data, tmp_path):
    config, _, _ = data
    result = _province(data)
    t = Translator("web", "vi")

    def lines(level: str) -> list[list[str]]:
        data = province_export.csv_bytes(config, result, level, t)
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    rows = lines("sites")
    assert rows[0][:4] == ["Mã", "Điểm phục vụ", "Hạng", "Điểm xếp hạng (%)"]
    assert rows[-1][1] == "Tổng cộng"
    assert int(rows[-1][rows[0].index("Số phiếu cấp")]) == result.total["issued"]
    fields = lines("fields")
    assert any(r[1] == "Sở Tư pháp" for r in fields)
    path = tmp_path / "p.xlsx"
    path.write_bytes(province_export.xlsx_bytes(config, result, t, local_time(2026, 11, 25, 9, 0)))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Theo điểm", "Theo dịch vụ", "Theo lĩnh vực", "Điểm và dịch vụ"]
    site_sheet = [r for r in book["Theo điểm"].iter_rows(values_only=True) if r[0] in ("tinh", "giavien")]
    assert {r[0] for r in site_sheet} == {"tinh", "giavien"}
    name = "Đăng ký doanh nghiệp, đầu tư"
    english = province_export.level_label(config, "services", name, Translator("web", "en"))
    assert english == "Business and investment registration"


# -- xephang report --province ------------------------------------------------------------------


def _cli(capsysbinary, *args: str) -> tuple[int, str, str]:
    code = report_cli.main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def test_cli_table_csv_and_xlsx(data, capsysbinary, tmp_path):
    _, _, path = data
    base = ["--db", str(path), "--province", "--from", START.isoformat(), "--to", END.isoformat()]
    code, out, _ = _cli(capsysbinary, *base)
    assert code == 0 and "Báo cáo toàn tỉnh – 2 điểm phục vụ" in out and "Cách xếp hạng" in out
    code, out, _ = _cli(capsysbinary, *base, "--format", "csv", "--level", "services", "--lang", "en")
    assert code == 0 and out.startswith("\ufeffCode,Service,")
    target = tmp_path / "province.xlsx"
    code, _, err = _cli(capsysbinary, *base, "--format", "xlsx", "--output", str(target))
    assert code == 0 and target.stat().st_size > 5000 and str(target) in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--sites", "tinh,nowhere"], "unknown site(s): nowhere (the configuration has tinh, giavien)"),
    (["--site", "tinh"], "--site and --group do not go with --province"),
    (["--format", "xlsx", "--level", "fields"], "--level is for table and csv"),
])
def test_cli_bad_arguments_are_explained(data, capsysbinary, extra, message):
    _, _, path = data
    code, _, err = _cli(capsysbinary, "--db", str(path), "--province", "--from", START.isoformat(),
                        "--to", END.isoformat(), *extra)
    assert code == 2 and message in err


def test_cli_range_checks(data, capsysbinary):
    _, _, path = data
    code, _, err = _cli(capsysbinary, "--db", str(path), "--province", "--from", "2025-01-01",
                        "--to", "2026-11-24")
    assert code == 2 and "longer than 366 days" in err
    code, _, err = _cli(capsysbinary, "--db", str(path), "--sites", "tinh", "--site", "tinh", "--from",
                        "2026-11-24", "--to", "2026-11-24")
    assert code == 2 and "--sites and --level go with --province" in err


# -- the page and its access ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_site_manager_sees_only_their_sites(harness):
    cookie = await manager_cookie(harness, "quanly.giavien")
    page = await get(harness, "/manager/province?from=2026-11-25&to=2026-11-25", cookie=cookie)
    assert page.status == 200 and "Báo cáo toàn tỉnh" in page.text
    assert 'data-key="giavien"' in page.text and 'data-key="tinh"' not in page.text
    refused = await get(harness, "/manager/province?sites=tinh", cookie=cookie)
    assert refused.status == 403 and "tinh" in refused.text
    assert (await get(harness, "/manager/province.csv?sites=tinh", cookie=cookie)).status == 403
    admin = await manager_cookie(harness, "giamdoc")
    both = await get(harness, "/manager/province?from=2026-11-25&to=2026-11-25", cookie=admin)
    assert 'data-key="giavien"' in both.text and 'data-key="tinh"' in both.text
    assert (await get(harness, "/manager/province")).status == 303  # no session: the login page
    assert (await get(harness, "/manager/province.csv")).status == 401


@pytest.mark.asyncio
@pytest.mark.parametrize(("query", "message"), [
    ("sites=nowhere", "Không có điểm phục vụ “nowhere”"),
    ("from=2026-02-30", "không phải ngày hợp lệ"),
    ("from=2026-11-25&to=2026-11-01", "sau ngày kết thúc"),
    ("from=2024-01-01&to=2026-11-25", "dài quá 366 ngày"),
])
async def test_page_parameters_are_validated(harness, query, message):
    cookie = await manager_cookie(harness)
    for path in ("/manager/province", "/manager/province.csv", "/manager/province.xlsx"):
        page = await get(harness, f"{path}?{query}", cookie=cookie)
        assert page.status == 400, (path, query)
        assert message in page.text and "Traceback" not in page.text
    bad_level = await get(harness, "/manager/province.csv?level=everything", cookie=cookie)
    assert bad_level.status == 400 and "Không có cấp thống kê “everything”" in bad_level.text
