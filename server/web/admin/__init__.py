"""The administration pages of the manager site (issue 13): users, counters and services,
hours, holidays and notice (and adding a site), devices, the rules every site shares, and
the audit log. They render with Jinja2 templates (assets/templates/admin/) and read only;
changes go as ``admin_change`` messages over the page's websocket (assets/web/admin.js).
See docs/administration.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from websockets.http11 import Request, Response

from server.http import Handler
from server.web.admin import api_keys, audit, devices, hours, notifications, rules, services, users, webhooks
from server.web.html import redirect

if TYPE_CHECKING:
    from server.service import Service


def admin_root(server: Service, request: Request, query: dict[str, str]) -> Response:
    return redirect("/manager/admin/users")


ROUTES: dict[str, Handler] = {
    "/manager/admin": admin_root,
    "/manager/admin/users": users.users_page,
    "/manager/admin/services": services.services_page,
    "/manager/admin/hours": hours.hours_page,
    "/manager/admin/devices": devices.devices_page,
    "/manager/admin/rules": rules.rules_page,
    "/manager/admin/webhooks": webhooks.webhooks_page,
    "/manager/admin/notifications": notifications.notifications_page,
    "/manager/admin/api-keys": api_keys.api_keys_page,
    "/manager/admin/audit": audit.audit_page,
}
