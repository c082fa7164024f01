"""The report page's appointments section, its CSV (one line per day, service and slot) and
its sheet in the report's workbook (issue 14; figures: server/booking_stats.py)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from websockets.http11 import Request, Response

from common.config import Config
from common.i18n import Language, Translator
from server import booking_stats
from server.booking_stats import COLUMNS, BookingReport
from server.web import export
from server.web.html import CSV, download, e, fmt_int, fmt_number, fmt_pct, kpi_cards
from server.web.labels import group_label
from server.web.prepared import prepared
from server.web.shell import link, manager_context, report_params

if TYPE_CHECKING:
    from server.service import Service

# The workbook's number formats for the two kinds this report adds.
_KINDS = {"hours": "minutes"}


def _cell(value: Any, kind: str, lang: Language) -> str:
    if kind == "count":
        return fmt_int(value, lang)
    if kind == "share":
        return fmt_pct(value, lang)
    return fmt_number(value, lang)


def row_label(config: Config, site: str, group: str, key: Any, t: Translator) -> str:
    if group == "service":
        return group_label(config, site, "service", key, t)
    if group == "day" and isinstance(key, str):
        year, month, day = key.split("-")
        return f"{day}/{month}/{year}"
    return str(key)


def section(config: Config, report: BookingReport, t: Translator, csv_href: str) -> str:
    """The page's appointments section: figure cards and the table per slot (nothing when no
    service of the site takes bookings and none were made)."""
    lang = t.language
    head = (f'<div class="page-head"><div><h2>{e(t.text("bk_title"))}</h2>'
            f'<p class="muted">{e(t.text("bk_note"))}</p></div>'
            f'<div class="actions"><a class="button secondary" id="export-bookings-csv" href="{e(csv_href)}">'
            f'{e(t.text("bk_download_csv"))}</a></div></div>')
    if report.empty:
        return (f'<section class="card" id="bookings">{head}'
                f'<p class="muted" id="bookings-none">{e(t.text("bk_none"))}</p></section>')
    s = report.summary
    cards = kpi_cards([
        ("bk_kpi_made", fmt_int(s["made"], lang),
         t.text("bk_kpi_made_detail", cancelled=fmt_int(s["cancelled"], lang),
                open=fmt_int(s["open"], lang))),
        ("bk_kpi_checked_in", fmt_int(s["checked_in"], lang),
         t.text("bk_kpi_checked_in_detail", late=fmt_int(s["late"], lang))),
        ("bk_kpi_no_show", fmt_int(s["no_show"], lang),
         t.text("bk_kpi_no_show_detail", share=fmt_pct(s["no_show_share"], lang))),
        ("bk_kpi_lateness", (fmt_number(s["lateness_median"], lang), t.text("minutes_short")),
         t.text("bk_kpi_lateness_detail", p90=fmt_number(s["lateness_p90"], lang))),
        ("bk_kpi_lead", (fmt_number(s["lead_median_hours"], lang), "h"),
         t.text("bk_kpi_lead_detail", p90=fmt_number(s["lead_p90_hours"], lang),
                same_day=fmt_pct(s["same_day_share"], lang))),
    ], t)
    heads = "".join(f'<th scope="col">{e(t.text("bk_col_" + key))}</th>' for key, _ in COLUMNS)
    body = "".join(
        f'<tr><th scope="row">{e(row_label(config, report.site, "slot", row["key"], t))}</th>'
        + "".join(f"<td>{_cell(row[key], kind, lang)}</td>" for key, kind in COLUMNS) + "</tr>"
        for row in report.groups["slot"])
    total = "".join(f"<td>{_cell(s[key], kind, lang)}</td>" for key, kind in COLUMNS)
    table = f"""
<div class="table-scroll"><table class="figures" id="bookings-table">
  <caption>{e(t.text("bk_table_title"))}</caption>
  <thead><tr><th scope="col">{e(t.text("bk_group_slot"))}</th>{heads}</tr></thead>
  <tbody>{body}</tbody>
  <tfoot><tr><th scope="row">{e(t.text("total"))}</th>{total}</tr></tfoot>
</table></div>
<p class="muted">{e(t.text("bk_def"))}</p>"""
    return f'<section class="card table-card" id="bookings">{head}{cards}{table}</section>'


def page_section(conn: sqlite3.Connection, config: Config, site: str, start: Any, end: Any,
                 t: Translator, csv_href: str) -> str:
    """In the report process: the section's figures and HTML."""
    return section(config, booking_stats.booking_report(conn, config, site, start, end), t, csv_href)


# -- exports ----------------------------------------------------------------------------------------


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "share":
        return f"{value * 100:.1f}"
    if kind in ("minutes", "hours"):
        return f"{value:.1f}"
    return value


def csv_bytes(config: Config, site: str, rows: list[dict[str, Any]], t: Translator) -> bytes:
    """One line per (day, service, slot): UTF-8 with a BOM, like the report's CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t.text("bk_group_day"), t.text("col_key"), t.text("bk_group_service"),
                     t.text("bk_group_slot"), *(t.text("bk_col_" + key) for key, _ in COLUMNS)])
    for row in rows:
        day, service, slot = row["key"]
        writer.writerow([day, service, row_label(config, site, "service", service, t), slot,
                         *(_csv_value(row[key], kind) for key, kind in COLUMNS)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _csv_job(conn: sqlite3.Connection, config: Config, site: str, start: Any, end: Any,
             language: Language) -> bytes:
    rows = booking_stats.day_service_slot_rows(conn, config, site, start, end)
    return csv_bytes(config, site, rows, Translator("web", language))


def add_sheet(book: Workbook, config: Config, report: BookingReport, t: Translator,
              heading: list[str]) -> None:
    """The workbook's appointments sheet: the total, then the rows per slot, service and day."""
    sheet = book.create_sheet(t.text("bk_sheet")[:31])
    row = export.title_rows(sheet, [t.text("bk_title"), *heading])
    names = [t.text("bk_col_" + key) for key, _ in COLUMNS]
    for group in booking_stats.GROUPS:
        export.header_row(sheet, row, [t.text(f"bk_group_{group}"), *names])
        for line in report.groups[group]:
            row += 1
            export.put_cell(sheet, row, 1, row_label(config, report.site, group, line["key"], t), "text")
            for c, (key, kind) in enumerate(COLUMNS, start=2):
                export.put_cell(sheet, row, c, line[key], _KINDS.get(kind, kind))
        row += 1
        export.put_cell(sheet, row, 1, t.text("total"), "text", bold=True)
        for c, (key, kind) in enumerate(COLUMNS, start=2):
            export.put_cell(sheet, row, c, report.summary[key], _KINDS.get(kind, kind), bold=True)
        row += 3
    sheet.column_dimensions["A"].width = 40


SheetAdder = Callable[[Workbook, list[str]], None]


def sheet_adder(config: Config, report: BookingReport, t: Translator) -> SheetAdder:
    """``export.xlsx_bytes``'s ``more``: the appointments sheet (the page's and xephang report's)."""

    def add(book: Workbook, heading: list[str]) -> None:
        add_sheet(book, config, report, t, heading)

    return add


async def export_csv(server: Service, request: Request, query: dict[str, str]) -> Response:
    """``/manager/bookings.csv?site=&from=&to=``: the range's appointments per day, service, slot."""
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = report_params(server, ctx, query)
    if isinstance(params, Response):
        return params

    async def produce() -> Response:
        data = await server.compute(_csv_job, server.config, params.site, params.start, params.end,
                                    ctx.t.language)
        name = export.filename(params.site, params.start, params.end, "-appointments.csv")
        return download(data, CSV, name)

    return await prepared(server, ctx.t, ctx.user.username, "/manager/bookings.csv", query, produce,
                          back=link("/manager/report", **params.query()))
