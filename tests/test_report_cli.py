"""``xephang report`` on the hand-checked dataset of tests/test_stats.py (Gia Viễn, two mornings)."""

from __future__ import annotations

import csv
import io
import unicodedata

import openpyxl
import pytest

from server import report_cli
from server.store import Store
from tests.helpers import example_config
from tests.test_stats import record_two_mornings

SHEETS = ["Tổng hợp", "Theo dịch vụ", "Theo quầy", "Theo cán bộ", "Theo giờ", "Theo ngày", "Lịch hẹn"]
OPTIONS = ("--config", "--db", "--site", "--from", "--to", "--group", "--format", "--output", "--lang")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "xephang.db"
    store = Store.open(path)
    record_two_mornings(store, example_config())
    store.close()
    return path


def run(capsysbinary, *args: str) -> tuple[int, str, str]:
    code = report_cli.main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def base(db) -> list[str]:
    return ["--db", str(db), "--site", "giavien", "--from", "2026-11-25", "--to", "2026-11-26"]


def width(line: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in unicodedata.normalize("NFC", line))


def test_table_per_service(db, capsysbinary):
    code, out, _ = run(capsysbinary, *base(db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Trung tâm Phục vụ hành chính công tỉnh Ninh Bình – ")
    assert lines[1] == "Từ ngày 25/11/2026 đến ngày 26/11/2026"
    table = lines[lines.index("") + 1:]
    header, rule = table[0], table[1]
    assert header.split()[:3] == ["Lĩnh", "vực", "/"] and "Chờ TB" in header and "Hài lòng" in header
    assert set(rule) == {"-"}
    ht = next(line for line in table if line.startswith("Hộ tịch, chứng thực"))
    # HT: 6 issued, 5 served, 1 absent, wait mean 106/6 = 17,7, median 14,5, p90 35,0
    assert ht.removeprefix("Hộ tịch, chứng thực").split()[:6] == ["6", "5", "1", "17,7", "14,5", "35,0"]
    total = table[-1]
    # all: 10 issued, 6 served, 1 absent; wait mean 111/7 = 15,9; median 14; p90 34
    assert total.split()[:8] == ["Tổng", "cộng", "10", "6", "1", "15,9", "14,0", "34,0"]
    assert total.endswith("2,80     60,0%")  # mean rating 14/5; 3 of 5 satisfied
    # aligned: every row of the table has the header's width or less, numbers right-aligned
    assert all(width(line) <= width(header) for line in table)
    assert width(ht) == width(total) == width(header.rstrip())


def test_table_by_counter_in_english(db, capsysbinary):
    code, out, _ = run(capsysbinary, *base(db), "--group", "counter", "--lang", "en")
    assert code == 0
    assert "Counter 1 · Justice – Civil status" in out and "(Never called at a counter)" in out
    assert "15.9" in out and "Total" in out


def test_csv_with_bom(db, capsysbinary):
    code = report_cli.main([*base(db), "--format", "csv", "--group", "day"])
    raw = capsysbinary.readouterr().out
    assert code == 0 and raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã", "Ngày", "Số phiếu cấp"]
    assert [r[0] for r in rows[1:]] == ["2026-11-25", "2026-11-26", ""]
    assert rows[1][1] == "T4 25/11/2026" and rows[1][2] == "7" and rows[2][2] == "3"
    assert rows[-1][1] == "Tổng cộng" and rows[-1][2] == "10"
    header = rows[0]
    assert rows[2][header.index("Chờ TB (phút)")] == "16.0"  # Thursday: (2 + 30) / 2
    assert rows[-1][header.index("Đánh giá: Rất hài lòng")] == "2"


def test_xlsx_every_grouping(db, capsysbinary, tmp_path):
    target = tmp_path / "bao-cao.xlsx"
    code, _, err = run(capsysbinary, *base(db), "--format", "xlsx", "--output", str(target))
    assert code == 0 and str(target) in err
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == SHEETS
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    assert summary["Số phiếu cấp"] == 10 and summary["Đã phục vụ"] == 6
    assert summary["Chờ TB (phút)"] == pytest.approx(111 / 7)
    assert summary["Chờ P90 (phút)"] == pytest.approx(34)
    assert summary["Đạt thời gian chờ mục tiêu"] == pytest.approx(6 / 9)
    assert summary["Tỷ lệ hài lòng"] == pytest.approx(0.6)
    assert summary["4 – Rất hài lòng"] == 2 and summary["Đánh giá qua điện thoại (mã QR)"] == 2
    clerks = book["Theo cán bộ"]
    names = [clerks.cell(r, 2).value for r in range(1, clerks.max_row + 1)]
    assert "Vũ Phương Thảo (thao)" in names


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-11-26", "--to", "2026-11-25", "--site", "giavien"], "is after --to"),
    (["--from", "2025-01-01", "--to", "2026-11-25", "--site", "giavien"], "longer than 366 days"),
    (["--from", "2026-11-25", "--to", "2026-11-25", "--site", "hanoi"], "unknown site 'hanoi'"),
    (["--from", "2026-11-25", "--to", "2026-11-25"], "choose a site with --site (tinh, giavien)"),
])
def test_bad_arguments_are_explained(db, capsysbinary, args, message):
    code, out, err = run(capsysbinary, "--db", str(db), *args)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_bad_dates_and_choices_stop_argparse(db, capsysbinary):
    for args in (["--from", "25/11/2026", "--to", "2026-11-25"], ["--from", "2026-11-25"],
                 ["--from", "2026-11-25", "--to", "2026-11-25", "--format", "pdf"]):
        with pytest.raises(SystemExit) as stop:
            report_cli.main(["--db", str(db), "--site", "giavien", *args])
        assert stop.value.code == 2
    assert "is not a date like 2026-11-25" in capsysbinary.readouterr().err.decode()


def test_missing_database(tmp_path, capsysbinary):
    code, _, err = run(capsysbinary, "--db", str(tmp_path / "none.db"), "--site", "tinh",
                       "--from", "2026-11-25", "--to", "2026-11-25")
    assert code == 1 and "no database at" in err


def test_help_names_every_option(capsysbinary):
    with pytest.raises(SystemExit) as stop:
        report_cli.main(["--help"])
    assert stop.value.code == 0
    text = capsysbinary.readouterr().out.decode()
    for option in OPTIONS:
        assert option in text
