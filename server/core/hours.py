"""Issuing hours: is a service issuing numbers at a moment, and when does it open next."""

from __future__ import annotations

from datetime import datetime, timedelta

from common.config import WEEKDAYS, Service, Site, parse_hours

LOOKAHEAD_DAYS = 14


def is_issuing(site: Site, service: Service, local: datetime) -> bool:
    """True when ``local`` (site-local time) is inside one of the service's spans today."""
    if local.date() in site.holidays:
        return False
    spans = parse_hours(site.hours_for(service).get(WEEKDAYS[local.weekday()], []))
    now = local.time()
    return any(start <= now < end for start, end in spans)


def next_opening(site: Site, service: Service, local: datetime) -> datetime | None:
    """The next start of an issuing span after ``local``, or None within two weeks."""
    hours = site.hours_for(service)
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = (local + timedelta(days=offset)).date()
        if day in site.holidays:
            continue
        for start, _end in sorted(parse_hours(hours.get(WEEKDAYS[day.weekday()], []))):
            candidate = datetime.combine(day, start, tzinfo=local.tzinfo)
            if candidate > local:
                return candidate
    return None
