"""Vietnamese number and ticket reading, as words a TTS engine can speak verbatim.

TTS engines read "15" as "mười năm"; we always hand them words written here.
Northern standard by default, with the accepted regional variants as options:

* ``thousand``: "nghìn" (Northern) or "ngàn" (Southern);
* ``zero_tens``: "linh" (Northern) or "lẻ" (Southern), as in 105 "một trăm linh năm";
* ``four``: "tư" or "bốn" for a final 4 after "mươi" (24 "hai mươi tư").

See docs/announcements.md for the full rules with examples.
"""

from __future__ import annotations

import re
from typing import Literal

NumberStyle = Literal["whole", "digits"]

MAX_NUMBER = 999_999
DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

THOUSAND_WORDS = ("nghìn", "ngàn")
ZERO_TENS_WORDS = ("linh", "lẻ")
FOUR_WORDS = ("tư", "bốn")
NUMBER_STYLES = ("whole", "digits")

# Vietnamese letter names as read aloud at service counters. Hyphenated names are
# one spoken unit (espeak-ng joins them without a pause). Ă/Â/Ê/Ô/Ơ/Ư are accepted
# too, although ticket prefixes normally use plain A-Z plus Đ.
LETTER_NAMES: dict[str, str] = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét-xì",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích-xì",
    "Y": "i dài",
    "Z": "dét",
}

# Letters (any script's letter class, validated later by spell_letter), an optional
# "-" or space, then ASCII digits: "A025", "BH012", "A-025", "025".
_TICKET_RE = re.compile(r"(?P<prefix>[^\W\d_]*)[\s-]?(?P<digits>[0-9]+)")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _units_after_tens(units: int, *, four: str) -> str:
    """The final digit after "mươi" (tens 2-9): 1 "mốt", 4 ``four``, 5 "lăm"."""
    if units == 1:
        return "mốt"
    if units == 4:
        return four
    if units == 5:
        return "lăm"
    return DIGIT_WORDS[units]


def _tens_and_units(value: int, *, zero_tens: str, four: str, after_hundreds: bool) -> list[str]:
    """Words for 0..99; ``after_hundreds`` means a hundreds word was spoken before it."""
    tens, units = divmod(value, 10)
    if tens == 0:
        if units == 0:
            return []
        # "linh năm" keeps the plain digit: no "lăm"/"mốt"/"tư" after linh/lẻ.
        return [zero_tens, DIGIT_WORDS[units]] if after_hundreds else [DIGIT_WORDS[units]]
    if tens == 1:
        words = ["mười"]
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGIT_WORDS[units])  # 11 mười một, 14 mười bốn
        return words
    words = [DIGIT_WORDS[tens], "mươi"]
    if units:
        words.append(_units_after_tens(units, four=four))
    return words


def _group_words(value: int, *, full: bool, zero_tens: str, four: str) -> list[str]:
    """Words for a three-digit group 0..999.

    ``full`` is set for a group that follows a higher group (thousands): its
    hundreds are always spoken, so 1023 reads "một nghìn không trăm hai mươi ba".
    """
    hundreds, rest = divmod(value, 100)
    if hundreds == 0 and not full:
        return _tens_and_units(rest, zero_tens=zero_tens, four=four, after_hundreds=False)
    words = [DIGIT_WORDS[hundreds], "trăm"]
    words += _tens_and_units(rest, zero_tens=zero_tens, four=four, after_hundreds=True)
    return words


def number_to_words(n: int, *, thousand: str = "nghìn", zero_tens: str = "linh", four: str = "tư") -> str:
    """Read a whole number 0..999_999 in Vietnamese words.

    >>> number_to_words(1005)
    'một nghìn không trăm linh năm'
    >>> number_to_words(105, zero_tens="lẻ")
    'một trăm lẻ năm'
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number must be an int; got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number must be between 0 and {MAX_NUMBER:,}; got {n:,}")
    _check_choice("thousand", thousand, THOUSAND_WORDS)
    _check_choice("zero_tens", zero_tens, ZERO_TENS_WORDS)
    _check_choice("four", four, FOUR_WORDS)
    if n == 0:
        return DIGIT_WORDS[0]
    high, low = divmod(n, 1000)
    words: list[str] = []
    if high:
        words += _group_words(high, full=False, zero_tens=zero_tens, four=four)
        words.append(thousand)
    if low:
        words += _group_words(low, full=bool(high), zero_tens=zero_tens, four=four)
    return " ".join(words)


def digits_to_words(s: str) -> str:
    """Read a string of ASCII digits one by one: "1023" -> "một không hai ba"."""
    if not s or not all("0" <= ch <= "9" for ch in s):
        raise ValueError(f"expected a non-empty string of digits 0-9; got {s!r}")
    return " ".join(DIGIT_WORDS[int(ch)] for ch in s)


def spell_letter(letter: str) -> str:
    """Vietnamese name of one letter, case-insensitive: "B" -> "bê", "đ" -> "đê"."""
    if len(letter) != 1:
        raise ValueError(f"expected a single letter; got {letter!r}")
    try:
        return LETTER_NAMES[letter.upper()]
    except KeyError:
        raise ValueError(f"no Vietnamese letter name for {letter!r}") from None


def ticket_to_words(
    ticket: str,
    *,
    style: NumberStyle = "whole",
    thousand: str = "nghìn",
    zero_tens: str = "linh",
    four: str = "tư",
) -> str:
    """Read a ticket number such as "A025" or "BH012".

    Prefix letters are spelled by name, then a comma (a short pause in speech),
    then the digits: in ``"whole"`` style as a number with leading zeros dropped
    ("A025" -> "a, hai mươi lăm"), in ``"digits"`` style one by one, keeping the
    zeros ("A025" -> "a, không hai năm").
    """
    _check_choice("style", style, NUMBER_STYLES)
    _check_choice("thousand", thousand, THOUSAND_WORDS)
    _check_choice("zero_tens", zero_tens, ZERO_TENS_WORDS)
    _check_choice("four", four, FOUR_WORDS)
    match = _TICKET_RE.fullmatch(ticket.strip()) if isinstance(ticket, str) else None
    if match is None:
        raise ValueError(f"ticket must be letters followed by digits, like 'A025'; got {ticket!r}")
    prefix, digits = match["prefix"], match["digits"]
    if style == "digits":
        number = digits_to_words(digits)
    else:
        number = number_to_words(int(digits), thousand=thousand, zero_tens=zero_tens, four=four)
    if not prefix:
        return number
    letters = " ".join(spell_letter(ch) for ch in prefix)
    return f"{letters}, {number}"
