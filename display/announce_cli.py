"""``xephang announce``: print (and optionally render) the sentence for one call.

    xephang announce A105 3
    xephang announce A105 3 --wav call.wav --style digits --thousand ngàn --zero-tens lẻ

Prints the exact sentence that would be spoken. With ``--wav`` writes chime +
speech (one repeat) as a 16-bit mono WAV, for checking the voice at a centre.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from common.assets import asset_path
from display.announcement import AnnouncementSettings, announcement_text
from display.speech import EspeakSynthesizer, concat_wavs
from display.vi_numbers import NUMBER_STYLES, THOUSAND_WORDS, ZERO_TENS_WORDS

TICKET_RE = re.compile(r"[A-Z]{0,3}[0-9]{1,6}")


def _ticket(value: str) -> str:
    ticket = value.strip().upper()
    if not TICKET_RE.fullmatch(ticket):
        raise argparse.ArgumentTypeError(
            f"invalid ticket {value!r}: expected up to 3 letters then 1-6 digits, e.g. A025"
        )
    return ticket


def _counter(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1 or not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"invalid counter {value!r}: expected a positive integer")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang announce",
        description="Print the announcement sentence for a call; optionally render it to WAV.",
    )
    parser.add_argument("ticket", type=_ticket, help="ticket number, e.g. A025 or 105")
    parser.add_argument("counter", type=_counter, help="counter number, e.g. 3")
    parser.add_argument("--wav", type=Path, metavar="FILE", help="write chime + speech here")
    parser.add_argument(
        "--style",
        choices=NUMBER_STYLES,
        default="whole",
        help="read the ticket as a whole number or digit by digit",
    )
    parser.add_argument("--thousand", choices=THOUSAND_WORDS, default="nghìn")
    parser.add_argument("--zero-tens", choices=ZERO_TENS_WORDS, default="linh")
    parser.add_argument("--voice", default="vi", help="espeak-ng voice: vi, vi-vn-x-central, vi-vn-x-south")
    parser.add_argument("--rate", type=int, default=150, help="words per minute")
    parser.add_argument("--no-chime", action="store_true", help="omit the chime from --wav")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage/error or help
        return int(exc.code or 0)
    try:
        settings = AnnouncementSettings(
            number_style=args.style,
            thousand=args.thousand,
            zero_tens=args.zero_tens,
            voice=args.voice,
            rate=args.rate,
            repeat=1,
            chime=not args.no_chime,
        )
        text = announcement_text(args.ticket, args.counter, settings)
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"xephang announce: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.wav is None:
        return 0
    with tempfile.TemporaryDirectory(prefix="xephang-announce-") as tmp:
        # A private cache: the CLI must render fresh, not trust an old cache entry.
        speech = EspeakSynthesizer.from_settings(settings, Path(tmp)).synthesize(text)
        if speech is None:
            print(
                "xephang announce: error: speech engine unavailable or produced no audio "
                "(install espeak-ng and libespeak-ng1; check --voice)",
                file=sys.stderr,
            )
            return 1
        parts = [asset_path("sounds", "chime.wav")] if settings.chime else []
        concat_wavs([*parts, speech], args.wav, gap_seconds=0.25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
