"""``xephang report``: statistics for a date range as a terminal table, CSV or Excel.

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
from server import stats
from server.web import export
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
    parser.add_argument("--group", choices=stats.GROUPS, default="service",
                        help="one line per service (default), counter, clerk, hour of day or day")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), csv (UTF-8 with BOM, for Excel) or xlsx (every grouping)")
    parser.add_argument("--output", type=Path,
                        help="write here instead of the terminal (xlsx default: xephang-SITE-FROM-TO.xlsx)")
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
            else:
                result = stats.report(conn, config, site, args.start, args.end, args.group)
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
    code = _write(export.xlsx_bytes(config, result, groups, t, generated), output, text=False)
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
