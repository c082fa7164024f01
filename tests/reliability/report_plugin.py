"""Headline figures of the reliability tests, printed at the end of the pytest run.

Tests call ``record(name, figures, summary)``; the terminal summary lists every figure
recorded in the session, and the whole set is written as JSON to
``$XEPHANG_RELIABILITY_REPORT`` (default: <tmp>/xephang-reliability.json), which
scripts/reliability.sh keeps and docs/reliability.md quotes.

Enable it with ``pytest_plugins = ["tests.reliability.report_plugin"]`` in tests/conftest.py;
until then the ``reliability_report`` fixture registers it on first use.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

_RESULTS: dict[str, dict[str, Any]] = {}
PLUGIN_NAME = "xephang-reliability-report"


def record(name: str, summary: str, **figures: Any) -> None:
    """Keep one test's headline figures (``summary`` is the line printed at the end)."""
    _RESULTS[name] = {"summary": summary, "recorded_at": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}


def report_path() -> Path:
    default = Path(tempfile.gettempdir()) / "xephang-reliability.json"
    return Path(os.environ.get("XEPHANG_RELIABILITY_REPORT", default))


class _Reporter:
    @staticmethod
    def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
        if not _RESULTS:
            return
        terminalreporter.section("xephang reliability figures")
        for name, entry in _RESULTS.items():
            terminalreporter.write_line(f"{name}: {entry['summary']}")
        path = report_path()
        try:
            path.write_text(json.dumps(_RESULTS, indent=2, ensure_ascii=False, default=str) + "\n")
            terminalreporter.write_line(f"(all figures: {path})")
        except OSError as exc:
            terminalreporter.write_line(f"(could not write {path}: {exc.strerror})")


def pytest_configure(config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(_Reporter(), PLUGIN_NAME)


@pytest.fixture
def reliability_report(request):
    """``reliability_report(name, summary, **figures)``; registers the summary hook if needed."""
    pytest_configure(request.config)
    return record
