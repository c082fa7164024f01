"""The province report: every site a manager covers, in one report.

For each site, the site's tickets of the range go through the same temporary table as a
site's report (``stats.copy_tickets``, so every figure has the site report's definition),
one grouped pass per service and the times for the percentiles. The figures of each
(site, service) add up (``stats.Figures``), so the four levels are merges of those:

- ``sites``: each site, ranked (``rank``);
- ``services``: each service across the province, by its Vietnamese name (the code may
  differ between sites, the name is what a citizen chose);
- ``fields``: each procedure field, the agency a service belongs to in the configuration
  (``Sở Tư pháp``, ``Công an tỉnh``…);
- ``site_services``: each service of each site.

Medians and p90s are computed from every time, not estimated: a province's figure equals
the figure of a site report over the same tickets.

**Ranking.** A site's score is the mean of its share of people called within the wait
target and its share of satisfied ratings (the one it has, if it lacks the other); sites
are ranked by score, highest first; a tie goes to the site that served more people. A site
with neither figure (no ticket in the range) is not ranked.

Runs in the report process like a site's report (``province_report(connection, ...)``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from common.config import Config
from common.errors import ServerError
from server.stats import MAX_RANGE_DAYS, Figures, copy_tickets, drop_tickets, keyed_rows, satisfied_above
from server.stats import SUMS as _SUMS

LEVELS = ("sites", "services", "fields", "site_services")

_BY_SERVICE = "select origin_service, " + _SUMS + " from temp.xephang_report group by origin_service"
_RATINGS = """
select origin_service, rating, count(*) from temp.xephang_report where rating is not null
group by origin_service, rating
"""
# {column}: "wait" or "service_time" (fixed here, never from a request)
_TIMES = """
select {column} from temp.xephang_report where {column} is not null order by origin_service, {column}
"""


class ProvinceReportError(ServerError):
    """A province report asked with a bad range or an unknown site."""


@dataclass
class ProvinceReport:
    start: date
    end: date
    sites: list[str]  # the site codes covered, in the configuration's order
    total: dict[str, Any] = field(default_factory=dict)
    levels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # LEVELS → rows

    @property
    def ranked(self) -> list[dict[str, Any]]:
        """The sites' rows, best rank first, unranked sites last."""
        return sorted(self.levels["sites"], key=lambda r: (r["rank"] is None, r["rank"] or 0))


def check(config: Config, sites: Iterable[str], start: date, end: date) -> list[str]:
    """The sites (in the configuration's order), or ProvinceReportError saying what is wrong."""
    codes = list(sites)
    known = {s.code for s in config.sites}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ProvinceReportError(f"unknown site(s): {', '.join(unknown)}")
    if not codes:
        raise ProvinceReportError("no site to report on")
    if start > end:
        raise ProvinceReportError(f"the range starts ({start}) after it ends ({end})")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ProvinceReportError(f"the range is longer than {MAX_RANGE_DAYS} days")
    chosen = set(codes)
    return [s.code for s in config.sites if s.code in chosen]


def site_figures(conn: sqlite3.Connection, config: Config, site_code: str, start: date,
                 end: date) -> dict[str, Figures]:
    """One site's figures per service (the service chosen at the kiosk)."""
    site = config.site(site_code)
    assert site is not None
    found: dict[str, Figures] = {}
    try:
        copy_tickets(conn, config, site, start, end)
        grouped = conn.execute(_BY_SERVICE, {"satisfied_above": satisfied_above(config)})
        for (service,), values in keyed_rows(grouped, 1):
            found[service] = Figures()
            found[service].add(values)
        for service, level, n in conn.execute(_RATINGS):
            found[service].ratings[level] = n
        waits = [w for (w,) in conn.execute(_TIMES.format(column="wait"))]
        services = [s for (s,) in conn.execute(_TIMES.format(column="service_time"))]
    finally:
        drop_tickets(conn)
    # The times come sorted by service code (SQLite's binary order: Python's order of the
    # codes), then by value: each service's run is as long as its count of them.
    waits_at = services_at = 0
    for code in sorted(found):
        figures = found[code]
        called, timed = figures.sums["called"], figures.sums["timed"]
        figures.waits = waits[waits_at:waits_at + called]
        figures.services = services[services_at:services_at + timed]
        waits_at, services_at = waits_at + called, services_at + timed
    return found


def province_report(conn: sqlite3.Connection, config: Config, sites: Iterable[str], start: date,
                    end: date) -> ProvinceReport:
    """The figures of ``sites`` over local days ``start``..``end`` at every level."""
    codes = check(config, sites, start, end)
    parts = {code: site_figures(conn, config, code, start, end) for code in codes}
    return assemble(config, codes, start, end, parts)


def assemble(config: Config, codes: list[str], start: date, end: date,
             parts: dict[str, dict[str, Figures]]) -> ProvinceReport:
    """The levels, merged from each site's figures per service."""
    result = ProvinceReport(start=start, end=end, sites=codes)
    services: dict[str, list[Figures]] = {}
    fields: dict[str, list[Figures]] = {}
    site_rows, site_service_rows = [], []
    for code in codes:
        site = config.site(code)
        assert site is not None
        order = {s.code: i for i, s in enumerate(site.services)}
        for service_code in sorted(parts[code], key=lambda c: (order.get(c, len(order)), c)):
            figures = parts[code][service_code]
            service = site.service(service_code)
            name = service.name_vi if service else service_code
            services.setdefault(name, []).append(figures)
            fields.setdefault(service.agency if service else "", []).append(figures)
            site_service_rows.append(figures.row((code, service_code)))
        site_rows.append(Figures.combined(parts[code].values()).row(code))
    result.total = Figures.combined(f for part in parts.values() for f in part.values()).row("*")
    result.levels = {
        "sites": rank(site_rows),
        "services": [Figures.combined(found).row(name) for name, found in services.items()],
        "fields": [Figures.combined(found).row(name) for name, found in fields.items()],
        "site_services": site_service_rows,
    }
    for level in ("services", "fields"):
        result.levels[level].sort(key=lambda r: -r["issued"])
    return result


def score(row: dict[str, Any]) -> float | None:
    """The mean of the within-target and satisfied shares (either alone when the other is missing)."""
    shares = [row[k] for k in ("within_target_share", "satisfied_share") if row[k] is not None]
    return sum(shares) / len(shares) if shares else None


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each site row with its ``score`` and ``rank`` (1 = best; None without a score)."""
    for row in rows:
        row["score"] = score(row)
        row["rank"] = None
    scored = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], -r["served"]))
    for position, row in enumerate(scored, start=1):
        row["rank"] = position
    return rows
