"""What an announcement says: settings, sentence building and the announcement value.

Pure logic, no audio: the sentence is built from a template whose placeholders
``{number}`` and ``{counter}`` are filled with Vietnamese words (never digits).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from display.vi_numbers import (
    FOUR_WORDS,
    NUMBER_STYLES,
    THOUSAND_WORDS,
    ZERO_TENS_WORDS,
    NumberStyle,
    number_to_words,
    ticket_to_words,
)

DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
PLACEHOLDERS = frozenset({"number", "counter"})
MIN_RATE, MAX_RATE = 80, 450  # espeak-ng words per minute
MAX_REPEAT = 5


def validate_template(template: str) -> None:
    """Raise ValueError unless ``template`` is a usable announcement template.

    Allowed: literal text (no digits: the engine would misread them) plus the
    placeholders ``{number}`` (required) and ``{counter}``; ``{{``/``}}`` escape braces.
    """
    if not isinstance(template, str) or not template.strip():
        raise ValueError("announcement template must be a non-empty string")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"announcement template has unbalanced braces ({exc}): {template!r}") from None
    fields: set[str] = set()
    for literal, field, spec, conversion in parts:
        if any(ch.isdigit() for ch in literal):
            raise ValueError(f"announcement template must spell numbers in words, not digits: {template!r}")
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"announcement template may only use {{number}} and {{counter}}; "
                f"found {shown} in {template!r}"
            )
        fields.add(field)
    if "number" not in fields:
        raise ValueError(f"announcement template must contain {{number}}: {template!r}")


@dataclass(frozen=True)
class AnnouncementSettings:
    """How calls are announced. Validated on construction (ValueError)."""

    template: str = DEFAULT_TEMPLATE
    repeat: int = 2  # times the sentence is spoken after one chime
    number_style: NumberStyle = "whole"  # "whole": hai mươi lăm; "digits": không hai năm
    thousand: str = "nghìn"  # or "ngàn"
    zero_tens: str = "linh"  # or "lẻ"
    four: str = "tư"  # or "bốn" (final 4 after "mươi")
    voice: str = "vi"  # espeak-ng voice: vi, vi-vn-x-central, vi-vn-x-south
    rate: int = 150  # espeak-ng words per minute
    chime: bool = True

    def __post_init__(self) -> None:
        validate_template(self.template)
        if isinstance(self.repeat, bool) or not isinstance(self.repeat, int):
            raise ValueError(f"repeat must be an int; got {self.repeat!r}")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"repeat must be between 1 and {MAX_REPEAT}; got {self.repeat}")
        for name, allowed in (
            ("number_style", NUMBER_STYLES),
            ("thousand", THOUSAND_WORDS),
            ("zero_tens", ZERO_TENS_WORDS),
            ("four", FOUR_WORDS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if not isinstance(self.voice, str) or not self.voice.strip():
            raise ValueError("voice must be a non-empty espeak-ng voice name, e.g. 'vi'")
        if isinstance(self.rate, bool) or not isinstance(self.rate, int):
            raise ValueError(f"rate must be an int (words per minute); got {self.rate!r}")
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise ValueError(
                f"rate must be between {MIN_RATE} and {MAX_RATE} words per minute; got {self.rate}"
            )


def announcement_text(ticket_number: str, counter_number: int, settings: AnnouncementSettings) -> str:
    """The sentence to speak for one call, all numbers in words."""
    validate_template(settings.template)
    if isinstance(counter_number, bool) or not isinstance(counter_number, int):
        raise ValueError(f"counter number must be an int; got {counter_number!r}")
    if counter_number < 1:
        raise ValueError(f"counter number must be a positive integer; got {counter_number}")
    words = {"thousand": settings.thousand, "zero_tens": settings.zero_tens, "four": settings.four}
    number = ticket_to_words(ticket_number, style=settings.number_style, **words)
    # Counters are always read as whole numbers, whatever the ticket style.
    counter = number_to_words(counter_number, **words)
    return settings.template.format(number=number, counter=counter)


@dataclass(frozen=True)
class Announcement:
    """One call to announce, with the exact sentence to speak."""

    ticket_id: int | str
    ticket_number: str
    counter_number: int
    recall: bool
    text: str

    @classmethod
    def build(
        cls,
        ticket_id: int | str,
        ticket_number: str,
        counter_number: int,
        recall: bool,
        settings: AnnouncementSettings,
    ) -> Announcement:
        text = announcement_text(ticket_number, counter_number, settings)
        return cls(ticket_id, ticket_number, counter_number, recall, text)
