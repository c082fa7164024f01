"""Test configurations derived from the bundled example centre, written as TOML files.

``always_open_config`` keeps every site, service, counter, device and user of the example
but issues numbers around the clock at machine pace, has no holidays or daily caps, and picks a fixed-offset
time zone in which it is now around noon, so that no day rollover happens during a run.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from common.assets import asset_path
from common.config import WEEKDAYS

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def example_dict() -> dict[str, Any]:
    return tomllib.loads(Path(asset_path("config", "example.toml")).read_text(encoding="utf-8"))


def noon_timezone(now: datetime | None = None) -> str:
    """A fixed-offset zone (Etc/GMT±N) in which the local time is now between 10:00 and 14:00."""
    hour = (now or datetime.now(UTC)).astimezone(UTC).hour
    offset = (12 - hour + 12) % 24 - 12  # UTC+offset, in -12..+11
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-7 is UTC+7


DIGITS = 6  # prefix numbering in the always-open centre: A000001 … A999999
BLOCK = 10**6  # block numbering: the k-th block service of a site prints (k+1)000001 … (k+1)999999


def always_open(raw: dict[str, Any]) -> dict[str, Any]:
    """Issuing 00:00-24:00 every day, no holidays, no caps, numbering wide enough for a long
    run (a million numbers per service, ranges apart); ``raw`` is changed."""
    raw["timezone"] = noon_timezone()
    # The load drives kiosks at machine pace, far beyond the human pace a centre allows.
    raw.setdefault("server", {}).update(kiosk_issues_per_minute=100_000, kiosk_issue_burst=100_000)
    for site in raw["sites"]:
        site["hours"] = {day: ["00:00-24:00"] for day in WEEKDAYS}
        site["holidays"] = []
        blocks = 0
        for service in site["services"]:
            service.pop("daily_cap", None)
            service.pop("hours", None)
            numbering = service["numbering"]
            if numbering.get("style", "prefix") == "prefix":
                numbering["digits"] = DIGITS
            else:
                blocks += 1
                numbering.update(start=blocks * BLOCK + 1, end=(blocks + 1) * BLOCK - 1)
    return raw


def write_config(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(to_toml(raw), encoding="utf-8")
    return path


def always_open_config(path: Path, **server: Any) -> Path:
    """Write the always-open example centre to ``path``; ``server`` overrides [server] keys."""
    raw = always_open(example_dict())
    raw.setdefault("server", {}).update(server)
    return write_config(path, raw)


# -- a small TOML writer (tomllib only reads) ---------------------------------------------------


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(raw: dict[str, Any]) -> str:
    """Top-level tables and arrays of tables as sections; everything deeper inline."""
    lines: list[str] = []
    sections: list[str] = []
    for name, value in raw.items():
        if isinstance(value, dict):
            sections.append(f"\n[{_key(name)}]")
            sections += [f"{_key(k)} = {_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                sections.append(f"\n[[{_key(name)}]]")
                sections += [f"{_key(k)} = {_value(v)}" for k, v in item.items()]
        else:
            lines.append(f"{_key(name)} = {_value(value)}")
    return "\n".join(lines + sections) + "\n"
