"""Logging set-up shared by every command: one JSON object per line, optional rotation, and
repeated records rate-limited (``RepeatFilter``)."""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# Characters JSON leaves as they are but line readers (str.splitlines, many log tools) take
# for line breaks; a client's text containing one would split a log line in two.
_LINE_BREAKS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line, whatever the message holds (Vietnamese stays readable)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False).translate(_LINE_BREAKS)


REPEAT_INTERVAL = 10.0  # seconds: at most one record of a kind per interval once it repeats


class RepeatFilter(logging.Filter):
    """Rate-limits repeated records: the first record of a kind (same logger, message template
    and level) passes, then at most one per ``interval`` seconds; the next one to pass says how
    many were left out (``[N more like this were not logged in the last T s]``, and its
    ``suppressed`` attribute). A client that makes the server warn 850 times a second, or an
    ``accept()`` failing on every attempt, then writes a line every few seconds, not a disk full.

    Records below ``min_level`` (default WARNING: the operational trace at INFO) always pass.
    One instance may sit on several handlers: each record is judged once, and every handler
    gets the same verdict. At most ``max_kinds`` kinds are remembered (messages built with their
    values inside are each a kind of their own); the least recently seen are forgotten first.
    """

    def __init__(self, interval: float = REPEAT_INTERVAL, *, min_level: int = logging.WARNING,
                 max_kinds: int = 1000, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.min_level, self.max_kinds, self.clock = interval, min_level, max_kinds, clock
        # (logger, template, level) → [when one last passed, how many held back since]
        self._kinds: OrderedDict[tuple[str, str, int], list[float | int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kinds)

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = record.__dict__.get("_repeat_verdict")
        if verdict is None:
            verdict = record.__dict__["_repeat_verdict"] = self._judge(record)
        return verdict

    def _judge(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        kind = (record.name, str(record.msg), record.levelno)
        now = self.clock()
        seen = self._kinds.get(kind)
        if seen is None:
            self._kinds[kind] = [now, 0]
            while len(self._kinds) > self.max_kinds:
                self._kinds.popitem(last=False)
            return True
        self._kinds.move_to_end(kind)
        passed_at, held = seen
        if now - passed_at < self.interval:
            seen[1] = held + 1
            return False
        seen[0], seen[1] = now, 0
        if held:
            record.msg = (f"{record.getMessage()} "
                          f"[{held} more like this were not logged in the last {now - passed_at:.0f} s]")
            record.args = None
            record.suppressed = held
        return True


def setup_logging(level: str = "info", file: str | Path | None = None, *, json_lines: bool = True) -> None:
    """Log to stderr, and to ``file`` rotated at 10 MB keeping 10 files, if given; a record
    that repeats is written at most once per ``REPEAT_INTERVAL`` (``RepeatFilter``)."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter: logging.Formatter = JsonFormatter() if json_lines else plain
    repeats = RepeatFilter()  # one for every handler: a record is judged once
    stream = logging.StreamHandler()
    stream.setFormatter(formatter)
    stream.addFilter(repeats)
    root.addHandler(stream)
    if file is not None:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            file, maxBytes=10 * 1024 * 1024, backupCount=10, encoding="utf-8"
        )
        rotating.setFormatter(JsonFormatter())
        rotating.addFilter(repeats)
        root.addHandler(rotating)
    logging.getLogger("websockets").setLevel(logging.WARNING)
