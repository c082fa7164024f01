"""The history phase's lines in the printed report (``bench.report``)."""

from __future__ import annotations

import math
from typing import Any

# Issue 15's expectations for a province-year on one 2-core server.
SIZE_TARGET_GB = 2.0
START_TARGET_S = 2.0
REPORT_TARGET_S = 2.0
PROVINCE_REPORT_TARGET_S = 10.0
ISSUE_P99_RATIO_TARGET = 2.0  # kiosk p99 while reports run, against the same run's baseline
BACKUP_TARGET_S = 30.0


def _range(values: list[float]) -> str:
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{low:.2f} s" if math.isclose(low, high, rel_tol=0.005) else f"{low:.2f}–{high:.2f} s"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def history_lines(h: dict[str, Any] | None) -> list[str]:
    """The HISTORY section: figure, measured, target, verdict, baseline."""
    if not h:
        return []
    g = h["generated"]
    rows: list[tuple[str, ...]] = [("FIGURE", "MEASURED", "TARGET", "", "BASELINE")]
    gb = h["size"]["bytes"] / 1e9
    rows.append(("database size", f"{gb:.2f} GB", f"≤ {SIZE_TARGET_GB:.0f} GB",
                 _verdict(gb <= SIZE_TARGET_GB) if g["communes"] >= 100 else "", ""))
    for key, label in (("start_same_day", "server start, same day"),
                       ("start_new_day", "server start, first morning of a new day")):
        values = h.get(key, [])
        rows.append((label, _range(values), f"≤ {START_TARGET_S:.0f} s",
                     _verdict(bool(values) and max(values) <= START_TARGET_S), ""))
    for key, label in (("report_page", "year report, provincial site: page"),
                       ("report_xlsx", "year report, provincial site: .xlsx"),
                       ("report_cli", "year report, provincial site: CLI table")):
        values = [r["seconds"] for r in h.get(key, [])]
        rows.append((label, _range(values), f"≤ {REPORT_TARGET_S:.0f} s",
                     _verdict(bool(values) and max(values) <= REPORT_TARGET_S), ""))
    province = h.get("province_report") or {}
    target = f"≤ {PROVINCE_REPORT_TARGET_S:.0f} s"
    if "skipped" in province:
        rows.append(("province-wide year report", "skipped", target, "", ""))
    for key, label in (("page", "page"), ("xlsx", ".xlsx"), ("cli", "CLI table")):
        part = province.get(key) or (province if key == "page" and "seconds" in province else None)
        if part is not None:
            seconds = part["seconds"]
            rows.append((f"province-wide year report: {label}", _range([seconds]), target,
                         _verdict(seconds <= PROVINCE_REPORT_TARGET_S), ""))
    base = h.get("issue_baseline") or {}
    for key, label in (("issue_with_report_page", "kiosk issue while the year report page opens"),
                       ("issue_with_xlsx_export", "kiosk issue while the year is exported")):
        load = h.get(key) or {}
        if not load:
            continue
        ratio = load["p99_ms"] / base["p99_ms"] if base.get("p99_ms") else math.nan
        rows.append((f"{label}, p50", _ms(load["p50_ms"]), "", "", f"alone {_ms(base.get('p50_ms'))}"))
        rows.append((f"{label}, p99", _ms(load["p99_ms"]), f"≤ {ISSUE_P99_RATIO_TARGET:.0f}× alone",
                     _verdict(ratio <= ISSUE_P99_RATIO_TARGET),
                     f"alone {_ms(base.get('p99_ms'))} (×{ratio:.1f})"))
        rows.append((f"{label}, max", _ms(load["max_ms"]), "", "", f"alone {_ms(base.get('max_ms'))}"))
    backup = h.get("backup")
    if backup:
        rows.append(("xephang backup of the year", f"{backup['seconds']:.1f} s", f"≤ {BACKUP_TARGET_S:.0f} s",
                     _verdict(backup["seconds"] <= BACKUP_TARGET_S),
                     f"file copy {backup['copy_seconds']:.1f} s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    tables = h["size"].get("tables", {})
    top = ", ".join(f"{name} {size / 1e9:.2f}" for name, size in list(tables.items())[:5])
    loads = [h.get(k) or {} for k in ("issue_baseline", "issue_with_report_page", "issue_with_xlsx_export")]
    errors = {k: v for load in loads for k, v in load.get("errors", {}).items()}
    return [
        "", f"HISTORY: {g['start']}..{g['end']}, {g['sites']} sites, {g['tickets']:,} tickets, "
        f"{g['events']:,} events (generated in {g['seconds']:.0f} s, then cached)", *table,
        f"  largest tables and indexes (GB): {top}",
        f"  kiosk load: {base.get('kiosks', 0)} kiosks, {base.get('rate', 0):.0f} tickets/s for "
        f"{base.get('seconds', 0):.0f} s per window; {sum(x.get('count', 0) for x in loads)} tickets"
        + (f", errors {errors}" if errors else ""),
        *([f"  province-wide report: {province['skipped']}"] if "skipped" in province else []),
    ]
