"""The staffing forecast as rows, CSV and an Excel workbook (the page's downloads and
``xephang forecast``)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font
from openpyxl.worksheet.worksheet import Worksheet

from common.config import Config, Site
from common.i18n import Translator
from server.forecast_data import StaffingForecast
from server.web.export import FORMATS, HEADER_FILL, THIN, TOTAL_FILL


def service_name(site: Site, code: str, t: Translator) -> str:
    service = site.service(code)
    if service is None:
        return code
    return service.name_vi if t.language == "vi" else service.name_en


def shown_hours(result: StaffingForecast) -> list[int]:
    """The hours worth a line: with tickets expected or counters needed."""
    per_hour = result.forecast.per_hour()
    return [h for h in sorted(set(result.plan.hours) | set(per_hour))
            if per_hour.get(h, 0.0) >= 0.05 or result.plan.needed(h) > 0]


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00–{hour + 1:02d}:00"


def hour_rows(result: StaffingForecast) -> list[dict[str, Any]]:
    """Per hour: expected tickets, counters needed and configured, the waits with the plan."""
    per_hour = result.forecast.per_hour()
    rows = []
    for hour in shown_hours(result):
        cells = [w for (_, h), w in result.plan.waits.items() if h == hour]
        tickets = sum(w.tickets for w in cells)
        finite = [w for w in cells if w.tickets]
        mean = (sum((w.mean or 0.0) * w.tickets for w in finite) / tickets
                if tickets and all(w.mean is not None for w in finite) else None)
        within = sum((w.within_target or 0.0) * w.tickets for w in finite) / tickets if tickets else None
        rows.append({"hour": hour, "expected": per_hour.get(hour, 0.0), "needed": result.plan.needed(hour),
                     "configured": result.plan.configured, "wait_mean": mean,
                     "wait_p90": max((w.p90 for w in finite if w.p90 is not None), default=None),
                     "within_target": within})
    return rows


def _columns(t: Translator) -> list[tuple[str, str, str]]:
    return [
        ("expected", t.text("fc_col_expected"), "minutes"),
        ("needed", t.text("fc_col_needed"), "count"),
        ("configured", t.text("fc_col_configured"), "count"),
        ("wait_mean", t.text("fc_col_wait_mean"), "minutes"),
        ("wait_p90", t.text("fc_col_wait_p90"), "minutes"),
        ("within_target", t.text("fc_col_within"), "share"),
    ]


def csv_bytes(config: Config, result: StaffingForecast, t: Translator) -> bytes:
    """One line per hour (all services: the counters), then per service and hour."""
    site = config.site(result.site)
    assert site is not None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = _columns(t)
    writer.writerow([t.text("fc_col_hour"), t.text("col_key"), t.text("group_service"),
                     *(h + (" (%)" if kind == "share" else "") for _, h, kind in columns)])
    for row in hour_rows(result):
        writer.writerow([hour_label(row["hour"]), "", t.text("fc_all_services"),
                         *(_csv(row[key], kind) for key, _, kind in columns)])
    for (code, hour), expected in sorted(result.forecast.cells.items(), key=lambda x: (x[0][0], x[0][1])):
        waits = result.plan.waits.get((code, hour))
        writer.writerow([hour_label(hour), code, service_name(site, code, t), f"{expected:.2f}", "", "",
                         _csv(waits.mean if waits else None, "minutes"),
                         _csv(waits.p90 if waits else None, "minutes"),
                         _csv(waits.within_target if waits else None, "share")])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _csv(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "share":
        return f"{value * 100:.1f}"
    if kind == "count":
        return str(value)
    return f"{value:.1f}" if kind == "minutes" else str(value)


def _head(sheet: Worksheet, row: int, names: list[str]) -> None:
    for col, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    sheet.row_dimensions[row].height = 40


def _put(sheet: Worksheet, row: int, col: int, value: Any, kind: str = "text", *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=col, value=value)
    cell.number_format = FORMATS.get(kind, "General")
    cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    if bold:
        cell.font = Font(bold=True)
        cell.fill = TOTAL_FILL


def _title(sheet: Worksheet, lines: list[str]) -> int:
    for i, line in enumerate(lines, start=1):
        sheet.cell(row=i, column=1, value=line).font = Font(bold=i == 1, size=14 if i == 1 else 11)
    return len(lines) + 2


def xlsx_bytes(config: Config, result: StaffingForecast, t: Translator, generated: datetime) -> bytes:
    site = config.site(result.site)
    assert site is not None
    heading = [t.text("fc_title"), f"{config.centre_name} – {site.name}",
               t.text("fc_day_line", day=result.day.strftime("%d/%m/%Y")),
               t.text("generated_line", at=generated.strftime("%H:%M %d/%m/%Y"))]
    book = Workbook()
    hours_sheet = book.active
    hours_sheet.title = t.text("fc_sheet_hours")[:31]
    row = _title(hours_sheet, heading)
    columns = _columns(t)
    _head(hours_sheet, row, [t.text("fc_col_hour"), *(h for _, h, _ in columns)])
    for line in hour_rows(result):
        row += 1
        _put(hours_sheet, row, 1, hour_label(line["hour"]))
        for c, (key, _, kind) in enumerate(columns, start=2):
            _put(hours_sheet, row, c, line[key], kind)
    hours_sheet.column_dimensions["A"].width = 16
    for letter in "BCDEFG":
        hours_sheet.column_dimensions[letter].width = 15

    services = book.create_sheet(t.text("fc_sheet_services")[:31])
    hours = shown_hours(result)
    row = _title(services, heading)
    _head(services, row, [t.text("col_key"), t.text("group_service"), *(f"{h:02d}h" for h in hours),
                          t.text("total")])
    for code in [s.code for s in site.services]:
        row += 1
        _put(services, row, 1, code)
        _put(services, row, 2, service_name(site, code, t))
        for c, hour in enumerate(hours, start=3):
            _put(services, row, c, result.forecast.cells.get((code, hour), 0.0), "minutes")
        expected = result.forecast.per_service().get(code, 0.0)
        _put(services, row, len(hours) + 3, expected, "minutes", bold=True)
    services.column_dimensions["B"].width = 40

    counters = book.create_sheet(t.text("fc_sheet_counters")[:31])
    row = _title(counters, heading)
    _head(counters, row, [t.text("fc_col_group"), t.text("fc_col_configured"), *(f"{h:02d}h" for h in hours)])
    for group in result.plan.groups:
        row += 1
        _put(counters, row, 1, ", ".join(group.services))
        _put(counters, row, 2, len(group.counters), "count")
        for c, hour in enumerate(hours, start=3):
            _put(counters, row, c, group.needed.get(hour, 0), "count")
    row += 1
    _put(counters, row, 1, t.text("total"), bold=True)
    _put(counters, row, 2, result.plan.configured, "count", bold=True)
    for c, hour in enumerate(hours, start=3):
        _put(counters, row, c, result.plan.needed(hour), "count", bold=True)
    counters.column_dimensions["A"].width = 40

    accuracy = book.create_sheet(t.text("fc_sheet_accuracy")[:31])
    row = _title(accuracy, heading)
    _head(accuracy, row, [t.text("fc_col_method"), t.text("fc_col_days"), t.text("fc_col_day_wape"),
                          t.text("fc_col_day_mape"), t.text("fc_col_day_bias"), t.text("fc_col_cell_wape"),
                          t.text("fc_col_cell_bias")])
    for key, measured in (("fc_method_effects", result.accuracy), ("fc_method_plain", result.plain_accuracy)):
        row += 1
        _put(accuracy, row, 1, t.text(key))
        _put(accuracy, row, 2, measured.days, "count")
        values = (measured.day_wape, measured.day_mape, measured.day_bias, measured.cell_wape,
                  measured.cell_bias)
        for c, value in enumerate(values, start=3):
            _put(accuracy, row, c, value, "share")
    accuracy.column_dimensions["A"].width = 44
    book.properties.title = t.text("fc_title")
    book.properties.creator = "xephang"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
