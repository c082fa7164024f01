"""One handler per client message type: check the sender may, then act and reply."""

from __future__ import annotations

import functools
import logging
import re
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected
from common.passwords import verify_password
from server import views
from server.core import commands as c
from server.core import events as ev
from server.core.model import Ticket, TicketState
from server.core.rules import past_rating, rateable_until
from server.sessions import COUNTER_COMMANDS, PERMISSIONS, PUBLIC_TYPES, UNAUTHENTICATED, Session
from server.web.sessions import issue_login_code

if TYPE_CHECKING:
    from server.app import QueueServer

log = logging.getLogger(__name__)
audit = logging.getLogger("xephang.audit")  # who logged in, who failed: never a secret

# Phones (or tabs) following one ticket at once. A ticket's QR code is a credential anyone
# who sees the paper has; without a bound, one token could hold thousands of connections,
# each pushed every change of the queue (3,000 of them made every issue 20x slower).
MAX_WATCHERS_PER_TICKET = 5

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # the shape of a ticket token (worth a lookup)

# A valid hash of a random password: verifying against it costs the same as a real user,
# so response times do not reveal which usernames exist.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
)


class Handlers:
    def __init__(self, server: QueueServer) -> None:
        self.server = server
        self.config = server.config

    async def dispatch(self, ws: ServerConnection, session: Session, raw: str | bytes) -> None:
        server = self.server
        if isinstance(raw, bytes):
            error = Rejected("bad_message", detail="binary frames are not accepted; send JSON text")
            await server.send(ws, server.error_message(None, error))
            return
        try:
            message = p.decode_client(raw, self.config.server.max_message_bytes)
        except p.ProtocolError as exc:
            error = Rejected(exc.code, detail=exc.detail[:200])
            await server.send(ws, server.error_message(exc.request_id, error))
            return
        kind = type(message).__struct_config__.tag
        request_id = message.id
        try:
            if session.public_path and kind not in PUBLIC_TYPES:
                raise Rejected("public_endpoint")
            if session.role not in PERMISSIONS[kind]:
                raise Rejected("not_authenticated" if session.role == UNAUTHENTICATED else (
                    "already_authenticated" if kind in ("login", "login_device", "watch_ticket")
                    else "forbidden"))
            if kind in COUNTER_COMMANDS and session.role == "clerk" and session.counter is None:
                raise Rejected("no_counter_selected")
            reply = await getattr(self, f"on_{kind}")(ws, session, message)
        except Rejected as exc:
            await server.send(ws, server.error_message(request_id, exc))
            return
        except Exception:
            log.exception("handler for %s failed", kind)
            await server.send(ws, server.error_message(request_id, Rejected("internal")))
            return
        if reply is not None:
            await server.send(ws, reply)

    # -- authentication -----------------------------------------------------------------

    def _check_version(self, v: int) -> None:
        if v != p.PROTOCOL_VERSION:
            raise Rejected("unsupported_version")

    async def on_login_device(self, ws, session: Session, m: p.LoginDevice) -> Any:
        self._check_version(m.v)
        keys = [f"ip:{session.remote}"]
        throttle = self.server.login_guard.addresses
        wait = throttle.retry_after(keys)
        if wait:
            audit.warning("device login refused from %s: address locked for %d s", session.remote, wait)
            raise Rejected("throttled", seconds=wait)
        for site in self.config.sites:
            for kind, devices in (("kiosk", site.kiosks), ("display", site.displays)):
                for device in devices:
                    if device.token == m.token:
                        audit.info("device %s (%s) logged in from %s", device.id, kind, session.remote)
                        return await self._welcome_device(ws, session, m, site, kind, device)
        throttle.failed(keys)
        audit.warning("bad device token from %s", session.remote)
        raise Rejected("bad_token")

    async def _welcome_device(self, ws, session: Session, m, site, kind, device) -> None:
        session.role, session.device, session.sites = kind, device.id, (site.code,)
        audience = self.server.audiences[site.code]
        (audience.kiosks if kind == "kiosk" else audience.staff).add(ws)
        view = p.DeviceView(
            id=device.id, name=device.name, kind=kind, site=site.code,
            printer=getattr(device, "printer", None),
            paper_width_mm=getattr(device, "paper_width_mm", None), qr=getattr(device, "qr", None),
            counters=getattr(device, "counters", None), services=getattr(device, "services", None),
        )
        await self.server.send(ws, p.Welcome(
            re=m.id, role=kind, server_time=self.server.clock(), device=view))
        if kind == "kiosk":
            await self.server._db(
                self.server.store.record_device, device.id, site.code, kind, None, None,
                self.server.clock())
        await self.server.send(ws, self.snapshot(site.code, session))

    async def on_login(self, ws, session: Session, m: p.Login) -> Any:
        self._check_version(m.v)
        server = self.server
        name = m.username[:64]
        user = self.config.user(m.username)
        verify = functools.partial(verify_password, m.password[:1024],
                                   user.password_hash if user else _DUMMY_HASH)
        try:  # see server.login_guard: throttles, and turns between addresses
            ok = await server.login_guard.check(name, session.remote, verify)
        except Rejected as exc:
            audit.warning("login of %r from %s refused: %s", name, session.remote, exc.code)
            raise
        if user is None or not ok:
            audit.warning("failed login of %r from %s", name, session.remote)
            raise Rejected("bad_credentials")
        audit.info("%s %s logged in from %s", user.role, user.username, session.remote)
        web_code = None
        if m.web_session:  # the manager web pages: managers only, for a one-time cookie code
            if user.role != "manager":
                raise Rejected("forbidden")
            web_code = issue_login_code(server, user.username)
            audit.info("manager web session code issued to %s at %s", user.username, session.remote)
        sites = tuple(s.code for s in self.config.sites if not user.sites or s.code in user.sites)
        session.role, session.username, session.sites = user.role, user.username, sites
        user_view = p.UserView(username=user.username, full_name=user.full_name, role=user.role)
        welcome = p.Welcome(
            re=m.id, role=user.role, server_time=server.clock(), user=user_view,
            counters=self._counter_choices(user) if user.role == "clerk" else [],
            web_code=web_code,
        )
        await server.send(ws, welcome)
        if user.role == "manager":
            for code in sites:
                server.audiences[code].staff.add(ws)
                await server.send(ws, self.snapshot(code, session))
        return None

    def _counter_choices(self, user) -> list[p.CounterChoice]:
        choices = []
        for site in self.config.sites:
            if user.sites and site.code not in user.sites:
                continue
            state = self.server.states[site.code]
            for counter in site.counters:
                if user.counters and counter.number not in user.counters:
                    continue
                live = state.counters[counter.number]
                choices.append(p.CounterChoice(
                    site=site.code, site_name=site.name, number=counter.number, name=counter.name,
                    name_en=counter.english_name, status=live.status.value, clerk=live.clerk,
                ))
        return choices

    async def on_select_counter(self, ws, session: Session, m: p.SelectCounter) -> Any:
        user = self.config.user(session.username or "")
        assert user is not None
        allowed = {(ch.site, ch.number) for ch in self._counter_choices(user)}
        if (m.site, m.counter) not in allowed:
            raise Rejected("counter_not_allowed", counter=m.counter)
        outcome = await self.server.submit(
            m.site, c.OpenCounter(actor=user.username, counter=m.counter))
        displaced = self._displace(ws, m.site, m.counter, user.username)
        self.server.forget(ws, session)
        session.sites, session.counter = (m.site,), m.counter
        self.server.audiences[m.site].staff.add(ws)
        state = outcome.state
        await self.server.send(ws, p.Result(
            re=m.id, counter=views.counter_view(self.config, state, state.counters[m.counter])))
        await self.server.send(ws, self.snapshot(m.site, session))
        for other_ws, other in displaced:
            other_user = self.config.user(other.username or "")
            await self.server.send(other_ws, p.CounterTakenOver(
                site=m.site, counter=m.counter, clerk=user.username, clerk_name=user.full_name,
                counters=self._counter_choices(other_user) if other_user else []))
        return None

    def _displace(self, ws, site: str, counter: int, clerk: str) -> list[tuple[Any, Session]]:
        """Other clerks' connections working at ``counter``, which ``clerk`` has just opened:
        they no longer work there (counter commands get no_counter_selected; the rules refuse
        them anyway) and hear no more of the site until they select a counter again. The same
        clerk's other connections (a second PC) keep it."""
        displaced = []
        for other_ws, other in self.server.sessions.items():
            if (other_ws is not ws and other.role == "clerk" and other.username != clerk
                    and other.counter == counter and other.site == site):
                self.server.forget(other_ws, other)
                other.counter = None
                displaced.append((other_ws, other))
        return displaced

    async def on_watch_ticket(self, ws, session: Session, m: p.WatchTicket) -> Any:
        self._check_version(m.v)
        found = self.server.tokens.get(m.token)
        ticket = self.server.states[found[0]].tickets.get(found[1]) if found else None
        past = None
        if ticket is None:  # not today's: a ticket of an earlier day is shown as it ended
            past = ticket = await self.past_ticket(m.token, session.remote)
            if ticket is None:
                raise Rejected("ticket_not_found", number="?")
        session.role, session.sites, session.ticket_id = "watcher", (ticket.site,), ticket.id
        # Today's or an earlier day's: the same bound on the phones following one ticket.
        watchers = self.server.audiences[ticket.site].watchers.setdefault(ticket.id, set())
        if len(watchers) >= MAX_WATCHERS_PER_TICKET:  # the oldest gives way
            in_order = (c for c in self.server.sessions if c in watchers)  # sessions: connection order
            oldest = next(in_order, None) or next(iter(watchers))
            watchers.discard(oldest)
            self.server.close_soon(oldest, 1008, "followed on another device")
        watchers.add(ws)
        await self.server.send(ws, p.Welcome(re=m.id, role="watcher", server_time=self.server.clock()))
        state = self.server.states[ticket.site]
        status = self.past_status(ticket) if past else views.ticket_status(self.config, state, ticket)
        await self.server.send(ws, status)
        self.server.end_watch_when_done(ws, ticket)  # a finished ticket's phone is let go
        return None

    async def on_logout(self, ws, session: Session, m: p.Logout) -> Any:
        if session.role == "clerk" and session.counter is not None and session.site:
            counter = self.server.states[session.site].counters[session.counter]
            if counter.active_ticket is None and counter.clerk == session.username:
                await self.server.submit(
                    session.site, c.CloseCounter(actor=session.actor, counter=session.counter))
        self.server.forget(ws, session)
        session.role, session.username, session.device = UNAUTHENTICATED, None, None
        session.sites, session.counter, session.ticket_id = (), None, None
        return p.Result(re=m.id)

    async def on_ping(self, ws, session: Session, m: p.Ping) -> Any:
        return p.Pong(re=m.id, server_time=self.server.clock())

    # -- kiosk ----------------------------------------------------------------------------

    async def on_issue_ticket(self, ws, session: Session, m: p.IssueTicket) -> Any:
        site = session.site
        assert site is not None and session.device is not None
        if not 8 <= len(m.idempotency_key) <= 64:
            raise Rejected("bad_message", detail="idempotency_key must be 8-64 characters")
        key = f"{session.device}:{m.idempotency_key}"
        # A retry (same key) is answered with its ticket and not counted against the pace.
        if key not in self.server.states[site].keys and not self.server.issue_allowed(session.device):
            log.warning("kiosk %s refused: issuing faster than %d a minute (burst %d)", session.device,
                        self.config.server.kiosk_issues_per_minute, self.config.server.kiosk_issue_burst)
            raise Rejected("issuing_too_fast")
        command = c.IssueTicket(
            actor=session.device, device=session.device, service=m.service, priority=m.priority,
            idempotency_key=key, token=self.server.new_ticket_token(),
        )
        outcome = await self.server.submit(site, command)
        state = outcome.state
        ticket = state.tickets[state.keys[key]]
        # Where it stands when the reply leaves: after every command of its batch.
        latest = outcome.latest or state
        ahead = self.server.waiting_lines(site, latest).ahead(ticket)
        return p.Result(
            re=m.id, ticket=views.ticket_view(ticket), ahead=ahead,
            estimated_wait_minutes=self.server.estimates.ticket(site, latest, ticket.service, ahead),
            url=f"{self.config.server.public_url.rstrip('/')}/t/{ticket.token}",
        )

    async def on_printer_status(self, ws, session: Session, m: p.ReportPrinter) -> Any:
        assert session.device is not None and session.site is not None
        await self.server._db(
            self.server.store.record_device, session.device, session.site, "kiosk", m.state,
            m.detail[:200], self.server.clock())
        if m.state not in ("ok", "disabled"):
            log.warning("printer of %s reports %s: %s", session.device, m.state, m.detail[:200])
        return p.Result(re=m.id)

    # -- counter --------------------------------------------------------------------------

    async def _counter_command(self, session: Session, m: Any, command: c.Command) -> p.Result:
        assert session.site is not None and session.counter is not None
        outcome = await self.server.submit(session.site, command)
        state = outcome.state
        return p.Result(
            re=m.id, counter=views.counter_view(self.config, state, state.counters[session.counter]),
            ticket=_event_ticket(outcome),
        )

    def _base(self, session: Session) -> dict[str, Any]:
        return {"actor": session.actor, "device": None, "counter": session.counter}

    async def on_call_next(self, ws, session, m: p.CallNext):
        return await self._counter_command(session, m, c.CallNext(**self._base(session)))

    async def on_call_number(self, ws, session, m: p.CallNumber):
        return await self._counter_command(
            session, m, c.CallNumber(**self._base(session), number=m.number[:16]))

    async def on_recall(self, ws, session, m: p.Recall):
        return await self._counter_command(session, m, c.Recall(**self._base(session)))

    async def on_start_service(self, ws, session, m: p.StartService):
        return await self._counter_command(session, m, c.StartService(**self._base(session)))

    async def on_mark_absent(self, ws, session, m: p.MarkAbsent):
        return await self._counter_command(session, m, c.MarkAbsent(**self._base(session)))

    async def on_hold(self, ws, session, m: p.Hold):
        note = m.note[:200] if m.note else None
        return await self._counter_command(session, m, c.Hold(**self._base(session), note=note))

    async def on_resume_held(self, ws, session, m: p.ResumeHeld):
        return await self._counter_command(
            session, m, c.ResumeHeld(**self._base(session), number=m.number[:16]))

    async def on_transfer(self, ws, session, m: p.Transfer):
        return await self._counter_command(session, m, c.Transfer(
            **self._base(session), service=m.service, target_counter=m.counter,
            position=m.position))

    async def on_finish(self, ws, session, m: p.Finish):
        dossier = m.dossier_code[:64] if m.dossier_code else None
        return await self._counter_command(session, m, c.Finish(
            **self._base(session), outcome=m.outcome, dossier_code=dossier))

    async def on_pause_counter(self, ws, session, m: p.PauseCounter):
        return await self._counter_command(
            session, m, c.PauseCounter(**self._base(session), reason=m.reason[:120]))

    async def on_resume_counter(self, ws, session, m: p.ResumeCounter):
        return await self._counter_command(session, m, c.ResumeCounter(**self._base(session)))

    async def on_close_counter(self, ws, session, m: p.CloseCounter):
        return await self._counter_command(session, m, c.CloseCounter(**self._base(session)))

    async def on_cancel_ticket(self, ws, session: Session, m: p.CancelTicket):
        site = session.site if session.role == "clerk" else m.site
        if site is None or site not in session.sites:
            raise Rejected("unknown_site", site=m.site or "?")
        outcome = await self.server.submit(site, c.CancelTicket(
            actor=session.actor, number=m.number[:16], reason=(m.reason or "")[:200] or None,
            counter=session.counter if session.role == "clerk" else None))
        return p.Result(re=m.id, ticket=_event_ticket(outcome))

    async def on_rate(self, ws, session: Session, m: p.Rate):
        site = session.site
        assert site is not None
        state = self.server.states[site]
        if session.role == "watcher":
            ticket_id = session.ticket_id
        else:  # a clerk's rating window: only a ticket this counter served (today's)
            ticket = state.tickets.get(m.ticket_id or "")
            if ticket is None or ticket.counter != session.counter:
                raise Rejected("not_rateable")
            ticket_id = ticket.id
        if m.ticket_id is not None and m.ticket_id != ticket_id:
            raise Rejected("forbidden")
        if session.role == "watcher":
            rated = await self._watcher_rates(site, ticket_id or "", m.value, session.actor)
            self.server.end_watch_when_done(ws, rated)  # rated: nothing more to hear
            return p.Result(re=m.id, ticket=views.public_ticket_view(rated))
        outcome = await self.server.submit(site, c.RateTicket(
            actor=session.actor, ticket_id=ticket_id or "", value=m.value, counter=session.counter))
        return p.Result(re=m.id, ticket=_event_ticket(outcome))

    # -- tickets of earlier days: shown as they ended, rateable for PAST_RATING_DAYS --------

    async def _watcher_rates(self, site: str, ticket_id: str, value: int, actor: str) -> Ticket:
        """Today's ticket through the rules; one of an earlier day straight to the store."""
        server = self.server
        for _ in range(2):  # twice only if midnight passed between the check and the rules
            today = server.clock().astimezone(self.config.tz).date()
            if server.states[site].day < today:  # the ticker has not rolled the day over yet
                await server.submit(site, c.RollOver(actor="system", day=today))
            state = server.states[site]
            if ticket_id not in state.tickets:  # an earlier day's: the writer never touches it again
                command = c.RateTicket(actor=actor, ticket_id=ticket_id, value=value)
                rule = functools.partial(past_rating, command=command, rules=state.rules, now=server.clock())
                return await server._db(server.store.rate_past_ticket, site, ticket_id, state.day, rule)
            try:
                outcome = await server.submit(
                    site, c.RateTicket(actor=actor, ticket_id=ticket_id, value=value))
            except Rejected as exc:
                if exc.code != "ticket_not_found":
                    raise
                continue
            return next(e.ticket for e in outcome.events if isinstance(e, ev.TicketRated))
        raise Rejected("ticket_not_found", number="?")

    async def past_ticket(self, token: str, remote: str | None) -> Ticket | None:
        """The ticket of an earlier day with ``token``, if its site and service still exist.
        From a websocket (``remote``), a miss counts against the address, which once
        throttled gets no more lookups."""
        server = self.server
        keys = [f"ip:{remote}"] if remote is not None else []
        ticket = None
        throttle = server.login_guard.addresses
        if TOKEN.match(token) and not throttle.retry_after(keys):
            ticket = await server._db(server.store.ticket_with_token, token)
        state = server.states.get(ticket.site) if ticket else None
        if ticket is None or state is None or ticket.day >= state.day:
            throttle.failed(keys)
            return None
        service = state.rules.site.service(ticket.service)
        return ticket if service is not None else None

    def past_status(self, ticket: Ticket) -> p.TicketStatus:
        """A ticket of an earlier day as it ended; the rating scale only while it can be rated
        (or to name the level given)."""
        state = self.server.states[ticket.site]
        status = views.ticket_status(self.config, state, ticket, ahead=0, estimate=lambda *_: None)
        today = self.server.clock().astimezone(self.config.tz).date()
        if ticket.rating is None and rateable_until(ticket.day) < today:
            status = msgspec.structs.replace(status, rating=[])
        return status

    # -- snapshots --------------------------------------------------------------------------

    def snapshot(self, site: str, session: Session) -> p.Snapshot:
        server = self.server
        state = server.states[site]
        config_site = self.config.site(site)
        assert config_site is not None
        if session.role in ("clerk", "manager", "display"):
            shown = state.tickets.values() if session.role != "display" else [
                t for t in state.tickets.values() if t.state in (TicketState.CALLED, TicketState.SERVING)]
            tickets = [views.ticket_view(t) for t in sorted(shown, key=attrgetter("order"))]
        else:
            tickets = []
        counters = [] if session.role == "kiosk" else [
            views.counter_view(self.config, state, counter) for counter in state.counters.values()
        ]
        return p.Snapshot(
            site=views.site_info(self.config, config_site, state),
            services=views.service_views(state, server.clock(), server.estimates.services(site, state)[0]),
            counters=counters,
            tickets=tickets, recent_calls=list(server.recent_calls[site]),
            server_time=server.clock(), counter=session.counter,
        )


def _event_ticket(outcome) -> p.TicketView | None:
    for event in reversed(outcome.events):
        ticket = getattr(event, "ticket", None)
        if ticket is not None:
            return views.ticket_view(ticket)
    return None
