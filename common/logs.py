"""Logging set-up shared by every command: one JSON object per line, optional rotation."""

from __future__ import annotations

import json
import logging
import logging.handlers
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


def setup_logging(level: str = "info", file: str | Path | None = None, *, json_lines: bool = True) -> None:
    """Log to stderr, and to ``file`` rotated at 10 MB keeping 10 files, if given."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level.upper())
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter: logging.Formatter = JsonFormatter() if json_lines else plain
    stream = logging.StreamHandler()
    stream.setFormatter(formatter)
    root.addHandler(stream)
    if file is not None:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            file, maxBytes=10 * 1024 * 1024, backupCount=10, encoding="utf-8"
        )
        rotating.setFormatter(JsonFormatter())
        root.addHandler(rotating)
    logging.getLogger("websockets").setLevel(logging.WARNING)
