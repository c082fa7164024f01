"""Issuing hours: is a service issuing numbers at a moment, and when does it open next."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta

from common.config import WEEKDAYS, Service, Site, parse_hours

LOOKAHEAD_DAYS = 14


@functools.lru_cache(maxsize=1024)
def _parsed(spans: tuple[str, ...]) -> list[tuple[time, time]]:
    """parse_hours, once per distinct list of spans (asked for every service, every batch)."""
    return parse_hours(list(spans))


def is_issuing(site: Site, service: Service, local: datetime) -> bool:
    """True when ``local`` (site-local time) is inside one of the service's spans today."""
    if local.date() in site.holidays:
        return False
    spans = _parsed(tuple(site.hours_for(service).get(WEEKDAYS[local.weekday()], ())))
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
