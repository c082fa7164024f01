"""App-level latencies: kiosk tap → printer bytes, display call → announcement playing.

Runs the real kiosk and display apps (``bench.apps_qt``, a separate process on Qt's
offscreen platform) against a fresh server with a small generated centre.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.centre import SMALL, build_centre
from bench.processes import REPO_ROOT, free_port, queue_server
from bench.stats import latency_summary

log = logging.getLogger(__name__)


def measure(directory: Path, *, taps: int = 12, calls: int = 3) -> dict[str, Any]:
    taps = max(taps, 2 * calls)  # the display's calls call the kiosk's tickets
    port = free_port()
    text, population = build_centre(SMALL, port=port, data_dir=str(directory / "data"))
    config = directory / "apps.toml"
    config.write_text(text, encoding="utf-8")
    server = queue_server(config, directory / "apps.db", port, directory / "apps.log")
    server.start()
    site = population.sites[0]
    user, counter = site.clerks[0]
    out = directory / "apps.json"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.apps_qt", "--url", f"ws://127.0.0.1:{port}/ws",
             # "--x=VALUE": a random token may begin with "-", which argparse takes for an option
             f"--kiosk-token={site.kiosks[0]}", f"--display-token={site.displays[0]}",
             "--clerk", f"{user}:{site.code}:{counter}", "--password", population.password,
             "--taps", str(taps), "--calls", str(calls), "--cache", str(directory / "speech"),
             "--out", str(out)],
            cwd=REPO_ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            capture_output=True, text=True, timeout=600,
        )
    except subprocess.TimeoutExpired:
        return {"skipped": "the app measurements did not finish in 10 minutes"}
    finally:
        server.stop()
    if done.returncode != 0 or not out.exists():
        log.warning("apps measurement failed:\n%s", done.stderr[-3000:])
        return {"skipped": f"the app measurements failed (exit {done.returncode}); "
                           f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"}
    return summarise(json.loads(out.read_text(encoding="utf-8")))


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"raw": raw}
    kiosk = raw.get("kiosk", {})
    if "total" in kiosk:
        first, rest = kiosk["total"][0], kiosk["total"][1:] or kiosk["total"]
        result["print"] = {
            **latency_summary(rest), "first_ms": first * 1000,
            "reply_p50_ms": latency_summary(kiosk["reply"])["p50_ms"],
            "job_kib": sum(kiosk["job_bytes"]) / len(kiosk["job_bytes"]) / 1024,
            "how": "real kiosk app, loopback TCP printer",
            "note": (f"tap on the tile → job received by the printer; first tap "
                     f"{first * 1000:.0f} ms, then p50 of the server's reply "
                     f"{latency_summary(kiosk['reply'])['p50_ms']:.0f} ms + raster render and "
                     f"{sum(kiosk['job_bytes']) / len(kiosk['job_bytes']) / 1024:.0f} KiB of ESC/POS"),
        }
    elif kiosk.get("skipped"):
        result["print"] = {"skipped": kiosk["skipped"]}
    display = raw.get("display", {})
    if "calls" in display:
        def speech(kind: str, chime: bool) -> list[float]:
            return [c["speech_playing"] for c in display["calls"]
                    if c["kind"] == kind and c["chime"] is chime]

        with_chime = [c for c in display["calls"] if c["chime"]]
        synth = display["synthesis"]
        result["announce"] = {
            "first_sound": latency_summary([c["first_sound"] for c in display["calls"]]),
            "chime_s": with_chime[0]["chime_seconds"] if with_chime else None,
            "speech_after_chime": latency_summary(speech("cold", True) + speech("cached", True)),
            "cold_ms": latency_summary(speech("cold", False))["p50_ms"],
            "cached_p50_ms": latency_summary(speech("cached", False))["p50_ms"],
            "cached_p99_ms": latency_summary(speech("cached", False))["p99_ms"],
            "cold_p99_ms": latency_summary(speech("cold", False))["p99_ms"],
            "synth_cold_ms": synth["cold"] * 1000, "synth_cached_ms": synth["cached"] * 1000,
            "how": "real display app, espeak-ng, QtMultimedia",
        }
        a = result["announce"]
        a["note"] = (f"call received → first sound (the chime) p50 {a['first_sound']['p50_ms']:.0f} ms; "
                     f"with the chime ({a['chime_s'] or 0:.2f} s) the sentence follows at "
                     f"{a['speech_after_chime']['p50_ms']:.0f} ms; without it: cold phrase "
                     f"{a['cold_ms']:.0f} ms, cached {a['cached_p50_ms']:.0f} ms; espeak-ng alone "
                     f"{a['synth_cold_ms']:.0f} ms cold, {a['synth_cached_ms']:.1f} ms cached")
    elif display.get("skipped"):
        result["announce"] = {"skipped": display["skipped"]}
    return result
