"""A province-year of history in a real database, quickly: ``build_history`` and
``cached_history``, and ``python -m bench.history OUT.db`` for other measurements.

The province is ``bench.centre``'s (a provincial centre of ~800 tickets a day and 100
commune centres). Each open site-day is simulated (``bench.history_day``: arrivals that
follow ``bench.history_calendar``'s hours, holidays and busy days; every ticket's lifecycle
as real ``server.core`` tickets and events) and written through the real store: the
database is opened with ``Store.open`` (the schema and its migrations) and every row goes
through ``Store.commit``, so a change to the stored format (the events' payload, a new
index or table the store fills) is followed without a change here. The only liberty
taken is ``synchronous=off`` on the generator's own connection: a crash would lose the
file, which is rebuilt anyway.

A day of all sites is one transaction, its events interleaved across sites in time order
as a server writes them. Phone ratings given on a later day are written with that day.

``cached_history`` keeps one database per (generator source, scale, dates, seed, stored
format) under ``~/.cache/xephang-bench/`` (``XEPHANG_BENCH_CACHE`` to change it): the
stored format is fingerprinted by writing a small day into a fresh store and hashing the
schema and the rows, so another helper's change to the store rebuilds the cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import hashlib
import heapq
import json
import logging
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import history_calendar as cal
from bench.centre import PROVINCE, Scale, build_centre
from bench.history_day import DayResult, SiteSetup, simulate_day, site_setups
from common.config import Config, parse_config
from common.errors import BenchError
from server.core import events as ev
from server.core.model import SiteState
from server.core.rules import PAST_RATING_DAYS
from server.store import Store

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1
DEFAULT_START, DEFAULT_END = date(2025, 12, 1), date(2026, 11, 30)
DEFAULT_SEED = 15
PROVINCE_BASE = 760.0  # arrivals at the provincial centre on an ordinary Wednesday
COMMUNE_BASE = 52.0  # ... at a commune centre of average size
MAX_COMMUNES = 500
PARALLEL_SITE_DAYS = 3000  # smaller histories are built in one process (no merge)
_SOURCES = ("history.py", "history_day.py", "history_calendar.py", "centre.py")


def history_config(scale: Scale) -> Config:
    """The bench centre's configuration for ``scale`` (the one the bench server loads)."""
    text, _ = build_centre(scale, port=8765, data_dir=tempfile.gettempdir())
    return parse_config(text)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def check_arguments(scale: Scale, start: date, end: date, seed: int) -> None:
    if not 0 <= scale.communes <= MAX_COMMUNES:
        raise BenchError(f"communes must be between 0 and {MAX_COMMUNES}, not {scale.communes}")
    if not isinstance(seed, int) or seed < 0:
        raise BenchError(f"the seed must be a whole number ≥ 0, not {seed!r}")
    cal.check_range(start, end)


def build_history(path: str | Path, scale: Scale = PROVINCE, start: date = DEFAULT_START,
                  end: date = DEFAULT_END, *, seed: int = DEFAULT_SEED, workers: int | None = None,
                  progress: Callable[[date, int, int], None] | None = None) -> dict[str, Any]:
    """Write the history of ``start``..``end`` into a new database at ``path``; returns what
    it wrote. A big history is built in ``workers`` processes (default: one per core, up to
    2), each writing a run of days into a database of its own, merged in order at the end.
    ``progress(day, tickets, events)`` is told after each day (of one process only)."""
    check_arguments(scale, start, end, seed)
    path = Path(path)
    if path.exists():
        raise BenchError(f"{path} exists; the history is written into a new database only")
    if workers is not None and not 1 <= workers <= 8:
        raise BenchError(f"workers must be between 1 and 8, not {workers}")
    started = time.monotonic()
    days = (end - start).days + 1
    if workers is None:
        workers = min(os.cpu_count() or 1, 2) if days * (scale.communes + 1) >= PARALLEL_SITE_DAYS else 1
    cut = [start + timedelta(days=days * i // workers) for i in range(workers)] + [end + timedelta(days=1)]
    ranges = [(cut[i], cut[i + 1] - timedelta(days=1)) for i in range(workers) if cut[i] < cut[i + 1]]
    parts = [path] if len(ranges) == 1 else [Path(f"{path}.part{i}") for i in range(len(ranges))]
    try:
        if len(ranges) == 1:
            counts = [write_days(path, scale, start, end, seed=seed, first=start, last=end,
                                 progress=progress)]
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(len(ranges), mp_context=context) as pool:
                futures = [pool.submit(write_days, part, scale, a, b, seed=seed, first=start, last=end)
                           for part, (a, b) in zip(parts, ranges, strict=True)]
                counts = [f.result() for f in futures]
            for part in parts[1:]:
                merge_into(parts[0], part)
                _remove(part)
            parts[0].rename(path)
    except BaseException:
        for part in {path, *parts}:
            _remove(part)
        raise
    return {"path": str(path), "start": start.isoformat(), "end": end.isoformat(), "seed": seed,
            "sites": scale.communes + 1, "communes": scale.communes, "processes": len(ranges),
            "site_days": sum(c["site_days"] for c in counts), "tickets": sum(c["tickets"] for c in counts),
            "events": sum(c["events"] for c in counts), "bytes": path.stat().st_size,
            "seconds": round(time.monotonic() - started, 1)}


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def write_days(path: Path, scale: Scale, start: date, end: date, *, seed: int, first: date, last: date,
               progress: Callable[[date, int, int], None] | None = None) -> dict[str, int]:
    """Simulate ``start``..``end`` of the history ``first``..``last`` into a new store at
    ``path`` (``last`` is left unrolled). The phone ratings given in the range for tickets of
    the history's week before it are written too (that week is simulated again,
    deterministically, to find them)."""
    config = history_config(scale)
    setups = site_setups(config, PROVINCE_BASE, COMMUNE_BASE, seed)
    later: dict[date, list[tuple[str, ev.Event]]] = {}
    latest: dict[str, SiteState] = {}
    for day in _days(max(first, start - timedelta(days=PAST_RATING_DAYS)), start - timedelta(days=1)):
        for setup in setups:
            result = simulate_day(setup, day, seed=seed, last_day=False)
            if result is not None:
                latest[setup.code] = result.state
                _defer(later, setup, result, start, end)
    store = Store.open(path)
    tickets = events = site_days = 0
    try:
        store.db.execute("pragma synchronous=off")
        store.db.execute("pragma cache_size=-262144")  # 256 MB
        for day in _days(start, end):
            streams: list[list[tuple[str, ev.Event]]] = []
            for setup in setups:
                result = simulate_day(setup, day, seed=seed, last_day=day == last)
                if result is None:
                    continue
                site_days += 1
                tickets += result.tickets
                latest[setup.code] = result.state
                streams.append([(setup.code, e) for e in result.events])
                _defer(later, setup, result, day, end)
            streams.append(sorted(later.pop(day, []), key=lambda item: item[1].at))
            batch = list(_site_runs(heapq.merge(*streams, key=lambda item: item[1].at), latest))
            events += sum(len(run) for _, run in batch)
            if batch:
                store.commit(batch)
            if progress is not None:
                progress(day, tickets, events)
        store.db.execute("pragma wal_checkpoint(truncate)")
    finally:
        store.close()
    return {"site_days": site_days, "tickets": tickets, "events": events}


def merge_into(target: Path, part: Path) -> None:
    """Append ``part``'s rows to ``target``'s, table by table, whatever the schema: a table
    with an INTEGER PRIMARY KEY (the events' ``seq``) gets new keys after the target's, in
    the part's order; other rows are upserted, updating a row of the same key (a site's
    row, its counters, and a ticket rated from the phone in the part's days). One known
    difference from a build in one process: such a ticket keeps its kiosk's retry key
    (``idempotency_key``), which the store forgets as a site's day moves on."""
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("pragma synchronous=off")
        conn.execute("pragma cache_size=-262144")
        conn.execute("attach database ? as part", [str(part)])
        tables = [name for (name,) in conn.execute(
            "select name from part.sqlite_master where type = 'table' and name not like 'sqlite%' "
            "and name not like '\\_%' escape '\\' order by rowid")]
        conn.execute("begin immediate")
        for table in tables:
            info = conn.execute(f'pragma part.table_info("{table}")').fetchall()
            keys = [row for row in info if row[5]]
            rowid_key = keys[0][1] if len(keys) == 1 and keys[0][2].lower() == "integer" else None
            names = [f'"{row[1]}"' for row in info if row[1] != rowid_key]
            columns = ", ".join(names)
            if rowid_key:
                conn.execute(f'insert into main."{table}" ({columns}) '
                             f'select {columns} from part."{table}" order by "{rowid_key}"')
                continue
            # An upsert, as the store writes these rows: its update triggers fire (a site's new
            # day forgets the past day's retry keys).
            updates = ", ".join(f"{name} = excluded.{name}" for name in names)
            conn.execute(f'insert into main."{table}" ({columns}) select {columns} from part."{table}" '
                         f"where true order by rowid on conflict do update set {updates}")
        conn.execute("commit")
        conn.execute("pragma wal_checkpoint(truncate)")
    finally:
        conn.close()


def _defer(later: dict[date, list[tuple[str, ev.Event]]], setup: SiteSetup, result: DayResult,
           first: date, end: date) -> None:
    """Phone ratings of a later day go with that day's events (those in ``first``..``end``)."""
    tz = setup.rules.tz
    for rating in result.late:
        day = rating.at.astimezone(tz).date()
        if first <= day <= end:
            later.setdefault(day, []).append((setup.code, rating))


def _site_runs(merged: Iterator[tuple[str, ev.Event]],
               latest: dict[str, SiteState]) -> Iterator[tuple[SiteState, list[ev.Event]]]:
    """Consecutive events of one site as one (state, events) result, as ``commit`` takes them."""
    code, run = "", list[ev.Event]()
    for site, event in merged:
        if site != code and run:
            yield latest[code], run
            run = []
        code = site
        run.append(event)
    if run:
        yield latest[code], run


# -- the cache -------------------------------------------------------------------------------


def cache_dir() -> Path:
    chosen = os.environ.get("XEPHANG_BENCH_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xephang-bench"


def storage_fingerprint() -> str:
    """A hash of what the store writes today: its schema (every migration's tables and
    indexes) and the rows of a small generated day, payloads included."""
    scale = Scale(communes=1, province_counters=2, commune_counters=(2,), province_kiosks=1,
                  commune_kiosks=1, communes_with_two_kiosks=0, province_displays=1,
                  communes_with_two_displays=0)
    setups = site_setups(history_config(scale), 30, 30, 1)
    day = date(2026, 3, 4)  # a Wednesday
    with tempfile.TemporaryDirectory(prefix="xephang-history-") as tmp:
        store = Store.open(Path(tmp) / "sample.db")
        try:
            for setup in setups:
                result = simulate_day(setup, day, seed=1, last_day=False)
                assert result is not None
                store.commit([(result.state, result.events)])
            conn = store.db.conn
            digest = hashlib.sha256()
            for (sql,) in conn.execute("select sql from sqlite_master where sql is not null order by name"):
                digest.update(sql.encode())
            for table in ("events", "tickets", "counters", "sites", "sequences"):
                for row in conn.execute(f"select * from {table} order by rowid"):
                    digest.update(repr(row).encode())
        finally:
            store.close()
    return digest.hexdigest()


def cache_key(scale: Scale, start: date, end: date, seed: int) -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(json.dumps({
        "version": GENERATOR_VERSION, "scale": dataclasses.asdict(scale), "start": start.isoformat(),
        "end": end.isoformat(), "seed": seed, "sqlite": sqlite3.sqlite_version,
    }, sort_keys=True).encode())
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    digest.update(storage_fingerprint().encode())
    return digest.hexdigest()[:16]


def cached_history(scale: Scale = PROVINCE, start: date = DEFAULT_START, end: date = DEFAULT_END,
                   *, seed: int = DEFAULT_SEED) -> Path:
    """The history's database, built on first use (one builder at a time; others wait)."""
    check_arguments(scale, start, end, seed)
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    key = cache_key(scale, start, end, seed)
    path = directory / f"history-{key}.db"
    with open(directory / f"history-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        building = directory / f"history-{key}.building.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        log.info("history: building %s..%s, %d communes, into %s", start, end, scale.communes, path)
        summary = build_history(building, scale, start, end, seed=seed, progress=_log_progress)
        building.rename(path)
        summary["path"] = str(path)
        path.with_suffix(".json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        log.info("history: %d tickets, %d events, %.2f GB in %.0f s", summary["tickets"],
                 summary["events"], summary["bytes"] / 1e9, summary["seconds"])
    return path


def cached_summary(path: Path) -> dict[str, Any]:
    """What ``cached_history`` recorded when it built ``path``."""
    return dict(json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))


def _log_progress(day: date, tickets: int, events: int) -> None:
    if day.day == 1:
        log.info("history: %s, %d tickets, %d events so far", day, tickets, events)


# -- the command ---------------------------------------------------------------------------------


def _iso_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30 (YYYY-MM-DD)") from None


def _communes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_COMMUNES:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_COMMUNES}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history",
        description="Write a generated history of the bench province (the provincial centre and its "
                    "communes) into a new database, through the server's own store.")
    parser.add_argument("out", type=Path, help="the new database file (must not exist)")
    parser.add_argument("--communes", type=_communes, default=PROVINCE.communes,
                        help=f"commune centres besides the provincial one (default {PROVINCE.communes})")
    parser.add_argument("--start", type=_iso_date, default=DEFAULT_START,
                        help=f"first day (default {DEFAULT_START})")
    parser.add_argument("--end", type=_iso_date, default=DEFAULT_END,
                        help=f"last day (default {DEFAULT_END})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--workers", type=int, choices=range(1, 9), metavar="N",
                        help="processes (default: one per core, up to 2, for a big history)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log each month's progress")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    scale = dataclasses.replace(PROVINCE, communes=args.communes)
    try:
        summary = build_history(args.out, scale, args.start, args.end, seed=args.seed,
                                workers=args.workers, progress=_log_progress if args.verbose else None)
    except BenchError as exc:
        print(f"bench.history: {exc}", file=sys.stderr)
        return 2
    print(f"{summary['path']}: {summary['start']}..{summary['end']}, {summary['sites']} sites, "
          f"{summary['site_days']} open site-days, {summary['tickets']:,} tickets, "
          f"{summary['events']:,} events, {summary['bytes'] / 1e9:.2f} GB, in {summary['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
