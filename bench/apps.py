"""App-level latencies: kiosk tap → printer bytes, display call → announcement playing."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def measure(directory: Path) -> dict[str, Any]:
    return {"skipped": "not written yet"}
