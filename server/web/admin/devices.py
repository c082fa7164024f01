"""The devices of a site (``/manager/admin/devices?site=…``): its paired kiosks (name, printer,
paper width, QR mode) and displays (name, the counters and services they show), editing
and revoking them, and pairing a new one: the manager types the code the new device shows
on its screen and chooses its id, name and settings (``device_approve``); the device
receives its own credential on the connection it is waiting on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from server.web.admin.frame import admin_view, render, site_view

if TYPE_CHECKING:
    from server.service import Service


def devices_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "devices", needs_site=True)
    if isinstance(view, Response):
        return view
    site = site_view(view)
    code = site["code"]
    kiosks = [{"device": k, "key": f"device:{code}:{k['id']}",
               "change": {"kind": "kiosk", "site": code, **k},
               "revoke": {"kind": "device_revoke", "site": code, "id": k["id"]}} for k in site["kiosks"]]
    displays = [{"device": d, "key": f"device:{code}:{d['id']}",
                 "change": {"kind": "display", "site": code, **d},
                 "revoke": {"kind": "device_revoke", "site": code, "id": d["id"]}} for d in site["displays"]]
    pair: dict[str, Any] = {"kind": "device_approve", "code": "", "site": code, "id": "", "name": "",
                            "printer": "none", "paper_width_mm": 80, "qr": "raster", "counters": None,
                            "services": None}
    return render(view, "devices.html", page="devices", title=view.t.text("adm_devices_title"), values={
        "kiosks": kiosks, "displays": displays, "pair": pair,
        "service_options": [(s["code"], f"{s['code']} · {s['name_vi']}") for s in site["services"]],
        "counter_options": [(k["number"], f"{k['number']} · {k['name']}") for k in site["counters"]],
    })
