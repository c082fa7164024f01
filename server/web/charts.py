"""Charts drawn on the server as inline SVG: no script, no external library, prints well.

Each function returns an ``<svg>`` element sized by its viewBox (it scales to the page
width) using presentation attributes only (the pages' CSP forbids inline styles).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from common.i18n import Translator
from server.web.html import e, fmt_int, fmt_number

INK, MUTED, GRID = "#1e293b", "#64748b", "#e2e8f0"
BLUE, GREEN, AMBER, TEAL = "#2563eb", "#16a34a", "#d97706", "#0891b2"
RATING_COLOURS = ("#15803d", "#65a30d", "#ca8a04", "#ea580c", "#dc2626")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _svg(width: int, height: int, label: str, inner: str) -> str:
    return (
        f'<div class="chart-scroll"><svg class="chart-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{e(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="Be Vietnam Pro, sans-serif" font-size="13">'
        f"<title>{e(label)}</title>{inner}</svg></div>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "middle", fill: str = MUTED,
          size: int = 13, weight: str = "400") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}" '
            f'font-weight="{weight}">{e(text)}</text>')


def _empty(t: Translator, label: str, width: int = 720, height: int = 120) -> str:
    return _svg(width, height, label, _text(width / 2, height / 2, t.text("no_data"), size=15))


def _y_axis(left: float, right: float, top: float, bottom: float, ceiling: float, lang: str) -> str:
    parts = []
    for i in range(5):
        value = ceiling * i / 4
        y = bottom - (bottom - top) * i / 4
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        label = fmt_int(value, lang) if ceiling >= 4 else fmt_number(value, lang)  # type: ignore[arg-type]
        parts.append(_text(left - 8, y + 4, label, anchor="end", size=12))
    return "".join(parts)


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> str:
    parts = []
    for colour, name in items:
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="3" fill="{colour}"/>')
        parts.append(_text(x + 18, y, name, anchor="start", fill=INK))
        x += 26 + 7.5 * len(name)
    return "".join(parts)


def hourly_chart(hourly: list[dict[str, Any]], t: Translator) -> str:
    """Arrivals (tickets issued) and tickets served, per local hour, as grouped bars."""
    label = t.text("chart_hourly")
    if not hourly:
        return _empty(t, label)
    width, height, left, right, top, bottom = 720, 280, 48, 706, 34, 244
    ceiling = nice_ceiling(max(max(h["arrivals"], h["served"]) for h in hourly))
    slot = (right - left) / len(hourly)
    bar = min(slot * 0.36, 28)
    parts = [_y_axis(left, right, top, bottom, ceiling, t.language)]
    for i, h in enumerate(hourly):
        centre = left + slot * (i + 0.5)
        for offset, value, colour in ((-bar - 1, h["arrivals"], BLUE), (1, h["served"], GREEN)):
            size = (bottom - top) * value / ceiling
            parts.append(f'<rect x="{centre + offset:.1f}" y="{bottom - size:.1f}" width="{bar:.1f}" '
                         f'height="{size:.1f}" rx="2" fill="{colour}"><title>{value}</title></rect>')
        parts.append(_text(centre, bottom + 18, f"{h['hour']:02d}h", fill=INK))
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}"/>')
    parts.append(_legend(left, 18, [(BLUE, t.text("legend_arrivals")), (GREEN, t.text("legend_served"))]))
    return _svg(width, height, label, "".join(parts))


def histogram_chart(histogram: list[dict[str, Any]], target: int | None, t: Translator) -> str:
    """How long people waited: tickets per waiting-time band; bands past the target amber."""
    label = t.text("chart_histogram")
    if not any(b["count"] for b in histogram):
        return _empty(t, label)
    width, height, left, right, top, bottom = 720, 280, 48, 706, 34, 244
    ceiling = nice_ceiling(max(b["count"] for b in histogram))
    slot = (right - left) / len(histogram)
    parts = [_y_axis(left, right, top, bottom, ceiling, t.language)]
    total = sum(b["count"] for b in histogram)
    for i, b in enumerate(histogram):
        x = left + slot * i + slot * 0.12
        size = (bottom - top) * b["count"] / ceiling
        late = target is not None and b["low"] >= target
        colour = AMBER if late else TEAL
        parts.append(f'<rect x="{x:.1f}" y="{bottom - size:.1f}" width="{slot * 0.76:.1f}" '
                     f'height="{size:.1f}" rx="3" fill="{colour}"/>')
        if b["count"]:
            share = fmt_number(100 * b["count"] / total, t.language, 0) + "%"
            parts.append(_text(x + slot * 0.38, bottom - size - 6, f"{b['count']} · {share}", fill=INK,
                               size=12))
        band = f"{b['low']}–{b['high']}" if b["high"] is not None else f"≥ {b['low']}"
        parts.append(_text(x + slot * 0.38, bottom + 18, band, fill=INK))
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{MUTED}"/>')
    legend = [(TEAL, t.text("legend_within"))]
    if target is not None:
        legend.append((AMBER, t.text("legend_beyond", minutes=target)))
    parts.append(_legend(left, 18, legend))
    parts.append(_text(right, height - 4, t.text("axis_minutes"), anchor="end", size=12))
    return _svg(width, height, label, "".join(parts))


def bar_list_chart(rows: list[tuple[str, float | None, float | None]], t: Translator, *,
                   label: str, unit: str) -> str:
    """Horizontal bars, one per row: (name, mean, p90); the p90 drawn as a tick."""
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return _empty(t, label)
    line, name_width, width = 34, 230, 720
    height = 40 + line * len(rows)
    left, right = name_width + 10, width - 80
    ceiling = nice_ceiling(max(max(r[1] or 0, r[2] or 0) for r in rows))
    parts = [_legend(left, 18, [(BLUE, t.text("legend_mean")), (INK, t.text("legend_p90"))])]
    for i, (name, mean, p90) in enumerate(rows):
        y = 34 + line * i
        short = name if len(name) <= 30 else name[:29] + "…"
        parts.append(_text(name_width, y + 17, short, anchor="end", fill=INK))
        size = (right - left) * (mean or 0) / ceiling
        parts.append(f'<rect x="{left}" y="{y + 5}" width="{size:.1f}" height="18" rx="3" fill="{BLUE}"/>')
        if p90 is not None:
            x = left + (right - left) * p90 / ceiling
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + 27}" stroke="{INK}" '
                         f'stroke-width="2.5"/>')
        text = f"{fmt_number(mean, t.language)} {unit}"
        parts.append(_text(min(left + size, right) + 8 if p90 is None else
                           max(left + size, left + (right - left) * (p90 or 0) / ceiling) + 8,
                           y + 18, text, anchor="start", fill=INK, weight="600"))
    return _svg(width, height, label, "".join(parts))


def satisfaction_chart(levels: list[tuple[int, str, int]], t: Translator) -> str:
    """Ratings per level (best first): a bar each with count and share."""
    label = t.text("chart_satisfaction")
    total = sum(n for _, _, n in levels)
    if not total:
        return _empty(t, label)
    line, name_width, width = 36, 170, 720
    height = 16 + line * len(levels)
    left, right = name_width + 12, width - 110
    top = max(n for _, _, n in levels)
    parts = []
    for i, (_, name, count) in enumerate(levels):
        y = 8 + line * i
        colour = RATING_COLOURS[min(round(i * (len(RATING_COLOURS) - 1) / max(len(levels) - 1, 1)),
                                    len(RATING_COLOURS) - 1)]
        size = (right - left) * count / top
        parts.append(_text(name_width, y + 19, name, anchor="end", fill=INK))
        parts.append(f'<rect x="{left}" y="{y + 5}" width="{max(size, 2):.1f}" height="22" rx="4" '
                     f'fill="{colour}"/>')
        share = fmt_number(100 * count / total, t.language) + "%"
        parts.append(_text(left + size + 8, y + 21, f"{fmt_int(count, t.language)} · {share}",
                           anchor="start", fill=INK, weight="600"))
    return _svg(width, height, label, "".join(parts))


def sparkline_bars(hourly: list[dict[str, Any]], t: Translator) -> str:
    """The overview's small chart of today: arrivals and served per hour."""
    return hourly_chart(hourly, t)
