"""The citizen notifications' settings (``/manager/admin/notifications``; issue 16), the
province administrator's alone (a site manager gets the 403 page): when "your turn is near"
is sent, and the three channels a ticket page may offer — Web Push, Zalo ZNS (endpoint,
access token, a template per message) and an SMS gateway (address, method, headers, body).
One form sends them all as one ``notifications`` change, live (the ticket page and the
outbox process follow the settings' version). The settings show the Zalo token and the
gateway's header values as ``•••``; left as they are, they keep their values
(server/notify_changes.py). docs/administration.md, docs/integration.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.notify_config import NOTIFY_FIELDS, NOTIFY_MESSAGES
from server.web.admin.frame import admin_view, render
from server.web.html import error_page

if TYPE_CHECKING:
    from server.service import Service

MESSAGE_PATTERN = "|".join(NOTIFY_MESSAGES)  # a Zalo template row's message (data-pattern)


def pairs_text(values: dict[str, str], between: str, separator: str) -> str:
    """A mapping as the form's "pairs" field shows it: ``name: value`` per line (headers) or
    ``name=field; …`` (a Zalo template's parameters)."""
    return separator.join(f"{name}{between}{value}" for name, value in values.items())


def notifications_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "notifications", needs_site=False)
    if isinstance(view, Response):
        return view
    t = view.t
    if not view.user.administrator:
        return error_page(403, t, t.text("forbidden_title"), t.text("adm_notify_admin_only"),
                          back="/manager/admin/users")
    shown: dict[str, Any] = view.seen["notifications"]  # the token and header values masked
    templates = [{**template, "params": pairs_text(template.get("params", {}), "=", "; ")}
                 for template in shown["zalo"]["templates"]]
    return render(view, "notifications.html", page="notifications", title=t.text("adm_notify_title"), values={
        "change": {"kind": "notifications", "notifications": shown}, "n": shown, "templates": templates,
        "headers": pairs_text(shown["sms"]["headers"], ": ", "\n"), "message_pattern": MESSAGE_PATTERN,
        "messages": ", ".join(NOTIFY_MESSAGES), "fields": ", ".join(NOTIFY_FIELDS),
        "methods": [("POST", "POST"), ("GET", "GET")],
        "formats": [("json", "JSON"), ("form", t.text("adm_notify_sms_form"))],
    })
