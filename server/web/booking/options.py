"""What the booking page offers, read from the live configuration: the sites and services
that take appointments or remote numbers, each service's days (today .. today + days_ahead,
closed days marked) and whether it issues numbers right now (a number for today)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from common.config import WEEKDAYS, Config, Service, Site
from common.i18n import Language
from server.core.hours import is_issuing


def _open_on(site: Site, service: Service, day: date) -> bool:
    """Whether the service has issuing hours on ``day`` (not a holiday)."""
    return day not in site.holidays and bool(site.hours_for(service).get(WEEKDAYS[day.weekday()]))


def _service(site: Site, service: Service, local: datetime, lang: Language) -> dict[str, Any]:
    rules = service.booking
    today = local.date()
    days = [today + timedelta(days=n) for n in range(rules.days_ahead + 1)] if rules.bookable else []
    return {
        "code": service.code,
        "name": service.name_en if lang == "en" else service.name_vi,
        "bookable": rules.bookable,
        "remote_now": rules.remote_today and is_issuing(site, service, local),
        "days": [{"day": day.isoformat(), "open": _open_on(site, service, day)} for day in days],
    }


def booking_sites(config: Config, now: datetime, lang: Language) -> list[dict[str, Any]]:
    """The sites (in the configuration's order) with at least one service that can be booked
    or gives a number for today now, and those services."""
    local = now.astimezone(config.tz)
    sites = []
    for site in config.sites:
        services = [_service(site, service, local, lang) for service in site.services
                    if service.booking.bookable or service.booking.remote_today]
        services = [s for s in services if s["bookable"] or s["remote_now"]]
        if services:
            sites.append({"code": site.code, "name": site.name, "address": site.address,
                          "services": services})
    return sites
