"""The calendar file of a booking (RFC 5545): one event at the slot's time with a reminder an
hour before, the site as its place and the code, check-in window and the booking's page in
its description. No name, phone or CCCD: the file may end up in a shared calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

REMINDER = "-PT1H"
LINE_OCTETS = 75  # RFC 5545 3.1: lines longer than this are folded


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime
    end: datetime
    stamp: datetime
    summary: str
    location: str
    description: str
    url: str
    alarm: str


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space, never inside a UTF-8
    character."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (LINE_OCTETS if not out else LINE_OCTETS - 1):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def calendar_file(event: CalendarEvent) -> bytes:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//xephang//booking//VI", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT",
        f"UID:{event.uid}", f"DTSTAMP:{_utc(event.stamp)}",
        f"DTSTART:{_utc(event.start)}", f"DTEND:{_utc(event.end)}",
        f"SUMMARY:{_text(event.summary)}", f"LOCATION:{_text(event.location)}",
        f"DESCRIPTION:{_text(event.description)}", f"URL:{event.url}",
        "BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:{REMINDER}", f"DESCRIPTION:{_text(event.alarm)}",
        "END:VALARM", "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
