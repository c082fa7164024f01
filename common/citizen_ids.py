"""What a citizen types when booking, checked once for every client: phone, CCCD, name, code.

The server, the booking page's script (a mirror of these rules) and the kiosk use these
functions; each returns the normalised value or raises ``Rejected`` with a stable code
(``invalid_phone``, ``invalid_cccd``, ``invalid_name``, ``booking_not_found``).

- Phone: a Vietnamese mobile number ``0[35789]`` + 8 digits; ``+84…`` and ``84…`` are
  accepted and normalised to ``0…``; spaces, dots and dashes between digits are ignored.
- CCCD (citizen identity card, 12 digits): the first 3 a province code of the official list
  (63 codes, 001..096), the 4th the century/sex digit (0/1: born 1900s, 2/3: 2000s, …), the
  5th-6th the birth year's last two digits; the birth year may not be in the future.
- Name: 2-80 characters, letters of the Vietnamese alphabet (any case, with tone marks) and
  single spaces.
- Booking code: 8 characters from ``BOOKING_CODE_ALPHABET`` (no 0/O, 1/I, 2/Z, 5/S, 6/G,
  8/B), shown as XXXX-XXXX; accepted with or without the dash, in any case.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from datetime import date

from common.errors import Rejected

PHONE_PATTERN = re.compile(r"^0[35789]\d{8}$")
BOOKING_CODE_ALPHABET = "ACDEFHJKLMNPQRTUVWXY3479"
BOOKING_CODE_LENGTH = 8
NAME_MIN, NAME_MAX = 2, 80

# The province and city codes of the CCCD number (Circular 07/2016/TT-BCA, annex), 63 codes.
PROVINCE_CODES: frozenset[str] = frozenset(f"{n:03d}" for n in (
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36,
    37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74,
    75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96))

# Vietnamese letters, decomposed (NFD): a base letter and at most these combining marks.
_BASE_LETTERS = frozenset(string.ascii_letters) | {chr(0x111), chr(0x110)}  # and đ, Đ
_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b")
_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(text: str) -> str:
    """A Vietnamese mobile number as ``0`` + 9 digits, from ``0…``, ``84…`` or ``+84…``."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not PHONE_PATTERN.match(digits):
        raise Rejected("invalid_phone")
    return digits


def mask_phone(phone: str) -> str:
    """``0912345678`` → ``091•••••78``: enough for its holder to recognise it."""
    return phone[:3] + "•" * (len(phone) - 5) + phone[-2:]


def cccd_birth_year(cccd: str) -> int:
    """The birth year a well-formed CCCD number encodes (4th digit: century, 5th-6th: year)."""
    return 1900 + 100 * (int(cccd[3]) // 2) + int(cccd[4:6])


def normalize_cccd(text: str, today: date) -> str:
    """A CCCD number of the right shape (12 digits, a province code, a birth year not after
    ``today``'s year), spaces ignored."""
    cccd = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{12}", cccd) or cccd[:3] not in PROVINCE_CODES:
        raise Rejected("invalid_cccd")
    if cccd_birth_year(cccd) > today.year:
        raise Rejected("invalid_cccd")
    return cccd


def mask_cccd(last4: str) -> str:
    """The display of a CCCD number of which only the last 4 digits are kept."""
    return "•" * 8 + last4


def age_on(cccd: str, today: date) -> int:
    """The holder's age in whole years by the birth year alone (the CCCD number carries no
    day; the kiosk's QR string carries the full date of birth)."""
    return today.year - cccd_birth_year(cccd)


def normalize_name(text: str) -> str:
    """A citizen's name: Vietnamese letters and single spaces, 2-80 characters (NFC)."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise Rejected("invalid_name", low=NAME_MIN, high=NAME_MAX)
    for word in name.split(" "):
        decomposed = unicodedata.normalize("NFD", word)
        if not decomposed or decomposed[0] not in _BASE_LETTERS:
            raise Rejected("invalid_name", low=NAME_MIN, high=NAME_MAX)
        if any(ch not in _BASE_LETTERS and ch not in _MARKS for ch in decomposed):
            raise Rejected("invalid_name", low=NAME_MIN, high=NAME_MAX)
    return name


def new_booking_code() -> str:
    """8 random characters from the unambiguous alphabet (about 36.7 bits; not guessable
    at the rate limits' pace)."""
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))


def normalize_booking_code(text: str) -> str:
    """The stored form (8 characters, upper case, no dash) of a code as typed or scanned;
    anything else is ``booking_not_found`` (the same error as an unknown code)."""
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != BOOKING_CODE_LENGTH or any(ch not in BOOKING_CODE_ALPHABET for ch in code):
        raise Rejected("booking_not_found")
    return code


def looks_like_booking_code(text: str) -> bool:
    """Whether ``text`` (a scan, a typed string) has the shape of a booking code."""
    try:
        normalize_booking_code(text)
    except Rejected:
        return False
    return True


def show_booking_code(code: str) -> str:
    """``ACDEFHJK`` → ``ACDE-FHJK``, as printed and shown."""
    return f"{code[:4]}-{code[4:]}"
