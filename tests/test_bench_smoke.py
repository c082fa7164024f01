"""The benchmark's machinery still works: a tiny run of every phase (``--profile smoke``).

Not a timed assertion: the figures of a few clients for a fraction of a second on a
shared CI machine mean nothing. What must hold is that every phase runs the real server
and load-generator processes, that every request is answered without an error, that
every call reaches every display and counter of its site, and that the report and the
JSON file come out. ``xephang bench`` itself is documented in docs/performance.md.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from bench import apps, report
from bench.centre import SMALL, build_centre
from bench.phases import Run, phase_apps
from bench.profiles import PROFILES
from bench.run import main
from common.config import parse_config


def test_the_generated_province_is_a_valid_configuration():
    text, population = build_centre(port=8765, data_dir="data")
    config = parse_config(text)
    assert len(config.sites) == 101
    assert (population.counters, population.kiosks, population.displays) == (1000, 300, 150)
    assert sum(len(s.counters) for s in config.sites) == 1000
    assert len({u.password_hash for u in config.users}) == 1  # hashed once
    small = parse_config(build_centre(SMALL, port=8765, data_dir="data")[0])
    assert len(small.sites) == 5


def test_the_command_line_defaults_to_the_full_profile():
    from bench.run import build_parser

    assert build_parser().parse_args([]).profile == "full"
    assert build_parser().parse_args(["--quick"]).profile == "quick"
    assert build_parser().parse_args(["--profile", "smoke"]).profile == "smoke"


def test_a_smoke_run_measures_every_phase(tmp_path: Path, capsys):
    out = tmp_path / "bench.json"
    assert main(["--profile", "smoke", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    results = json.loads(out.read_text(encoding="utf-8"))  # strict JSON (no NaN)

    assert results["sqlite"]["count"] > 0 and results["sqlite"]["per_second"] > 0
    assert {f"echo_{n}" for n in PROFILES["smoke"].levels} <= results.keys()
    assert results["echo_idle"]["rss_mb"] > 0

    for level in results["issuing"]:
        assert level["count"] > 0, level
        assert level["errors"] == {}, level
        assert level["p99_ms"] >= level["p50_ms"] > 0

    province = results["province"]
    assert province["seed"]["errors"] == {}
    assert province["seed"]["issued"] == 12 + 4 * 4  # the provincial centre + 4 communes
    fanout = province["fanout"]
    assert fanout["calls"] > 0 and fanout["errors"] == {}
    assert fanout["deliveries"] == fanout["expected_deliveries"]  # every display and counter
    assert fanout["dropped_connections"] == 0
    assert province["idle"]["clients"] == PROFILES["smoke"].idle_clients
    assert province["idle"]["rss_mb"] > province["rss_empty_mb"] > 0

    webhooks = results["webhooks"]  # issue 16: every event reached the normal receivers
    assert webhooks["without"]["errors"] == {} and webhooks["with"]["errors"] == {}
    assert webhooks["with"]["delivery_lag_s"] is not None and "WEBHOOKS" in printed

    booking = results["booking"]  # issue 14: none sold twice, nobody over the limit
    assert booking["accepted"] == booking["sold"] > 0 and booking["sold_twice"] == 0
    assert booking["over_person_limit"] == 0 and "BOOKING" in printed

    for heading in ("BASELINES", "issue throughput", "call fan-out p99", "server RSS", "DETAILS"):
        assert heading in printed
    assert "Traceback" not in printed


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="the display's voice needs espeak-ng")
def test_the_app_measurements_run_the_real_kiosk_and_display(tmp_path: Path):
    run = Run(dataclasses.replace(PROFILES["smoke"], app_taps=2, app_calls=1), tmp_path)
    phase_apps(run)
    measured = run.results["apps"]
    assert "skipped" not in measured.get("print", {}), measured
    assert "skipped" not in measured.get("announce", {}), measured
    assert measured["print"]["count"] >= 1 and measured["print"]["job_kib"] > 10  # a raster ticket
    assert measured["announce"]["first_sound"]["count"] == 4  # call + recall, chime on and off
    assert "kiosk tap" in report.render({"apps": measured})
    assert apps.summarise({}) == {"raw": {}}
