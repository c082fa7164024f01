"""The values the kiosk state hands around: its screens, its settings, the ticket it shows,
and the two ports it talks through (``Request`` to the server, ``PrinterPort`` to the
printer, with the ``PrintOutcome`` a printer job or status check ends with).

Shared by ``KioskState`` and the parts it owns (``kiosk/issuing.py``, ``kiosk/print_jobs.py``,
``kiosk/staff.py``); the views mostly import them from ``kiosk.state``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from common import protocol as p
from kiosk.ticket_image import PrintedTicket

Request = Callable[[Any, Callable[[Any], None] | None, Callable[[Any], None] | None], None]


@dataclass(frozen=True)
class PrintOutcome:
    """How a print job or status check ended. ``state`` is a protocol printer state."""

    ok: bool
    state: str
    detail: str = ""
    message_vi: str = ""
    message_en: str = ""
    elapsed_ms: float = 0.0


class PrinterPort(Protocol):
    @property
    def enabled(self) -> bool: ...
    def print_ticket(self, ticket: PrintedTicket, on_done: Callable[[PrintOutcome], None]) -> None: ...
    def check_status(self, on_done: Callable[[PrintOutcome], None]) -> None: ...


class Screen(enum.StrEnum):
    CONNECTING = "connecting"  # no snapshot yet: nothing to offer
    HOME = "home"
    PRIORITY = "priority"  # choose the priority class
    PRIORITY_SERVICES = "priority_services"  # then the service
    CHECKIN = "checkin"  # the keypad for a booking code
    PRIORITY_OFFER = "priority_offer"  # a scanned CCCD's holder may take the elderly priority path
    ISSUING = "issuing"
    ISSUED = "issued"
    PRINTER_PROBLEM = "printer_problem"
    MESSAGE = "message"  # the server refused, or the link did not come back in time
    STAFF_PIN = "staff_pin"
    STAFF = "staff"


class PrintPhase(enum.StrEnum):
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"
    DISABLED = "disabled"  # this kiosk has no printer: the screen is the ticket


IDLE_SCREENS = frozenset({Screen.PRIORITY, Screen.PRIORITY_SERVICES, Screen.STAFF_PIN, Screen.STAFF,
                          Screen.CHECKIN, Screen.PRIORITY_OFFER})
# Where a scan is taken (the scanner types into whatever is shown): not while a number is being
# issued or a printer problem is being noted, and never on the staff screens.
SCAN_SCREENS = frozenset({Screen.HOME, Screen.PRIORITY, Screen.PRIORITY_SERVICES, Screen.CHECKIN,
                          Screen.PRIORITY_OFFER, Screen.MESSAGE, Screen.ISSUED})


@dataclass(frozen=True)
class KioskSettings:
    issued_seconds: float = 10.0  # the issued ticket stays on screen this long
    problem_seconds: float = 90.0  # ... and this long when it could not be printed
    message_seconds: float = 15.0
    idle_seconds: float = 30.0  # sub-screens fall back to home after this much inactivity
    give_up_seconds: float = 20.0  # an issue that cannot reach the server ends with a message
    retry_delay_seconds: float = 1.0
    same_choice_seconds: float = 120.0  # the same tap soon after a give-up reuses its key
    status_interval_seconds: float = 60.0  # printer status poll while idle (0: never)
    staff_pin: str = "1234"
    scan_gap_seconds: float = 0.25  # keystrokes further apart are not one scan (kiosk/scanner.py)
    language: str = "vi"


@dataclass(frozen=True)
class IssuedTicket:
    ticket: p.TicketView
    ahead: int
    estimated_wait_minutes: int | None
    url: str
    service: p.ServiceView | None
    priority: p.NamedOption | None
    printed: PrintedTicket
    phase: PrintPhase
    appointment_at: datetime | None = None  # a checked-in booking's slot start, local time
    late: bool = False  # checked in after the window: issued as an ordinary walk-in number
    problem_vi: str = ""
    problem_en: str = ""
