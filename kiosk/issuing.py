"""The kiosk's issuing flow: one tap, at most one ticket, even across a lost connection.

A check-in (``start_checkin``: a booking code or a CCCD number) is a request like an issue
and goes through the same flow: the server answers with the ticket it issued for it.

``KioskState`` owns one ``IssuingFlow`` and starts an issue when a service is tapped; the
flow tells it how the issue ended through the ``IssueOutcomes`` it was given (the state
itself), and the state decides what the screen shows. Taps are ignored while an issue is
in flight (``busy``). A request that fails for want of a connection is resent with the
SAME idempotency key once the link is back (or after a short delay), so the server never
issues it twice; after ``give_up_seconds`` the citizen sees a message, and tapping the
same choice again soon after reuses that key too, so a ticket the server did make is the
one shown.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from common import protocol as p
from common.client import RequestFailed
from common.clock import Monotonic
from kiosk.checkin import CheckinTarget
from kiosk.values import KioskSettings, Request

log = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset({"not_authenticated", "rate_limited"})  # resend with the same key


class IssueOutcomes(Protocol):
    """How an issue ends, told to the kiosk state (``kiosk/state.py``)."""

    def ticket_issued(self, reply: p.Result) -> None:
        """The server issued the ticket (``reply.ticket``)."""

    def issue_refused(self, error: RequestFailed, checkin: CheckinTarget | None) -> None:
        """The server refused to issue (closed, no numbers left ...), or refused the check-in
        ``checkin`` (too early, not found ...)."""

    def issue_given_up(self) -> None:
        """No answer in ``give_up_seconds``: the citizen must be told."""

    def may_show_late_ticket(self) -> bool:
        """A ticket arrived for an issue already given up: is the citizen perhaps still here?"""

    def issue_retrying(self) -> None:
        """Not answered; waiting for the link or the next attempt (``waiting_for_link``)."""


@dataclass
class _Pending:
    """An issue in progress; once abandoned (``given_up_at``) its key may still hold a ticket."""

    key: str
    service: str  # "" for a check-in: the server picks the booking's service
    priority: str | None
    started: float
    checkin: CheckinTarget | None = None

    @property
    def what(self) -> str:
        """For the log: the service, or a check-in (never its code or CCCD number)."""
        return "a check-in" if self.checkin is not None else self.service
    in_flight: bool = False
    retry_at: float | None = None
    attempts: int = 0
    waiting_for_link: bool = False
    given_up_at: float | None = None


class IssuingFlow:
    """Taps on service tiles become ``issue_ticket`` requests; replies become outcomes."""

    def __init__(self, *, request: Request, clock: Monotonic, settings: KioskSettings,
                 online: Callable[[], bool], outcomes: IssueOutcomes) -> None:
        self.request = request
        self.clock = clock
        self.settings = settings
        self.online = online
        self.outcomes = outcomes
        self._pending: _Pending | None = None
        self._given: _Pending | None = None  # the last abandoned issue, for the same tap again

    # -- what the state asks ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def issuing_for(self) -> float:
        """Seconds since the issue in progress started (0 when none is)."""
        return self.clock() - self._pending.started if self._pending else 0.0

    @property
    def waiting_for_link(self) -> bool:
        return self._pending is not None and self._pending.waiting_for_link

    @property
    def checking_in(self) -> bool:
        return self._pending is not None and self._pending.checkin is not None

    # -- the tap ------------------------------------------------------------------------------

    def start(self, service: str, priority: str | None) -> None:
        """Issue a ticket of ``service`` (on the priority path: ``priority``)."""
        self._start(service, priority, None)

    def start_checkin(self, target: CheckinTarget) -> None:
        """Check a booking in (by its code or its holder's CCCD number)."""
        self._start("", None, target)

    def _start(self, service: str, priority: str | None, checkin: CheckinTarget | None) -> None:
        now = self.clock()
        given = self._given
        if (given and (given.service, given.priority, given.checkin) == (service, priority, checkin)
                and given.given_up_at and now - given.given_up_at <= self.settings.same_choice_seconds):
            key = given.key  # the abandoned request may have made a ticket: ask for that one
        else:
            key = uuid.uuid4().hex
        self._given = None
        self._pending = _Pending(key=key, service=service, priority=priority, started=now, checkin=checkin)
        self._send()

    # -- the request and its answer -----------------------------------------------------------

    def _send(self) -> None:
        pending = self._pending
        assert pending is not None
        pending.in_flight, pending.retry_at, pending.waiting_for_link = True, None, False
        pending.attempts += 1
        key = pending.key  # never logged: with this kiosk's token it gets the ticket and its URL back
        message: p.IssueTicket | p.CheckIn
        if pending.checkin is not None:  # neither the code nor the CCCD number is logged
            log.info("checking in by %s, attempt %d", "card" if pending.checkin.by_card else "code",
                     pending.attempts)
            message = pending.checkin.message(key)
        else:
            log.info("issuing %s (priority %s), attempt %d", pending.service, pending.priority,
                     pending.attempts)
            message = p.IssueTicket(service=pending.service, priority=pending.priority, idempotency_key=key)
        self.request(message, lambda reply: self._answered(key, reply),
                     lambda error: self._failed(key, error))

    def _answered(self, key: str, reply: Any) -> None:
        pending = self._pending
        if not isinstance(reply, p.Result) or reply.ticket is None:
            log.warning("unexpected reply to an issue: %s without a ticket", type(reply).__name__)
            return
        if pending is None or pending.key != key:
            given = self._given
            if given is None or given.key != key or not self.outcomes.may_show_late_ticket():
                log.warning("ticket %s arrived after its issue was abandoned", reply.ticket.number)
                return
            self._given = None  # the citizen may still be here: show the ticket after all
        self._pending = None
        self._given = None
        self.outcomes.ticket_issued(reply)

    def _failed(self, key: str, error: Exception) -> None:
        pending = self._pending
        if pending is None or pending.key != key:
            return
        pending.in_flight = False
        if isinstance(error, RequestFailed) and error.code not in TRANSIENT_CODES:
            self._pending = None
            self.outcomes.issue_refused(error, pending.checkin)
            return
        log.info("issue of %s not answered (%s); will resend with the same key", pending.what, error)
        if self.online():
            pending.retry_at = self.clock() + self.settings.retry_delay_seconds
        else:
            pending.waiting_for_link = True
        self.outcomes.issue_retrying()

    # -- reconnects and time ------------------------------------------------------------------

    def link_back(self) -> None:
        """The link is back: an issue that was waiting for it goes out again, same key."""
        pending = self._pending
        if pending is not None and not pending.in_flight:
            self._send()

    def tick(self, now: float) -> bool:
        """Retries and giving up; True when it changed something."""
        pending = self._pending
        if pending is None:
            return False
        if not pending.in_flight and now - pending.started >= self.settings.give_up_seconds:
            self._give_up()
            return True
        if pending.retry_at is not None and now >= pending.retry_at and self.online():
            self._send()
            return True
        return False

    def _give_up(self) -> None:
        pending = self._pending
        assert pending is not None
        log.warning("giving up the issue of %s after %d attempt(s)", pending.what, pending.attempts)
        self._pending = None
        pending.given_up_at = self.clock()
        self._given = pending
        self.outcomes.issue_given_up()
