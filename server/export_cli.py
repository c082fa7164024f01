"""``xephang export``: data out for the systems around the centre (issue 16).

- ``export events [--after SEQ] [--limit N] [--out FILE]``: the event log as JSON Lines
  from a sequence number on (server/event_export.py), for a warehouse that loads it
  continuously; the last ``seq`` written is printed on stderr for the next run.
- ``export ratings --from DAY --to DAY [--out FILE]``: every rated ticket of those local days
  as CSV keyed by dossier code and procedure (the service and its agency), with the rating,
  its channel (phone or counter) and the outcome — the form a provincial satisfaction system
  imports.

Both read the database read-only beside a running server. The files hold dossier codes
(the administration's data, no citizen's name): they are written for their owner only.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sqlite3
import sys
from datetime import date
from pathlib import Path

from common.cli_args import add_config_argument, load_or_exit, parsed
from common.config import Config
from server import event_export

MAX_DAYS = 366

_RATINGS = """
select t.day, t.site, t.dossier_code, t.origin_service, t.service, t.number, t.outcome, t.rating,
       t.finished_at,
       (select r.actor from events r indexed by events_rated
        where r.ticket_id = t.id and r.type = 'ticket_rated' order by r.seq limit 1) as rated_by
from tickets t where t.day >= ? and t.day <= ? and t.rating is not null
order by t.day, t.site, t.number
"""
RATING_COLUMNS = ("day", "site", "dossier_code", "procedure", "agency", "service_name", "number",
                  "outcome", "rating", "channel", "finished_at")


def _iso_day(text: str) -> date:
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def _day(text: str) -> date:
    return parsed(text, _iso_day, "a date like 2026-11-30 (YYYY-MM-DD)")


def _seq(text: str) -> int:
    value = parsed(text, int, "a whole number (an event's seq)")
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _database(args: argparse.Namespace, config: Config) -> Path:
    return args.db or Path(config.server.data_dir) / "xephang.db"


def _open(args: argparse.Namespace, config: Config) -> sqlite3.Connection | None:
    try:
        return event_export.connect(_database(args, config))
    except (FileNotFoundError, sqlite3.Error) as exc:
        print(f"error: cannot open the database {_database(args, config)}: {exc}", file=sys.stderr)
        return None


def _write(out: Path | None, chunks: list[bytes]) -> None:
    """To stdout, or to ``out`` whole (written beside it, then renamed), for its owner only."""
    if out is None:
        sys.stdout.buffer.writelines(chunks)
        sys.stdout.flush()
        return
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.writelines(chunks)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(out)


def _events(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    conn = _open(args, config)
    if conn is None:
        return 1
    try:
        lines = list(event_export.events(conn, args.after, args.limit))
    finally:
        conn.close()
    _write(args.out, [event_export.encode(event_export.outward(found)) for found in lines])
    if lines:
        print(f"{len(lines)} events, seq {lines[0]['seq']}..{lines[-1]['seq']}; "
              f"next run: --after {lines[-1]['seq']}", file=sys.stderr)
    else:
        print(f"no events after seq {args.after}", file=sys.stderr)
    return 0


def rating_rows(conn: sqlite3.Connection, config: Config, start: date, end: date) -> list[list[object]]:
    rows = []
    for day, site, dossier, origin, _service, number, outcome, rating, finished, rated_by in conn.execute(
            _RATINGS, [start.isoformat(), end.isoformat()]):
        found = config.site(site)
        service = found.service(origin) if found else None
        rows.append([day, site, dossier or "", origin, service.agency if service else "",
                     service.name_vi if service else "", number, outcome or "", rating,
                     "phone" if rated_by == "watcher" else "counter",
                     finished or ""])
    return rows


def _ratings(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    if args.start > args.end:
        print(f"error: --from {args.start} is after --to {args.end}", file=sys.stderr)
        return 2
    if (args.end - args.start).days + 1 > MAX_DAYS:
        print(f"error: at most {MAX_DAYS} days at once", file=sys.stderr)
        return 2
    conn = _open(args, config)
    if conn is None:
        return 1
    try:
        rows = rating_rows(conn, config, args.start, args.end)
    finally:
        conn.close()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(RATING_COLUMNS)
    writer.writerows(rows)
    _write(args.out, [b"\xef\xbb\xbf", text.getvalue().encode("utf-8")])  # a BOM: Excel reads UTF-8
    print(f"{len(rows)} rated tickets, {args.start} .. {args.end}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xephang export", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    ev = sub.add_parser("events", help="the event log as JSON Lines from a sequence number on")
    ev.add_argument("--after", type=_seq, default=0, metavar="SEQ",
                    help="export the events after this seq (default 0: from the first)")
    ev.add_argument("--limit", type=_positive, metavar="N", help="at most N events")
    ev.set_defaults(run=_events)
    rt = sub.add_parser("ratings", help="rated tickets as CSV, keyed by dossier code and procedure")
    rt.add_argument("--from", dest="start", type=_day, required=True, metavar="DAY")
    rt.add_argument("--to", dest="end", type=_day, required=True, metavar="DAY")
    rt.set_defaults(run=_ratings)
    for command in (ev, rt):
        command.add_argument("--out", type=Path, metavar="FILE",
                             help="write to FILE (default: standard output)")
        command.add_argument("--db", type=Path, help="database (default: from the configuration)")
        add_config_argument(command)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
