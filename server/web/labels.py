"""Names for what the statistics show: the columns of a report and each group's label.

Shared by the report page, the CSV/Excel exports and ``xephang report`` so that a figure
has the same name everywhere (texts in assets/translations/web.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from common.config import Config
from common.i18n import Translator

Kind = Literal["count", "minutes", "share", "rating"]


@dataclass(frozen=True)
class Column:
    key: str  # in a stats row
    text: str  # translation key
    kind: Kind
    part: str | None = None  # "wait"/"service": shown under a shared header on the page
    short: str | None = None  # translation key of the header under that shared one


# The columns of the report tables, in order. Exports add EXTRA_COLUMNS and rating levels.
COLUMNS: tuple[Column, ...] = (
    Column("issued", "col_issued", "count", short="sh_issued"),
    Column("served", "col_served", "count", short="sh_served"),
    Column("absent", "col_absent", "count", short="sh_absent"),
    Column("transferred", "col_transferred", "count", short="sh_transferred"),
    Column("cancelled", "col_cancelled", "count", short="sh_cancelled"),
    Column("expired", "col_expired", "count", short="sh_expired"),
    Column("wait_mean", "col_wait_mean", "minutes", "wait", "sub_mean"),
    Column("wait_median", "col_wait_median", "minutes", "wait", "sub_median"),
    Column("wait_p90", "col_wait_p90", "minutes", "wait", "sub_p90"),
    Column("wait_max", "col_wait_max", "minutes", "wait", "sub_max"),
    Column("service_mean", "col_service_mean", "minutes", "service", "sub_mean"),
    Column("service_median", "col_service_median", "minutes", "service", "sub_median"),
    Column("service_p90", "col_service_p90", "minutes", "service", "sub_p90"),
    Column("service_max", "col_service_max", "minutes", "service", "sub_max"),
    Column("within_target_share", "col_within_target", "share", short="sh_within_target"),
    Column("rated", "col_rated", "count", short="sh_rated"),
    Column("rating_mean", "col_rating_mean", "rating", short="sh_rating_mean"),
    Column("satisfied_share", "col_satisfied", "share", short="sh_satisfied"),
)

# A shorter set for narrow terminals (``xephang report --format table``).
TABLE_COLUMNS = ("issued", "served", "absent", "wait_mean", "wait_median", "wait_p90",
                 "service_mean", "within_target_share", "rating_mean", "satisfied_share")

EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("in_progress", "col_in_progress", "count"),
    Column("called", "col_called", "count"),
    Column("within_target", "col_within_target_count", "count"),
    Column("gave_up_late", "col_gave_up_late", "count"),
    Column("satisfied", "col_satisfied_count", "count"),
)

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def group_title(t: Translator, group: str) -> str:
    return t.text(f"group_{group}")


def group_label(config: Config, site_code: str, group: str, key: Any, t: Translator) -> str:
    """How a group's key reads: a service's name, "Quầy 3 · Tài chính", a clerk's name..."""
    site = config.site(site_code)
    if group == "service":
        service = site.service(key) if site else None
        if service is None:
            return str(key)
        return service.name_vi if t.language == "vi" else service.name_en
    if group == "counter":
        if key is None:
            return t.text("no_counter")
        counter = site.counter(int(key)) if site else None
        name = "" if counter is None else counter.english_name if t.language == "en" else counter.name
        return t.text("counter_label", number=key, name=name)
    if group == "clerk":
        if key is None:
            return t.text("no_clerk")
        user = config.user(str(key))
        return f"{user.full_name} ({key})" if user else str(key)
    if group == "hour":
        return f"{int(key):02d}:00–{int(key) + 1:02d}:00" if key is not None else "–"
    if group == "day":
        day = date.fromisoformat(str(key))
        return f"{t.text('weekday_' + WEEKDAY_KEYS[day.weekday()])} {day.strftime('%d/%m/%Y')}"
    return str(key)


def rating_names(config: Config, t: Translator) -> list[tuple[int, str]]:
    """The configured satisfaction levels, best first."""
    levels = sorted(config.rating, key=lambda r: -r.value)
    return [(r.value, r.name_vi if t.language == "vi" else r.name_en) for r in levels]
