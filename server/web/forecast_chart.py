"""The forecast page's chart: expected tickets per hour (bars) and counters needed (a line
with dots), drawn on the server as inline SVG like the report's charts (server/web/charts.py)."""

from __future__ import annotations

from common.i18n import Translator
from server.web.charts import AMBER, BLUE, GRID, INK, MUTED, nice_ceiling
from server.web.html import e, fmt_int, fmt_number


def _text(x: float, y: float, text: str, *, anchor: str = "middle", fill: str = MUTED, size: int = 12) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}">'
            f"{e(text)}</text>")


def forecast_chart(rows: list[tuple[int, float, int]], configured: int, t: Translator) -> str:
    """``rows``: (hour, expected tickets, counters needed)."""
    label = t.text("fc_chart")
    width, height, left, right, top, bottom = 720, 290, 48, 672, 40, 250
    tickets_top = nice_ceiling(max((r[1] for r in rows), default=1))
    counters_top = nice_ceiling(max(configured, max((r[2] for r in rows), default=1)))
    slot = (right - left) / max(len(rows), 1)
    parts = []
    for i in range(5):
        y = bottom - (bottom - top) * i / 4
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 8, y + 4, fmt_int(tickets_top * i / 4, t.language), anchor="end"))
        parts.append(_text(right + 8, y + 4, fmt_int(counters_top * i / 4, t.language), anchor="start",
                           fill=AMBER))
    points = []
    for i, (hour, tickets, needed) in enumerate(rows):
        centre = left + slot * (i + 0.5)
        size = (bottom - top) * tickets / tickets_top
        bar = min(slot * 0.6, 36)
        parts.append(f'<rect x="{centre - bar / 2:.1f}" y="{bottom - size:.1f}" width="{bar:.1f}" '
                     f'height="{size:.1f}" rx="2" fill="{BLUE}"><title>{e(fmt_number(tickets, t.language))}'
                     f"</title></rect>")
        parts.append(_text(centre, bottom + 18, f"{hour:02d}h", fill=INK))
        points.append((centre, bottom - (bottom - top) * needed / counters_top, needed))
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{AMBER}" stroke-width="2.5"/>')
        for x, y, needed in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{AMBER}">'
                         f"<title>{needed}</title></circle>")
            parts.append(_text(x, y - 9, str(needed), fill=INK, size=11))
    limit = bottom - (bottom - top) * configured / counters_top
    parts.append(f'<line x1="{left}" x2="{right}" y1="{limit:.1f}" y2="{limit:.1f}" stroke="{AMBER}" '
                 f'stroke-dasharray="5 4"/>')
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}"/>')
    legend = [(BLUE, t.text("fc_legend_tickets")), (AMBER, t.text("fc_legend_counters"))]
    x = left
    for colour, name in legend:
        parts.append(f'<rect x="{x:.1f}" y="12" width="12" height="12" rx="3" fill="{colour}"/>')
        parts.append(_text(x + 18, 22, name, anchor="start", fill=INK, size=13))
        x += 30 + 7.2 * len(name)
    parts.append(_text(right, 22, t.text("fc_legend_configured", counters=configured), anchor="end",
                       fill=AMBER))
    return (
        f'<div class="chart-scroll"><svg class="chart-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{e(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="Be Vietnam Pro, sans-serif" font-size="13"><title>{e(label)}</title>'
        f'{"".join(parts)}</svg></div>'
    )
