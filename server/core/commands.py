"""Commands the rules accept. Every command names who asks (``actor``) and from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    actor: str
    device: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueTicket(Command):
    service: str
    priority: str | None = None
    # Left out of repr (so out of any log line): with the kiosk's device token, a key gets
    # its ticket back, and the ticket token is the ticket page's URL.
    idempotency_key: str | None = field(default=None, repr=False)
    token: str = field(repr=False)
    # A checked-in appointment (issue 14): its slot's start and booking code. Issued even when
    # the daily cap is reached (the place was reserved) and before the issuing hours open.
    appointment_at: datetime | None = None
    booking: str | None = field(default=None, repr=False)
    # A kiosk's walk-in: refused for an "online only" service unless it has a priority class.
    from_kiosk: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterCommand(Command):
    counter: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCounter(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseCounter(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseCounter(CounterCommand):
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeCounter(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNext(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNumber(CounterCommand):
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Recall(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class StartService(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkAbsent(CounterCommand):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold(CounterCommand):
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeHeld(CounterCommand):
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(CounterCommand):
    service: str | None = None
    target_counter: int | None = None
    position: Literal["front", "back"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finish(CounterCommand):
    outcome: str
    dossier_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTicket(Command):
    number: str
    reason: str | None = None
    counter: int | None = None  # a clerk cancels from their counter; a manager names none


@dataclass(frozen=True, slots=True, kw_only=True)
class RateTicket(Command):
    ticket_id: str
    value: int
    counter: int | None = None  # a clerk's rating window, at their counter; a phone names none


@dataclass(frozen=True, slots=True, kw_only=True)
class RollOver(Command):
    """Close the day: leftovers expire, counters close, numbering starts again."""

    day: date
