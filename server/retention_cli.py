"""``xephang history``: archive, prune and vacuum the database's history (server/retention.py;
docs/operations.md, "History: archive and prune")."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from common.cli_args import add_config_argument, load_or_exit, parsed
from common.config import Config
from server import retention


def _iso_day(text: str) -> date:
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


def _date(text: str) -> date:
    return parsed(text, _iso_day, "a date like 2025-12-01 (YYYY-MM-DD)")


def _database(args: argparse.Namespace, config: Config) -> Path:
    return args.db or Path(config.server.data_dir) / "xephang.db"


def _today(config: Config) -> date:
    return datetime.now(UTC).astimezone(config.tz).date()


def _cutoffs(args: argparse.Namespace, config: Config) -> retention.Cutoffs:
    policy = retention.policy_cutoffs(_today(config), config.server.keep_events_months,
                                      config.server.keep_tickets_months)
    if args.before is None:
        return policy
    return retention.Cutoffs(args.before, min(args.before, policy.tickets_before))


def _archive(args: argparse.Namespace) -> int:
    os.umask(0o077)  # the archive holds every ticket's dossier code and notes: the owner's only
    config = load_or_exit(args.config)
    cutoffs = _cutoffs(args, config)
    conn = retention.connect(_database(args, config))
    try:
        summary = retention.archive(conn, cutoffs.events_before, config.tz, args.file, _today(config))
    finally:
        conn.close()
    since = f" (from {summary.first_day})" if summary.first_day else ""
    print(f"archived {summary.events} events before {summary.before}{since} and the {summary.tickets} "
          f"tickets of those days to {summary.file}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    cutoffs = _cutoffs(args, config)
    conn = retention.connect(_database(args, config))
    try:
        summary = retention.prune(conn, cutoffs, config.tz, without_archive=args.yes)
    finally:
        conn.close()
    print(f"deleted {summary.events} events before {cutoffs.events_before} and {summary.tickets} tickets "
          f"before {cutoffs.tickets_before} ({summary.batches} batches; archive: "
          f"{summary.archive or 'none'}). The space is reused by new rows; 'xephang history vacuum' "
          "returns it to the disk.")
    return 0


def _vacuum(args: argparse.Namespace) -> int:
    config = load_or_exit(args.config)
    before, after = retention.vacuum(_database(args, config))
    print(f"vacuumed {_database(args, config)}: {before / 1e6:.0f} MB -> {after / 1e6:.0f} MB")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xephang history",
                                     description="Archive, prune and vacuum the database's history.")
    sub = parser.add_subparsers(dest="action", required=True)
    archive = sub.add_parser("archive", help="write old events and their tickets to a .jsonl.gz file")
    archive.add_argument("file", type=Path, help="new archive file to write (e.g. events-2025-11.jsonl.gz)")
    archive.set_defaults(run=_archive)
    prune = sub.add_parser("prune", help="delete archived events and old tickets, beside a running server")
    prune.add_argument("--yes", action="store_true", help="delete even when no archive covers the range")
    prune.set_defaults(run=_prune)
    for command in (archive, prune):
        command.add_argument("--before", type=_date,
                             help="events before this day (default: server.keep_events_months ago, "
                                  "on the 1st)")
    vacuum = sub.add_parser("vacuum", help="return free space to the disk (the server must be stopped)")
    vacuum.set_defaults(run=_vacuum)
    for command in (archive, prune, vacuum):
        command.add_argument("--db", type=Path, help="database (default: from the configuration)")
        add_config_argument(command)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except retention.RetentionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code
