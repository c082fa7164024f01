"""What each route of the integration API does (the table is server/api/routes.py).

A handler gets a ``Call`` (the server's ``Service``, the key, the checked parameters and
body) and returns a response struct of server/api/schemas.py, or raises ``ApiError`` (or
``Rejected``, from the queue rules). It reads the committed state, submits commands through
the single writer, reads the database on the reports' thread (``read_db``) and computes
statistics in the report process (``compute``): never on the event loop's thread.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from common.api_key_config import ApiKey
from common.errors import ServerError
from server import stats, wire
from server.api import schemas as s
from server.core import commands as c
from server.core import events as ev
from server.core.model import SiteState, Ticket, TicketState

if TYPE_CHECKING:
    from server.service import Service

DOSSIER_LIMIT = 50  # tickets a dossier code lookup returns at most (the newest first)


class ApiError(ServerError):
    """A request the API refuses: an HTTP status and a code of assets/translations/api.toml."""

    def __init__(self, status: int, code: str, **params: Any) -> None:
        self.status, self.code, self.params = status, code, params
        super().__init__(f"{status} {code} {params}")


@dataclass
class Call:
    """One request that passed the key, scope, site and parameter checks."""

    service: Service
    key: ApiKey | None
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None

    def state(self) -> SiteState:
        """The committed state of the path's site (checked to exist and be the key's)."""
        return self.service.states[self.path["site"]]


# -- reading ---------------------------------------------------------------------------------------


async def list_sites(call: Call) -> s.SiteList:
    config = call.service.config
    key = call.key
    sites = [s.SiteSummary(code=site.code, name=site.name, address=site.address, timezone=config.timezone,
                           day=call.service.states[site.code].day)
             for site in config.sites
             if site.code in call.service.states and (key is None or key.covers(site.code))]
    return s.SiteList(centre_name=config.centre_name, province=config.province, sites=sites)


async def site_queue(call: Call) -> s.QueueView:
    service, state = call.service, call.state()
    site = state.rules.site
    estimates = service.fanout.estimates.services(site.code, state)[0]
    now = service.clock()
    serving: dict[str, list[s.Serving]] = {}
    for counter in sorted(state.counters.values(), key=lambda k: k.number):
        ticket = state.tickets.get(counter.active_ticket) if counter.active_ticket else None
        if ticket is not None:
            serving.setdefault(ticket.service, []).append(s.Serving(
                number=ticket.number, counter=counter.number,
                state="serving" if ticket.state is TicketState.SERVING else "called"))
    services = [s.ServiceQueue(
        code=v.code, name_vi=v.name_vi, name_en=v.name_en, agency=v.agency, issuing=v.issuing,
        closed_reason=v.closed_reason, next_open=v.next_open, waiting=v.waiting,
        estimated_wait_minutes=v.estimated_wait_minutes, issued=v.issued, remaining=v.remaining,
        counters=v.counters, now_serving=serving.get(v.code, []),
    ) for v in wire.service_views(state, now, estimates)]
    counters = []
    for number, counter in sorted(state.counters.items()):
        configured = site.counter(number)
        if configured is None:
            continue
        active = state.tickets.get(counter.active_ticket) if counter.active_ticket else None
        counters.append(s.CounterQueue(
            number=number, name=configured.name, name_en=configured.english_name,
            status=counter.status.value, services=list(configured.services),  # type: ignore[arg-type]
            serving=active.number if active else None, pause_reason=counter.pause_reason))
    return s.QueueView(site=site.code, day=state.day, at=now, services=services, counters=counters)


async def ticket_by_number(call: Call) -> s.TicketInfo:
    state = call.state()
    number = call.path["number"]
    ticket = next((t for t in state.tickets.values() if t.number == number), None)
    if ticket is None:
        raise ApiError(404, "ticket_not_found")
    return today_info(call.service, state, ticket)


async def ticket_by_token(call: Call) -> s.TicketInfo:
    service = call.service
    ticket = service.today_ticket(call.path["token"])
    if ticket is not None and _covered(call, ticket.site):
        return today_info(service, service.states[ticket.site], ticket)
    past = await service.run_db(service.store.ticket_with_token, call.path["token"])
    if past is None or not _covered(call, past.site):
        raise ApiError(404, "ticket_not_found")
    return info(past)


async def tickets_by_dossier(call: Call) -> s.TicketList:
    service = call.service
    sites = None if call.key is None or not call.key.sites else list(call.key.sites)
    rows = await service.read_db(_dossier_rows, call.path["code"], sites, DOSSIER_LIMIT + 1)
    tickets = [msgspec.convert(row, s.TicketInfo, strict=False) for row in rows[:DOSSIER_LIMIT]]
    live = [_live(service, t) for t in tickets]
    return s.TicketList(tickets=live, truncated=len(rows) > DOSSIER_LIMIT)


async def site_stats(call: Call) -> s.Stats:
    start: date = call.query["from"]
    end: date = call.query["to"]
    if end < start:
        raise ApiError(400, "bad_parameter", field="to", detail="to < from")
    if (end - start).days + 1 > stats.MAX_RANGE_DAYS:
        raise ApiError(400, "bad_parameter", field="to", detail=f"at most {stats.MAX_RANGE_DAYS} days")
    site = call.path["site"]
    total, rows, days = await call.service.compute(_stats, call.service.config, site, start, end)
    return s.Stats(site=site, start=start, end=end, days=days, total=msgspec.convert(total, s.Figures),
                   services=[msgspec.convert(row, s.ServiceFigures) for row in rows])


# -- issuing -------------------------------------------------------------------------------------


async def issue_ticket(call: Call) -> tuple[int, s.IssuedTicket]:
    service, key = call.service, call.key
    body: s.IssueRequest = call.body
    site = call.path["site"]
    who = f"api:{key.id}" if key is not None else "api"
    retry_key = f"{who}:{body.idempotency_key}" if body.idempotency_key is not None else None
    if body.idempotency_key is not None and not 8 <= len(body.idempotency_key) <= 64:
        raise ApiError(400, "bad_field", field="idempotency_key", detail="8-64 characters")
    outcome = await service.submit(site, c.IssueTicket(
        actor=who, device=who, service=body.service, priority=body.priority, idempotency_key=retry_key,
        token=_ticket_token()))
    issued = [e.ticket for e in outcome.events if isinstance(e, ev.TicketIssued)]
    state = outcome.state
    ticket = issued[0] if issued else state.tickets[state.keys[retry_key or ""]]
    latest = outcome.latest or state
    ahead = service.fanout.waiting_lines(site, latest).ahead(ticket)
    url = f"{service.config.server.public_url.rstrip('/')}/t/{ticket.token}"
    estimate = service.fanout.estimates.ticket(site, latest, ticket.service, ahead)
    reply = s.IssuedTicket(ticket=info(ticket), ahead=ahead, url=url, estimated_wait_minutes=estimate)
    return (201 if issued else 200), reply


# -- helpers ---------------------------------------------------------------------------------------


def info(ticket: Ticket) -> s.TicketInfo:
    return s.TicketInfo(
        id=ticket.id, site=ticket.site, day=ticket.day, number=ticket.number, service=ticket.service,
        origin_service=ticket.origin_service, priority=ticket.priority,
        state=ticket.state.value,  # type: ignore[arg-type]
        counter=ticket.counter, issued_by=ticket.issued_by, issued_at=ticket.issued_at,
        called_at=ticket.called_at, started_at=ticket.started_at, finished_at=ticket.finished_at,
        outcome=ticket.outcome, dossier_code=ticket.dossier_code, rating=ticket.rating,
        appointment_at=ticket.appointment_at, booking=ticket.booking)


def today_info(service: Service, state: SiteState, ticket: Ticket) -> s.TicketInfo:
    """Today's ticket, with the people ahead and the estimate while it waits."""
    shown = info(ticket)
    if ticket.state is not TicketState.WAITING or ticket.day != state.day:
        return shown
    ahead = service.fanout.waiting_lines(ticket.site, state).ahead(ticket)
    estimate = service.fanout.estimates.ticket(ticket.site, state, ticket.service, ahead)
    return msgspec.structs.replace(shown, ahead=ahead, estimated_wait_minutes=estimate)


def _live(service: Service, stored: s.TicketInfo) -> s.TicketInfo:
    """A ticket as the database had it, or as it is now if it is today's (the database is
    at most one commit behind, but the people ahead are only known live)."""
    state = service.states.get(stored.site)
    ticket = state.tickets.get(stored.id) if state is not None else None
    return today_info(service, state, ticket) if state is not None and ticket is not None else stored


def _covered(call: Call, site: str) -> bool:
    return call.key is None or call.key.covers(site)


def _ticket_token() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()


# Fixed text: the TicketInfo fields the tickets table has (tests/test_api.py checks them).
_DOSSIER_SQL = (
    "select id, site, day, number, service, origin_service, priority, state, counter, issued_by, issued_at,"
    " called_at, started_at, finished_at, outcome, dossier_code, rating, appointment_at, booking"
    " from tickets where dossier_code = ?"
    " order by day desc, issued_at desc limit ?"
)
DOSSIER_SCAN = 1000  # rows read at most for one code, before the key's sites are kept


def _dossier_rows(conn: sqlite3.Connection, code: str, sites: list[str] | None,
                  limit: int) -> list[dict[str, Any]]:
    """On the reports' thread: the tickets with dossier code ``code`` (at ``sites``), newest first."""
    cursor = conn.execute(_DOSSIER_SQL, [code, DOSSIER_SCAN])
    names = [d[0] for d in cursor.description]
    rows = (dict(zip(names, row, strict=True)) for row in cursor)
    return [row for row in rows if sites is None or row["site"] in sites][:limit]


def _stats(conn: sqlite3.Connection, config: Any, site: str, start: date,
           end: date) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """In the report process: the period's figures in total and per service."""
    report, _ = stats.ReportJob(config, site, start, end, ("service",)).run(conn)
    keep = set(s.FIGURE_FIELDS)
    total = {k: v for k, v in report.summary.items() if k in keep}
    rows = [{"service": row["key"], **{k: v for k, v in row.items() if k in keep}} for row in report.rows]
    return total, rows, report.days
