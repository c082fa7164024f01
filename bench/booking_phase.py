"""The booking phase: bookings for a popular service open for day + 7 and everybody books at
once (issue 14: 5,000 attempts within a minute for 500 places).

One server (the small province's configuration) whose first site's first service takes
appointments: 24-hour issuing days cut into 10 slots of 144 minutes, ``places / 10`` places
each, none kept for walk-ins, at most 2 bookings per person a day. Each person is an
anonymous phone on ``/ws/public`` from its own loopback address (the server paces the
booking messages per address and per CCCD number, as it should for real phones). The phones
first read the day's slots (``booking_slots``: the baseline, a read through the same
connections and handlers, the same number of requests), then rush: each person books 2 or 3
times in a row, slots drawn with the morning most wanted, while brokers send their one CCCD
number from 5 phones at once for the last two slots (bench.booking_load). Every attempt's
latency counts, accepted or refused.

Afterwards the server's database is read: no slot holds more than its places (none sold
twice), no CCCD holds more than 2 bookings of the day, and the bookings in the table are
exactly the ones the clients were told were accepted.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from websockets.sync.client import connect

from bench import booking_load
from bench.centre import SMALL, build_centre
from bench.processes import BenchError, free_port, queue_server
from bench.procstat import Meter
from bench.stats import latency_summary
from bench.workers import Workers, split

log = logging.getLogger("bench")

SITE, SERVICE = "tinh", "TP"
SLOTS = 10  # 24 h / 144 min
SLOT_MINUTES = 144
DAYS_AHEAD = 7
PER_PERSON = 2
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WITHIN_SECONDS = 60.0  # the issue: 5,000 attempts within a minute
BROKER_PHONES, BROKER_ATTEMPTS = 5, 2  # a broker's phones, each booking at once with its CCCD


def booking_config(text: str, places: int) -> str:
    """The bench centre's file with its first service taking appointments (``places`` a day)."""
    booking = "\n".join([
        "", "[sites.services.booking]", "bookable = true", f"slot_minutes = {SLOT_MINUTES}",
        f"places_per_slot = {places // SLOTS}", "walk_in_share = 0.0", f"days_ahead = {DAYS_AHEAD}",
        f"per_person_per_day = {PER_PERSON}"])
    head, marker, rest = text.partition("numbering = ")
    line, newline, tail = rest.partition("\n")
    if not marker:
        raise BenchError("the bench centre has no service to take appointments")
    return head + marker + line + booking + newline + tail


def people(attempts: int, phones: int) -> list[dict[str, Any]]:
    """Who books from ``phones`` phones, ``attempts`` attempts between them: one broker per
    40 phones (at least one), each with ``BROKER_PHONES`` phones making
    ``BROKER_ATTEMPTS`` attempts each at once with its one CCCD number; on the other phones
    one person each, making 2 or 3 attempts."""
    brokers = max(1, phones // 40)
    crowd = phones - brokers * BROKER_PHONES
    extra = attempts - brokers * BROKER_PHONES * BROKER_ATTEMPTS - 2 * crowd
    if crowd < 1 or not 0 <= extra <= crowd:
        raise BenchError(f"{attempts} attempts cannot be shared by {phones} phones as 2 or 3 each "
                         f"besides {brokers} brokers")
    made = [booking_load.person(i, BROKER_ATTEMPTS, broker=True, phone=k)
            for i in range(brokers) for k in range(BROKER_PHONES)]
    made += [booking_load.person(brokers + i, 3 if i < extra else 2) for i in range(crowd)]
    return made


def _slots(port: int, day: str) -> list[str]:
    with connect(f"ws://127.0.0.1:{port}/ws/public", open_timeout=30) as ws:
        ws.send(json.dumps({"type": "booking_slots", "id": 1, "site": SITE, "service": SERVICE, "day": day}))
        while True:
            reply = json.loads(ws.recv(timeout=30))
            if reply.get("re") == 1:
                break
    if reply["type"] != "booking_slots":
        raise BenchError(f"booking_slots refused: {reply}")
    return [slot["start"] for slot in reply["slots"] if slot["left"] > 0]


def check_database(db: Path, accepted: list[tuple[str, str, str]], places: int) -> dict[str, Any]:
    """What the database holds against what the clients were told."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        per_slot = dict(conn.execute(
            "select slot_start, count(*) from bookings where site = ? and service = ? "
            "and status in ('booked', 'checked_in') group by slot_start", (SITE, SERVICE)).fetchall())
        over_person = conn.execute(
            "select count(*) from (select cccd_hash from bookings where status != 'cancelled' "
            "group by cccd_hash, day having count(*) > ?)", (PER_PERSON,)).fetchone()[0]
        stored = {code for (code,) in conn.execute("select code from bookings where status = 'booked'")}
    finally:
        conn.close()
    told = [code for code, _, _ in accepted]
    per_cccd = Counter(cccd for _, cccd, _ in accepted)
    return {
        "sold": sum(per_slot.values()),
        "over_capacity_slots": sum(1 for n in per_slot.values() if n > places // SLOTS),
        "sold_twice": max(0, sum(per_slot.values()) - places) + len(told) - len(set(told)),
        "over_person_limit": over_person + sum(1 for n in per_cccd.values() if n > PER_PERSON),
        "unconfirmed": len(stored ^ set(told)),  # stored but never told, or told but not stored
    }


def _phones(count: int) -> list[dict[str, Any]]:
    """Anonymous clients, each from its own loopback address (as bench.phases.with_addresses)."""
    return [{"kind": "public", "ip": f"127.{1 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"}
            for n in range(count)]


def phase_booking(run: Any) -> None:
    """(``run`` is ``bench.phases.Run``; typed loosely to keep the import one-way.)"""
    p = run.profile
    port = free_port()
    text, population = build_centre(SMALL, port=port, data_dir=str(run.directory / "data-booking"))
    config = run.directory / "booking.toml"
    config.write_text(booking_config(text, p.booking_places), encoding="utf-8")
    db = run.directory / "booking.db"
    server = queue_server(config, db, port, run.directory / "booking.log")
    server.start()
    crowd = people(p.booking_attempts, p.booking_people)
    workers = Workers(min(p.workers, len(crowd)), f"ws://127.0.0.1:{port}/ws/public", population.password)
    try:
        specs = _phones(len(crowd))
        answers = workers.each("connect", [{"specs": part} for part in split(specs, len(workers))])
        connected = sum(a["connected"] for a in answers)
        if connected < len(specs):
            failures = sum((Counter(a["failures"]) for a in answers), Counter())
            raise BenchError(f"only {connected} of {len(specs)} phones connected: {dict(failures)}")
        day = (datetime.now(TIMEZONE).date() + timedelta(days=DAYS_AHEAD)).isoformat()
        starts = _slots(port, day)
        if len(starts) != SLOTS:
            raise BenchError(f"expected {SLOTS} open slots on {day}, the server offers {len(starts)}")
        log.info("booking: baseline, %d booking_slots reads from %d phones", p.booking_attempts, len(crowd))
        go = time.monotonic() + 0.5
        shares = [len(part) for part in split(list(range(p.booking_attempts)), len(workers))]
        reads = workers.each("slot_reads", [{"reads": n, "site": SITE, "service": SERVICE, "day": day,
                                             "start": go} for n in shares])
        baseline = latency_summary([x for a in reads for x in a["latencies"]])
        persons = len({who["cccd"] for who in crowd})
        log.info("booking: %d attempts by %d people for %d places", p.booking_attempts, persons,
                 p.booking_places)
        go = time.monotonic() + 0.5
        meter = Meter(server.pid, workers.pids)
        with run.sampling(server, "booking"):
            answers = workers.each("booking_rush", [
                {"people": part, "site": SITE, "service": SERVICE, "starts": starts, "start": go}
                for part in split(crowd, len(workers))])
        cpu = meter.stop()
        seconds = max(a["last"] for a in answers) - go
        latencies = [x for a in answers for x in a["latencies"]]
        accepted = [tuple(x) for a in answers for x in a["accepted"]]
        errors = sum((Counter(a["errors"]) for a in answers), Counter())
        rush = latency_summary(latencies)
        run.results["booking"] = {
            "attempts": len(latencies), "people": persons, "clients": len(crowd),
            "brokers": len({who["cccd"] for who in crowd if who["broker"]}),
            "places": p.booking_places, "seconds": seconds, "within_seconds": WITHIN_SECONDS,
            "accepted": len(accepted), "refused": dict(errors), **rush, "baseline": baseline,
            "baseline_errors": dict(sum((Counter(a["errors"]) for a in reads), Counter())),
            "p99_ratio": rush["p99_ms"] / baseline["p99_ms"] if baseline["p99_ms"] else None,
            **check_database(db, accepted, p.booking_places), **cpu,
        }
    finally:
        workers.stop()
        server.stop()


def booking_lines(b: dict[str, Any] | None) -> list[str]:
    """The BOOKING section of the printed report."""
    if not b:
        return []

    def ms(value: float) -> str:
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    base = b["baseline"]
    ratio = f"×{b['p99_ratio']:.1f}" if b.get("p99_ratio") else "—"
    refused = ", ".join(f"{code} {n}" for code, n in sorted(b["refused"].items())) or "none"
    in_time = verdict(b["seconds"] <= b["within_seconds"])
    broken = ("sold_twice", "over_capacity_slots", "over_person_limit", "unconfirmed")
    held = verdict(not any(b[k] for k in broken))
    return [
        "", "BOOKING (day + 7 opens: everybody books at once)",
        f"  {b['attempts']} attempts by {b['people']} people ({b['brokers']} brokers on 5 phones each) "
        f"on {b['clients']} phones for "
        f"{b['places']} places: done in {b['seconds']:.1f} s (≤ {b['within_seconds']:.0f} s: {in_time})",
        f"  accepted {b['accepted']}, sold {b['sold']} of {b['places']}; refused: {refused}",
        f"  sold twice {b['sold_twice']}, slots over their places {b['over_capacity_slots']}, people over "
        f"{PER_PERSON} a day {b['over_person_limit']}, told ≠ stored {b['unconfirmed']}: {held}",
        f"  book latency p50 {ms(b['p50_ms'])}, p99 {ms(b['p99_ms'])}, max {ms(b['max_ms'])}; baseline "
        f"booking_slots read (same phones, just before) p50 {ms(base['p50_ms'])}, p99 {ms(base['p99_ms'])}: "
        f"p99 {ratio}",
        f"  server CPU {b['server_cpu_percent']:.0f} % during the rush, load generators "
        f"{b['loadgen_cpu_percent']:.0f} %, other processes {b['other_cpu_percent']:.0f} %",
    ]
