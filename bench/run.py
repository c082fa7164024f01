"""``xephang bench [--quick]``: measure the real server against its targets.

Phases (each server is a fresh process with a fresh database):

1. baselines: durable single-row SQLite commits; a bare websockets echo server (round
   trips at 1 and 50 clients, then memory and CPU with the idle clients);
2. issuing: 1, 20 and 50 kiosks in a closed loop, durable replies;
3. a province at work: 1,500 connected clients (kiosks, counters, displays, a manager,
   phones); a morning's tickets issued; counters calling; fan-out latency of each call
   to every display and counter of its site;
4. idle: 2,000 connected clients; server memory and CPU;
5. the apps: kiosk tap → printer bytes, display call → announcement playing.
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
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import apps, baselines, profiling, report
from bench.centre import PROVINCE, SMALL, Population, Scale, build_centre
from bench.processes import BenchError, ServerProcess, echo_server, free_port, queue_server
from bench.procstat import Meter, cpu_times, raise_open_files, rss_mb
from bench.stats import latency_summary
from bench.workers import Workers, split

log = logging.getLogger("bench")


@dataclass(frozen=True)
class Profile:
    name: str
    scale: Scale = PROVINCE
    levels: tuple[int, ...] = (1, 20, 50)
    level_seconds: float = 8.0
    warmup_seconds: float = 1.0
    seed_province: int = 1000  # tickets issued at the provincial centre before the calls
    seed_commune: int = 100  # ... and at each commune centre
    fanout_clients: int = 1500
    call_rate: float = 25.0  # calls a second across the province (real peak: ~3)
    call_seconds: float = 15.0
    idle_clients: int = 2000
    settle_seconds: float = 5.0
    idle_seconds: float = 15.0
    sqlite_commits: int = 2000
    echo_seconds: float = 4.0
    workers: int = 2
    apps: bool = True


PROFILES = {
    "full": Profile("full"),
    "quick": Profile("quick", level_seconds=3.0, warmup_seconds=0.5, seed_province=500,
                     seed_commune=50, call_seconds=6.0, settle_seconds=3.0, idle_seconds=6.0,
                     sqlite_commits=500, echo_seconds=2.0),
    # CI: a handful of clients, a fraction of a second per phase; checks the machinery only.
    "smoke": Profile("smoke", scale=SMALL, levels=(1, 3), level_seconds=0.4, warmup_seconds=0.1,
                     seed_province=12, seed_commune=4, fanout_clients=40, call_rate=8.0,
                     call_seconds=0.6, idle_clients=44, settle_seconds=0.2, idle_seconds=0.4,
                     sqlite_commits=20, echo_seconds=0.3, apps=False),
}


@dataclass
class Run:
    """The state of one benchmark run: where its files go and what it found."""

    profile: Profile
    directory: Path
    results: dict[str, Any] = field(default_factory=dict)
    profile_dir: Path | None = None

    def sampling(self, server: ServerProcess, name: str):
        """py-spy samples of the server during a phase, when --py-spy DIR was given."""
        out = self.profile_dir / f"{name}.txt" if self.profile_dir else None
        return profiling.sampling(server.pid, out)

    def centre(self, port: int) -> tuple[Path, Population]:
        text, population = build_centre(self.profile.scale, port=port,
                                        data_dir=str(self.directory / "data"))
        path = self.directory / f"centre-{port}.toml"
        path.write_text(text, encoding="utf-8")
        return path, population

    def server(self, name: str) -> tuple[ServerProcess, Population]:
        port = free_port()
        config, population = self.centre(port)
        process = queue_server(config, self.directory / f"{name}.db", port,
                               self.directory / f"{name}.log")
        process.start()
        return process, population

    @staticmethod
    def url(process: ServerProcess) -> str:
        return f"ws://127.0.0.1:{process.port}/ws"


def _wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# -- specs: who connects as what -----------------------------------------------------------


def with_addresses(specs: list[dict[str, Any]], first: int = 0) -> list[dict[str, Any]]:
    """Give each client its own loopback source address (127.x.y.z), as each kiosk,
    counter PC, display and phone has its own address in a real centre."""
    return [{**spec, "ip": f"127.{1 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"}
            for n, spec in enumerate(specs, start=first)]


def kiosk_specs(population: Population) -> list[dict[str, Any]]:
    """Every kiosk, ordered so that the first N are spread over sites: the provincial
    centre's kiosks first, then each commune's first kiosk, then each one's second, ..."""
    rounds: list[list[dict[str, Any]]] = []
    for site in population.sites:
        for i, token in enumerate(site.kiosks):
            rank = 0 if site.code == population.sites[0].code else i + 1
            while len(rounds) <= rank:
                rounds.append([])
            rounds[rank].append({"kind": "kiosk", "site": site.code, "token": token,
                                 "services": site.services})
    return [spec for group in rounds for spec in group]


def seed_quotas(population: Population, province: int, commune: int) -> dict[str, int]:
    """Tickets each kiosk issues (by token) so that each site gets its day's share."""
    quotas = {}
    for i, site in enumerate(population.sites):
        count = province if i == 0 else commune
        for k, token in enumerate(site.kiosks):
            quotas[token] = count // len(site.kiosks) + (k < count % len(site.kiosks))
    return quotas


def staff_specs(population: Population) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for site in population.sites:
        specs += [{"kind": "display", "site": site.code, "token": t} for t in site.displays]
        specs += [{"kind": "clerk", "site": site.code, "user": u, "counter": n}
                  for u, n in site.clerks]
    specs.append({"kind": "manager", "user": population.manager})
    return specs


# -- phases ---------------------------------------------------------------------------------


def phase_baselines(run: Run) -> None:
    p = run.profile
    log.info("baseline: %d durable SQLite commits", p.sqlite_commits)
    run.results["sqlite"] = baselines.sqlite_commits(run.directory, p.sqlite_commits)
    port = free_port()
    echo = echo_server(port, run.directory / "echo.log")
    echo.start()
    workers = Workers(p.workers, f"ws://127.0.0.1:{port}/", "")
    try:
        url = f"ws://127.0.0.1:{port}/"
        for clients in p.levels:
            log.info("baseline: websockets echo, %d client(s)", clients)
            start = time.monotonic() + 1.0 + p.warmup_seconds
            end = start + p.echo_seconds
            shares = [len(part) for part in split(list(range(clients)), len(workers))]
            answers = workers.each("echo", [
                {"url": url, "clients": n, "start": start, "end": end, "warmup": p.warmup_seconds}
                for n in shares])
            latencies = [x for a in answers for x in a["latencies"]]
            run.results[f"echo_{clients}"] = {
                **latency_summary(latencies), "per_second": len(latencies) / p.echo_seconds}
        log.info("baseline: %d idle echo connections", p.idle_clients)
        empty = rss_mb(echo.pid)
        specs = [{"kind": "echo"}] * p.idle_clients
        workers.each("connect", [{"specs": part, "url": url} for part in split(specs, len(workers))])
        run.results["echo_idle"] = _idle(run, echo.pid, workers, empty)
    finally:
        workers.stop()
        echo.stop()


def _idle(run: Run, pid: int, workers: Workers, empty_mb: float) -> dict[str, Any]:
    p = run.profile
    time.sleep(p.settle_seconds)
    before, meter = cpu_times(pid), Meter(pid, workers.pids)
    time.sleep(p.idle_seconds)
    after, cpu = cpu_times(pid), meter.stop()
    return {
        "rss_mb": rss_mb(pid), "rss_empty_mb": empty_mb, **cpu,
        "cpu_percent": cpu["server_cpu_percent"],
        "cpu_user_s": after.user - before.user, "cpu_system_s": after.system - before.system,
    }


def phase_issuing(run: Run) -> None:
    """Each level on a fresh server and database, so that one level's tickets do not slow
    the next (the day's queue grows during a level: up to ~16,000 tickets at 2,000/s)."""
    run.results["issuing"] = [_issue_level(run, level) for level in run.profile.levels]


def _issue_level(run: Run, level: int) -> dict[str, Any]:
    p = run.profile
    server, population = run.server(f"issue-{level}")
    workers = Workers(min(p.workers, level), run.url(server), population.password)
    try:
        specs = with_addresses(kiosk_specs(population)[:level])
        answers = workers.each("connect", [{"specs": part} for part in split(specs, len(workers))])
        _check_connected(answers, len(specs), "kiosks")
        log.info("issuing: %d kiosk(s) for %.1f s", level, p.level_seconds)
        start = time.monotonic() + 0.5 + p.warmup_seconds
        end = start + p.level_seconds
        for i, part in enumerate(split(specs, len(workers))):
            workers.send(i, "issue", count=len(part), start=start, end=end, warmup=p.warmup_seconds)
        _wait_until(start)
        meter = Meter(server.pid, workers.pids)
        with run.sampling(server, f"issue-{level}"):
            _wait_until(end)
        cpu = meter.stop()
        answers = [workers.receive(i) for i in range(len(workers))]
        latencies = [x for a in answers for x in a["latencies"]]
        errors = sum((Counter(a["errors"]) for a in answers), Counter())
        return {
            "kiosks": level, "sites": len({s["site"] for s in specs}), **latency_summary(latencies),
            "per_second": len(latencies) / p.level_seconds, "errors": dict(errors), **cpu,
            "server_cpu_ms_per_ticket": _per_item_ms(cpu, len(latencies)),
            "rss_mb": rss_mb(server.pid),
        }
    finally:
        workers.stop()
        server.stop()


def _per_item_ms(cpu: dict[str, float], count: int) -> float:
    """Server CPU time per item (robust to other load on the machine, unlike rates)."""
    return cpu["server_cpu_percent"] / 100 * cpu["seconds"] / max(count, 1) * 1000


def _check_connected(answers: list[dict[str, Any]], expected: int, what: str) -> None:
    failures = sum((Counter(a["failures"]) for a in answers), Counter())
    connected = sum(a["connected"] for a in answers)
    if connected < expected:
        raise BenchError(f"only {connected} of {expected} {what} connected: {dict(failures)}")


def phase_province(run: Run) -> None:
    p = run.profile
    server, population = run.server("province")
    workers = Workers(p.workers, run.url(server), population.password)
    results: dict[str, Any] = {"rss_empty_mb": rss_mb(server.pid)}
    try:
        # The morning: every device and counter connects, then the day's first tickets.
        specs = with_addresses(kiosk_specs(population) + staff_specs(population))
        log.info("province: connecting %d kiosks, counters, displays and a manager", len(specs))
        t0 = time.monotonic()
        answers = workers.each("connect", [{"specs": part} for part in split(specs, len(workers))])
        _check_connected(answers, len(specs), "clients")
        results["connect_seconds"] = time.monotonic() - t0
        quotas = seed_quotas(population, p.seed_province, p.seed_commune)
        watchers = max(p.idle_clients - len(specs), 0)
        log.info("province: issuing %d tickets with everyone connected", sum(quotas.values()))
        meter = Meter(server.pid, workers.pids)
        with run.sampling(server, "seed"):
            answers = workers.all("seed", quotas=quotas,
                                  keep_tokens=math.ceil(watchers / len(workers)))
        cpu = meter.stop()
        issued = sum(a["issued"] for a in answers)
        seconds = max(a["seconds"] for a in answers)
        tokens = [t for a in answers for t in a["tokens"]][:watchers]
        results["seed"] = {
            "issued": issued, "seconds": seconds, "per_second": issued / seconds,
            "server_cpu_ms_per_ticket": _per_item_ms(cpu, issued),
            **latency_summary([x for a in answers for x in a["latencies"]]),
            "errors": dict(sum((Counter(a["errors"]) for a in answers), Counter())),
            **cpu,
        }
        # Phones following their tickets make up the rest of the 1,500.
        fanout_watchers = max(p.fanout_clients - len(specs), 0)
        watcher_specs = with_addresses([{"kind": "watcher", "token": t} for t in tokens], len(specs))
        first, rest = watcher_specs[:fanout_watchers], watcher_specs[fanout_watchers:]
        answers = workers.each("connect", [{"specs": part} for part in split(first, len(workers))])
        _check_connected(answers, len(first), "phones")
        connected = len(specs) + len(first)
        with run.sampling(server, "fanout"):
            results["fanout"] = _fanout(run, server, workers, population, connected)
        results["rss_fanout_mb"] = rss_mb(server.pid)
        log.info("province: %d more phones, then idle", len(rest))
        answers = workers.each("connect", [{"specs": part} for part in split(rest, len(workers))])
        _check_connected(answers, len(rest), "phones")
        with run.sampling(server, "idle"):
            idle = _idle(run, server.pid, workers, results["rss_empty_mb"])
        results["idle"] = {**idle, "clients": connected + len(rest)}
        run.results["province"] = results
    finally:
        workers.stop()
        server.stop()


def _fanout(run: Run, server: ServerProcess, workers: Workers, population: Population,
            connected: int) -> dict[str, Any]:
    p = run.profile
    log.info("province: %.0f calls a second for %.0f s with %d clients connected",
             p.call_rate, p.call_seconds, connected)
    workers.all("record", on=True)
    start = time.monotonic() + 1.0
    for i in range(len(workers)):
        workers.send(i, "calls", start=start, duration=p.call_seconds, rate=p.call_rate / len(workers))
    _wait_until(start)
    meter = Meter(server.pid, workers.pids)
    answers = [workers.receive(i) for i in range(len(workers))]
    cpu = meter.stop()
    time.sleep(1.0)  # stragglers
    arrivals = workers.all("arrivals")
    workers.all("record", on=False)
    sends: dict[str, float] = {}
    for a in answers:
        sends.update(a["sends"])
    # Who should hear a call: every counter and display of its site, and the manager.
    staff = {s.code: len(s.clerks) + len(s.displays) + 1 for s in population.sites}
    by_call: dict[str, list[float]] = {}
    for a in arrivals:
        for ticket_id, at in a["arrivals"]:
            if ticket_id in sends:
                by_call.setdefault(ticket_id, []).append(at - sends[ticket_id])
    deliveries = [x for xs in by_call.values() for x in xs]
    expected = sum(staff[ticket_id.split(":", 1)[0]] for ticket_id in sends)
    last = [max(xs) for xs in by_call.values()]
    return {
        "clients": connected, "calls": len(sends), "deliveries": len(deliveries),
        "expected_deliveries": expected, **latency_summary(deliveries),
        "last_receiver": latency_summary(last),
        "receivers_per_call": len(deliveries) / max(len(sends), 1),
        "errors": dict(sum((Counter(a["errors"]) for a in answers), Counter())),
        "missed_slots": sum(a["missed"] for a in answers),
        "dropped_connections": sum(a["dropped"] for a in arrivals), **cpu,
    }


def run_bench(profile: Profile, directory: Path, *, only: set[str] | None = None,
              profile_dir: Path | None = None) -> dict[str, Any]:
    run = Run(profile, directory, profile_dir=profile_dir)
    run.results["profile"] = asdict(profile) | {"scale": asdict(profile.scale)}
    run.results["machine"] = report.machine(directory)
    phases = [("baselines", phase_baselines), ("issuing", phase_issuing),
              ("province", phase_province)]
    if profile.apps:
        phases.append(("apps", lambda r: r.results.update(apps=apps.measure(r.directory))))
    for name, phase in phases:
        if only and name not in only:
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
    parser.add_argument("--only", action="append", choices=["baselines", "issuing", "province", "apps"],
                        help="run only this phase (repeatable)")
    parser.add_argument("--workers", type=int, choices=range(1, 9), metavar="N",
                        help="load-generator processes (default 2)")
    parser.add_argument("--no-apps", action="store_true", help="skip the kiosk/display app measurements")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, dbs)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR",
                        help="sample the server with py-spy during each phase; write DIR/<phase>.txt")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress")
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
        args.json.write_text(json.dumps(results, indent=2, default=_jsonable), encoding="utf-8")
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
