"""Check-in at the kiosk, the parts without a screen: the code typed on the keypad, what a
check-in asks the server, and what the kiosk says when the server refuses it.

``KioskState`` owns one ``CodeEntry`` (the on-screen keypad's text) and starts a check-in
through the ``IssuingFlow`` (``kiosk/issuing.py``: the same retries with the same
idempotency key as issuing). A refusal becomes a ``Notice`` in the kiosk's own words
(``checkin_notice``): "come back at HH:MM" for too early, the rule's answer for too late.
A CCCD scanned by a walk-in (no booking today) may qualify its holder for the elderly
priority path (``elderly_offer``); the card itself stays in the kiosk.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime

from common import protocol as p
from common.cccd_qr import CccdCard
from common.citizen_ids import BOOKING_CODE_ALPHABET, BOOKING_CODE_LENGTH, show_booking_code
from common.client import RequestFailed
from common.i18n import Translator
from common.notice import Notice

TEXTS = Translator("kiosk")
# Refusals said in the kiosk's words: error code → (title key, text key).
REFUSALS = {
    "booking_not_found": ("checkin_not_found_title", "checkin_not_found"),
    "booking_cancelled": ("checkin_cancelled_title", "checkin_cancelled"),
    "booking_other_site": ("checkin_other_site_title", "checkin_other_site"),
    "checkin_too_late": ("checkin_too_late_title", "checkin_too_late"),
}


class CodeEntry:
    """The booking code as typed on the keypad: the code's own characters only, 8 at most."""

    keys = BOOKING_CODE_ALPHABET

    def __init__(self) -> None:
        self.text = ""

    def type(self, key: str) -> bool:
        key = key.upper()
        if key not in self.keys or len(key) != 1 or self.complete:
            return False
        self.text += key
        return True

    def erase(self) -> None:
        self.text = self.text[:-1]

    def clear(self) -> None:
        self.text = ""

    @property
    def complete(self) -> bool:
        return len(self.text) == BOOKING_CODE_LENGTH

    def shown(self, blank: str = "_") -> str:
        """``ACD_-____``: what is typed, in the printed code's shape."""
        return show_booking_code(self.text.ljust(BOOKING_CODE_LENGTH, blank))


@dataclass(frozen=True)
class CheckinTarget:
    """What a check-in asks for: a booking code, or a CCCD number (exactly one)."""

    code: str | None = None
    cccd: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.code is None) == (self.cccd is None):
            raise ValueError("a check-in is by a booking code or by a CCCD number, exactly one")

    @property
    def by_card(self) -> bool:
        return self.cccd is not None

    def message(self, key: str) -> p.CheckIn:
        return p.CheckIn(code=self.code, cccd=self.cccd, idempotency_key=key)


@dataclass(frozen=True)
class MessageShown:
    """A message screen's big title and its notice (both languages each)."""

    title: tuple[str, str]
    notice: Notice


def checkin_notice(error: RequestFailed, target: CheckinTarget, zone: zoneinfo.ZoneInfo) -> MessageShown:
    """The message for a refused check-in: the kiosk's words for the codes it knows, the
    server's for anything else."""
    code = error.code
    if code == "checkin_too_early":
        opens = _time(error.details.get("opens_at"), zone)
        if opens is not None:
            return MessageShown(TEXTS.both("checkin_too_early_title", time=opens),
                                Notice("info", *TEXTS.both("checkin_too_early", time=opens), code=code))
    if code == "booking_not_found" and target.by_card:
        return MessageShown(TEXTS.both("checkin_no_booking_title"),
                            Notice("info", *TEXTS.both("checkin_no_booking"), code=code))
    if code in REFUSALS:
        title, text = REFUSALS[code]
        return MessageShown(TEXTS.both(title), Notice("error", *TEXTS.both(text), code=code))
    return MessageShown(TEXTS.both("checkin_refused_title"), Notice.from_refusal(error))


def unreadable_notice(reason: str) -> MessageShown:
    """A scan the kiosk cannot use: a card's QR that fails its checks, or an unknown code."""
    key = "scan_bad_card" if reason.startswith("card:") else "scan_unknown"
    return MessageShown(TEXTS.both("scan_unreadable_title"), Notice("error", *TEXTS.both(key), code=reason))


def elderly_offer(card: CccdCard, site: p.SiteInfo, today: date) -> p.NamedOption | None:
    """The priority class to offer the card's holder on ``today`` (the site's elderly class,
    as the server resolved it), or None: too young, or no such class."""
    if card.age_on(today) < site.elderly_age or site.elderly_priority_class is None:
        return None
    return next((c for c in site.priority_classes if c.code == site.elderly_priority_class), None)


def _time(value: object, zone: zoneinfo.ZoneInfo) -> str | None:
    """``HH:MM`` in the site's zone of an ISO time from an error's details."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return f"{when.astimezone(zone):%H:%M}"
