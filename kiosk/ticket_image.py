"""The paper ticket: what is printed on it, and its 1-bit raster image for thermal printers.

``printed_ticket`` turns the server's answer to ``issue_ticket`` into a ``PrintedTicket``;
``render_ticket`` draws it. Thermal printers rarely have a usable Vietnamese text mode, so
the whole ticket is drawn here with the bundled Be Vietnam Pro font and sent as a bitmap
(``GS v 0``). The ticket's words are the kiosk catalogue's, in Vietnamese. Pure: no I/O
besides loading the bundled fonts and the catalogue.
"""

from __future__ import annotations

import logging
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from common import protocol as p
from common.assets import font_path
from common.i18n import Translator

logger = logging.getLogger(__name__)

REFERENCE_WIDTH = 576  # 80 mm paper at 203 dpi; sizes below are tuned for it
QR_QUIET_MODULES = 4  # quiet zone required around a QR symbol
QR_MIN_MODULE_DOTS = 3  # smaller modules do not scan reliably on 203 dpi paper
QR_MAX_MODULE_DOTS = 8
INK_THRESHOLD = 160  # grey level below which an anti-aliased pixel becomes a dot
NBSP = "\u00a0"
TALLEST_MARKS = "ỄẪỖẴ"  # the highest stacked marks: measured for the line height, never printed
PAPER = Translator("kiosk", "vi")  # tickets are printed in Vietnamese

Font = ImageFont.FreeTypeFont
Run = tuple[str, Font]  # a piece of text in one font


@dataclass(frozen=True)
class PrintedTicket:
    """Everything printed on one ticket (already issued by the server)."""

    centre_name: str
    site_name: str
    service_name: str
    number: str
    people_ahead: int
    estimated_wait_minutes: int | None
    issued_at: datetime  # aware, local time of the centre
    counters: tuple[int, ...]
    priority_label: str | None
    url: str
    appointment_at: datetime | None = None  # a checked-in booking's slot start, local time

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None:
            raise ValueError("PrintedTicket.issued_at must be timezone-aware (local time)")
        if self.appointment_at is not None and self.appointment_at.tzinfo is None:
            raise ValueError("PrintedTicket.appointment_at must be timezone-aware (local time)")
        if not self.number.strip():
            raise ValueError("PrintedTicket.number must not be empty")
        if self.people_ahead < 0:
            raise ValueError("PrintedTicket.people_ahead must be >= 0")


def printed_ticket(result: p.Result, site: p.SiteInfo, service: p.ServiceView | None,
                   priority: p.NamedOption | None) -> PrintedTicket:
    """The paper ticket for a successful ``issue_ticket`` reply (printed in Vietnamese)."""
    ticket = result.ticket
    assert ticket is not None, "an issue_ticket result always carries the ticket"
    zone = zoneinfo.ZoneInfo(site.timezone)
    issued_at = ticket.issued_at.astimezone(zone)
    # The main site's name only repeats the centre's ("... công tỉnh" of "... công tỉnh Ninh Bình"):
    # print where it is instead. A commune site prints its own name under the province's centre.
    main_site = site.centre_name.startswith(site.name)
    return PrintedTicket(
        centre_name=site.centre_name,
        site_name=(site.address or site.name) if main_site else site.name,
        service_name=service.name_vi if service else ticket.service,
        number=ticket.number,
        people_ahead=max(0, result.ahead or 0),
        estimated_wait_minutes=result.estimated_wait_minutes,
        issued_at=issued_at,
        counters=tuple(service.counters) if service else (),
        priority_label=priority.name_vi if priority else None,
        url=result.url or f"{site.public_url}/",
        appointment_at=ticket.appointment_at.astimezone(zone) if ticket.appointment_at else None,
    )


def appointment_label(appointment_at: datetime) -> str:
    """"Lịch hẹn 09:30": the slot's start (a booking is checked in on its own day)."""
    return PAPER.text("ticket_appointment", time=f"{appointment_at:%H:%M}")


# --- text helpers -----------------------------------------------------------------


def session_label(issued_at: datetime) -> str:
    """Morning before 12:00 local time, otherwise afternoon (in the ticket's words)."""
    return PAPER.text("ticket_morning" if issued_at.hour < 12 else "ticket_afternoon")


def format_wait(minutes: int) -> str:
    """Human wording of an estimated wait, e.g. "about 15 minutes" (in the ticket's words)."""
    if minutes < 1:
        return PAPER.text("wait_under_minute")
    if minutes < 60:
        return PAPER.text("wait_minutes", m=minutes)
    hours, rest = divmod(minutes, 60)
    return PAPER.text("wait_hours_minutes", h=hours, m=rest) if rest else PAPER.text("wait_hours", h=hours)


def _nfc(text: str) -> str:
    # Decomposed input (base letter + combining marks) would be drawn as separate
    # glyphs; the font has precomposed Vietnamese letters, so normalise first.
    return unicodedata.normalize("NFC", text).strip()


@lru_cache(maxsize=64)
def _font(weight: str, size: int) -> Font:
    return ImageFont.truetype(str(font_path(weight)), size)


@lru_cache(maxsize=64)
def _line_box(font: Font) -> tuple[int, int]:
    """(offset from line top to the ascender line, line height) including stacked marks."""
    ascent, descent = font.getmetrics()
    above = max(0, -font.getbbox(TALLEST_MARKS, anchor="la")[1])  # marks can rise above ascent
    return above, above + ascent + descent


def _wrap_balanced(runs: list[Run], max_width: int) -> list[list[Run]]:
    """Wrap into as few lines as greedy wrapping needs, but with even line lengths.

    Centred multi-line text then reads as a block instead of ending in one orphan word.
    """
    lines = _wrap_runs(runs, max_width)
    if len(lines) < 2:
        return lines
    lo, hi = max_width // len(lines), max_width
    while lo < hi:  # narrowest width that still needs no more lines
        mid = (lo + hi) // 2
        if len(_wrap_runs(runs, mid)) <= len(lines):
            hi = mid
        else:
            lo = mid + 1
    return _wrap_runs(runs, lo)


def _wrap_runs(runs: list[Run], max_width: int) -> list[list[Run]]:
    """Greedy word wrap of mixed-font runs; over-long words are split by characters."""
    lines: list[list[Run]] = [[]]
    width = 0.0
    for text, font in runs:
        for word in text.split(" "):
            if not word:
                continue
            lead = " " if lines[-1] else ""
            need = font.getlength(lead + word)
            if width + need <= max_width:
                lines[-1].append((lead + word, font))
                width += need
                continue
            if lines[-1]:
                lines.append([])
                width = 0.0
            while font.getlength(word) > max_width:  # a single word wider than the paper
                cut = len(word) - 1
                while cut > 1 and font.getlength(word[:cut]) > max_width:
                    cut -= 1
                lines[-1].append((word[:cut], font))
                lines.append([])
                word = word[cut:]
            lines[-1].append((word, font))
            width = font.getlength(word)
    return [line for line in lines if line]


# --- layout -----------------------------------------------------------------------


class _Canvas:
    """Top-to-bottom layout on a greyscale page that is cropped when finished."""

    def __init__(self, width: int, scale: float) -> None:
        self.width = width
        self.scale = scale
        self.margin = round(16 * scale)
        self.image = Image.new("L", (width, round(4000 * scale) + 2000), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = round(6 * scale)

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def px(self, value: float) -> int:
        return max(1, round(value * self.scale))

    def gap(self, value: float) -> None:
        self.y += self.px(value)

    def text(self, runs: list[Run], *, center: bool = True, spacing: float = 4,
             fill: int = 0) -> None:
        wrap = _wrap_balanced if center else _wrap_runs
        for line in wrap(runs, self.inner):
            boxes = [_line_box(font) for _, font in line]
            above, height = max(b[0] for b in boxes), max(b[1] for b in boxes)
            width = sum(font.getlength(text) for text, font in line)
            x = self.margin + ((self.inner - width) / 2 if center else 0)
            for text, font in line:
                self.draw.text((x, self.y + above), text, font=font, fill=fill, anchor="la")
                x += font.getlength(text)
            self.y += height + self.px(spacing)

    def rule(self, thickness: float = 2, dashed: bool = False) -> None:
        t = self.px(thickness)
        left, right = self.margin, self.width - self.margin
        if not dashed:
            self.draw.rectangle((left, self.y, right - 1, self.y + t - 1), fill=0)
        else:
            dash = self.px(8)
            for x in range(left, right, 2 * dash):
                self.draw.rectangle((x, self.y, min(x + dash, right) - 1, self.y + t - 1), fill=0)
        self.y += t

    def big_number(self, number: str, max_height: int) -> None:
        """The ticket number, as large as fits the paper width and max_height.

        Height is reserved from capital/digit metrics rather than this number's ink,
        so round digits (overshoot) do not shift the lines below.
        """

        def box(size: int) -> tuple[int, int, int]:
            font = _font("ExtraBold", size)
            left, _, right, _ = font.getbbox(number, anchor="ls")
            cap = -font.getbbox("0B8", anchor="ls")[1]
            return round(right - left), cap, left

        lo, hi = 8, 4 * max_height
        while lo < hi:  # largest font size that fits
            mid = (lo + hi + 1) // 2
            width, cap, _ = box(mid)
            if width <= self.inner and cap <= max_height:
                lo = mid
            else:
                hi = mid - 1
        width, cap, left = box(lo)
        baseline = self.y + cap
        x = (self.width - width) / 2 - left
        self.draw.text((x, baseline), number, font=_font("ExtraBold", lo), fill=0, anchor="ls")
        self.y = baseline + self.px(2)

    def badge(self, text: str, font: Font) -> None:
        """White text on a black rounded box, centred (used for the priority class)."""
        pad_x, pad_y = self.px(14), self.px(6)
        for line in _wrap_runs([(text, font)], self.inner - 2 * pad_x):
            label = "".join(part for part, _ in line)
            above, height = _line_box(font)
            width = font.getlength(label)
            x0 = (self.width - width) / 2 - pad_x
            box = (x0, self.y, x0 + width + 2 * pad_x, self.y + height + 2 * pad_y)
            self.draw.rounded_rectangle(box, radius=self.px(8), fill=0)
            self.draw.text((x0 + pad_x, self.y + pad_y + above), label, font=font,
                           fill=255, anchor="la")
            self.y += height + 2 * pad_y + self.px(2)

    def paste_center(self, image: Image.Image) -> None:
        self.image.paste(image.convert("L"), ((self.width - image.width) // 2, self.y))
        self.y += image.height

    def finish(self, bottom_margin: float) -> Image.Image:
        self.gap(bottom_margin)
        page = self.image.crop((0, 0, self.width, self.y))
        return page.point(lambda v: 255 if v >= INK_THRESHOLD else 0, mode="1")


# --- QR -----------------------------------------------------------------------------


def _qr_matrix(url: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_module_dots(url: str, size_dots: int) -> int:
    """Dots per QR module so the symbol plus quiet zone fits in size_dots."""
    modules = len(_qr_matrix(url)) + 2 * QR_QUIET_MODULES
    return min(QR_MAX_MODULE_DOTS, size_dots // modules)


def qr_target_dots(width_dots: int) -> int:
    """Side of the QR area (quiet zone included) on a ticket of the given width."""
    return round(width_dots * (0.46 if width_dots >= 500 else 0.54))


def render_qr(url: str, size_dots: int) -> Image.Image:
    """A size_dots square 1-bit image of the QR code (error correction M) for url.

    Modules are whole dots (no resampling blur) and a 4-module quiet zone is kept;
    leftover space is spread evenly around the symbol.
    """
    matrix = _qr_matrix(url)
    n = len(matrix)
    box = qr_module_dots(url, size_dots)
    if box < 1:
        raise ValueError(f"{size_dots} dots is too small for a QR code of {n} modules")
    if box < QR_MIN_MODULE_DOTS:
        logger.warning("QR modules of %d dots may not scan; give it more room", box)
    image = Image.new("1", (size_dots, size_dots), 1)
    draw = ImageDraw.Draw(image)
    offset = (size_dots - n * box) // 2
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                x, y = offset + col * box, offset + row * box
                draw.rectangle((x, y, x + box - 1, y + box - 1), fill=0)
    return image


# --- the ticket -------------------------------------------------------------------


def render_ticket(ticket: PrintedTicket, *, width_dots: int = 576,
                  include_qr: bool = True) -> Image.Image:
    """Render ticket as a 1-bit image exactly width_dots wide (black on white).

    With include_qr=False the QR is left out and the last line points the reader
    to the code the printer draws natively right below the image.
    """
    if width_dots < 256 or width_dots % 8:
        raise ValueError(f"width_dots must be a multiple of 8 and >= 256, got {width_dots}")
    s = width_dots / REFERENCE_WIDTH
    c = _Canvas(width_dots, s)
    text_scale = s**0.5  # narrow paper: shrink text less than the width, wrap instead

    def f(weight: str, size: float) -> Font:
        return _font(weight, max(10, round(size * text_scale)))

    c.text([(_nfc(ticket.centre_name).upper(), f("Bold", 23))], spacing=2)
    c.gap(2)
    c.text([(_nfc(ticket.site_name), f("Regular", 20))], spacing=2)
    c.gap(8)
    c.rule(2)
    c.gap(14)
    c.text([(PAPER.text("ticket_heading"), f("SemiBold", 22))])
    c.gap(6)
    c.big_number(_nfc(ticket.number), round(width_dots * 0.27))
    c.gap(20)
    c.text([(_nfc(ticket.service_name), f("Bold", 27))], spacing=6)
    if ticket.appointment_at is not None:  # an appointment: called from its slot's start on
        c.gap(6)
        c.badge(appointment_label(ticket.appointment_at), f("Bold", 26))
    if ticket.priority_label:
        c.gap(6)
        c.badge(PAPER.text("priority_chosen", name=_nfc(ticket.priority_label)), f("Bold", 23))
    c.gap(10)
    c.rule(2, dashed=True)
    c.gap(12)

    rows = [(PAPER.text("ticket_ahead"), str(ticket.people_ahead))]
    if ticket.estimated_wait_minutes is not None:
        rows.append((PAPER.text("ticket_wait"), format_wait(ticket.estimated_wait_minutes)))
    if ticket.counters:
        rows.append((PAPER.text("ticket_counters"), ", ".join(str(n) for n in ticket.counters)))
    issued = ticket.issued_at
    when = f"{issued:%H:%M} {session_label(issued)}, {issued:%d/%m/%Y}"
    rows.append((PAPER.text("ticket_issued_at"), when))
    # Shrink the rows a little (not below 85 %) if that keeps each on one line.
    size = round(24 * text_scale)
    floor = round(size * 0.85)
    while size > floor and max(_font("Regular", size).getlength(name + " ")
                               + _font("Bold", size).getlength(text)
                               for name, text in rows) > c.inner:
        size -= 1
    label, value = _font("Regular", size), _font("Bold", size)
    for name, text in rows:
        # Keep short values whole: they move to the next line rather than split.
        if label.getlength(text) < c.inner / 2:
            text = text.replace(" ", NBSP)
        c.text([(name, label), (text, value)], center=False, spacing=8)
    c.gap(6)
    c.rule(2, dashed=True)
    c.gap(14)
    c.text([(PAPER.text("keep_ticket"), f("Bold", 24))])

    caption = f("Regular", 20)
    if include_qr:
        c.gap(2)
        c.paste_center(render_qr(ticket.url, qr_target_dots(width_dots)))
        c.text([(PAPER.text("ticket_qr_caption"), caption)])
        return c.finish(10)
    c.gap(6)
    c.text([(PAPER.text("ticket_qr_caption_below"), caption)])
    return c.finish(4)
