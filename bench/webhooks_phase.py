"""The webhooks phase (issue 16): does delivering webhooks slow issuing?

Issuing at ``KIOSKS`` kiosks on a fresh server without webhook subscriptions, then on
another fresh server with five (``SUBSCRIBERS``): three normal receivers, one that answers
after 2 s and one whose port refuses connections, all on 127.0.0.1 in a process of their
own (bench/webhook_receivers.py). Reported: each run's throughput and latencies, the ratios
with/without (the target: within 10 %), and the delivery lag of the normal receivers —
from the end of the load until they have the last event."""

from __future__ import annotations

import json
import logging
import sqlite3
import statistics
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench.processes import BenchError, ServerProcess, free_port, queue_server
from bench.procstat import Meter, rss_mb
from bench.stats import latency_summary
from bench.workers import Workers, split

log = logging.getLogger("bench")

KIOSKS = 20
ROUNDS = 3  # without/with pairs
LAG_TIMEOUT = 120.0  # seconds the normal receivers get to catch up after the load
SECRET = "bench-webhook-secret-" + "x" * 24


def phase_webhooks(run: Any) -> None:
    """Without and with subscribers in turn, ``rounds`` times (the median of each: on a
    shared machine one run can be disturbed), each on a fresh server and database."""
    rounds = 1 if run.profile.name == "smoke" else ROUNDS
    control, normal, slow, down = free_port(), [free_port() for _ in range(3)], free_port(), free_port()
    receivers = ServerProcess(["-m", "bench.webhook_receivers", str(control), "--normal",
                               ",".join(map(str, normal)), "--slow", str(slow)], control,
                              run.directory / "webhook-receivers.log", "/stats")
    receivers.start()
    hooks = [(f"normal{i + 1}", port) for i, port in enumerate(normal)] + [("slow", slow), ("down", down)]
    runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    try:
        for n in range(rounds):
            runs["without"].append(_issuing(run, f"webhooks-without-{n}", []))
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{control}/reset", method="POST"),
                                   timeout=5).close()
            runs["with"].append(_issuing(run, f"webhooks-with-{n}", hooks, control=control, normal=normal))
    finally:
        receivers.stop()
    without, with_hooks = _median(runs["without"]), _median(runs["with"])
    ratio = {key: with_hooks[key] / without[key] if without[key] else None
             for key in ("per_second", "p50_ms", "p99_ms")}
    run.results["webhooks"] = {"kiosks": KIOSKS, "rounds": rounds, "without": without, "with": with_hooks,
                               "ratio_with_over_without": ratio, "runs": runs}
    log.info("webhooks: throughput x%.2f, p99 x%.2f with 5 subscribers; lag %.2f s",
             ratio["per_second"] or 0, ratio["p99_ms"] or 0, with_hooks.get("delivery_lag_s") or -1)


def _median(found: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (the first round's other values)."""
    keys = ("per_second", "p50_ms", "p99_ms", "max_ms", "delivery_lag_s")
    merged = dict(found[0])
    for key in keys:
        values = [f[key] for f in found if f.get(key) is not None]
        if values:
            merged[key] = statistics.median(values)
    return merged


def _issuing(run: Any, name: str, hooks: list[tuple[str, int]], *, control: int | None = None,
             normal: list[int] | None = None) -> dict[str, Any]:
    from bench.phases import kiosk_specs, with_addresses  # the issuing phase's own choice of kiosks

    p = run.profile
    port = free_port()
    config, population = run.centre(port)
    config.write_text(config.read_text(encoding="utf-8") + "".join(
        f'\n[[webhooks]]\nid = "{ident}"\nurl = "http://127.0.0.1:{hook_port}/hook"\nsecret = "{SECRET}"\n'
        for ident, hook_port in hooks), encoding="utf-8")
    directory = run.directory / name  # its own: the outbox state (outbox.sqlite) is per data directory
    directory.mkdir()
    db = directory / "xephang.db"
    server = queue_server(config, db, port, directory / "server.log")
    server.start()
    workers = Workers(min(p.workers, KIOSKS), f"ws://127.0.0.1:{port}/ws", population.password)
    try:
        _wait_for_subscriptions(db, [ident for ident, _ in hooks])
        specs = with_addresses(kiosk_specs(population)[:KIOSKS])
        answers = workers.each("connect", [{"specs": part} for part in split(specs, len(workers))])
        connected = sum(a["connected"] for a in answers)
        if connected < len(specs):
            raise BenchError(f"only {connected} of {len(specs)} kiosks connected")
        log.info("webhooks: %d kiosks for %.1f s, %d subscribers", KIOSKS, p.level_seconds, len(hooks))
        start = time.monotonic() + 0.5 + p.warmup_seconds
        end = start + p.level_seconds
        for i, part in enumerate(split(specs, len(workers))):
            workers.send(i, "issue", count=len(part), start=start, end=end, warmup=p.warmup_seconds)
        _sleep_until(start)
        meter = Meter(server.pid, workers.pids)
        _sleep_until(end)
        cpu = meter.stop()
        answers = [workers.receive(i) for i in range(len(workers))]
        ended = time.time()
        latencies = [x for a in answers for x in a["latencies"]]
        errors = sum((Counter(a["errors"]) for a in answers), Counter())
        found: dict[str, Any] = {
            "subscribers": len(hooks), **latency_summary(latencies),
            "per_second": len(latencies) / p.level_seconds, "errors": dict(errors), **cpu,
            "rss_mb": rss_mb(server.pid),
        }
        if control is not None and normal:
            found.update(_delivery_lag(db, control, normal, ended))
        return found
    finally:
        workers.stop()
        server.stop()


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _wait_for_subscriptions(db: Path, ids: list[str], timeout: float = 30.0) -> None:
    """Until the outbox process has taken up every subscription (its cursor exists)."""
    outbox = db.parent / "outbox.sqlite"
    deadline = time.monotonic() + timeout
    while ids:
        if outbox.exists():
            conn = sqlite3.connect(outbox.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                names = {row[0] for row in conn.execute("select consumer from cursors")}
            except sqlite3.OperationalError:
                names = set()
            finally:
                conn.close()
            if {f"webhook:{i}" for i in ids} <= names:
                return
        if time.monotonic() > deadline:
            raise BenchError(f"the outbox process did not take up {ids} within {timeout:.0f} s")
        time.sleep(0.1)


def _delivery_lag(db: Path, control: int, normal: list[int], ended: float) -> dict[str, Any]:
    """How long after the load the normal receivers had the last event, and what each got."""
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    (last,) = conn.execute("select max(seq) from events").fetchone()
    conn.close()
    deadline = time.monotonic() + LAG_TIMEOUT
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{control}/stats?upto={last}", timeout=5) as reply:
            stats = json.loads(reply.read())
        arrived = [stats[str(port)]["upto_at"] for port in normal]
        if all(at is not None for at in arrived) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    lag = max(arrived) - ended if all(at is not None for at in arrived) else None
    return {"last_event": last, "delivery_lag_s": lag, "receivers": stats}


TARGET = 0.10  # with 5 subscribers, throughput and p99 within 10 % of without


def webhooks_lines(w: dict[str, Any] | None) -> list[str]:
    """The WEBHOOKS section of the report: without and with five subscribers, the ratios
    against the 10 % target, and the normal receivers' delivery lag after the load."""
    if not w:
        return []
    without, with_hooks, ratio = w["without"], w["with"], w["ratio_with_over_without"]
    rows = [("FIGURE", "WITHOUT", "WITH 5", "RATIO", "TARGET", "")]
    throughput = ratio["per_second"]
    rows.append(("issued per second", f"{without['per_second']:.0f}", f"{with_hooks['per_second']:.0f}",
                 f"×{throughput:.2f}" if throughput else "—", "≥ ×0.90",
                 "PASS" if throughput and throughput >= 1 - TARGET else "MISS"))
    for key, label, check in (("p50_ms", "issue p50", False), ("p99_ms", "issue p99", True)):
        value = ratio[key]
        rows.append((label, f"{without[key]:.1f} ms", f"{with_hooks[key]:.1f} ms",
                     f"×{value:.2f}" if value else "—", "≤ ×1.10" if check else "",
                     ("PASS" if value and value <= 1 + TARGET else "MISS") if check else ""))
    lag = with_hooks.get("delivery_lag_s")
    rows.append(("delivery lag after the load (normal receivers)", "", "—" if lag is None else f"{lag:.2f} s",
                 "", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    return ["", f"WEBHOOKS ({w['kiosks']} kiosks; 3 normal receivers, one answering in 2 s, one refusing; "
                f"median of {w.get('rounds', 1)} runs each)",
            *table]
