"""How long and how big a benchmark run is: ``full`` (the figures), ``quick``, ``smoke`` (CI)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from bench.centre import PROVINCE, SMALL, Scale


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
    app_taps: int = 12  # kiosk taps timed to the printer
    app_calls: int = 3  # display calls (each also recalled) per chime setting
    # The history phase: a generated history (bench.history, cached) and what runs on it.
    history_scale: Scale = PROVINCE
    history_start: date = date(2025, 12, 1)
    history_end: date = date(2026, 11, 30)
    history_rounds: int = 3  # server starts and report timings
    history_kiosks: int = 10
    history_rate: float = 10.0  # tickets a second, from all the kiosks
    history_load_seconds: float = 20.0  # each window: baseline, with reports, with exports
    # The booking phase (bench.booking_phase): day + 7 opens and everybody books at once.
    booking_attempts: int = 5000
    booking_places: int = 500  # one service's day: 10 slots
    booking_people: int = 2000  # 2 or 3 attempts each, each on a phone of their own


PROFILES = {
    "full": Profile("full"),
    "quick": Profile("quick", level_seconds=3.0, warmup_seconds=0.5, seed_province=500,
                     seed_commune=50, call_seconds=6.0, settle_seconds=3.0, idle_seconds=6.0,
                     sqlite_commits=500, echo_seconds=2.0, app_taps=8, app_calls=2,
                     history_scale=replace(PROVINCE, communes=10), history_start=date(2026, 9, 1),
                     history_rounds=1, history_load_seconds=6.0),
    # CI: a handful of clients, a fraction of a second per phase; checks the machinery only.
    "smoke": Profile("smoke", scale=SMALL, levels=(1, 3), level_seconds=0.4, warmup_seconds=0.1,
                     seed_province=12, seed_commune=4, fanout_clients=40, call_rate=8.0,
                     call_seconds=0.6, idle_clients=44, settle_seconds=0.2, idle_seconds=0.4,
                     sqlite_commits=20, echo_seconds=0.3, apps=False,
                     history_scale=SMALL, history_start=date(2026, 11, 16), history_rounds=1,
                     history_kiosks=3, history_rate=5.0, history_load_seconds=1.0,
                     booking_attempts=50, booking_places=20, booking_people=20),
}
