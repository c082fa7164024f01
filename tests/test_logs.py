"""The JSON log keeps one entry per line whatever a client's text holds, and a record
repeated in a flood is written once per interval with a count of what was left out."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from common.logs import JsonFormatter, RepeatFilter, setup_logging

BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("text", BREAKS)
def test_a_line_break_of_any_kind_in_a_message_stays_inside_its_line(text: str) -> None:
    detail = f"giấy hết{text}£<\x12"
    record = logging.LogRecord("server.handlers", logging.WARNING, __file__, 1,
                               "printer of %s reports offline: %s", ("kiosk-1", detail), None)
    line = JsonFormatter().format(record)
    assert line.splitlines() == [line]
    assert json.loads(line)["message"] == f"printer of kiosk-1 reports offline: {detail}"
    assert "giấy hết" in line  # Vietnamese is written as it is, not escaped


# -- repeated records are rate-limited -------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def warning(msg: str, *args: object, name: str = "server.http", level: int = logging.WARNING,
            exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_the_first_record_of_a_kind_passes_then_one_per_interval_with_what_was_dropped() -> None:
    ticks = Ticks()
    repeats = RepeatFilter(interval=10.0, clock=ticks)
    assert repeats.filter(warning("dropped a connection from %s", "10.0.0.7"))
    passed = []
    for i in range(850):  # one hostile client, for a second
        ticks.now += 1 / 850
        passed.append(repeats.filter(warning("dropped a connection from %s", f"10.0.0.{i % 250}")))
    assert not any(passed)
    ticks.now += 10  # 11 s after the first one
    late = warning("dropped a connection from %s", "10.0.0.9")
    assert repeats.filter(late)
    assert late.getMessage() == ("dropped a connection from 10.0.0.9 "
                                 "[850 more like this were not logged in the last 11 s]")
    assert late.suppressed == 850  # type: ignore[attr-defined]
    ticks.now += 1
    assert not repeats.filter(warning("dropped a connection from %s", "10.0.0.9"))
    ticks.now += 10
    quiet = warning("dropped a connection from %s", "10.0.0.9")
    assert repeats.filter(quiet)
    assert quiet.getMessage().endswith("[1 more like this were not logged in the last 11 s]")


def test_kinds_are_told_apart_by_logger_template_and_level() -> None:
    repeats = RepeatFilter(interval=10.0, clock=Ticks())
    assert repeats.filter(warning("printer of %s reports %s", "k1", "offline"))
    assert not repeats.filter(warning("printer of %s reports %s", "k2", "paper_out"))  # same template
    assert repeats.filter(warning("printer of %s reports %s", "k1", "offline", name="server.app"))
    assert repeats.filter(warning("printer of %s reports %s", "k1", "offline", level=logging.ERROR))
    assert repeats.filter(warning("checkpoint failed: %s", "disk I/O error"))


def test_records_below_warning_are_never_held_back() -> None:
    repeats = RepeatFilter(interval=10.0, clock=Ticks())
    assert all(repeats.filter(warning("serving on %s", "x", level=logging.INFO)) for _ in range(100))


def test_a_suppressed_record_takes_its_traceback_with_it_and_a_passing_one_keeps_it() -> None:
    repeats = RepeatFilter(interval=10.0, clock=Ticks())
    try:
        raise AssertionError
    except AssertionError:
        exc_info = sys.exc_info()
    first = warning("unexpected internal error", level=logging.ERROR, exc_info=exc_info)
    assert repeats.filter(first) and first.exc_info == exc_info
    assert not repeats.filter(warning("unexpected internal error", level=logging.ERROR, exc_info=exc_info))


def test_one_record_through_several_handlers_is_judged_once() -> None:
    """setup_logging shares one filter between stderr and the log file: the file must not lose
    a record because stderr's handler already counted it."""
    repeats = RepeatFilter(interval=10.0, clock=Ticks())
    seen: list[list[str]] = [[], []]
    logger = logging.getLogger("tests.repeat.handlers")
    logger.propagate = False
    for lines in seen:
        handler = logging.Handler()
        handler.emit = lambda record, lines=lines: lines.append(record.getMessage())  # type: ignore[method-assign]
        handler.addFilter(repeats)
        logger.addHandler(handler)
    try:
        for _ in range(5):
            logger.warning("cannot accept a connection: %s", "Too many open files")
    finally:
        logger.handlers.clear()
    assert seen == [["cannot accept a connection: Too many open files"]] * 2


def test_the_table_of_kinds_stays_bounded() -> None:
    repeats = RepeatFilter(interval=10.0, clock=Ticks(), max_kinds=100)
    for i in range(1000):  # messages built with their values inside, e.g. asyncio's
        assert repeats.filter(warning(f"Task was destroyed but it is pending! task: <Task {i}>"))
    assert len(repeats) <= 100


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_setup_logging_rate_limits_the_log_file(tmp_path: Path, root_logging) -> None:
    log_file = tmp_path / "server.log"
    setup_logging("info", log_file)
    logging.getLogger("server.cli").info("serving on %s", "127.0.0.1:8765")
    for i in range(1000):
        logging.getLogger("server.http").warning("dropped a connection from %s", f"10.0.0.{i % 250}")
    logging.getLogger("server.cli").info("shutting down")
    messages = [json.loads(line)["message"] for line in log_file.read_text("utf-8").splitlines()]
    assert messages == ["serving on 127.0.0.1:8765", "dropped a connection from 10.0.0.0", "shutting down"]
