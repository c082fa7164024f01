"""``xephang report``: statistics for a date range as a terminal table, CSV or Excel, of one
site or (``--province``) of every site at once.

Reads the server's database read-only (safe while the server runs) and computes the same
figures as the managers' report page (server.stats; definitions in docs/statistics.md).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import unicodedata
from datetime import date, datetime
from pathlib import Path

from common.cli_args import add_config_argument, load_or_exit
from common.config import Config
from common.i18n import Translator
from server import booking_stats, province_report, stats
from server.web import booking_report, export, province_export
from server.web.labels import COLUMNS, TABLE_COLUMNS, Column, group_label, group_title

FORMATS = ("table", "csv", "xlsx")


def iso_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-25 (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang report",
        description="Statistics of one site over a date range (local days, inclusive): tickets, "
                    "waiting and service times, share within the wait target, satisfaction.",
    )
    add_config_argument(parser)
    parser.add_argument("--db", type=Path, help="SQLite database (default: DATA_DIR/xephang.db)")
    parser.add_argument("--site", help="site code (required when the configuration has several)")
    parser.add_argument("--from", dest="start", type=iso_date, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="end", type=iso_date, required=True, help="last day, YYYY-MM-DD")
    parser.add_argument("--group", choices=stats.GROUPS,
                        help="one line per service (default), counter, clerk, hour of day or day")
    parser.add_argument("--province", action="store_true",
                        help="one report across sites (every site, or those of --sites): sites ranked, "
                             "services, procedure fields")
    parser.add_argument("--sites", help="with --province: comma-separated site codes (default: every site)")
    parser.add_argument("--level", choices=province_report.LEVELS,
                        help="with --province, for table and csv: sites (default, ranked), services, "
                             "fields or site_services (xlsx has every level)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), csv (UTF-8 with BOM, for Excel) or xlsx (every grouping)")
    parser.add_argument("--output", type=Path,
                        help="write here instead of the terminal (xlsx default: xephang-SITE-FROM-TO.xlsx, "
                             "xephang-province-FROM-TO.xlsx with --province)")
    parser.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the labels")
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"xephang report: error: {message}", file=sys.stderr)
    return code


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(ch) else 1 for ch in unicodedata.normalize("NFC", text))


def _fit(text: str, width: int) -> str:
    text = unicodedata.normalize("NFC", text)
    return text if _width(text) <= width else text[: width - 1] + "…"


def _header(column: Column, t: Translator) -> str:
    short = t.text(column.short or column.text)
    if column.part is None:
        return short
    return f"{t.text('prefix_' + column.part)} {short if short.isupper() else short[0].lower() + short[1:]}"


def table(config: Config, result: stats.Report, t: Translator) -> str:
    """The report as an aligned text table (a subset of the columns, to fit a terminal)."""
    from server.web.report import cell

    columns = [c for c in COLUMNS if c.key in TABLE_COLUMNS]
    headers = [group_title(t, result.group)] + [_header(c, t) for c in columns]
    rows = [[_fit(group_label(config, result.site, result.group, r["key"], t), 36)]
            + [cell(r.get(c.key), c.kind, t.language) for c in columns] for r in result.rows]
    rows.append([t.text("total")] + [cell(result.summary.get(c.key), c.kind, t.language) for c in columns])
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        first = values[0] + " " * (widths[0] - _width(values[0]))
        rest = [" " * (w - _width(v)) + v for v, w in zip(values[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    site = config.site(result.site)
    title = [
        f"{config.centre_name} – {site.name if site else result.site}",
        t.text("range_line", start=result.start.strftime("%d/%m/%Y"), end=result.end.strftime("%d/%m/%Y")),
        t.text("minutes_note"),
        "",
    ]
    rule = "-" * _width(line(headers))
    body = [line(headers), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])]
    return "\n".join([*title, *body]) + "\n"


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path} (give it with --db)")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(args.config)
    codes = [s.code for s in config.sites]
    if args.province:
        return province_main(args, config)
    if args.sites or args.level:
        return _fail("--sites and --level go with --province")
    site = args.site or (codes[0] if len(codes) == 1 else None)
    if site is None:
        return _fail(f"choose a site with --site ({', '.join(codes)})")
    if site not in codes:
        return _fail(f"unknown site {site!r}; the configuration has {', '.join(codes)}")
    if args.start > args.end:
        return _fail(f"--from {args.start} is after --to {args.end}")
    if (args.end - args.start).days + 1 > stats.MAX_RANGE_DAYS:
        return _fail(f"the range is longer than {stats.MAX_RANGE_DAYS} days")
    db = args.db or Path(config.server.data_dir) / "xephang.db"
    t = Translator("web", args.lang)
    try:
        conn = _open(db)
        try:
            if args.format == "xlsx":
                result, groups = stats.all_groups(conn, config, site, args.start, args.end)
                bookings = booking_stats.booking_report(conn, config, site, args.start, args.end)
            else:
                result = stats.report(conn, config, site, args.start, args.end, args.group or "service")
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return _fail(f"cannot read the database: {exc}", 1)
    if args.format == "table":
        return _write(table(config, result, t).encode("utf-8"), args.output, text=True)
    if args.format == "csv":
        return _write(export.csv_bytes(config, result, t), args.output, text=True)
    generated = datetime.now(config.tz)
    output = args.output or Path(export.filename(site, args.start, args.end, ".xlsx"))
    appointments = booking_report.sheet_adder(config, bookings, t)
    code = _write(export.xlsx_bytes(config, result, groups, t, generated, appointments), output, text=False)
    if code == 0:
        print(f"{output}", file=sys.stderr)
    return code


def province_table(config: Config, result: province_report.ProvinceReport, level: str, t: Translator) -> str:
    """A level of the province report as an aligned text table (the main figures)."""
    from server.web.report import cell

    columns = [c for c in COLUMNS if c.key in TABLE_COLUMNS]
    ranked = level == "sites"
    headers = ([t.text("col_rank")] if ranked else []) + [t.text(province_export.LEVEL_KEYS[level])]
    headers += ([t.text("col_score")] if ranked else []) + [_header(c, t) for c in columns]
    rows = []
    for r in result.ranked if ranked else result.levels[level]:
        label = _fit(province_export.level_label(config, level, r["key"], t), 40)
        lead = ([cell(r["rank"], "count", t.language), label, cell(r["score"], "share", t.language)]
                if ranked else [label])
        rows.append(lead + [cell(r.get(c.key), c.kind, t.language) for c in columns])
    total = ([""] if ranked else []) + [t.text("total")] + ([""] if ranked else [])
    rows.append(total + [cell(result.total.get(c.key), c.kind, t.language) for c in columns])
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    text_column = 1 if ranked else 0

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) if i == text_column else " " * (w - _width(v)) + v
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    title = [
        config.centre_name,
        t.text("province_heading", sites=len(result.sites)),
        t.text("range_line", start=result.start.strftime("%d/%m/%Y"), end=result.end.strftime("%d/%m/%Y")),
        t.text("minutes_note"),
        "",
    ]
    rule = "-" * _width(line(headers))
    body = [line(headers), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])]
    notes = ["", t.text("rank_explained")] if ranked else []
    return "\n".join([*title, *body, *notes]) + "\n"


def province_main(args: argparse.Namespace, config: Config) -> int:
    """``xephang report --province``: every site (or --sites) in one report."""
    if args.site or args.group:
        return _fail("--site and --group do not go with --province (use --sites and --level)")
    if args.level and args.format == "xlsx":
        return _fail("--level is for table and csv; the xlsx workbook has every level")
    sites = [code.strip() for code in args.sites.split(",") if code.strip()] if args.sites else \
        [s.code for s in config.sites]
    try:
        sites = province_report.check(config, sites, args.start, args.end)
    except province_report.ProvinceReportError as exc:
        known = ", ".join(s.code for s in config.sites)
        return _fail(f"{exc} (the configuration has {known})" if "site" in str(exc) else str(exc))
    db = args.db or Path(config.server.data_dir) / "xephang.db"
    t = Translator("web", args.lang)
    try:
        conn = _open(db)
        try:
            result = province_report.province_report(conn, config, sites, args.start, args.end)
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return _fail(f"cannot read the database: {exc}", 1)
    level = args.level or "sites"
    if args.format == "table":
        return _write(province_table(config, result, level, t).encode("utf-8"), args.output, text=True)
    if args.format == "csv":
        return _write(province_export.csv_bytes(config, result, level, t), args.output, text=True)
    output = args.output or Path(province_export.filename(args.start, args.end, ".xlsx"))
    data = province_export.xlsx_bytes(config, result, t, datetime.now(config.tz))
    code = _write(data, output, text=False)
    if code == 0:
        print(f"{output}", file=sys.stderr)
    return code


def _write(data: bytes, output: Path | None, *, text: bool) -> int:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        output.write_bytes(data)
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
