"""The counters and services of a site (``/manager/admin/services?site=…``): each counter's
names, the services it calls and in which order; each service's names, agency, numbering,
daily cap, wait target, own hours, appointments (``service.booking``: bookable, slots, places,
the walk-ins' share, check-in window; docs/booking.md) and the counters that serve it; adding
and removing both. What a change does to the running day (a service with people waiting, an open
counter) is the server's to decide (server/core/changes.py): its refusal is shown as it
words it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from websockets.http11 import Request, Response

from common.config import Booking
from server.web.admin.frame import admin_view, render, site_view

if TYPE_CHECKING:
    from server.service import Service


def services_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "services", needs_site=True)
    if isinstance(view, Response):
        return view
    site = site_view(view)
    code = site["code"]
    service_options = [(s["code"], f"{s['code']} · {s['name_vi']}") for s in site["services"]]
    counter_options = [(k["number"], f"{k['number']} · {k['name']}") for k in site["counters"]]
    counters = [_counter(code, counter, service_options) for counter in site["counters"]]
    services = [_service(code, service, site["counters"]) for service in site["services"]]
    new_counter = {"kind": "counter", "site": code, "counter": {
        "number": None, "name": "", "services": [], "service_order": "preference", "name_en": None}}
    new_service = {"kind": "service", "site": code, "counters": [], "service": {
        "code": "", "name_vi": "", "name_en": "", "agency": "",
        "numbering": {"style": "prefix", "prefix": "", "digits": 3, "start": 1, "end": None},
        "daily_cap": None, "hours": None, "wait_target_minutes": 30,
        "booking": msgspec.to_builtins(Booking())}}
    return render(view, "services.html", page="services", title=view.t.text("adm_services_title"), values={
        "counters": counters, "services": services, "service_options": service_options,
        "counter_options": counter_options, "new_counter": new_counter, "new_service": new_service,
        "bookable_places": bookable_places})


def bookable_places(booking: dict[str, Any]) -> int:
    """The bookable places of one slot of a service's ``booking`` as the page shows it."""
    return msgspec.convert(booking, Booking).bookable_places


def _counter(site: str, counter: dict[str, Any], service_options: list[tuple[str, str]]) -> dict[str, Any]:
    """A counter's line, its change (the whole counter) and removal, and its services to tick:
    the ones it calls first, in its order (the order of preference), then the others."""
    order = {code: i for i, code in enumerate(counter["services"])}
    options = sorted(service_options, key=lambda o: order.get(o[0], len(order)))
    return {
        "counter": counter, "key": f"counter:{site}:{counter['number']}", "options": options,
        "change": {"kind": "counter", "site": site, "counter": counter},
        "remove": {"kind": "counter_remove", "site": site, "number": counter["number"]},
    }


def _service(site: str, service: dict[str, Any], counters: list[dict[str, Any]]) -> dict[str, Any]:
    serving = [k["number"] for k in counters if service["code"] in k["services"]]
    numbering = service["numbering"]
    first = (str(numbering["start"]) if numbering["style"] == "block"
             else f"{numbering['prefix']}{numbering['start']:0{numbering['digits']}d}")
    return {
        "service": service, "key": f"service:{site}:{service['code']}", "serving": serving, "first": first,
        # "counters": null keeps them as they are unless the ticks change (admin.js)
        "change": {"kind": "service", "site": site, "service": service, "counters": None},
        "remove": {"kind": "service_remove", "site": site, "code": service["code"]},
    }
