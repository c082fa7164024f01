"""The frame of every manager page: the top bar (centre, pages, language, user) and
the validation of the parameters the pages share (site, date range, grouping)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from websockets.http11 import Request, Response

from common.config import User
from common.i18n import Translator
from server import stats
from server.stats import GROUPS, MAX_RANGE_DAYS
from server.web.html import current, e, error_page, language
from server.web.manager_login import allowed_sites, current_manager, login_redirect

if TYPE_CHECKING:
    from server.service import Service


def _report(conn: sqlite3.Connection, job: stats.ReportJob) -> tuple[stats.Report, dict[str, Any]]:
    return job.run(conn)


async def run_job(server: Service, job: stats.ReportJob) -> tuple[stats.Report, dict[str, Any]]:
    """A report, computed in the report process (server/report_process.py): it shares
    only the CPU with the queue, at a lower priority."""
    return await server.compute(_report, job)


def today(server: Service) -> date:
    return server.today()


def link(path: str, **params: object) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def topbar(server: Service, t: Translator, user: User, active: str, switch_href: str) -> str:
    pages = [("overview", "/manager/"), ("report", "/manager/report"), ("forecast", "/manager/forecast"),
             ("province", "/manager/province")]
    pages.append(("admin", "/manager/admin/users"))  # the administration pages (server/web/admin/)
    nav = "".join(
        f'<a href="{href}"{current(key == active)}>{e(t.text("nav_" + key))}</a>' for key, href in pages)
    return f"""
<header class="topbar">
  <a class="brand" href="/manager/"><span class="logo" aria-hidden="true">XP</span>
    <span><span class="brand-name">{e(server.config.centre_name)}</span>
    <span class="brand-sub">{e(t.text("manager_area"))}</span></span></a>
  <nav class="pages">{nav}</nav>
  <div class="account">
    <a class="lang" href="{e(switch_href)}" lang="{"en" if t.language == "vi" else "vi"}">{
        e(t.text("switch_language_short"))}</a>
    <span class="user" title="{e(user.username)}">{e(user.full_name)}</span>
    <a class="logout" href="/manager/logout">{e(t.text("logout"))}</a>
  </div>
</header>"""


@dataclass
class Context:
    """A manager request that passed authentication: who, in which language, which sites."""

    user: User
    t: Translator
    sites: list[str]


def manager_context(server: Service, request: Request, query: dict[str, str],
                    *, api: bool = False) -> Context | Response:
    """The logged-in manager, or the response to send instead (login page, or 401)."""
    user = current_manager(server, request)
    t = Translator("web", language(request, query))
    if user is None:
        if api:
            from server.web.html import json_body

            return json_body(401, {"error": "not_authenticated", "login": "/manager/login"})
        return login_redirect(request)
    return Context(user=user, t=t, sites=allowed_sites(server, user))


def choose_site(server: Service, ctx: Context, query: dict[str, str], back: str) -> str | Response:
    site = query.get("site") or ctx.sites[0]
    if server.config.site(site) is None:
        return error_page(400, ctx.t, ctx.t.text("bad_request"), ctx.t.text("error_unknown_site", site=site),
                          back=back)
    if site not in ctx.sites:
        return error_page(403, ctx.t, ctx.t.text("forbidden_title"),
                          ctx.t.text("error_site_not_allowed", site=site), back=back)
    return site


@dataclass
class ReportParams:
    site: str
    start: date
    end: date
    group: str

    def query(self, **extra: object) -> dict[str, object]:
        return {"site": self.site, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "group": self.group, **extra}


def _date(text: str | None, fallback: date) -> date | None:
    if not text:
        return fallback
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def report_params(server: Service, ctx: Context, query: dict[str, str]) -> ReportParams | Response:
    """Validated report parameters, or a clear 400/403 page saying what is wrong."""
    t, back = ctx.t, "/manager/report"
    site = choose_site(server, ctx, query, back)
    if isinstance(site, Response):
        return site
    now = today(server)

    def bad(message: str) -> Response:
        return error_page(400, t, t.text("bad_request"), message, back=back)

    start = _date(query.get("from"), now)
    end = _date(query.get("to"), now)
    if start is None:
        return bad(t.text("error_bad_date", field=t.text("from_date"), value=query.get("from", "")))
    if end is None:
        return bad(t.text("error_bad_date", field=t.text("to_date"), value=query.get("to", "")))
    if start > end:
        return bad(t.text("error_range_reversed", start=start.strftime("%d/%m/%Y"),
                          end=end.strftime("%d/%m/%Y")))
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return bad(t.text("error_range_too_long", days=MAX_RANGE_DAYS))
    group = query.get("group") or "service"
    if group not in GROUPS:
        return bad(t.text("error_bad_group", group=group))
    return ReportParams(site=site, start=start, end=end, group=group)


def quick_ranges(day: date) -> list[tuple[str, date, date]]:
    first = day.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return [
        ("range_today", day, day),
        ("range_7_days", day - timedelta(days=6), day),
        ("range_30_days", day - timedelta(days=29), day),
        ("range_this_month", first, day),
        ("range_last_month", last_month_end.replace(day=1), last_month_end),
    ]
