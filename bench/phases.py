"""The benchmark's phases: each starts the processes it measures, drives them through the
load generators and records its figures in ``Run.results``."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import apps, baselines, profiling
from bench.booking_phase import phase_booking
from bench.centre import Population, build_centre
from bench.history_phase import phase_history
from bench.processes import BenchError, ServerProcess, echo_server, free_port, queue_server
from bench.procstat import Meter, cpu_times, rss_mb
from bench.profiles import Profile
from bench.stats import latency_summary
from bench.webhooks_phase import phase_webhooks
from bench.workers import Workers, split

log = logging.getLogger("bench")


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


def _settle(pid: int, least: float, most: float = 60.0) -> float:
    """Wait at least ``least`` seconds, then until the server has used under 2 % of a core
    for two seconds running (it finishes what the last activity left, e.g. the estimates
    of every site it changed), or ``most`` seconds. Returns how long that took."""
    started = time.monotonic()
    time.sleep(least)
    quiet = 0
    while quiet < 2 and time.monotonic() - started < most:
        before = cpu_times(pid).total
        time.sleep(1.0)
        quiet = quiet + 1 if cpu_times(pid).total - before < 0.02 else 0
    return time.monotonic() - started


def _idle(run: Run, pid: int, workers: Workers, empty_mb: float) -> dict[str, Any]:
    p = run.profile
    # (The smoke profile's fraction of a second skips the wait for quiet.)
    settled = _settle(pid, p.settle_seconds, most=60.0 if p.settle_seconds >= 1 else p.settle_seconds)
    before, meter = cpu_times(pid), Meter(pid, workers.pids)
    time.sleep(p.idle_seconds)
    after, cpu = cpu_times(pid), meter.stop()
    return {
        "rss_mb": rss_mb(pid), "rss_empty_mb": empty_mb, **cpu,
        "cpu_percent": cpu["server_cpu_percent"],
        "cpu_user_s": after.user - before.user, "cpu_system_s": after.system - before.system,
        "settle_seconds": settled,
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


def phase_apps(run: Run) -> None:
    p = run.profile
    log.info("apps: %d kiosk taps, %d display calls per chime setting", p.app_taps, p.app_calls)
    run.results["apps"] = apps.measure(run.directory, taps=p.app_taps, calls=p.app_calls)


PHASES = {"baselines": phase_baselines, "issuing": phase_issuing, "province": phase_province,
          "apps": phase_apps, "history": phase_history, "booking": phase_booking}
PHASES["webhooks"] = phase_webhooks  # issue 16 (bench/webhooks_phase.py)
