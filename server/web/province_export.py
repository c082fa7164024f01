"""The province report's names and exports: CSV (one level) and an Excel workbook (a summary
sheet, then one sheet per level: sites ranked, services, fields, each site's services).

Used by the province page's download links and by ``xephang report --province``; the cells'
look is the site report's (server/web/export.py).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.config import Config
from common.i18n import Translator
from server.province_report import LEVELS, ProvinceReport
from server.web.export import (
    add_cell_styles,
    csv_value,
    export_columns,
    header_row,
    put_cell,
    title_rows,
    value_of,
)

# The first column's header of each level.
LEVEL_KEYS = {"sites": "col_site", "services": "col_service", "fields": "col_field",
              "site_services": "col_site_service"}
RANK_COLUMNS = (("rank", "col_rank", "count"), ("score", "col_score", "share"))


def filename(start: date, end: date, suffix: str) -> str:
    return f"xephang-province-{start.isoformat()}-{end.isoformat()}{suffix}"


def level_label(config: Config, level: str, key: Any, t: Translator) -> str:
    """How a row's key reads: a site's name, a service's, an agency, "site – service"."""
    english = t.language == "en"
    if level == "sites":
        site = config.site(str(key))
        return site.name if site else str(key)
    if level == "services":
        service = next((s for site in config.sites for s in site.services if s.name_vi == key), None)
        return service.name_en if service is not None and english else str(key)
    if level == "fields":
        return str(key) if key else t.text("no_field")
    site_code, service_code = key
    site = config.site(site_code)
    service = site.service(service_code) if site else None
    name = (service.name_en if english else service.name_vi) if service else service_code
    return f"{site.name if site else site_code} – {name}"


def key_text(level: str, key: Any) -> str:
    return "/".join(key) if level == "site_services" else str(key)


def level_columns(config: Config, level: str, t: Translator) -> list[tuple[str, str, str]]:
    """(row key, header, kind) of a level's figures: the site report's, ranked for sites."""
    ranked = [(k, t.text(text), kind) for k, text, kind in RANK_COLUMNS] if level == "sites" else []
    return ranked + export_columns(config, t)


def _rows(report: ProvinceReport, level: str) -> list[dict[str, Any]]:
    return report.ranked if level == "sites" else report.levels[level]


def csv_bytes(config: Config, report: ProvinceReport, level: str, t: Translator) -> bytes:
    """One level as CSV (UTF-8 with a BOM): a line per row, then the province's total."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    columns = level_columns(config, level, t)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    headers = [h + (" (%)" if kind == "share" else "") for _, h, kind in columns]
    writer.writerow([t.text("col_key"), t.text(LEVEL_KEYS[level]), *headers])
    for row in _rows(report, level):
        writer.writerow([key_text(level, row["key"]), level_label(config, level, row["key"], t),
                         *(csv_value(value_of(row, k), kind) for k, _, kind in columns)])
    total = {**report.total, "rank": None, "score": None}
    writer.writerow(["", t.text("total"), *(csv_value(value_of(total, k), kind) for k, _, kind in columns)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def heading(config: Config, report: ProvinceReport, t: Translator) -> list[str]:
    return [
        config.centre_name,
        t.text("province_heading", sites=len(report.sites)),
        t.text("range_line", start=report.start.strftime("%d/%m/%Y"), end=report.end.strftime("%d/%m/%Y")),
    ]


def xlsx_bytes(config: Config, report: ProvinceReport, t: Translator, generated: datetime) -> bytes:
    lines = [*heading(config, report, t), t.text("generated_line", at=generated.strftime("%H:%M %d/%m/%Y"))]
    book = Workbook()
    add_cell_styles(book)
    summary = book.active
    summary.title = t.text("sheet_summary")[:31]
    row = title_rows(summary, [t.text("province_title"), *lines])
    header_row(summary, row, [t.text("figure"), t.text("value")])
    for key, text, kind in export_columns(config, t):
        row += 1
        put_cell(summary, row, 1, text, "text")
        put_cell(summary, row, 2, value_of(report.total, key), kind)
    row += 2
    put_cell(summary, row, 1, t.text("rank_explained"), "text")
    summary.column_dimensions["A"].width = 46
    summary.column_dimensions["B"].width = 16
    for level in LEVELS:
        _level_sheet(book.create_sheet(t.text(f"sheet_{level}")[:31]), config, report, level, t, lines)
    book.properties.title = t.text("province_title")
    book.properties.creator = "xephang"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _level_sheet(sheet: Any, config: Config, report: ProvinceReport, level: str, t: Translator,
                 lines: list[str]) -> None:
    columns = level_columns(config, level, t)
    start = title_rows(sheet, [t.text(f"level_{level}"), *lines])
    header_row(sheet, start, [t.text("col_key"), t.text(LEVEL_KEYS[level]), *(h for _, h, _ in columns)])
    r = start
    for row in _rows(report, level):
        r += 1
        put_cell(sheet, r, 1, key_text(level, row["key"]), "text")
        put_cell(sheet, r, 2, level_label(config, level, row["key"], t), "text")
        for c, (key, _, kind) in enumerate(columns, start=3):
            put_cell(sheet, r, c, value_of(row, key), kind)
    r += 1
    put_cell(sheet, r, 1, None, "text", bold=True)
    put_cell(sheet, r, 2, t.text("total"), "text", bold=True)
    total = {**report.total, "rank": None, "score": None}
    for c, (key, _, kind) in enumerate(columns, start=3):
        put_cell(sheet, r, c, value_of(total, key), kind, bold=True)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 42
    for c in range(3, len(columns) + 3):
        sheet.column_dimensions[get_column_letter(c)].width = 13
    sheet.freeze_panes = sheet.cell(row=start + 1, column=3)
    sheet.auto_filter.ref = f"A{start}:{get_column_letter(len(columns) + 2)}{r - 1}"
