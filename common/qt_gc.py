"""Python's cyclic garbage collection on the Qt GUI thread only.

The cyclic collector runs in whichever thread crosses an allocation threshold. When that is
a worker thread (the kiosk's printer rendering a QR code, the display's speech synthesis)
and the garbage holds Qt objects, their destructors run Qt code off the GUI thread. Seen in
the test suite as a deadlock: the printer thread, collecting inside ``QObject::disconnect``
with Qt's signal lock held, waits for the GIL, while the GUI thread holds the GIL and waits
for that lock in ``QObject::connect``. A kiosk would freeze the same way. The remedy is the
one pyqtgraph's ``GarbageCollector`` uses: automatic collection off while the event loop
runs, and a timer on the GUI thread collecting whatever generation is due.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QTimer

CHECK_MS = 500


def collect_due() -> int:
    """Collect the oldest generation whose allocation count is over its threshold (the
    decision the automatic collector makes); returns the generation, or -1 for none."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = -1
    for generation in range(3):
        if counts[generation] > thresholds[generation]:
            due = generation
        else:
            break
    if due >= 0:
        gc.collect(due)
    return due


@contextmanager
def collected_on_gui_thread(interval_ms: int = CHECK_MS) -> Iterator[QTimer]:
    """Inside: no automatic collection; the GUI thread collects every ``interval_ms``.
    Call from the GUI thread, around ``app.exec()``. Automatic collection is back after."""
    was_enabled = gc.isenabled()
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(collect_due)
    gc.disable()
    timer.start()
    try:
        yield timer
    finally:
        timer.stop()
        if was_enabled:
            gc.enable()
