"""The JSON log keeps one entry per line whatever a client's text holds."""

from __future__ import annotations

import json
import logging

import pytest

from common.logs import JsonFormatter

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
