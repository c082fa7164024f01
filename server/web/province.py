"""The province page: every site the manager covers in one report (sites ranked, services,
fields), and its CSV and Excel exports. The figures: server/province_report.py."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.i18n import Language, Translator
from server import province_report
from server.province_report import LEVELS, ProvinceReport
from server.stats import MAX_RANGE_DAYS
from server.web import province_export
from server.web.html import (
    CSV,
    XLSX,
    current,
    download,
    e,
    error_page,
    fmt_date,
    fmt_int,
    fmt_pct,
    html_response,
    kpi_cards,
    language_cookie,
    layout,
)
from server.web.labels import COLUMNS
from server.web.prepared import prepared
from server.web.report import cell, figure_cards
from server.web.shell import Context, link, manager_context, quick_ranges, today, topbar

if TYPE_CHECKING:
    from server.service import Service

PATH = "/manager/province"
# The levels shown on the page (each site's services are in the exports).
PAGE_LEVELS = ("sites", "services", "fields")


@dataclass
class ProvinceParams:
    sites: list[str]
    start: date
    end: date

    def query(self, **extra: object) -> dict[str, object]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), **extra}


def _date(text: str | None, fallback: date) -> date | None:
    if not text:
        return fallback
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def province_params(server: Service, ctx: Context, query: dict[str, str]) -> ProvinceParams | Response:
    """The manager's sites and a validated range, or a clear 400/403 page saying what is wrong."""
    t = ctx.t

    def bad(message: str, status: int = 400) -> Response:
        title = t.text("bad_request") if status == 400 else t.text("forbidden_title")
        return error_page(status, t, title, message, back=PATH)

    now = today(server)
    start, end = _date(query.get("from"), now), _date(query.get("to"), now)
    if start is None:
        return bad(t.text("error_bad_date", field=t.text("from_date"), value=query.get("from", "")))
    if end is None:
        return bad(t.text("error_bad_date", field=t.text("to_date"), value=query.get("to", "")))
    if start > end:
        return bad(t.text("error_range_reversed", start=fmt_date(start), end=fmt_date(end)))
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return bad(t.text("error_range_too_long", days=MAX_RANGE_DAYS))
    sites = ctx.sites
    if query.get("sites"):
        sites = [code.strip() for code in query["sites"].split(",") if code.strip()]
        for code in sites:
            if server.config.site(code) is None:
                return bad(t.text("error_unknown_site", site=code))
            if code not in ctx.sites:
                return bad(t.text("error_site_not_allowed", site=code), 403)
    return ProvinceParams(sites=sites, start=start, end=end)


async def _load(server: Service, params: ProvinceParams) -> ProvinceReport:
    return await server.compute(province_report.province_report, server.config, params.sites,
                                params.start, params.end)


def _filters(server: Service, params: ProvinceParams, t: Translator) -> str:
    ranges = "".join(
        f'<a class="chip" href="{e(link(PATH, **params.query(**{"from": a, "to": b})))}"'
        f'{current((a, b) == (params.start, params.end), "true")}>{e(t.text(key))}</a>'
        for key, a, b in quick_ranges(today(server))
    )
    return f"""
<form class="filters card" method="get" action="{PATH}">
  <label>{e(t.text("from_date"))}
    <input type="date" name="from" value="{params.start.isoformat()}" required></label>
  <label>{e(t.text("to_date"))}
    <input type="date" name="to" value="{params.end.isoformat()}" required></label>
  <button type="submit">{e(t.text("show_report"))}</button>
  <div class="chips">{ranges}</div>
</form>"""


def _kpis(result: ProvinceReport, t: Translator) -> str:
    s, lang = result.total, t.language
    ranked = sum(1 for r in result.levels["sites"] if r["rank"] is not None)
    cards: list[tuple[str, str | tuple[str, str], str]] = [
        ("province_sites", fmt_int(len(result.sites), lang), t.text("province_sites_detail", ranked=ranked)),
        ("kpi_issued", fmt_int(s["issued"], lang), t.text("province_issued_detail", sites=len(result.sites))),
        *figure_cards(s, t),
    ]
    return kpi_cards(cards, t)


def _table(server: Service, result: ProvinceReport, level: str, t: Translator) -> str:
    lang = t.language
    ranked = level == "sites"
    top = [f'<th scope="col" rowspan="2">{e(t.text(province_export.LEVEL_KEYS[level]))}</th>']
    if ranked:
        top += [f'<th scope="col" rowspan="2">{e(t.text(key))}</th>' for key in ("col_rank", "col_score")]
    sub = []
    for i, c in enumerate(COLUMNS):
        full, short = e(t.text(c.text)), e(t.text(c.short or c.text))
        if c.part is None:
            top.append(f'<th scope="col" rowspan="2" title="{full}">{short}</th>')
            continue
        if i == 0 or COLUMNS[i - 1].part != c.part:
            span = sum(1 for other in COLUMNS if other.part == c.part)
            part = e(t.text("part_" + c.part))
            top.append(f'<th scope="colgroup" colspan="{span}" class="part">{part}</th>')
        sub.append(f'<th scope="col" title="{full}">{short}</th>')
    rows = result.ranked if ranked else result.levels[level]
    body = []
    for row in rows:
        label = province_export.level_label(server.config, level, row["key"], t)
        cells = "".join(f"<td>{cell(row.get(c.key), c.kind, lang)}</td>" for c in COLUMNS)
        if ranked:
            cells = (f'<td class="rank">{fmt_int(row["rank"], lang)}</td>'
                     f"<td>{fmt_pct(row['score'], lang)}</td>" + cells)
        key = e(province_export.key_text(level, row["key"]))
        body.append(f'<tr data-key="{key}"><th scope="row">{e(label)}</th>{cells}</tr>')
    width = len(COLUMNS) + (3 if ranked else 1)
    if not body:
        body.append(f'<tr><td class="empty" colspan="{width}">{e(t.text("no_data"))}</td></tr>')
    total = "".join(f"<td>{cell(result.total.get(c.key), c.kind, lang)}</td>" for c in COLUMNS)
    total_rank = "<td></td><td></td>" if ranked else ""
    note = f'<p class="muted">{e(t.text("rank_explained"))}</p>' if ranked else ""
    return f"""
<section class="card table-card" id="province-{level}">
  <h2>{e(t.text("level_" + level))}</h2>
  {note}
  <div class="table-scroll"><table class="figures">
    <thead><tr>{"".join(top)}</tr><tr class="sub">{"".join(sub)}</tr></thead>
    <tbody>{"".join(body)}</tbody>
    <tfoot><tr><th scope="row">{e(t.text("total"))}</th>{total_rank}{total}</tr></tfoot>
  </table></div>
</section>"""


async def province_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query)
    if isinstance(ctx, Response):
        return ctx
    params = province_params(server, ctx, query)
    if isinstance(params, Response):
        return params
    return await prepared(server, ctx.t, ctx.user.username, PATH, query,
                          lambda: _page(server, ctx, params, query), back="/manager/")


async def _page(server: Service, ctx: Context, params: ProvinceParams, query: dict[str, str]) -> Response:
    t = ctx.t
    result = await _load(server, params)
    other = "en" if t.language == "vi" else "vi"
    switch = link(PATH, **params.query(lang=other))
    span = (fmt_date(params.start) if params.start == params.end
            else f"{fmt_date(params.start)} – {fmt_date(params.end)}")
    csv_links = "".join(
        f'<a class="button secondary" id="export-csv-{level}" '
        f'href="{e(link(PATH + ".csv", **params.query(level=level)))}">'
        f'{e(t.text("download_csv_level", level=t.text("sheet_" + level)))}</a>'
        for level in ("sites", "services", "fields"))
    xlsx = (f'<a class="button" id="export-xlsx" href="{e(link(PATH + ".xlsx", **params.query()))}">'
            f'{e(t.text("download_xlsx"))}</a>')
    tables = "".join(_table(server, result, level, t) for level in PAGE_LEVELS)
    body = f"""
{topbar(server, t, ctx.user, "province", switch)}
<main class="page">
  <div class="page-head">
    <div><h1>{e(t.text("province_title"))}</h1>
      <p class="muted">{e(t.text("province_subtitle", sites=len(params.sites), span=span))}</p></div>
    <div class="actions">{csv_links}{xlsx}</div>
  </div>
  {_filters(server, params, t)}
  {_kpis(result, t)}
  {tables}
  <p class="muted">{e(t.text("province_figures_note"))}</p>
</main>"""
    page = layout(t, title=t.text("province_title"), body=body)
    return html_response(200, page, headers=language_cookie(query))



def _csv(conn: sqlite3.Connection, sites: list[str], start: date, end: date, level: str,
         language: Language, config: Any) -> bytes:
    """The CSV, made in the report process with its report."""
    result = province_report.province_report(conn, config, sites, start, end)
    return province_export.csv_bytes(config, result, level, Translator("web", language))


def _xlsx(conn: sqlite3.Connection, sites: list[str], start: date, end: date, language: Language,
          config: Any, generated: datetime) -> bytes:
    """The workbook, made in the report process with its report."""
    result = province_report.province_report(conn, config, sites, start, end)
    return province_export.xlsx_bytes(config, result, Translator("web", language), generated)


async def province_csv(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = province_params(server, ctx, query)
    if isinstance(params, Response):
        return params
    level = query.get("level") or "sites"
    if level not in LEVELS:
        return error_page(400, ctx.t, ctx.t.text("bad_request"), ctx.t.text("error_bad_level", level=level),
                          back=PATH)

    async def produce() -> Response:
        data = await server.compute(_csv, params.sites, params.start, params.end, level, ctx.t.language,
                                    server.config)
        name = province_export.filename(params.start, params.end, f"-{level}.csv")
        return download(data, CSV, name)

    return await prepared(server, ctx.t, ctx.user.username, PATH + ".csv", query, produce,
                          back=link(PATH, **params.query()))


async def province_xlsx(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = province_params(server, ctx, query)
    if isinstance(params, Response):
        return params

    async def produce() -> Response:
        generated = server.clock().astimezone(server.config.tz)
        data = await server.compute(_xlsx, params.sites, params.start, params.end, ctx.t.language,
                                    server.config, generated)
        name = province_export.filename(params.start, params.end, ".xlsx")
        return download(data, XLSX, name)

    return await prepared(server, ctx.t, ctx.user.username, PATH + ".xlsx", query, produce,
                          back=link(PATH, **params.query()))


ROUTES = {PATH: province_page, PATH + ".csv": province_csv, PATH + ".xlsx": province_xlsx}
