"""The citizen-facing rating prompt, as plain values: neutral → asking → thanks → neutral.

After the clerk finishes a ticket the prompt asks once for that ticket; a choice sends
``rate{value, ticket_id}`` once (the buttons are locked while it is sent and afterwards),
a thank-you follows, and without an answer the prompt times out back to neutral.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from common.client import ClientError, RequestFailed

ASK_SECONDS = 30
THANKS_SECONDS = 6


class RatingPhase(enum.StrEnum):
    NEUTRAL = "neutral"
    ASKING = "asking"
    SENDING = "sending"
    THANKS = "thanks"


@dataclass(frozen=True)
class RatingTicket:
    id: str
    number: str


Send = Callable[[str, int, Callable[[Any], None], Callable[[Any], None]], None]


class RatingPrompt:
    def __init__(self, send: Send, *, ask_seconds: int = ASK_SECONDS,
                 thanks_seconds: int = THANKS_SECONDS) -> None:
        self.send = send
        self.ask = timedelta(seconds=ask_seconds)
        self.thanks = timedelta(seconds=thanks_seconds)
        self.phase = RatingPhase.NEUTRAL
        self.ticket: RatingTicket | None = None
        self.deadline: datetime | None = None
        self.failed = False  # the last try could not be sent: ask again
        self.rated: set[str] = set()
        self.listeners: list[Callable[[], None]] = []

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    def offer(self, ticket_id: str, number: str, now: datetime, already_rated: bool = False) -> None:
        """A ticket was just finished: ask about it (unless it was rated already)."""
        if already_rated or ticket_id in self.rated:
            return
        self.ticket = RatingTicket(ticket_id, number)
        self.phase = RatingPhase.ASKING
        self.deadline = now + self.ask
        self.failed = False
        self._changed()

    def choose(self, value: int, now: datetime) -> bool:
        if self.phase is not RatingPhase.ASKING or self.ticket is None:
            return False
        ticket = self.ticket
        self.phase = RatingPhase.SENDING
        self.failed = False
        self._changed()

        def ok(_: Any) -> None:
            self._thank(ticket, now)

        def fail(error: ClientError) -> None:
            if isinstance(error, RequestFailed) and error.code in ("already_rated", "not_rateable"):
                self._thank(ticket, now)
                return
            if self.ticket == ticket and self.phase is RatingPhase.SENDING:
                self.phase = RatingPhase.ASKING
                self.failed = True
                self._changed()

        self.send(ticket.id, value, ok, fail)
        return True

    def _thank(self, ticket: RatingTicket, now: datetime) -> None:
        self.rated.add(ticket.id)
        if self.ticket == ticket:
            self.phase = RatingPhase.THANKS
            self.deadline = now + self.thanks
            self._changed()

    def rated_elsewhere(self, ticket_id: str) -> None:
        """The citizen rated on the phone (QR code): nothing left to ask."""
        self.rated.add(ticket_id)
        if self.ticket and self.ticket.id == ticket_id and self.phase is RatingPhase.ASKING:
            self.reset()

    def tick(self, now: datetime) -> None:
        if self.deadline is not None and now >= self.deadline and self.phase in (
                RatingPhase.ASKING, RatingPhase.THANKS):
            self.reset()

    def reset(self) -> None:
        self.phase = RatingPhase.NEUTRAL
        self.ticket = None
        self.deadline = None
        self.failed = False
        self._changed()

    def seconds_left(self, now: datetime) -> int:
        if self.deadline is None:
            return 0
        return max(0, int((self.deadline - now).total_seconds() + 0.999))
