"""The kiosk's issuing flow: one tap, at most one ticket, even across a lost connection.

Mixed into ``KioskState`` (which provides the screen, the clock and the listeners). A
tap starts a ``_Pending`` issue; taps are ignored while it is in flight. A request that
fails for want of a connection is resent with the SAME idempotency key once the link is
back (or after a short delay), so the server never issues it twice; after
``give_up_seconds`` the citizen sees a message, and tapping the same choice again soon
after reuses that key too, so a ticket the server did make is the one shown.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common import protocol as p
from common.client import RequestFailed
from kiosk.printing import PrintOutcome, printed_ticket
from kiosk.values import IssuedTicket, KioskSettings, Notice, PrinterPort, PrintPhase, Request, Screen

log = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset({"not_authenticated", "rate_limited"})  # resend with the same key


@dataclass
class _Pending:
    """An issue in progress; once abandoned (``given_up_at``) its key may still hold a ticket."""

    key: str
    service: str
    priority: str | None
    started: float
    in_flight: bool = False
    retry_at: float | None = None
    attempts: int = 0
    waiting_for_link: bool = False
    given_up_at: float | None = None


class IssuingFlow:
    """Taps on service tiles become ``issue_ticket`` requests; replies become ``issued``."""

    # Provided by KioskState:
    request: Request
    printer: PrinterPort
    clock: Callable[[], float]
    settings: KioskSettings
    site: p.SiteInfo | None
    screen: Screen
    priority: p.NamedOption | None
    issued: IssuedTicket | None
    last_ticket: IssuedTicket | None
    notice: Notice | None

    if TYPE_CHECKING:
        @property
        def online(self) -> bool: ...
        def touch(self) -> None: ...
        def service(self, code: str) -> p.ServiceView | None: ...
        def _show(self, screen: Screen, seconds: float | None = None) -> None: ...
        def _changed(self) -> None: ...
        def _printed(self, ticket_id: str, started: float, outcome: PrintOutcome) -> None: ...

    def _start_issuing(self) -> None:
        self._pending: _Pending | None = None
        self._given: _Pending | None = None  # the last abandoned issue, for the same tap again

    # -- what the view asks -------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Citizens can take a number now."""
        return self.online and self.site is not None and self._pending is None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def issuing_for(self) -> float:
        """Seconds since the issue in progress started (0 when none is)."""
        return self.clock() - self._pending.started if self._pending else 0.0

    @property
    def waiting_for_link(self) -> bool:
        return self._pending is not None and self._pending.waiting_for_link

    def can_choose(self, service: p.ServiceView) -> bool:
        return self.ready and service.issuing

    # -- the tap ------------------------------------------------------------------------------

    def choose_service(self, code: str) -> bool:
        """A tap on a service tile. Returns whether it started an issue (False: ignored)."""
        self.touch()
        if self.screen not in (Screen.HOME, Screen.PRIORITY_SERVICES) or not self.ready:
            return False
        service = self.service(code)
        if service is None or not service.issuing:
            return False
        priority = self.priority.code if self.screen == Screen.PRIORITY_SERVICES and self.priority else None
        now = self.clock()
        given = self._given
        if (given and given.service == code and given.priority == priority and given.given_up_at
                and now - given.given_up_at <= self.settings.same_choice_seconds):
            key = given.key  # the abandoned request may have made a ticket: ask for that one
        else:
            key = uuid.uuid4().hex
        self._given = None
        self._pending = _Pending(key=key, service=code, priority=priority, started=now)
        self._show(Screen.ISSUING)
        self._send_issue()
        self._changed()
        return True

    # -- the request and its answer -----------------------------------------------------------

    def _send_issue(self) -> None:
        pending = self._pending
        assert pending is not None
        pending.in_flight, pending.retry_at, pending.waiting_for_link = True, None, False
        pending.attempts += 1
        key = pending.key  # never logged: with this kiosk's token it gets the ticket and its URL back
        log.info("issuing %s (priority %s), attempt %d", pending.service, pending.priority, pending.attempts)
        message = p.IssueTicket(service=pending.service, priority=pending.priority, idempotency_key=key)
        self.request(message, lambda reply: self._issue_result(key, reply),
                     lambda error: self._issue_failed(key, error))

    def _issue_result(self, key: str, reply: Any) -> None:
        pending = self._pending
        if not isinstance(reply, p.Result) or reply.ticket is None:
            log.warning("unexpected reply to issue_ticket: %s without a ticket", type(reply).__name__)
            return
        if pending is None or pending.key != key:
            given = self._given
            if given is None or given.key != key or self.screen not in (Screen.MESSAGE, Screen.HOME):
                log.warning("ticket %s arrived after its issue was abandoned", reply.ticket.number)
                return
            self._given = None  # the citizen may still be here: show the ticket after all
        self._pending = None
        self._given = None
        service = self.service(reply.ticket.service)
        priority = None
        if reply.ticket.priority and self.site:
            priority = next((c for c in self.site.priority_classes if c.code == reply.ticket.priority), None)
        assert self.site is not None
        paper = printed_ticket(reply, self.site, service, priority)
        phase = PrintPhase.PRINTING if self.printer.enabled else PrintPhase.DISABLED
        issued = IssuedTicket(
            ticket=reply.ticket, ahead=reply.ahead or 0, estimated_wait_minutes=reply.estimated_wait_minutes,
            url=reply.url or "", service=service, priority=priority, printed=paper, phase=phase)
        self.issued = self.last_ticket = issued
        self._show(Screen.ISSUED, self.settings.issued_seconds)
        if phase == PrintPhase.PRINTING:
            started = self.clock()
            ticket_id = reply.ticket.id
            self.printer.print_ticket(paper, lambda outcome: self._printed(ticket_id, started, outcome))
        self._changed()

    def _issue_failed(self, key: str, error: Exception) -> None:
        pending = self._pending
        if pending is None or pending.key != key:
            return
        pending.in_flight = False
        if isinstance(error, RequestFailed) and error.code not in TRANSIENT_CODES:
            self._pending = None
            self.notice = Notice(error.code, error.message_vi, error.message_en)
            self._show(Screen.MESSAGE, self.settings.message_seconds)
            self._changed()
            return
        log.info("issue of %s not answered (%s); will resend with the same key", pending.service, error)
        if self.online:
            pending.retry_at = self.clock() + self.settings.retry_delay_seconds
        else:
            pending.waiting_for_link = True
        self._changed()

    # -- reconnects and time ------------------------------------------------------------------

    def _resend_when_online(self) -> None:
        """The link is back: an issue that was waiting for it goes out again, same key."""
        pending = self._pending
        if pending is not None and not pending.in_flight:
            self._send_issue()

    def _retry_or_give_up(self, now: float) -> bool:
        """The issue's part of ``tick``; True when it changed something."""
        pending = self._pending
        if pending is None:
            return False
        if not pending.in_flight and now - pending.started >= self.settings.give_up_seconds:
            self._give_up()
            return True
        if pending.retry_at is not None and now >= pending.retry_at and self.online:
            self._send_issue()
            return True
        return False

    def _give_up(self) -> None:
        pending = self._pending
        assert pending is not None
        log.warning("giving up the issue of %s after %d attempt(s)", pending.service, pending.attempts)
        self._pending = None
        pending.given_up_at = self.clock()
        self._given = pending
        self.notice = Notice("offline", "", "")
        self._show(Screen.MESSAGE, self.settings.message_seconds)
