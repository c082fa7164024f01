"""Work around a reference-count bug of the PySide6 6.12 wheels on CPython 3.11.

The wheels are built for the stable ABI of Pythons where ``None``, ``True`` and ``False``
are immortal (PEP 683, CPython 3.12+), so wrapped calls return them without taking a
reference: every void Qt call (``setText``, ``setEnabled``, ``processEvents`` …) drops one
reference to ``None`` and every ``Signal.emit`` one to ``True``. On 3.11 a Qt app then
aborts after a few thousand calls ("Fatal Python error: none_dealloc"/"bool_dealloc") —
minutes for a window with a one-second timer. Giving the three singletons the huge
reference count that 3.12 gives them makes the lost references harmless.

Call ``immortalize_singletons()`` once, before the first Qt call; it is idempotent and does
nothing on CPython 3.12+ or other interpreters.
"""

from __future__ import annotations

import ctypes
import platform
import sys

IMMORTAL_REFCOUNT = 1 << 60  # never reached by lost references, far from overflow


def immortalize_singletons() -> bool:
    """Make None/True/False effectively immortal; True when a change was needed."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object (non-debug builds).
        ctypes.c_ssize_t.from_address(id(singleton)).value = IMMORTAL_REFCOUNT
    return True
