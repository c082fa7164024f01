"""The managers' live overview: queues, counters, kiosks and today's figures.

The page draws the picture once; its script then fetches ``/manager/live`` (the same
HTML, re-rendered) every few seconds, so it follows the hall without reloading. The same
data is available as JSON at ``/manager/api/overview`` for other tools.
"""

from __future__ import annotations

import time
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.i18n import Translator
from server import stats
from server.web import charts
from server.web.html import (
    current,
    e,
    error_page,
    fmt_int,
    fmt_number,
    fmt_pct,
    html_response,
    json_body,
    kpi_cards,
    language_cookie,
    layout,
    redirect,
)
from server.web.live import live
from server.web.shell import choose_site, link, manager_context, run_job, topbar

if TYPE_CHECKING:
    from server.service import Service

REFRESH_SECONDS = 3
PRINTER_STATES = ("ok", "paper_low", "paper_out", "offline", "error", "disabled", "unknown")

TODAY_SECONDS = 10.0
# Today's report per site: recomputed when something was committed since, at most every
# TODAY_SECONDS (the live part of the overview is read from memory and always current).
_today: weakref.WeakKeyDictionary[Service, dict[str, tuple[tuple, float, stats.Report]]] = (
    weakref.WeakKeyDictionary())


async def overview_data(server: Service, site: str) -> dict[str, Any]:
    """Everything the overview shows, as plain data (also the JSON API's answer)."""
    now = server.clock()
    state = server.states[site]
    picture = live(server.config, state, now)
    cache = _today.setdefault(server, {})
    stamp = (state.day, server.committed_batches)
    cached = cache.get(site)
    fresh = cached is not None and (cached[0] == stamp or (
        cached[0][0] == state.day and time.monotonic() - cached[1] < TODAY_SECONDS))
    if not fresh:
        report, _ = await run_job(server, stats.ReportJob(server.config, site, state.day, state.day))
        cached = cache[site] = (stamp, time.monotonic(), report)
    report = cached[2]
    rows = await server.read_db(stats.kiosk_rows, site)
    connected = server.connections.devices_at(site, "kiosk")
    config_site = server.config.site(site)
    assert config_site is not None
    picture["kiosks"] = [
        {"id": k.id, "name": k.name, "connected": k.id in connected,
         "printer": k.printer != "none",
         "printer_state": rows.get(k.id, {}).get("printer_state"),
         "printer_detail": rows.get(k.id, {}).get("printer_detail"),
         "seen_at": rows.get(k.id, {}).get("seen_at")}
        for k in config_site.kiosks
    ]
    picture["today"] = {k: v for k, v in report.summary.items()}
    picture["hourly"] = report.hourly
    return picture


def _minutes(value: float | None, t: Translator) -> str:
    return "–" if value is None else f"{fmt_int(value, t.language)} {t.text('minutes_short')}"


def _local_time(server: Service, text: str | None) -> str:
    if not text:
        return "–"
    local = datetime.fromisoformat(text).astimezone(server.config.tz)
    today = server.clock().astimezone(server.config.tz).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%H:%M %d/%m")


def _kpis(data: dict[str, Any], t: Translator) -> str:
    lang, today = t.language, data["today"]
    longest = data["longest"]
    total = len(data["counters"])
    cards = [
        ("live_waiting", fmt_int(data["waiting"], lang), t.text("live_held", held=data["held"]), ""),
        ("live_longest", (fmt_int(longest["minutes"], lang), t.text("minutes_short")) if longest else "–",
         t.text("live_longest_detail", number=longest["number"], service=longest["service"])
         if longest else t.text("live_nobody_waiting"), ""),
        ("live_counters", f"{data['counters_open']}/{total}",
         t.text("live_counters_detail", paused=data["counters_paused"]), ""),
        ("live_issued", fmt_int(data["issued_today"], lang),
         t.text("live_served_detail", served=fmt_int(data["served_today"], lang)), ""),
        ("live_wait_today", (fmt_number(today["wait_mean"], lang), t.text("minutes_short")),
         t.text("kpi_wait_detail", median=fmt_number(today["wait_median"], lang),
                p90=fmt_number(today["wait_p90"], lang)), ""),
        ("live_target_today", fmt_pct(today["within_target_share"], lang), t.text("kpi_target_detail"), ""),
        ("live_satisfied_today", fmt_pct(today["satisfied_share"], lang),
         t.text("kpi_satisfied_detail", mean=fmt_number(today["rating_mean"], lang, 2),
                rated=today["rated"]), ""),
    ]
    return kpi_cards([(key, value, detail) for key, value, detail, _ in cards], t)


def _services(data: dict[str, Any], t: Translator) -> str:
    lang = t.language
    rows = []
    for s in data["services"]:
        longest = s["longest_wait"]
        level = "" if longest is None else (
            "late" if longest > s["target"] else "warn" if longest > s["target"] / 2 else "")
        name = s["name_vi"] if lang == "vi" else s["name_en"]
        estimate = _minutes(s["estimate"], t) if s["counters_open"] or s["waiting"] else "–"
        rows.append(
            f'<tr data-service="{e(s["code"])}">'
            f'<th scope="row">{e(name)} <span class="code">{e(s["code"])}</span></th>'
            f'<td class="num waiting">{fmt_int(s["waiting"], lang)}</td>'
            f'<td class="num {level}">{_minutes(longest, t)}</td>'
            f'<td class="num">{estimate}</td>'
            f'<td class="num">{fmt_int(s["issued"], lang)}</td>'
            f'<td class="num{" late" if s["waiting"] and not s["counters_open"] else ""}">'
            f'{s["counters_open"]}/{len(s["counters"])}</td></tr>'
        )
    head = "".join(f'<th scope="col">{e(t.text(k))}</th>' for k in (
        "col_service", "col_waiting", "col_longest", "col_estimate", "col_issued_today", "col_counters_open"))
    return (f'<section class="card" id="services"><h2>{e(t.text("services_title"))}</h2>'
            f'<div class="table-scroll"><table class="figures live"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def _counters(server: Service, data: dict[str, Any], t: Translator) -> str:
    cards = []
    for c in data["counters"]:
        status = c["status"]
        detail = ""
        if status == "paused" and c["pause_reason"]:
            detail = f'<p class="muted">{e(c["pause_reason"])}</p>'
        ticket = ""
        if c["active_number"]:
            took = fmt_int(c["active_minutes"], t.language) if c["active_minutes"] is not None else "–"
            ticket = (f'<p class="serving"><span class="ticket-no">{e(c["active_number"])}</span> '
                      f'{e(t.text("ticket_" + c["active_state"], minutes=took))}</p>')
        elif status == "open":
            ticket = f'<p class="muted">{e(t.text("counter_idle"))}</p>'
        clerk = f'<p class="clerk">{e(c["clerk_name"])}</p>' if c["clerk_name"] else ""
        name = c["name_en"] if t.language == "en" else c["name"]
        since = ""
        if c["since"] is not None and status != "closed":
            at = _local_time(server, c["since"])
            minutes = fmt_int(c["since_minutes"], t.language)
            text = t.text(f"since_{status}", at=at, minutes=minutes)
            since = f'<p class="since">{e(text)}</p>'
        cards.append(
            f'<article class="desk {status}" data-counter="{c["number"]}">'
            f'<header><span class="desk-no">{c["number"]}</span>'
            f'<span class="pill {status}">{e(t.text("status_" + status))}</span></header>'
            f'<p class="desk-name">{e(name)}</p>{clerk}{ticket}{detail}{since}</article>'
        )
    return (f'<section class="card" id="counters"><h2>{e(t.text("counters_title"))}</h2>'
            f'<div class="desks">{"".join(cards)}</div></section>')


def _kiosks(server: Service, data: dict[str, Any], t: Translator) -> str:
    items = []
    for k in data["kiosks"]:
        online = "online" if k["connected"] else "offline"
        state = k["printer_state"] if k["printer_state"] in PRINTER_STATES else "unknown"
        if not k["printer"]:
            state = "disabled"
        printer_level = {"ok": "good", "disabled": "quiet", "paper_low": "warn"}.get(state, "bad")
        detail = f' <span class="muted">{e(k["printer_detail"])}</span>' if k["printer_detail"] else ""
        items.append(
            f'<li data-kiosk="{e(k["id"])}"><div><p class="kiosk-name">{e(k["name"])}</p>'
            f'<p class="muted">{e(t.text("last_seen", at=_local_time(server, k["seen_at"])))}</p></div>'
            f'<div class="kiosk-states"><span class="pill {online}">{e(t.text("kiosk_" + online))}</span>'
            f'<span class="pill {printer_level}">{e(t.text("printer_" + state))}</span>{detail}</div></li>'
        )
    if not items:
        items.append(f'<li class="muted">{e(t.text("no_kiosks"))}</li>')
    return (f'<section class="card" id="kiosks"><h2>{e(t.text("kiosks_title"))}</h2>'
            f'<ul class="kiosks">{"".join(items)}</ul></section>')


def live_fragment(server: Service, data: dict[str, Any], t: Translator) -> str:
    at = server.clock().astimezone(server.config.tz).strftime("%H:%M:%S")
    chart = charts.hourly_chart(data["hourly"], t)
    return f"""
<p class="live-meta"><span class="dot" aria-hidden="true"></span>{e(t.text("updated_at", at=at))}
  <span class="stale-note">{e(t.text("connection_lost"))}</span></p>
{_kpis(data, t)}
<div class="columns main">
  {_services(data, t)}
  {_counters(server, data, t)}
</div>
<div class="columns">
  {_kiosks(server, data, t)}
  <section class="card chart" id="today-chart"><h2>{e(t.text("chart_hourly_today"))}</h2>{chart}</section>
</div>"""


def manager_root(server: Service, request: Request, query: dict[str, str]) -> Response:
    return redirect("/manager/")


async def overview_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query)
    if isinstance(ctx, Response):
        return ctx
    t = ctx.t
    if request.path.split("?", 1)[0] != "/manager/":
        return error_page(404, t, t.text("not_found_title"), t.text("not_found_page"), back="/manager/")
    site = choose_site(server, ctx, query, "/manager/")
    if isinstance(site, Response):
        return site
    data = await overview_data(server, site)
    other = "en" if t.language == "vi" else "vi"
    tabs = "".join(
        f'<a href="{e(link("/manager/", site=code))}"{current(code == site)}>'
        f'{e(server.config.site(code).name)}</a>'  # type: ignore[union-attr]
        for code in ctx.sites
    ) if len(ctx.sites) > 1 else ""
    site_name = server.config.site(site).name  # type: ignore[union-attr]
    day = server.states[site].day.strftime("%d/%m/%Y")
    body = f"""
{topbar(server, t, ctx.user, "overview", link("/manager/", site=site, lang=other))}
<main class="page">
  <div class="page-head"><div><h1>{e(t.text("overview_title"))}</h1>
    <p class="muted">{e(site_name)} · {e(t.text("today_is", day=day))}</p></div>
    <nav class="tabs">{tabs}</nav></div>
  <div id="live" data-src="{e(link("/manager/live", site=site, lang=t.language))}"
       data-refresh="{REFRESH_SECONDS}">{live_fragment(server, data, t)}</div>
</main>"""
    page = layout(t, title=f"{t.text('overview_title')} – {site_name}", body=body, scripts=["overview.js"])
    return html_response(200, page, headers=language_cookie(query))


async def overview_live(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    site = choose_site(server, ctx, query, "/manager/")
    if isinstance(site, Response):
        return site
    data = await overview_data(server, site)
    return html_response(200, live_fragment(server, data, ctx.t))


async def overview_json(server: Service, request: Request, query: dict[str, str]) -> Response:
    ctx = manager_context(server, request, query, api=True)
    if isinstance(ctx, Response):
        return ctx
    site = query.get("site") or ctx.sites[0]
    if site not in ctx.sites:
        return json_body(403 if server.config.site(site) else 400, {"error": "site", "site": site})
    return json_body(200, await overview_data(server, site))
