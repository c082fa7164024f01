"""The managers' report page (filters, figures, charts, table) and its exports."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.config import Config
from common.i18n import Language, Translator
from server import booking_stats, stats
from server.web import booking_report, charts, export
from server.web.html import (
    CSV,
    XLSX,
    current,
    download,
    e,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_pct,
    html_response,
    kpi_cards,
    language_cookie,
    layout,
)
from server.web.labels import COLUMNS, group_label, group_title, rating_names
from server.web.prepared import prepared
from server.web.shell import (
    Context,
    ReportParams,
    link,
    manager_context,
    quick_ranges,
    report_params,
    run_job,
    today,
    topbar,
)

if TYPE_CHECKING:
    from server.service import Service


def cell(value: Any, kind: str, lang: str) -> str:
    if kind == "count":
        return fmt_int(value, lang)  # type: ignore[arg-type]
    if kind == "share":
        return fmt_pct(value, lang)  # type: ignore[arg-type]
    if kind == "rating":
        return fmt_number(value, lang, 2)  # type: ignore[arg-type]
    return fmt_number(value, lang)  # type: ignore[arg-type]


def common_target(config: Config, site: str) -> int | None:
    found = config.site(site)
    targets = Counter(s.wait_target_minutes for s in found.services) if found else Counter()
    return targets.most_common(1)[0][0] if targets else None


def _figures(conn: sqlite3.Connection, job: stats.ReportJob, params: ReportParams, language: Language,
             ) -> tuple[stats.Report, str]:
    """In the report process (server/report_process.py): the report, and its figures as HTML
    (cards, charts, table: tens of milliseconds of Python kept off the server's event loop)."""
    result, rows = job.run(conn)
    t = Translator("web", language)
    html = (_kpis(result, t) + _charts(job.config, params, result, rows["counter"], t)
            + _table(job.config, params, result, t)
            + booking_report.page_section(conn, job.config, params.site, params.start, params.end, t,
                                          link("/manager/bookings.csv", **params.query())))
    return result, html


def _filters(server: Service, ctx: Context, params: ReportParams) -> str:
    t = ctx.t
    sites = "".join(
        f'<option value="{e(code)}"{" selected" if code == params.site else ""}>'
        f'{e(server.config.site(code).name)}</option>'  # type: ignore[union-attr]
        for code in ctx.sites
    )
    groups = "".join(
        f'<option value="{g}"{" selected" if g == params.group else ""}>{e(group_title(t, g))}</option>'
        for g in stats.GROUPS
    )
    ranges = "".join(
        f'<a class="chip" href="{e(link("/manager/report", **params.query(**{"from": a, "to": b})))}"'
        f'{current((a, b) == (params.start, params.end), "true")}>{e(t.text(key))}</a>'
        for key, a, b in quick_ranges(today(server))
    )
    site_field = (f'<label>{e(t.text("site"))}<select name="site">{sites}</select></label>'
                  if len(ctx.sites) > 1 else f'<input type="hidden" name="site" value="{e(params.site)}">')
    return f"""
<form class="filters card" method="get" action="/manager/report">
  {site_field}
  <label>{e(t.text("from_date"))}
    <input type="date" name="from" value="{params.start.isoformat()}" required></label>
  <label>{e(t.text("to_date"))}
    <input type="date" name="to" value="{params.end.isoformat()}" required></label>
  <label>{e(t.text("group_by"))}<select name="group">{groups}</select></label>
  <button type="submit">{e(t.text("show_report"))}</button>
  <div class="chips">{ranges}</div>
</form>"""


def figure_cards(s: dict[str, Any], t: Translator) -> list[tuple[str, str | tuple[str, str], str]]:
    """The cards of a report's figures (served, waits, service, target, satisfaction,
    absences), from its total row: the site report's and the province report's."""
    lang = t.language
    served_share = s["served"] / s["issued"] if s["issued"] else None
    return [
        ("kpi_served", fmt_int(s["served"], lang),
         t.text("kpi_of_issued", share=fmt_pct(served_share, lang))),
        ("kpi_wait", (fmt_number(s["wait_mean"], lang), t.text("minutes_short")),
         t.text("kpi_wait_detail", median=fmt_number(s["wait_median"], lang),
                p90=fmt_number(s["wait_p90"], lang))),
        ("kpi_service", (fmt_number(s["service_mean"], lang), t.text("minutes_short")),
         t.text("kpi_service_detail", median=fmt_number(s["service_median"], lang))),
        ("kpi_target", fmt_pct(s["within_target_share"], lang), t.text("kpi_target_detail")),
        ("kpi_satisfied", fmt_pct(s["satisfied_share"], lang),
         t.text("kpi_satisfied_detail", mean=fmt_number(s["rating_mean"], lang, 2), rated=s["rated"])),
        ("kpi_absent", fmt_int(s["absent"], lang),
         t.text("kpi_absent_detail", cancelled=s["cancelled"], expired=s["expired"])),
    ]


def _kpis(result: stats.Report, t: Translator) -> str:
    s, lang = result.summary, t.language
    hours = [f"{h['hour']:02d}–{h['hour'] + 1:02d}h" for h in result.busiest_hours]
    busiest = hours[0] if hours else "–"
    busiest_detail = (t.text("kpi_busiest_next", hours=", ".join(hours[1:])) if len(hours) > 1
                      else t.text("kpi_busiest_detail"))
    cards = [
        ("kpi_issued", fmt_int(s["issued"], lang), t.text("kpi_days", days=result.days)),
        *figure_cards(s, t),
        ("kpi_busiest", busiest, busiest_detail),
    ]
    return kpi_cards(cards, t)


def _charts(config: Config, params: ReportParams, result: stats.Report,
            counters: list[dict[str, Any]], t: Translator) -> str:
    per_counter = [
        (group_label(config, params.site, "counter", r["key"], t), r["service_mean"], r["service_p90"])
        for r in counters if r["key"] is not None
    ]
    levels = [(v, name, result.summary["ratings"].get(v, 0)) for v, name in rating_names(config, t)]
    figures = [
        ("chart_hourly", charts.hourly_chart(result.hourly, t), "chart_hourly_note"),
        ("chart_histogram", charts.histogram_chart(result.histogram, common_target(config, params.site), t),
         "chart_histogram_note"),
        ("chart_counters", charts.bar_list_chart(per_counter, t, label=t.text("chart_counters"),
                                                 unit=t.text("minutes_short")), "chart_counters_note"),
        ("chart_satisfaction", charts.satisfaction_chart(levels, t), "chart_satisfaction_note"),
    ]
    s, lang = result.summary, t.language
    feet = {"chart_satisfaction": t.text(
        "satisfaction_foot", mean=fmt_number(s["rating_mean"], lang, 2), top=max(v for v, _ in rating_names(
            config, t)) if config.rating else 4, share=fmt_pct(s["satisfied_share"], lang),
        rated=fmt_int(s["rated"], lang), served=fmt_int(s["served"], lang),
        phone=fmt_int(result.channels.get("phone", 0), lang),
        counter=fmt_int(result.channels.get("counter", 0), lang))}
    return '<section class="charts">' + "".join(
        f'<figure class="card chart" id="{key}"><figcaption><h2>{e(t.text(key))}</h2>'
        f'<p class="muted">{e(t.text(note))}</p></figcaption>{svg}'
        + (f'<p class="chart-foot">{e(feet[key])}</p>' if key in feet else "") + "</figure>"
        for key, svg, note in figures
    ) + "</section>"


def _table(config: Config, params: ReportParams, result: stats.Report, t: Translator) -> str:
    lang = t.language
    top, sub = [f'<th scope="col" rowspan="2">{e(group_title(t, params.group))}</th>'], []
    for i, c in enumerate(COLUMNS):
        if c.part is None:
            full, short = e(t.text(c.text)), e(t.text(c.short or c.text))
            top.append(f'<th scope="col" rowspan="2" title="{full}">{short}</th>')
            continue
        if i == 0 or COLUMNS[i - 1].part != c.part:
            span = sum(1 for other in COLUMNS if other.part == c.part)
            part = e(t.text("part_" + c.part))
            top.append(f'<th scope="colgroup" colspan="{span}" class="part">{part}</th>')
        sub.append(f'<th scope="col" title="{e(t.text(c.text))}">{e(t.text(c.short or c.text))}</th>')
    body = []
    for row in result.rows:
        label = group_label(config, params.site, params.group, row["key"], t)
        cells = "".join(f"<td>{cell(row.get(c.key), c.kind, lang)}</td>" for c in COLUMNS)
        body.append(f'<tr><th scope="row">{e(label)}</th>{cells}</tr>')
    if not body:
        body.append(f'<tr><td class="empty" colspan="{len(COLUMNS) + 1}">{e(t.text("no_data"))}</td></tr>')
    total = "".join(f"<td>{cell(result.summary.get(c.key), c.kind, lang)}</td>" for c in COLUMNS)
    return f"""
<section class="card table-card" id="report-table">
  <h2>{e(t.text("table_title", group=group_title(t, params.group).lower()))}</h2>
  <div class="table-scroll"><table class="figures">
    <thead><tr>{"".join(top)}</tr><tr class="sub">{"".join(sub)}</tr></thead>
    <tbody>{"".join(body)}</tbody>
    <tfoot><tr><th scope="row">{e(t.text("total"))}</th>{total}</tr></tfoot>
  </table></div>
</section>"""


def _definitions(t: Translator) -> str:
    keys = ("def_wait", "def_service", "def_percentiles", "def_target", "def_absent", "def_satisfied",
            "def_groups")
    items = "".join(f"<li>{e(t.text(k))}</li>" for k in keys)
    return (f'<details class="card definitions"><summary>{e(t.text("definitions"))}</summary>'
            f"<ul>{items}</ul></details>")


async def report_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query)
    if isinstance(ctx, Response):
        return ctx
    params = report_params(server, ctx, query)
    if isinstance(params, Response):
        return params
    return await prepared(server, ctx.t, ctx.user.username, "/manager/report", query,
                          lambda: _report_page(server, ctx, params, query), back="/manager/")


async def _report_page(server: Service, ctx: Context, params: ReportParams,
                       query: dict[str, str]) -> Response:
    t = ctx.t
    groups = (params.group,) if params.group == "counter" else (params.group, "counter")
    job = stats.ReportJob(server.config, params.site, params.start, params.end, groups)
    _, figures = await server.compute(_figures, job, params, t.language)
    site = server.config.site(params.site)
    assert site is not None
    other = "en" if t.language == "vi" else "vi"
    switch = link("/manager/report", **params.query(lang=other))
    span = (fmt_date(params.start) if params.start == params.end
            else f"{fmt_date(params.start)} – {fmt_date(params.end)}")
    csv_href = e(link("/manager/export.csv", **params.query()))
    xlsx_href = e(link("/manager/export.xlsx", **params.query()))
    exports = (
        f'<a class="button secondary" id="export-csv" href="{csv_href}">'
        f'{e(t.text("download_csv"))}</a>'
        f'<a class="button" id="export-xlsx" href="{xlsx_href}">{e(t.text("download_xlsx"))}</a>'
    )
    body = f"""
{topbar(server, t, ctx.user, "report", switch)}
<main class="page">
  <div class="page-head">
    <div><h1>{e(t.text("report_title"))}</h1>
      <p class="muted">{e(site.name)} · {e(span)} · {e(group_title(t, params.group))}</p></div>
    <div class="actions">{exports}</div>
  </div>
  {_filters(server, ctx, params)}
  {figures}
  {_definitions(t)}
</main>"""
    page = layout(t, title=f"{t.text('report_title')} – {site.name}", body=body)
    return html_response(200, page, headers=language_cookie(query))



def _xlsx(conn: sqlite3.Connection, job: stats.ReportJob, language: Language, generated: datetime) -> bytes:
    """The workbook, made in the report process (server/report_process.py) with its report."""
    result, groups = job.run(conn)
    t = Translator("web", language)
    bookings = booking_stats.booking_report(conn, job.config, job.site.code, job.start, job.end)
    return export.xlsx_bytes(job.config, result, groups, t, generated,
                             booking_report.sheet_adder(job.config, bookings, t))


async def export_csv(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = report_params(server, ctx, query)
    if isinstance(params, Response):
        return params

    async def produce() -> Response:
        job = stats.ReportJob(server.config, params.site, params.start, params.end, (params.group,))
        result, _ = await run_job(server, job)
        data = export.csv_bytes(server.config, result, ctx.t)
        name = export.filename(params.site, params.start, params.end, f"-{params.group}.csv")
        return download(data, CSV, name)

    return await prepared(server, ctx.t, ctx.user.username, "/manager/export.csv", query, produce,
                          back=link("/manager/report", **params.query()))


async def export_xlsx(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = report_params(server, ctx, query)
    if isinstance(params, Response):
        return params

    async def produce() -> Response:
        job = stats.ReportJob(server.config, params.site, params.start, params.end, stats.GROUPS)
        generated = server.clock().astimezone(server.config.tz)
        data = await server.compute(_xlsx, job, ctx.t.language, generated)
        name = export.filename(params.site, params.start, params.end, ".xlsx")
        return download(data, XLSX, name)

    return await prepared(server, ctx.t, ctx.user.username, "/manager/export.xlsx", query, produce,
                          back=link("/manager/report", **params.query()))
