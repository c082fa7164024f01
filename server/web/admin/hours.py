"""A site's hours, holidays and hall notice (``/manager/admin/hours?site=…``).

The site's own settings (name, address, weekly hours, holidays) are the province
administrator's: one ``site`` change carries them all, so adding or removing a holiday sends
the whole list as it will be. The notice that scrolls on the hall board has a change of
its own (``notice``), which a site manager may send too. The administrator also adds a new
site here (``site_add``), starting from a copy of an existing site's services and counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from server.web.admin.frame import admin_view, render, site_view

if TYPE_CHECKING:
    from server.service import Service


def hours_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "hours", needs_site=True)
    if isinstance(view, Response):
        return view
    site = site_view(view)
    own = site_change(site)
    holidays = [{"day": day, "remove": {**own, "holidays": [d for d in own["holidays"] if d != day]}}
                for day in own["holidays"]]
    return render(view, "hours.html", page="hours", title=view.t.text("adm_hours_title"), values={
        "own": own, "holidays": holidays, "key": f"site:{site['code']}",
        "notice": {"kind": "notice", "site": site["code"], "notice": site["notice"]},
        "new_site": new_site(), "site_codes": [s["code"] for s in view.seen["sites"]],
    })


def new_site() -> dict[str, Any]:
    """The ``site_add`` change the administrator's "add a site" form starts from: its services
    and counters are copied, when it is sent, from the site chosen in the form (admin.js reads
    them with ``read_settings``, as they are then); it has no devices (they pair)."""
    return {"kind": "site_add", "site": {
        "code": "", "name": "", "address": "", "hours": {}, "holidays": [], "notice": "",
        "services": [], "counters": [], "kiosks": [], "displays": []}}


def site_change(site: dict[str, Any]) -> dict[str, Any]:
    """The ``site`` change that leaves the site as it is (every field it replaces)."""
    return {"kind": "site", "site": site["code"], "name": site["name"], "address": site["address"],
            "hours": site["hours"], "holidays": sorted(site["holidays"]), "notice": site["notice"]}
