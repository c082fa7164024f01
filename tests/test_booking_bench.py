"""The benchmark's booking phase: its centre, its crowd, and a tiny run (``smoke`` profile).

Not a timed assertion (a few phones for a second on a shared machine measure nothing): what
must hold is that the rush runs the real server and load generators, that every attempt is
answered, and that the database afterwards holds no place sold twice and nobody over the
per-person limit, exactly the bookings the phones were told were accepted.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from bench.booking_phase import SLOTS, booking_config, booking_lines, people, phase_booking
from bench.centre import SMALL, build_centre
from bench.phases import PHASES, Run
from bench.profiles import PROFILES
from common.citizen_ids import normalize_cccd, normalize_name, normalize_phone
from common.config import parse_config


def test_the_booking_centre_offers_500_places_of_one_service():
    text, _ = build_centre(SMALL, port=8765, data_dir="data")
    config = parse_config(booking_config(text, 500))
    tp = config.site("tinh").services[0]
    assert tp.code == "TP" and tp.booking.bookable and tp.booking.days_ahead == 7
    assert tp.booking.bookable_places * SLOTS == 500 and tp.booking.per_person_per_day == 2
    assert not any(s.booking.bookable for site in config.sites for s in site.services if s is not tp)


def test_the_crowd_shares_the_attempts_and_is_valid():
    crowd = people(5000, 2000)
    assert len(crowd) == 2000 and sum(p["attempts"] for p in crowd) == 5000
    brokers = [p for p in crowd if p["broker"]]
    assert len(brokers) == 250 and len({p["cccd"] for p in brokers}) == 50  # 5 phones each
    assert {p["attempts"] for p in brokers} == {2}
    others = [p for p in crowd if not p["broker"]]
    assert Counter(p["attempts"] for p in others) == {3: 1000, 2: 750}
    assert len({p["cccd"] for p in crowd}) == 1800 and len({p["seed"] for p in crowd}) == 2000
    for p in crowd[:50] + crowd[-50:]:
        assert normalize_cccd(p["cccd"], date(2026, 12, 7)) == p["cccd"]
        assert normalize_phone(p["phone"]) == p["phone"] and normalize_name(p["name"]) == p["name"]


def test_the_phase_is_part_of_xephang_bench():
    assert PHASES["booking"] is phase_booking


def test_a_small_rush_sells_no_place_twice(tmp_path):
    profile = PROFILES["smoke"]
    run = Run(profile, tmp_path)
    phase_booking(run)
    b = run.results["booking"]
    assert b["attempts"] == profile.booking_attempts and b["clients"] == profile.booking_people
    assert 0 < b["accepted"] == b["sold"] <= profile.booking_places
    assert set(b["refused"]) <= {"slot_full", "person_limit"}, b["refused"]
    assert b["accepted"] + sum(b["refused"].values()) == b["attempts"]
    broken = ("sold_twice", "over_capacity_slots", "over_person_limit", "unconfirmed")
    assert [b[key] for key in broken] == [0, 0, 0, 0]
    assert b["baseline"]["count"] == profile.booking_attempts and b["baseline_errors"] == {}
    assert b["p99_ms"] >= b["p50_ms"] > 0 and b["p99_ratio"] > 0
    printed = "\n".join(booking_lines(b))
    assert "BOOKING" in printed and "sold twice 0" in printed and "PASS" in printed
