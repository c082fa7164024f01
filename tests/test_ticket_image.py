"""Ticket rendering: geometry, QR content, hierarchy and Vietnamese glyph coverage."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
import qrcode
from PIL import Image, ImageOps

from common.assets import font_path
from kiosk.ticket_image import (
    PrintedTicket,
    _font,
    format_wait,
    render_qr,
    render_ticket,
    session_label,
)

ICT = timezone(timedelta(hours=7))
URL = "http://192.168.10.5:8765/t/Xq3vT9kLmN2p"
WEIGHTS = ("Regular", "Medium", "SemiBold", "Bold", "ExtraBold")
VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụ"
    "ưừứửữựvxyỳýỷỹỵ"
)


@pytest.fixture
def ticket() -> PrintedTicket:
    return PrintedTicket(
        centre_name="Trung tâm Phục vụ hành chính công tỉnh Ninh Bình",
        site_name="Trụ sở chính – 25 Tràng An, Hoa Lư",
        service_name="Sở Tư pháp – Hộ tịch, chứng thực",
        number="B024",
        people_ahead=12,
        estimated_wait_minutes=18,
        issued_at=datetime(2025, 3, 14, 8, 42, tzinfo=ICT),
        counters=(4, 5, 6),
        priority_label=None,
        url=URL,
    )


def ink_rows(image: Image.Image) -> list[bool]:
    """For each row: does it hold any black dot?"""
    inverted = ImageOps.invert(image.convert("L"))
    return [inverted.crop((0, y, image.width, y + 1)).getbbox() is not None
            for y in range(image.height)]


def bands(image: Image.Image) -> list[tuple[int, int]]:
    """(top, bottom) of each run of inked rows, i.e. the horizontal text blocks."""
    result, start = [], None
    for y, inked in enumerate([*ink_rows(image), False]):
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            result.append((start, y))
            start = None
    return result


FINDER = [[r in (0, 6) or c in (0, 6) or (2 <= r <= 4 and 2 <= c <= 4) for c in range(7)]
          for r in range(7)]


def extract_qr(image: Image.Image) -> list[list[bool]]:
    """Locate a QR symbol by its finder patterns and sample its module matrix."""
    px = image.load()

    def dark(x: int, y: int) -> bool:
        return 0 <= x < image.width and 0 <= y < image.height and px[x, y] == 0

    def finder_at(x: int, y: int, m: int) -> bool:
        return all(dark(x + c * m + m // 2, y + r * m + m // 2) == FINDER[r][c]
                   for r in range(7) for c in range(7))

    for y in range(image.height):
        runs, x = [], 0
        while x < image.width:
            if dark(x, y):
                start = x
                while dark(x, y):
                    x += 1
                if (x - start) >= 21 and (x - start) % 7 == 0:
                    runs.append((start, x - start))
            x += 1
        for i, (x0, length) in enumerate(runs):
            m = length // 7
            for x1, other in runs[i + 1:]:
                n = (x1 - x0) // m + 7
                if other != length or (x1 - x0) % m or (n - 17) % 4:
                    continue
                corner = (n - 7) * m
                if finder_at(x0, y, m) and finder_at(x1, y, m) and finder_at(x0, y + corner, m):
                    return [[dark(x0 + c * m + m // 2, y + r * m + m // 2) for c in range(n)]
                            for r in range(n)]
    raise AssertionError("no QR symbol found in image")


def expected_matrix(url: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.get_matrix()


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("include_qr", [True, False])
def test_exact_width_and_one_bit(ticket: PrintedTicket, width: int, include_qr: bool) -> None:
    image = render_ticket(ticket, width_dots=width, include_qr=include_qr)
    assert image.mode == "1"
    assert image.width == width
    assert 60 * 8 < image.height < 200 * 8  # between 6 and 20 cm of paper at 8 dots/mm
    # Black on white: corners blank, and the side margins stay clear of ink.
    left = image.crop((0, 0, 8, image.height))
    right = image.crop((width - 8, 0, width, image.height))
    assert ImageOps.invert(left.convert("L")).getbbox() is None
    assert ImageOps.invert(right.convert("L")).getbbox() is None


@pytest.mark.parametrize("width", [100, 577, 0])
def test_rejects_unprintable_width(ticket: PrintedTicket, width: int) -> None:
    with pytest.raises(ValueError, match="width_dots"):
        render_ticket(ticket, width_dots=width)


@pytest.mark.parametrize("width", [576, 384])
def test_raster_qr_encodes_the_ticket_url(ticket: PrintedTicket, width: int) -> None:
    image = render_ticket(ticket, width_dots=width, include_qr=True)
    assert extract_qr(image) == expected_matrix(URL)


def test_qr_absent_when_printer_draws_it(ticket: PrintedTicket) -> None:
    image = render_ticket(ticket, width_dots=576, include_qr=False)
    with pytest.raises(AssertionError, match="no QR"):
        extract_qr(image)
    assert image.height < render_ticket(ticket, width_dots=576).height - 150


def test_raster_qr_scans_with_zbar(ticket: PrintedTicket) -> None:
    pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar/libzbar0 not installed")
    for width in (576, 384):
        image = render_ticket(ticket, width_dots=width).convert("L")
        assert [d.data.decode() for d in pyzbar.decode(image)] == [URL]


def test_render_qr_size_and_content() -> None:
    image = render_qr(URL, 300)
    assert image.size == (300, 300) and image.mode == "1"
    assert extract_qr(image) == expected_matrix(URL)
    with pytest.raises(ValueError, match="too small"):
        render_qr(URL, 20)


@pytest.mark.parametrize("width", [576, 384])
def test_number_is_the_tallest_block(ticket: PrintedTicket, width: int) -> None:
    a = render_ticket(ticket, width_dots=width, include_qr=False)
    b = render_ticket(dataclasses.replace(ticket, number="A999"), width_dots=width,
                      include_qr=False)
    blocks = bands(a)
    # Everything above the number is laid out identically, so the first block that
    # differs between the two tickets is the number.
    number = next((top, bottom) for top, bottom in blocks
                  if a.crop((0, top, width, bottom)).tobytes()
                  != b.crop((0, top, width, bottom)).tobytes())
    number_height = number[1] - number[0]
    others = [bottom - top for top, bottom in blocks if (top, bottom) != number]
    assert number_height >= 2 * max(others)
    assert number_height >= width * 0.2


def test_font_covers_vietnamese() -> None:
    sample = "Sở Tư pháp – Hộ tịch, chứng thực"
    letters = set(VIETNAMESE + VIETNAMESE.upper() + sample + "0123456789:,–·") - {" "}
    for weight in WEIGHTS:
        font = _font(weight, 40)
        # Be Vietnam Pro's .notdef draws nothing, so a missing glyph has an empty mask;
        # prove the check can fail on a code point the font does not map.
        assert font.getmask("\U0010fffd").getbbox() is None
        missing = [ch for ch in sorted(letters) if font.getmask(ch).getbbox() is None]
        assert missing == [], f"{weight} lacks glyphs for {missing}"
    assert font_path("Bold").name == "BeVietnamPro-Bold.ttf"


def test_decomposed_input_renders_like_precomposed(ticket: PrintedTicket) -> None:
    nfd = dataclasses.replace(
        ticket,
        service_name=unicodedata.normalize("NFD", ticket.service_name),
        centre_name=unicodedata.normalize("NFD", ticket.centre_name),
    )
    assert nfd.service_name != ticket.service_name
    assert render_ticket(nfd).tobytes() == render_ticket(ticket).tobytes()


def test_long_names_wrap_inside_the_paper(ticket: PrintedTicket) -> None:
    long = dataclasses.replace(
        ticket,
        service_name="Sở Tài nguyên và Môi trường – Đăng ký đất đai, cấp giấy chứng nhận "
                     "quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
        site_name="Chi nhánh " + "Đ" * 60,  # one unbreakable word wider than the paper
    )
    for width in (576, 384):
        short_image = render_ticket(ticket, width_dots=width)
        image = render_ticket(long, width_dots=width)
        assert image.width == width
        assert image.height > short_image.height + 60  # wrapped onto extra lines
        edge = image.crop((0, 0, 6, image.height))
        assert ImageOps.invert(edge.convert("L")).getbbox() is None


def test_optional_lines(ticket: PrintedTicket) -> None:
    full = render_ticket(dataclasses.replace(ticket, priority_label="Người cao tuổi"))
    plain = render_ticket(ticket)
    sparse = render_ticket(dataclasses.replace(ticket, estimated_wait_minutes=None, counters=()))
    assert full.height > plain.height > sparse.height
    # The priority class sits on a black badge: some row is black for over 40% of its width.
    gray = full.convert("L")
    assert any(sum(1 for x in range(full.width) if gray.getpixel((x, y)) == 0) > 0.4 * full.width
               for y in range(full.height // 3, full.height // 2))


def test_session_and_wait_wording() -> None:
    assert session_label(datetime(2025, 3, 14, 11, 59, tzinfo=ICT)) == "Sáng"
    assert session_label(datetime(2025, 3, 14, 12, 0, tzinfo=ICT)) == "Chiều"
    assert format_wait(0) == "dưới 1 phút"
    assert format_wait(15) == "khoảng 15 phút"
    assert format_wait(60) == "khoảng 1 giờ"
    assert format_wait(95) == "khoảng 1 giờ 35 phút"


def test_ticket_requires_local_aware_time(ticket: PrintedTicket) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(ticket, issued_at=datetime(2025, 3, 14, 8, 42))
    with pytest.raises(ValueError, match="people_ahead"):
        dataclasses.replace(ticket, people_ahead=-1)
