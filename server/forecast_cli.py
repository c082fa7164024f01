"""``xephang forecast``: the staffing forecast of a coming day (expected tickets per hour,
counters to open) as a table, CSV or Excel, and ``--backtest``: how accurate the forecast
was on a centre's own history.

Reads the server's database read-only (safe while the server runs), like ``xephang report``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

from common.cli_args import add_config_argument, load_or_exit
from common.config import Config
from common.i18n import Translator
from server.forecast import HISTORY_DAYS, Accuracy, Method, backtest
from server.forecast_data import (
    ACCURACY_WEEKS,
    MAX_AHEAD_DAYS,
    StaffingForecast,
    next_working_day,
    read_history,
    site_calendar,
    staffing_forecast,
)
from server.report_cli import iso_date
from server.web import forecast_export


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang forecast",
        description="Expected tickets per hour and service for a coming day, and the counters to open "
                    "each hour to keep the wait under each service's target; or, with --backtest, how "
                    "far the forecast was from what came on the last weeks of this database.")
    add_config_argument(parser)
    parser.add_argument("--db", type=Path, help="SQLite database (default: DATA_DIR/xephang.db)")
    parser.add_argument("--site", help="site code (required when the configuration has several)")
    parser.add_argument("--day", type=iso_date,
                        help=f"the day to forecast, YYYY-MM-DD, from the day after --today to "
                             f"{MAX_AHEAD_DAYS} days ahead (default: the site's next working day)")
    parser.add_argument("--today", type=iso_date,
                        help="the day the forecast is made on: history before it only (default: today)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", type=Path, metavar="FILE", help="write the forecast as CSV")
    output.add_argument("--xlsx", type=Path, metavar="FILE", help="write the forecast as an Excel workbook")
    output.add_argument("--backtest", action="store_true",
                        help="measure the forecast on the last --weeks weeks before --today instead")
    parser.add_argument("--weeks", type=int, default=ACCURACY_WEEKS,
                        help=f"held-back weeks for --backtest (default {ACCURACY_WEEKS}, 1-52)")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the labels")
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"xephang forecast: error: {message}", file=sys.stderr)
    return code


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f}%" if value < 0 else f"{value * 100:.1f}%"


def backtest_table(accuracies: list[Accuracy]) -> str:
    lines = [f"{'method':<8} {'days':>5} {'tickets':>8} {'day WAPE':>9} {'day MAPE':>9} {'day bias':>9} "
             f"{'cell WAPE':>10} {'cell bias':>10}"]
    for a in accuracies:
        lines.append(f"{a.method.value:<8} {a.days:>5} {a.actual:>8} {_pct(a.day_wape):>9} "
                     f"{_pct(a.day_mape):>9} {_pct(a.day_bias):>9} {_pct(a.cell_wape):>10} "
                     f"{_pct(a.cell_bias):>10}")
    lines.append("")
    lines.append("week from   " + "  ".join(f"{a.method.value:>8}" for a in accuracies))
    for i, (monday, _) in enumerate(accuracies[0].per_week):
        errors = "  ".join(f"{_pct(a.per_week[i][1]):>8}" for a in accuracies)
        lines.append(f"{monday.isoformat()}  {errors}")
    return "\n".join(lines) + "\n"


def table(config: Config, result: StaffingForecast, t: Translator) -> str:
    rows = forecast_export.hour_rows(result)
    site = config.site(result.site)
    lines = [f"{config.centre_name} – {site.name if site else result.site}",
             t.text("fc_day_line", day=result.day.strftime("%d/%m/%Y")), ""]
    if result.forecast.closed:
        return "\n".join([*lines, t.text("fc_closed")]) + "\n"
    headers = [t.text(k) for k in ("fc_col_hour", "fc_col_expected", "fc_col_needed", "fc_col_configured",
                                   "fc_col_wait_mean", "fc_col_wait_p90")]
    body = [[forecast_export.hour_label(r["hour"]), f"{r['expected']:.1f}", str(r["needed"]),
             str(r["configured"]), "–" if r["wait_mean"] is None else f"{r['wait_mean']:.1f}",
             "–" if r["wait_p90"] is None else f"{r['wait_p90']:.1f}"] for r in rows]
    body.append([t.text("total"), f"{result.forecast.total:.1f}", "", "", "", ""])
    widths = [max(len(row[i]) for row in [headers, *body]) for i in range(len(headers))]
    for row in [headers, *body]:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(cells)))
    for group in result.plan.groups:
        if group.short:
            names = ", ".join(sorted({s for services in group.short.values() for s in services}))
            hours = ", ".join(f"{h:02d}h" for h in sorted(group.short))
            lines.append(t.text("fc_short", hours=hours, services=names))
    a = result.accuracy
    lines += ["", t.text("fc_accuracy_line", weeks=a.weeks, off=_pct(a.day_wape), cell=_pct(a.cell_wape),
                         days=a.days)]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(args.config)
    codes = [s.code for s in config.sites]
    code = args.site or (codes[0] if len(codes) == 1 else None)
    if code is None:
        return _fail(f"choose a site with --site ({', '.join(codes)})")
    site = config.site(code)
    if site is None:
        return _fail(f"unknown site {code!r}; the configuration has {', '.join(codes)}")
    if not 1 <= args.weeks <= 52:
        return _fail("--weeks must be between 1 and 52")
    today = args.today or datetime.now(config.tz).date()
    day = args.day or next_working_day(site, today)
    if not args.backtest and not today < day <= today + timedelta(days=MAX_AHEAD_DAYS):
        return _fail(f"--day {day} must be from {today + timedelta(days=1)} to "
                     f"{today + timedelta(days=MAX_AHEAD_DAYS)}")
    db = args.db or Path(config.server.data_dir) / "xephang.db"
    if not db.is_file():
        return _fail(f"no database at {db} (give it with --db)")
    t = Translator("web", args.lang)
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            if args.backtest:
                start = today - timedelta(days=HISTORY_DAYS + 7 * (args.weeks + 1))
                history = read_history(conn, code, config.tz, start, today)
                accuracies = [backtest(history, site_calendar(site), today, weeks=args.weeks, method=m)
                              for m in (Method.EFFECTS, Method.PLAIN)]
                sys.stdout.write(backtest_table(accuracies))
                return 0
            result = staffing_forecast(conn, site, config.queue, config.timezone, day, today)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return _fail(f"cannot read the database: {exc}", 1)
    try:
        if args.csv:
            args.csv.write_bytes(forecast_export.csv_bytes(config, result, t))
        elif args.xlsx:
            args.xlsx.write_bytes(forecast_export.xlsx_bytes(config, result, t, datetime.now(config.tz)))
        else:
            sys.stdout.write(table(config, result, t))
    except OSError as exc:
        return _fail(f"cannot write: {exc.strerror}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
