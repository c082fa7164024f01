"""The USB 2D scanner: it types what it reads like a keyboard, fast, and ends with Enter.

``ScannerInput`` collects the keystrokes the kiosk window receives (nobody types on a
kiosk: it has no keyboard, and its buttons take no focus) and hands back a whole scan when
Enter comes. Keystrokes further apart than ``gap_seconds`` start over, so stray keys never
join a later scan; what is shorter than ``min_length`` is dropped. ``read_scan`` tells a
booking code (bare, with or without its dash, or inside a booking page's link) from a
CCCD's QR code. Plain Python with an injected time: no Qt, no clock reads.

A scan can hold a citizen's name and address: it is never logged, only its kind and length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from common.cccd_qr import CccdCard, CccdQrError, looks_like_cccd_qr, parse_cccd_qr
from common.citizen_ids import looks_like_booking_code, normalize_booking_code

log = logging.getLogger(__name__)

MAX_SCAN = 1000  # characters; a longer burst is not a code the kiosk knows


class ScannerInput:
    """Keystrokes in, whole scans out."""

    def __init__(self, *, gap_seconds: float = 0.25, min_length: int = 8) -> None:
        self.gap_seconds = gap_seconds
        self.min_length = min_length
        self._text: list[str] = []
        self._last: float | None = None

    def key(self, text: str, now: float) -> None:
        """A keystroke that typed ``text`` (one character, usually) at ``now`` (monotonic)."""
        if not text or not text.isprintable():
            return
        if self._last is not None and now - self._last > self.gap_seconds:
            self._text.clear()
        self._last = now
        if len(self._text) < MAX_SCAN:
            self._text.append(text)

    def enter(self, now: float) -> str | None:
        """Enter: the scan typed just before it, or None (too short, too slow, nothing)."""
        fresh = self._last is not None and now - self._last <= self.gap_seconds
        text = "".join(self._text)
        self.clear()
        if not fresh or len(text) < self.min_length or len(text) >= MAX_SCAN:
            return None
        return text

    def clear(self) -> None:
        self._text.clear()
        self._last = None


@dataclass(frozen=True)
class BookingCodeScan:
    code: str  # normalised: 8 characters, no dash


@dataclass(frozen=True)
class CardScan:
    card: CccdCard = field(repr=False)


@dataclass(frozen=True)
class UnreadableScan:
    reason: str  # "card:<check>" for a card's QR that fails a check, else "unknown"


Scan = BookingCodeScan | CardScan | UnreadableScan


def read_scan(text: str, *, today: date) -> Scan:
    """What a scan is: a booking code, a CCCD card, or neither (``today``: the site's day)."""
    text = text.strip()
    if looks_like_cccd_qr(text):
        try:
            return CardScan(parse_cccd_qr(text, today=today))
        except CccdQrError as error:
            return UnreadableScan(f"card:{error.reason}")
    candidate = text.rstrip("/").rsplit("/", 1)[-1]  # a link to the booking page ends in the code
    candidate = candidate.split("?", 1)[0].removesuffix(".ics")
    if looks_like_booking_code(candidate):
        return BookingCodeScan(normalize_booking_code(candidate))
    return UnreadableScan("unknown")
