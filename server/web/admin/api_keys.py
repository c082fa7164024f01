"""The integration API's keys (``/manager/admin/api-keys``), the province administrator's alone
(a site manager gets the 403 page): every key with its scopes, sites, rate and state; creating
one (``api_key`` with ``base`` null: the server generates the key and the page shows it this
once, never again: only its hash is kept); changing one's name, scopes, sites and rate; and
revoking it (``api_key_revoke``). docs/integration.md, "Integration API"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.api_key_config import ID_PATTERN, SCOPES
from server.web.admin.frame import admin_view, render
from server.web.html import error_page

if TYPE_CHECKING:
    from server.service import Service

KEY_ID = ID_PATTERN.pattern.removeprefix("^").removesuffix("$")  # for the form's data-pattern
EDITED = ("id", "name", "scopes", "sites", "rate_per_second", "burst")


def api_keys_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "api_keys", needs_site=False)
    if isinstance(view, Response):
        return view
    t = view.t
    if not view.user.administrator:
        return error_page(403, t, t.text("forbidden_title"), t.text("adm_api_keys_admin_only"),
                          back="/manager/admin/users")
    keys: list[dict[str, Any]] = view.seen.get("api_keys", [])
    rows = [{"key": k, "thing": f"api_key:{k['id']}",
             "change": {"kind": "api_key", **{name: k[name] for name in EDITED}},
             "revoke": {"kind": "api_key_revoke", "id": k["id"]}} for k in keys]
    new = {"kind": "api_key", "id": "", "name": "", "scopes": ["read"], "sites": [], "rate_per_second": 10.0,
           "burst": 30}
    api_port = server.config.server.api_port
    return render(view, "api_keys.html", page="api_keys", title=t.text("adm_api_keys_title"), values={
        "rows": rows, "new": new, "key_pattern": KEY_ID, "api_port": api_port,
        "scope_options": [(scope, t.text(f"adm_api_scope_{scope}")) for scope in SCOPES],
        "key_sites": [(s["code"], s["name"]) for s in view.seen["sites"]],
    })
