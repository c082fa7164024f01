"""A kiosk: issuing a ticket (at a human pace) and reporting its printer."""

from __future__ import annotations

import base64
import logging
import os
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection

from common import protocol as p
from common.errors import Rejected
from server import wire
from server.core import commands as c
from server.limits import TokenBucket

if TYPE_CHECKING:
    from common.config import Config
    from server.connections import Session
    from server.service import Service

log = logging.getLogger(__name__)


class TicketTokens:
    """Ticket tokens (the QR code's link) as secrets.token_urlsafe(16), from random bytes
    read 4 KiB at a time (one getrandom call per 256 tickets instead of one per ticket)."""

    def __init__(self) -> None:
        self._random = bytearray()

    def new(self) -> str:
        if len(self._random) < 16:
            self._random = bytearray(os.urandom(4096))
        chunk = bytes(self._random[-16:])
        del self._random[-16:]
        return base64.urlsafe_b64encode(chunk).rstrip(b"=").decode()


class KioskRequests:
    @property
    def config(self) -> Config:
        """The live configuration (settings change while the server runs)."""
        return self.service.config

    def __init__(self, service: Service) -> None:
        self.service = service
        self.tokens = TicketTokens()
        self.pace: dict[str, TokenBucket] = {}  # kiosk device id → its issuing pace

    def issue_allowed(self, device: str) -> bool:
        """Whether kiosk ``device`` may issue one more ticket now: a kiosk serves one person
        at a time (``server.kiosk_issue_burst``, then ``server.kiosk_issues_per_minute``)."""
        bucket = self.pace.get(device)
        if bucket is None:
            settings = self.config.server
            bucket = self.pace[device] = TokenBucket(
                rate=settings.kiosk_issues_per_minute / 60, burst=settings.kiosk_issue_burst)
        return bucket.take()

    async def issue_ticket(self, ws: ServerConnection, session: Session, m: p.IssueTicket) -> p.Result:
        service = self.service
        site = session.site
        assert site is not None and session.device is not None
        if not 8 <= len(m.idempotency_key) <= 64:
            raise Rejected("bad_message", detail="idempotency_key must be 8-64 characters")
        key = f"{session.device}:{m.idempotency_key}"
        # A retry (same key) is answered with its ticket and not counted against the pace.
        if key not in service.states[site].keys and not self.issue_allowed(session.device):
            log.warning("kiosk %s refused: issuing faster than %d a minute (burst %d)", session.device,
                        self.config.server.kiosk_issues_per_minute, self.config.server.kiosk_issue_burst)
            raise Rejected("issuing_too_fast")
        command = c.IssueTicket(
            actor=session.device, device=session.device, service=m.service, priority=m.priority,
            idempotency_key=key, token=self.tokens.new(), from_kiosk=True,
        )
        outcome = await service.submit(site, command)
        state = outcome.state
        ticket = state.tickets[state.keys[key]]
        # Where it stands when the reply leaves: after every command of its batch.
        latest = outcome.latest or state
        ahead = service.fanout.waiting_lines(site, latest).ahead(ticket)
        return p.Result(
            re=m.id, ticket=wire.ticket_view(ticket), ahead=ahead,
            estimated_wait_minutes=service.fanout.estimates.ticket(site, latest, ticket.service, ahead),
            url=f"{self.config.server.public_url.rstrip('/')}/t/{ticket.token}",
        )

    async def printer_status(self, ws: ServerConnection, session: Session, m: p.ReportPrinter) -> p.Result:
        service = self.service
        assert session.device is not None and session.site is not None
        await service.run_db(service.store.record_device, session.device, session.site, "kiosk", m.state,
                             m.detail[:200], service.clock())
        if m.state not in ("ok", "disabled"):
            log.warning("printer of %s reports %s: %s", session.device, m.state, m.detail[:200])
        return p.Result(re=m.id)
