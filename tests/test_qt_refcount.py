"""Guard against PySide6 builds that leak references to None/True on this Python.

PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void call and to True
on every signal emit; a Qt app then aborts ("none_dealloc") after a few thousand calls.
pyproject.toml pins a release without the bug; this test fails if one creeps back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    fired = Signal()


def test_void_calls_and_emits_keep_none_and_true_references(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    emitter.fired.connect(lambda: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("A025")
        emitter.fired.emit()
    assert sys.getrefcount(None) - none_before >= -10
    assert sys.getrefcount(True) - true_before >= -10
