"""The QR code on a citizen identity card (CCCD), read by the kiosk's 2D scanner.

The chip-based CCCD (and the 2021 card) carries a QR code whose text is seven fields
separated by ``|``::

    001099012345|123456789|Nguyễn Văn An|01011990|Nam|Số 1 Tràng An, Hoa Lư, Ninh Bình|15082021
    CCCD number  |old CMND |name         |born    |sex|address                          |issued

The old 9-digit CMND field is empty on most cards. ``parse_cccd_qr`` checks the shape and
the dates, and that the number agrees with the date of birth and the sex written beside it
(the number's 4th digit encodes the century and sex, the 5th-6th the year of birth:
Thông tư 07/2016/TT-BCA). ``age_on`` gives the holder's age in full years on a day.

Privacy: the kiosk uses the card locally. Only the 12-digit number ever leaves it (for a
check-in); the string, the name and the address are never sent, stored or logged. The
reprs of ``CccdCard`` and ``CccdQrError`` therefore hold no personal data.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from common.citizen_ids import cccd_birth_year, normalize_cccd
from common.errors import CommonError, Rejected

SEPARATOR = "|"
FIELDS = 7
MAX_LENGTH = 600  # a real card's text is ~150 characters; anything longer is not a card
EARLIEST_BIRTH = date(1900, 1, 1)
MALE, FEMALE = "male", "female"


class CccdQrError(CommonError, ValueError):
    """Text that is not a CCCD's QR code; ``reason`` says which check failed (never the text)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"not a CCCD QR code: {reason}")


@dataclass(frozen=True)
class CccdCard:
    """What the kiosk may use from a scanned card. Only ``number`` is ever sent anywhere."""

    number: str = field(repr=False)
    name: str = field(repr=False)
    birth_date: date = field(repr=False)
    sex: str | None = field(repr=False)  # MALE, FEMALE, or None when the field is unreadable
    issued_on: date | None = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def looks_like_cccd_qr(text: str) -> bool:
    """Whether scanned text is meant as a card's QR code (whether or not it is a valid one)."""
    return text.count(SEPARATOR) >= FIELDS - 1 and text[:12].isdigit()


def parse_cccd_qr(text: str, *, today: date) -> CccdCard:
    """The card in a scanned QR text; ``today`` (the site's local day) bounds the dates.

    Raises ``CccdQrError`` when the text is not a card's code or does not agree with itself.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_LENGTH:
        raise CccdQrError("too_long")
    parts = [part.strip() for part in text.split(SEPARATOR)]
    if len(parts) != FIELDS:
        raise CccdQrError("fields")
    number, old_number, name, born, sex_text, _address, issued = parts
    try:  # the shape every client checks (common/citizen_ids.py): digits, province, year
        number = normalize_cccd(number, today)
    except Rejected:
        raise CccdQrError("number") from None
    if old_number and not (len(old_number) in (9, 12) and old_number.isascii() and old_number.isdigit()):
        raise CccdQrError("old_number")
    if not name or not any(ch.isalpha() for ch in name):
        raise CccdQrError("name")
    birth_date = _date(born, "birth_date")
    if not EARLIEST_BIRTH <= birth_date <= today:
        raise CccdQrError("birth_date")
    issued_on = _date(issued, "issue_date") if issued else None
    if issued_on is not None and not birth_date <= issued_on <= today:
        raise CccdQrError("issue_date")
    sex = _sex(sex_text)
    if cccd_birth_year(number) != birth_date.year:
        raise CccdQrError("number_birth_year")
    if sex is not None and (sex == FEMALE) != bool(int(number[3]) % 2):  # even digits: men
        raise CccdQrError("number_sex")
    return CccdCard(number=number, name=name, birth_date=birth_date, sex=sex, issued_on=issued_on)


def age_on(birth_date: date, day: date) -> int:
    """Full years from ``birth_date`` to ``day`` (someone born on 29 February turns a year
    older on 1 March in common years)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def _date(text: str, reason: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CccdQrError(reason)
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise CccdQrError(reason) from None


def _sex(text: str) -> str | None:
    """"Nam" → male, "Nữ" → female (compared without diacritics, any case); else None."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return {"nam": MALE, "nu": FEMALE}.get(bare.casefold())
