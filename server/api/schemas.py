"""The integration API's bodies, as msgspec structs: requests are decoded (and refused with a
400 naming the field) by them, responses encoded from them, and the OpenAPI document's
schemas are theirs (``msgspec.json.schema_components``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import msgspec


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


# -- requests -------------------------------------------------------------------------------------


class IssueRequest(_Body, frozen=True, kw_only=True):
    """Issue a ticket at a site, as a kiosk would (a reception desk, another system)."""

    service: str  # the service's code
    priority: str | None = None  # a configured priority class, or none
    # The same key again within the day answers the ticket it issued, never a second one.
    idempotency_key: str | None = None


# -- responses ------------------------------------------------------------------------------------


class SiteSummary(_Body, frozen=True, kw_only=True):
    code: str
    name: str
    address: str
    timezone: str
    day: date  # the site's current local day


class SiteList(_Body, frozen=True, kw_only=True):
    centre_name: str
    province: str
    sites: list[SiteSummary]


class Serving(_Body, frozen=True, kw_only=True):
    number: str
    counter: int
    state: Literal["called", "serving"]


class ServiceQueue(_Body, frozen=True, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    agency: str
    issuing: bool
    closed_reason: Literal["service_closed", "holiday", "daily_cap_reached"] | None
    next_open: datetime | None
    waiting: int
    estimated_wait_minutes: int | None
    issued: int
    remaining: int | None
    counters: list[int]
    now_serving: list[Serving]


class CounterQueue(_Body, frozen=True, kw_only=True):
    number: int
    name: str
    name_en: str
    status: Literal["open", "paused", "closed"]
    services: list[str]
    serving: str | None  # the number called or served there
    pause_reason: str | None


class QueueView(_Body, frozen=True, kw_only=True):
    site: str
    day: date
    at: datetime
    services: list[ServiceQueue]
    counters: list[CounterQueue]


class TicketInfo(_Body, frozen=True, kw_only=True):
    id: str
    site: str
    day: date
    number: str
    service: str
    origin_service: str
    priority: str | None
    state: Literal["waiting", "called", "serving", "held", "absent", "done", "cancelled", "expired"]
    counter: int | None = None
    issued_by: str | None = None
    issued_at: datetime
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None
    dossier_code: str | None = None
    rating: int | None = None
    appointment_at: datetime | None = None  # an appointment's slot start (checked in from a booking)
    booking: str | None = None  # the booking's code it was checked in from
    ahead: int | None = None  # today's waiting ticket: people called before it
    estimated_wait_minutes: int | None = None


class TicketList(_Body, frozen=True, kw_only=True):
    tickets: list[TicketInfo]
    truncated: bool  # more tickets carry the code than the list holds (the newest first)


class IssuedTicket(_Body, frozen=True, kw_only=True):
    ticket: TicketInfo
    ahead: int
    estimated_wait_minutes: int | None
    url: str  # the ticket's page, for a QR code


class Figures(_Body, frozen=True, kw_only=True):
    """A period's figures (docs/statistics.md): counts, minutes, shares."""

    issued: int
    served: int
    absent: int
    transferred: int
    cancelled: int
    expired: int
    in_progress: int
    called: int
    within_target: int
    rated: int
    satisfied: int
    wait_mean: float | None
    wait_median: float | None
    wait_p90: float | None
    wait_max: float | None
    service_mean: float | None
    service_median: float | None
    service_p90: float | None
    service_max: float | None
    within_target_share: float | None
    rating_mean: float | None
    satisfied_share: float | None


class ServiceFigures(Figures, frozen=True, kw_only=True):
    service: str


class Stats(_Body, frozen=True, kw_only=True):
    site: str
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    days: int  # days of the period that have tickets
    total: Figures
    services: list[ServiceFigures]


class ErrorDetail(_Body, frozen=True, kw_only=True):
    code: str
    message_vi: str
    message_en: str
    details: dict[str, Any] = {}


class ErrorBody(_Body, frozen=True, kw_only=True):
    error: ErrorDetail


FIGURE_FIELDS = tuple(f.encode_name for f in msgspec.structs.fields(Figures))
