"""The booking code's QR as an inline SVG (a single path, no style attribute: the pages'
Content-Security-Policy allows no inline style). It holds the bare code (8 characters), which
the kiosk's 2D scanner types like a keyboard."""

from __future__ import annotations

from html import escape

import qrcode
import qrcode.constants

QUIET_ZONE = 4  # modules of white around the code, as scanners expect


def qr_svg(text: str, label: str) -> str:
    """``text`` as a QR code: an ``<svg>`` that scales to its box, with ``label`` for readers."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone
    size = len(matrix)
    path = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
            f'aria-label="{escape(label, quote=True)}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>')
