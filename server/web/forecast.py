"""The staffing forecast page (``/manager/forecast``) and its downloads: expected tickets per
hour and service for a coming day, the counters to open each hour, and how accurate the
forecast was on the last weeks (server/forecast.py, server/staffing.py)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from websockets.http11 import Request, Response

from common.config import WEEKDAYS, Config
from common.i18n import Language, Translator
from server.forecast_data import MAX_AHEAD_DAYS, StaffingForecast, next_working_day, staffing_forecast
from server.web import forecast_export
from server.web.forecast_chart import forecast_chart
from server.web.forecast_export import hour_label, hour_rows, service_name, shown_hours
from server.web.html import (
    CSV,
    XLSX,
    current,
    download,
    e,
    error_page,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_pct,
    html_response,
    kpi_cards,
    language_cookie,
    layout,
)
from server.web.prepared import prepared
from server.web.shell import Context, choose_site, link, manager_context, today, topbar

if TYPE_CHECKING:
    from server.service import Service

PATH = "/manager/forecast"


def forecast_params(server: Service, ctx: Context, query: dict[str, str]) -> tuple[str, date] | Response:
    """The site and the day, validated: a known site the manager may see, a day from
    tomorrow to ``MAX_AHEAD_DAYS`` ahead (default: the site's next working day)."""
    t = ctx.t
    site = choose_site(server, ctx, query, PATH)
    if isinstance(site, Response):
        return site
    now = today(server)
    text = query.get("day")
    if not text:
        config = server.config.site(site)
        assert config is not None
        return site, next_working_day(config, now)
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return error_page(400, t, t.text("bad_request"),
                          t.text("error_bad_date", field=t.text("fc_day"), value=text), back=PATH)
    first, last = now + timedelta(days=1), now + timedelta(days=MAX_AHEAD_DAYS)
    if not first <= day <= last:
        return error_page(400, t, t.text("bad_request"), t.text(
            "fc_error_day_range", day=fmt_date(day), first=fmt_date(first), last=fmt_date(last)), back=PATH)
    return site, day


async def _compute(server: Service, site: str, day: date) -> StaffingForecast:
    config = server.config.site(site)
    return await server.compute(staffing_forecast, config, server.config.queue, server.config.timezone, day,
                                today(server))


def weekday_name(day: date, t: Translator) -> str:
    return t.text("weekday_" + WEEKDAYS[day.weekday()])


def _filters(server: Service, ctx: Context, site: str, day: date) -> str:
    t, now = ctx.t, today(server)
    options = "".join(
        f'<option value="{e(code)}"{" selected" if code == site else ""}>'
        f'{e(server.config.site(code).name)}</option>'  # type: ignore[union-attr]
        for code in ctx.sites)
    site_field = (f'<label>{e(t.text("site"))}<select name="site">{options}</select></label>'
                  if len(ctx.sites) > 1 else f'<input type="hidden" name="site" value="{e(site)}">')
    chips = []
    for ahead in range(1, 8):
        other = now + timedelta(days=ahead)
        chips.append(f'<a class="chip" href="{e(link(PATH, site=site, day=other.isoformat()))}"'
                     f'{current(other == day, "true")}>'
                     f'{e(weekday_name(other, t))} {other.strftime("%d/%m")}</a>')
    first, last = now + timedelta(days=1), now + timedelta(days=MAX_AHEAD_DAYS)
    return f"""
<form class="filters card" method="get" action="{PATH}">
  {site_field}
  <label>{e(t.text("fc_day"))}
    <input type="date" name="day" value="{day.isoformat()}" min="{first.isoformat()}" max="{last.isoformat()}"
      required></label>
  <button type="submit">{e(t.text("fc_show"))}</button>
  <div class="chips">{"".join(chips)}</div>
</form>"""


def accuracy_line(result: StaffingForecast, t: Translator) -> str:
    measured = result.accuracy
    if measured.day_wape is None:
        return t.text("fc_accuracy_none")
    return t.text("fc_accuracy_line", weeks=measured.weeks, off=fmt_pct(measured.day_wape, t.language),
                  cell=fmt_pct(measured.cell_wape, t.language), days=measured.days)


def _kpis(result: StaffingForecast, t: Translator) -> str:
    lang = t.language
    rows = hour_rows(result)
    peak = max(rows, key=lambda r: r["expected"], default=None)
    most = max((r["needed"] for r in rows), default=0)
    effects = ", ".join(f"{t.text('fc_effect_' + _effect_key(k), n=_effect_n(k))} ×{fmt_number(v, lang, 2)}"
                        for k, v in result.forecast.effects.items()) or t.text("fc_no_effect")
    plain = result.plain_accuracy.day_wape
    cards: list[tuple[str, str | tuple[str, str], str]] = [
        ("fc_kpi_tickets", fmt_int(result.forecast.total, lang),
         t.text("fc_kpi_tickets_detail", baseline=fmt_int(result.forecast.baseline, lang), effects=effects)),
        ("fc_kpi_peak", f"{peak['hour']:02d}–{peak['hour'] + 1:02d}h" if peak else "–",
         t.text("fc_kpi_peak_detail", tickets=fmt_number(peak["expected"], lang) if peak else "–")),
        ("fc_kpi_counters", f"{most} / {result.plan.configured}", t.text("fc_kpi_counters_detail")),
        ("fc_kpi_accuracy", fmt_pct(result.accuracy.day_wape, lang),
         t.text("fc_kpi_accuracy_detail", weeks=result.accuracy.weeks, plain=fmt_pct(plain, lang))),
    ]
    return kpi_cards(cards, t)


def _effect_key(name: str) -> str:
    return name.rstrip("0123456789").rstrip("_")


def _effect_n(name: str) -> str:
    digits = name[len(name.rstrip("0123456789")):]
    return digits or ""


def _hours_table(result: StaffingForecast, t: Translator) -> str:
    lang = t.language
    body = []
    for row in hour_rows(result):
        short = any(row["hour"] in g.short for g in result.plan.groups)
        needed = f'<td class="warn">{row["needed"]} ⚠</td>' if short else f"<td>{row['needed']}</td>"
        body.append(
            f'<tr><th scope="row">{hour_label(row["hour"])}</th><td>{fmt_number(row["expected"], lang)}</td>'
            f'{needed}<td>{row["configured"]}</td><td>{fmt_number(row["wait_mean"], lang)}</td>'
            f'<td>{fmt_number(row["wait_p90"], lang)}</td>'
            f'<td>{fmt_pct(row["within_target"], lang)}</td></tr>')
    heads = "".join(f'<th scope="col">{e(t.text(k))}</th>' for k in (
        "fc_col_hour", "fc_col_expected", "fc_col_needed", "fc_col_configured", "fc_col_wait_mean",
        "fc_col_wait_p90", "fc_col_within"))
    return f"""
<section class="card table-card" id="forecast-hours">
  <h2>{e(t.text("fc_hours_title"))}</h2>
  <p class="muted">{e(t.text("fc_hours_note", quantile=90))}</p>
  <div class="table-scroll"><table class="figures">
    <thead><tr>{heads}</tr></thead><tbody>{"".join(body)}</tbody>
    <tfoot><tr><th scope="row">{e(t.text("total"))}</th><td>{fmt_number(result.forecast.total, lang)}</td>
      <td colspan="5"></td></tr></tfoot>
  </table></div>
</section>"""


def _services_table(server: Service, result: StaffingForecast, t: Translator) -> str:
    site = server.config.site(result.site)
    assert site is not None
    lang, hours = t.language, shown_hours(result)
    heads = "".join(f'<th scope="col">{h:02d}h</th>' for h in hours)
    body = []
    for service in site.services:
        cells = "".join(f"<td>{fmt_number(result.forecast.cells.get((service.code, h), 0.0), lang)}</td>"
                        for h in hours)
        waits = result.plan.service_waits(service.code)
        handling = result.handling.get(service.code)
        expected = result.forecast.per_service().get(service.code, 0.0)
        body.append(
            f'<tr><th scope="row">{e(service_name(site, service.code, t))}</th>{cells}'
            f'<td><strong>{fmt_number(expected, lang)}</strong></td>'
            f'<td>{fmt_number(handling.mean if handling else None, lang)}</td>'
            f'<td>{fmt_number(waits.mean, lang)}</td><td>{service.wait_target_minutes}</td></tr>')
    return f"""
<section class="card table-card" id="forecast-services">
  <h2>{e(t.text("fc_services_title"))}</h2>
  <div class="table-scroll"><table class="figures">
    <thead><tr><th scope="col">{e(t.text("group_service"))}</th>{heads}
      <th scope="col">{e(t.text("total"))}</th>
      <th scope="col">{e(t.text("fc_col_handling"))}</th><th scope="col">{e(t.text("fc_col_wait_mean"))}</th>
      <th scope="col">{e(t.text("fc_col_target"))}</th></tr></thead>
    <tbody>{"".join(body)}</tbody>
  </table></div>
</section>"""


def _groups_table(server: Service, result: StaffingForecast, t: Translator) -> str:
    site = server.config.site(result.site)
    assert site is not None
    hours = shown_hours(result)
    heads = "".join(f'<th scope="col">{h:02d}h</th>' for h in hours)
    body, warnings = [], []
    for group in result.plan.groups:
        names = ", ".join(service_name(site, s, t) for s in group.services)
        cells = []
        for h in hours:
            opened = ", ".join(str(n) for n in group.opened.get(h, ()))
            title = t.text("fc_opened", counters=opened) if opened else ""
            mark = ' class="warn"' if h in group.short else ""
            cells.append(f'<td{mark} title="{e(title)}">{group.needed.get(h, 0)}</td>')
        body.append(f'<tr><th scope="row">{e(names)}</th><td>{len(group.counters)}</td>{"".join(cells)}</tr>')
        if group.short:
            missed = sorted({s for services in group.short.values() for s in services})
            warnings.append(t.text("fc_short", hours=", ".join(f"{h:02d}h" for h in sorted(group.short)),
                                   services=", ".join(service_name(site, s, t) for s in missed)))
    total = "".join(f"<td><strong>{result.plan.needed(h)}</strong></td>" for h in hours)
    warning = ("".join(f'<p class="warn-text">⚠ {e(w)}</p>' for w in warnings)) if warnings else ""
    return f"""
<section class="card table-card" id="forecast-counters">
  <h2>{e(t.text("fc_counters_title"))}</h2>
  <p class="muted">{e(t.text("fc_counters_note"))}</p>
  {warning}
  <div class="table-scroll"><table class="figures">
    <thead><tr><th scope="col">{e(t.text("fc_col_group"))}</th>
      <th scope="col">{e(t.text("fc_col_configured"))}</th>
      {heads}</tr></thead>
    <tbody>{"".join(body)}</tbody>
    <tfoot><tr><th scope="row">{e(t.text("total"))}</th><td>{result.plan.configured}</td>{total}</tr></tfoot>
  </table></div>
</section>"""


def _method(result: StaffingForecast, t: Translator) -> str:
    lang = t.language
    items = [t.text("fc_method_1"), t.text("fc_method_2"), t.text("fc_method_3", draws=result.plan.draws),
             t.text("fc_method_4", effects=fmt_pct(result.accuracy.day_wape, lang),
                    plain=fmt_pct(result.plain_accuracy.day_wape, lang),
                    bias=fmt_pct(result.accuracy.day_bias, lang), weeks=result.accuracy.weeks)]
    return (f'<details class="card definitions" id="forecast-method"><summary>{e(t.text("fc_method_title"))}'
            f'</summary><ul>{"".join(f"<li>{e(i)}</li>" for i in items)}</ul></details>')


async def forecast_route(server: Service, request: Request, query: dict[str, str]) -> Response:
    """The page, or with ``format=csv`` / ``format=xlsx`` its download."""
    kind = query.get("format", "")
    if kind in ("csv", "xlsx"):
        return await _export(server, request, query, kind)
    if kind:
        ctx = manager_context(server, request, query)
        if isinstance(ctx, Response):
            return ctx
        return error_page(400, ctx.t, ctx.t.text("bad_request"), ctx.t.text("fc_error_format", format=kind),
                          back=PATH)
    return await forecast_page(server, request, query)


async def forecast_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query)
    if isinstance(ctx, Response):
        return ctx
    params = forecast_params(server, ctx, query)
    if isinstance(params, Response):
        return params
    site, day = params

    async def produce() -> Response:
        return _page(server, ctx, await _compute(server, site, day), query)

    return await prepared(server, ctx.t, ctx.user.username, PATH, query, produce, back="/manager/")


def _page(server: Service, ctx: Context, result: StaffingForecast, query: dict[str, str]) -> Response:
    t = ctx.t
    site = server.config.site(result.site)
    assert site is not None
    other = "en" if t.language == "vi" else "vi"
    switch = link(PATH, site=result.site, day=result.day.isoformat(), lang=other)
    chosen = {"site": result.site, "day": result.day.isoformat()}
    downloads = (
        f'<a class="button secondary" id="export-csv" href="{e(link(PATH, **chosen, format="csv"))}">'
        f'{e(t.text("download_csv"))}</a>'
        f'<a class="button" id="export-xlsx" href="{e(link(PATH, **chosen, format="xlsx"))}">'
        f'{e(t.text("download_xlsx"))}</a>')
    heading = f"{weekday_name(result.day, t)} {fmt_date(result.day)}"
    if result.forecast.closed:
        content = (f'<section class="card notice" id="forecast-closed"><p>{e(t.text("fc_closed"))}</p>'
                   "</section>")
    else:
        rows = [(r["hour"], r["expected"], r["needed"]) for r in hour_rows(result)]
        content = f"""
  {_kpis(result, t)}
  <section class="charts"><figure class="card chart wide" id="fc_chart">
    <figcaption><h2>{e(t.text("fc_chart"))}</h2>
    <p class="muted">{e(t.text("fc_chart_note"))}</p></figcaption>
    {forecast_chart(rows, result.plan.configured, t)}</figure></section>
  {_hours_table(result, t)}
  {_groups_table(server, result, t)}
  {_services_table(server, result, t)}"""
    body = f"""
{topbar(server, t, ctx.user, "forecast", switch)}
<main class="page">
  <div class="page-head">
    <div><h1>{e(t.text("fc_title"))}</h1>
      <p class="muted">{e(site.name)} · {e(heading)}</p>
      <p class="accuracy" id="forecast-accuracy">{e(accuracy_line(result, t))}</p></div>
    <div class="actions">{downloads}</div>
  </div>
  {_filters(server, ctx, result.site, result.day)}
  {content}
  {_method(result, t)}
</main>"""
    page = layout(t, title=f"{t.text('fc_title')} – {site.name}", body=body)
    return html_response(200, page, headers=language_cookie(query))



def _xlsx(conn: sqlite3.Connection, code: str, config: Config, language: Language, made_on: date,
          day: date, generated: datetime) -> bytes:
    """The workbook, made in the report process with its forecast."""
    site = config.site(code)
    assert site is not None
    result = staffing_forecast(conn, site, config.queue, config.timezone, day, made_on)
    return forecast_export.xlsx_bytes(config, result, Translator("web", language), generated)


async def _export(server: Service, request: Request, query: dict[str, str], kind: str) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    params = forecast_params(server, ctx, query)
    if isinstance(params, Response):
        return params
    site, day = params
    name = f"xephang-du-bao-{site}-{day.isoformat()}.{kind}"

    async def produce() -> Response:
        if kind == "csv":
            result = await _compute(server, site, day)
            data = forecast_export.csv_bytes(server.config, result, ctx.t)
            return download(data, CSV, name)
        generated = server.clock().astimezone(server.config.tz)
        data = await server.compute(_xlsx, site, server.config, ctx.t.language, today(server), day, generated)
        return download(data, XLSX, name)

    return await prepared(server, ctx.t, ctx.user.username, PATH, query, produce, back=PATH)
