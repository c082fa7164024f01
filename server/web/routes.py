"""The route table: every path the HTTP side answers, and its page (server/http.py routes
by it; a path ending in "/" is a prefix)."""

from __future__ import annotations

from server.http import Routes
from server.web import assets, auth, booking_report, forecast, health, overview, province, report, ticket
from server.web.admin import ROUTES as ADMIN_ROUTES
from server.web.booking import ROUTES as BOOKING_ROUTES
from server.web.html import guarded


def route_table() -> Routes:
    pages = {
        "/web/": assets.web_asset,
        "/fonts/": assets.font,
        "/t/": ticket.ticket_page,
        "/manager": overview.manager_root,
        "/manager/": overview.overview_page,
        "/manager/live": overview.overview_live,
        "/manager/api/overview": overview.overview_json,
        "/manager/login": auth.login_page,
        "/manager/session": auth.open_session,
        "/manager/logout": auth.logout,
        "/manager/report": report.report_page,
        "/manager/export.csv": report.export_csv,
        "/manager/export.xlsx": report.export_xlsx,
        "/manager/bookings.csv": booking_report.export_csv,
        "/manager/forecast": forecast.forecast_route,
        **ADMIN_ROUTES,
        **province.ROUTES,
        **BOOKING_ROUTES,
    }
    return {"/healthz": health.healthz, **{path: guarded(page) for path, page in pages.items()}}
