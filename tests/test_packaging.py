"""The distribution installs top-level import names (server, common, kiosk, counter, display,
bench, xephang) that are generic: issue 12 asked for one ``xephang.`` namespace or a reason
why not (docs/architecture.md, "Packaging"). The reason holds only while xephang lives in an
environment of its own; these tests fail the day another installed distribution claims one
of those names, or shadows the checkout's own test helpers."""

from __future__ import annotations

from importlib.metadata import packages_distributions
from pathlib import Path

import tests.helpers

ROOT = Path(__file__).resolve().parent.parent
OURS = {"server", "common", "kiosk", "counter", "display", "bench", "xephang"}


def test_no_other_installed_distribution_provides_our_top_level_names():
    owners = packages_distributions()
    clashes = {name: sorted(set(owners[name]) - {"xephang"}) for name in OURS if name in owners}
    assert {name: others for name, others in clashes.items() if others} == {}
    assert set(owners) >= OURS, "xephang is not installed in this environment (pip install -e .)"


def test_the_test_helpers_are_the_checkouts_own():
    """python-barcode installs a stray top-level ``tests`` package; pytest's rootdir comes
    first on sys.path, so ``tests.helpers`` must still be this checkout's."""
    assert Path(tests.helpers.__file__).resolve().parent == ROOT / "tests"
