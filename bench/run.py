"""``xephang bench [--quick]``: measure the real server against its targets.

Phases (each server is a fresh process with a fresh database):

1. baselines: durable single-row SQLite commits; a bare websockets echo server (round
   trips at 1 and 50 clients, then memory and CPU with the idle clients);
2. issuing: 1, 20 and 50 kiosks in a closed loop, durable replies;
3. a province at work: 1,500 connected clients (kiosks, counters, displays, a manager,
   phones); a morning's tickets issued; counters calling; fan-out latency of each call
   to every display and counter of its site;
4. idle: 2,000 connected clients; server memory and CPU;
5. the apps: kiosk tap → printer bytes, display call → announcement playing;
6. history: a province-year (generated once, cached): database size, server start on the
   last day and on the morning after, year report times, kiosk issue latency while a
   manager opens the year report or exports it, ``xephang backup`` (bench.history_phase).
webhooks: issuing at 20 kiosks without webhook subscribers, then with five (three normal
   receivers, one answering in 2 s, one refusing), the ratios and the delivery lag
   (bench.webhooks_phase; issue 16).
booking: day + 7 opens for a popular service: 5,000 booking attempts from 2,000 anonymous
   phones for 500 places; none sold twice, the per-person limit (brokers sending one CCCD
   from several phones at once), p99 against the same phones' ``booking_slots`` reads
   (bench.booking_phase; issue 14).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import profiling, report
from bench.phases import PHASES, Run
from bench.processes import BenchError
from bench.procstat import raise_open_files
from bench.profiles import PROFILES, Profile

log = logging.getLogger("bench")


def run_bench(profile: Profile, directory: Path, *, only: set[str] | None = None,
              profile_dir: Path | None = None) -> dict[str, Any]:
    run = Run(profile, directory, profile_dir=profile_dir)
    run.results["profile"] = asdict(profile) | {"scale": asdict(profile.scale)}
    run.results["machine"] = report.machine(directory)
    for name, phase in PHASES.items():
        if (only and name not in only) or (name == "apps" and not profile.apps):
            continue
        started = time.monotonic()
        phase(run)
        log.info("%s done in %.1f s", name, time.monotonic() - started)
    return run.results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xephang bench",
        description="Benchmark the real server (its own process, real websockets, durable "
                    "SQLite) with simulated kiosks, counters and displays in separate "
                    "processes; print the figures against the targets.")
    parser.add_argument("--quick", action="store_const", const="quick", dest="profile",
                        help="shorter phases and a smaller morning (about a minute)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full",
                        help="full (default, a few minutes), quick, or smoke (CI: machinery only)")
    parser.add_argument("--only", action="append", choices=list(PHASES),
                        help="run only this phase (repeatable)")
    parser.add_argument("--workers", type=int, choices=range(1, 9), metavar="N",
                        help="load-generator processes (default 2)")
    parser.add_argument("--no-apps", action="store_true", help="skip the kiosk/display app measurements")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, dbs)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="sample the server with py-spy during each phase; write DIR/<phase>.txt")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress")
    parser.set_defaults(profile="full")  # --quick and --profile share the destination
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    profile = PROFILES[args.profile]
    if args.workers:
        profile = replace(profile, workers=args.workers)
    if args.no_apps:
        profile = replace(profile, apps=False)
    raise_open_files()
    directory = Path(tempfile.mkdtemp(prefix="xephang-bench-"))
    print(f"xephang bench ({profile.name}): working in {directory}", file=sys.stderr)
    try:
        if args.py_spy:
            if profiling.py_spy() is None:
                print("bench: --py-spy needs py-spy (.venv/bin/pip install py-spy)", file=sys.stderr)
                return 2
            args.py_spy.mkdir(parents=True, exist_ok=True)
        results = run_bench(profile, directory, only=set(args.only) if args.only else None,
                            profile_dir=args.py_spy)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    print(report.render(results))
    if args.json:
        args.json.write_text(json.dumps(_finite(results), indent=2, default=str), encoding="utf-8")
    return 0


def _finite(value: Any) -> Any:
    """NaN (a percentile of nothing) as null, so the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
