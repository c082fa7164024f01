"""Exports of a report: CSV (UTF-8 with a BOM so Excel reads Vietnamese) and a real
Excel workbook (a summary sheet plus one sheet per grouping) built with openpyxl.

Used by the report page's download links and by ``xephang report``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from common.config import Config
from common.i18n import Translator
from server.stats import GROUPS, Report
from server.web.labels import COLUMNS, EXTRA_COLUMNS, Column, group_label, group_title, rating_names

FORMATS = {"count": "#,##0", "minutes": "0.0", "share": "0.0%", "rating": "0.00"}
HEADER_FILL = PatternFill("solid", fgColor="1E3A8A")
TOTAL_FILL = PatternFill("solid", fgColor="E2E8F0")
THIN = Side(style="thin", color="CBD5E1")


def filename(site: str, start: date, end: date, suffix: str) -> str:
    return f"xephang-{site}-{start.isoformat()}-{end.isoformat()}{suffix}"


def export_columns(config: Config, t: Translator) -> list[tuple[str, str, str]]:
    """(row key, header, kind) of every exported figure; rating levels as ``rating:N``."""
    columns = [(c.key, t.text(c.text), str(c.kind)) for c in (*COLUMNS, *EXTRA_COLUMNS)]
    columns += [(f"rating:{value}", t.text("col_rating_level", level=name), "count")
                for value, name in rating_names(config, t)]
    return columns


def value_of(row: dict[str, Any], key: str) -> Any:
    if key.startswith("rating:"):
        return row["ratings"].get(int(key.split(":", 1)[1]), 0)
    return row.get(key)


def csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "share":
        return f"{value * 100:.1f}"
    if kind == "minutes":
        return f"{value:.1f}"
    if kind == "rating":
        return f"{value:.2f}"
    return value


def csv_bytes(config: Config, report: Report, t: Translator) -> bytes:
    """The report's grouping as CSV: one line per group, then the total."""
    columns = export_columns(config, t)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    headers = [h + (" (%)" if kind == "share" else "") for _, h, kind in columns]
    writer.writerow([t.text("col_key"), group_title(t, report.group), *headers])
    for row in report.rows:
        label = group_label(config, report.site, report.group, row["key"], t)
        key = "" if row["key"] is None else row["key"]
        writer.writerow([key, label, *(csv_value(value_of(row, k), kind) for k, _, kind in columns)])
    summary = report.summary
    writer.writerow(["", t.text("total"), *(csv_value(value_of(summary, k), kind) for k, _, kind in columns)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


# -- Excel --------------------------------------------------------------------------------------


def title_rows(sheet: Worksheet, lines: list[str]) -> int:
    for i, line in enumerate(lines, start=1):
        sheet.cell(row=i, column=1, value=line).font = Font(bold=i == 1, size=14 if i == 1 else 11)
    return len(lines) + 2


def header_row(sheet: Worksheet, row: int, names: list[str]) -> None:
    for col, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    sheet.row_dimensions[row].height = 48


def _cell_style(kind: str, bold: bool) -> NamedStyle:
    style = NamedStyle(name=f"xephang-{kind}{'-total' if bold else ''}",
                       number_format=FORMATS.get(kind, "General"),
                       border=Border(top=THIN, bottom=THIN, left=THIN, right=THIN))
    if bold:
        style.font = Font(bold=True)
        style.fill = TOTAL_FILL
    return style


# A figure's cell style: one named style per kind (and per total line), added to a workbook
# once; a style object built per cell made openpyxl compare styles for every cell (~1 s a year).
CELL_STYLES = {(kind, bold): _cell_style(kind, bold) for kind in (*FORMATS, "text") for bold in (False, True)}


def add_cell_styles(book: Workbook) -> None:
    for style in CELL_STYLES.values():
        book.add_named_style(style)


def put_cell(sheet: Worksheet, row: int, col: int, value: Any, kind: str, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=col, value=value)
    cell.style = CELL_STYLES[(kind if kind in FORMATS else "text", bold)].name


def _group_sheet(sheet: Worksheet, config: Config, report: Report, group: str, rows: list[dict[str, Any]],
                 t: Translator, heading: list[str]) -> None:
    columns = export_columns(config, t)
    start = title_rows(sheet, [t.text("group_sheet_title", group=group_title(t, group).lower()), *heading])
    header_row(sheet, start, [t.text("col_key"), group_title(t, group), *(h for _, h, _ in columns)])
    r = start
    for row in rows:
        r += 1
        put_cell(sheet, r, 1, row["key"], "text")
        put_cell(sheet, r, 2, group_label(config, report.site, group, row["key"], t), "text")
        for c, (key, _, kind) in enumerate(columns, start=3):
            put_cell(sheet, r, c, value_of(row, key), kind)
    r += 1
    put_cell(sheet, r, 1, None, "text", bold=True)
    put_cell(sheet, r, 2, t.text("total"), "text", bold=True)
    for c, (key, _, kind) in enumerate(columns, start=3):
        put_cell(sheet, r, c, value_of(report.summary, key), kind, bold=True)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 42
    for c in range(3, len(columns) + 3):
        sheet.column_dimensions[get_column_letter(c)].width = 13
    sheet.freeze_panes = sheet.cell(row=start + 1, column=3)
    sheet.auto_filter.ref = f"A{start}:{get_column_letter(len(columns) + 2)}{r - 1}"


def _summary_sheet(sheet: Worksheet, config: Config, report: Report, t: Translator,
                   heading: list[str]) -> None:
    row = title_rows(sheet, [t.text("report_title"), *heading])
    header_row(sheet, row, [t.text("figure"), t.text("value")])
    figures: list[tuple[Column | None, str, Any, str]] = [
        (c, t.text(c.text), report.summary.get(c.key), c.kind) for c in (*COLUMNS, *EXTRA_COLUMNS)]
    figures.append((None, t.text("days_with_data"), report.days, "count"))
    for _, name, value, kind in figures:
        row += 1
        put_cell(sheet, row, 1, name, "text")
        put_cell(sheet, row, 2, value, kind)
    row += 2
    header_row(sheet, row, [t.text("col_rating_level_plain"), t.text("col_count")])
    for value, name in rating_names(config, t):
        row += 1
        put_cell(sheet, row, 1, f"{value} – {name}", "text")
        put_cell(sheet, row, 2, report.summary["ratings"].get(value, 0), "count")
    for channel in ("phone", "counter"):
        row += 1
        put_cell(sheet, row, 1, t.text(f"rated_by_{channel}"), "text")
        put_cell(sheet, row, 2, report.channels.get(channel, 0), "count")
    row += 2
    header_row(sheet, row, [t.text("col_hour"), t.text("legend_arrivals"), t.text("legend_served"),
                         t.text("col_wait_mean")])
    for h in report.hourly:
        row += 1
        put_cell(sheet, row, 1, f"{h['hour']:02d}:00–{h['hour'] + 1:02d}:00", "text")
        put_cell(sheet, row, 2, h["arrivals"], "count")
        put_cell(sheet, row, 3, h["served"], "count")
        put_cell(sheet, row, 4, h["wait_mean"], "minutes")
    row += 2
    header_row(sheet, row, [t.text("col_wait_band"), t.text("col_count")])
    for band in report.histogram:
        row += 1
        text = (f"{band['low']}–{band['high']}" if band["high"] is not None else f"≥ {band['low']}")
        put_cell(sheet, row, 1, f"{text} {t.text('minutes_short')}", "text")
        put_cell(sheet, row, 2, band["count"], "count")
    sheet.column_dimensions["A"].width = 46
    for letter in "BCD":
        sheet.column_dimensions[letter].width = 16


def xlsx_bytes(config: Config, report: Report, groups: dict[str, list[dict[str, Any]]], t: Translator,
               generated: datetime, more: Callable[[Workbook, list[str]], None] | None = None) -> bytes:
    """The workbook; ``more(book, heading)`` adds sheets after the groupings' (appointments)."""
    site = config.site(report.site)
    heading = [
        f"{config.centre_name} – {site.name if site else report.site}",
        t.text("range_line", start=report.start.strftime("%d/%m/%Y"), end=report.end.strftime("%d/%m/%Y")),
        t.text("generated_line", at=generated.strftime("%H:%M %d/%m/%Y")),
    ]
    book = Workbook()
    add_cell_styles(book)
    summary = book.active
    summary.title = t.text("sheet_summary")[:31]
    _summary_sheet(summary, config, report, t, heading)
    for group in GROUPS:
        sheet = book.create_sheet(t.text(f"sheet_{group}")[:31])
        _group_sheet(sheet, config, report, group, groups[group], t, heading)
    if more is not None:
        more(book, heading)
    book.properties.title = t.text("report_title")
    book.properties.creator = "xephang"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
