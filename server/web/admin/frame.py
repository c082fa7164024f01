"""What the administration pages share: the Jinja2 environment (autoescaped templates from
assets/templates/admin/), the request's manager and site, the page frame (the manager
site's top bar, the tabs between the administration pages, the site chooser) and the data
the page's script (assets/web/admin.js) needs to send changes over the websocket.

The pages only read (GET): the current settings from ``server.config``, what the manager
may see from ``public_view`` and each thing's fingerprint from ``fingerprints``. Every
change is a typed ``admin_change`` the script sends (docs/administration.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from websockets.http11 import Request, Response

from common.assets import ASSETS_DIR
from common.config import WEEKDAYS, Config, User
from common.i18n import Translator
from server.admin_changes import MIN_PASSWORD, fingerprints, public_view
from server.web.html import html_response, language_cookie, layout, script_data, template_environment
from server.web.shell import Context, choose_site, link, manager_context, topbar

if TYPE_CHECKING:
    from server.service import Service

TEMPLATES = ASSETS_DIR / "templates" / "admin"
ENV = template_environment(TEMPLATES)

# The administration pages, in the order of their tabs: (key, path).
PAGES = (
    ("users", "/manager/admin/users"),
    ("services", "/manager/admin/services"),
    ("hours", "/manager/admin/hours"),
    ("devices", "/manager/admin/devices"),
    ("rules", "/manager/admin/rules"),
    ("webhooks", "/manager/admin/webhooks"),
    ("notifications", "/manager/admin/notifications"),
    ("api_keys", "/manager/admin/api-keys"),
    ("audit", "/manager/admin/audit"),
)
PATHS = dict(PAGES)
# Tabs a site manager does not see (their pages answer 403).
ADMINISTRATOR_PAGES = {"rules", "webhooks", "notifications", "api_keys"}

# Texts the script shows (validation, progress, the stale-edit hint); the server's errors
# come with their own Vietnamese and English messages.
SCRIPT_TEXTS = (
    "adm_js_saving", "adm_js_saved", "adm_js_required", "adm_js_password_short", "adm_js_passwords_differ",
    "adm_js_bad_hours", "adm_js_bad_date", "adm_js_bad_number", "adm_js_bad_numbers", "adm_js_bad_code",
    "adm_js_bad_username", "adm_js_bad_prefix", "adm_js_bad_device_id", "adm_js_reload", "adm_js_unreachable",
    "adm_js_confirm_again", "adm_js_pick_one",
    "adm_js_row_field", "adm_js_rows_min", "adm_js_duplicate", "adm_js_template_missing",
    "adm_js_template_unknown", "adm_js_site_taken", "adm_js_copy_gone",
    "adm_js_bad_pairs", "adm_js_bad_notify_message",
)


@dataclass
class AdminView:
    """An administration request that passed the manager check."""

    server: Service
    ctx: Context
    query: dict[str, str]
    site: str | None = None
    seen: dict[str, Any] = field(default_factory=dict)  # public_view: what the manager may see

    @property
    def t(self) -> Translator:
        return self.ctx.t

    @property
    def user(self) -> User:
        return self.ctx.user

    @property
    def config(self) -> Config:
        return self.server.config


def admin_view(server: Service, request: Request, query: dict[str, str], page: str, *,
               needs_site: bool) -> AdminView | Response:
    """The manager and (for a site's page) the chosen site, or the response instead: the
    login page, or a 400/403 page for an unknown site or one not theirs."""
    ctx = manager_context(server, request, query)
    if isinstance(ctx, Response):
        return ctx
    site = None
    if needs_site or query.get("site"):
        chosen = choose_site(server, ctx, query, PATHS[page])
        if isinstance(chosen, Response):
            return chosen
        site = chosen
    return AdminView(server=server, ctx=ctx, query=query, site=site,
                     seen=public_view(server.config, ctx.user))


def render(view: AdminView, template: str, *, page: str, title: str, values: dict[str, Any]) -> Response:
    """A page of the administration: the manager site's frame around ``template``."""
    t = view.t
    other = "en" if t.language == "vi" else "vi"
    params = {k: v for k, v in view.query.items() if k in ("site", "before")}
    switch = link(PATHS[page], **params, lang=other)
    prints = fingerprints(view.config, view.user)
    data = {"lang": t.language, "texts": {key: t.entries[key][t.language] for key in SCRIPT_TEXTS},
            "min_password": MIN_PASSWORD}
    pages = [(key, path) for key, path in PAGES if key not in ADMINISTRATOR_PAGES or view.user.administrator]
    body = ENV.get_template(template).render(
        t=_texts(t), lang=t.language, page=page, pages=pages, title=title, view=view, user=view.user,
        site=view.config.site(view.site) if view.site else None, sites=_sites(view),
        site_options=[(s["code"], s["name"]) for s in _sites(view)],
        administrator=view.user.administrator, fp=lambda key: prints.get(key, ""),
        topbar=Markup(topbar(view.server, t, view.user, "admin", switch)),  # shell.topbar escapes
        script_data=Markup(script_data("admin-data", data)),  # JSON made script-safe
        weekdays=WEEKDAYS, min_password=MIN_PASSWORD, fmt_day=fmt_day, uid=_ids(), **values)
    html = layout(t, title=f"{title} – {t.text('adm_title')}", body=body, scripts=["admin.js"])
    return html_response(200, html, headers=language_cookie(view.query))


def _ids() -> Callable[[], str]:
    """A fresh element id on each call, for a label's ``for`` (unique within the page)."""
    counter = itertools.count(1)
    return lambda: f"f{next(counter)}"


def _texts(t: Translator) -> Any:
    def text(key: str, **params: object) -> str:
        return t.text(key, **params)

    return text


def _sites(view: AdminView) -> list[dict[str, Any]]:
    """The sites the manager may see (``public_view``'s), for the site chooser."""
    return [{"code": s["code"], "name": s["name"]} for s in view.seen["sites"]]


def fmt_day(day: date | str) -> str:
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return value.strftime("%d/%m/%Y")


def site_view(view: AdminView) -> dict[str, Any]:
    """The chosen site as ``public_view`` shows it (no device token)."""
    return next(s for s in view.seen["sites"] if s["code"] == view.site)


def hours_text(spans: list[str] | None) -> str:
    """A day's spans as the form shows them: "07:00-11:15, 13:15-16:30"."""
    return ", ".join(spans or [])
