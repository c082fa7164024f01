"""The users page (``/manager/admin/users``): every account the manager may see, adding one
(with a first password the user replaces at their next login), editing names, roles, sites
and counters, disabling and enabling, resetting a password.

The province administrator sees everyone; a site manager sees and changes only the clerks
of their sites (``admin_changes`` enforces the same on the server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from server.web.admin.frame import AdminView, admin_view, render

if TYPE_CHECKING:
    from server.service import Service


def users_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "users", needs_site=False)
    if isinstance(view, Response):
        return view
    names = {s["code"]: s["name"] for s in view.seen["sites"]}
    users = sorted(view.seen["users"], key=lambda u: (u["role"] != "manager", u["disabled"], u["username"]))
    rows = [_row(view, user, names) for user in users]
    first_sites = [view.site] if view.site else ([] if view.user.administrator else view.user.sites[:1])
    new_user = {"kind": "user", "username": "", "full_name": "", "role": "clerk", "sites": first_sites,
                "counters": [], "disabled": False, "password": None}
    return render(view, "users.html", page="users", title=view.t.text("adm_users_title"),
                  values={"rows": rows, "new_user": new_user, "site_names": names})


def _row(view: AdminView, user: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """One account's line and the changes its forms start from (the whole user, as
    ``admin_change`` ``user`` takes it; ``password`` null keeps the password)."""
    change = {"kind": "user", "username": user["username"], "full_name": user["full_name"],
              "role": user["role"], "sites": user["sites"], "counters": user["counters"],
              "disabled": user["disabled"], "password": None}
    myself = user["username"] == view.user.username
    return {
        "user": user, "change": change, "toggled": {**change, "disabled": not user["disabled"]},
        "site_names": [names.get(code, code) for code in user["sites"]],
        "myself": myself,
        "key": f"user:{user['username']}",
    }
