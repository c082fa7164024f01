"""Every exception class the project defines sits in the one documented tree
(common/errors.py): under XephangError, through exactly the intended layer root."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from common import errors
from common.errors import AppError, BenchError, CommonError, ServerError, XephangError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "server", "kiosk", "counter", "display", "xephang", "bench")
LAYER_ROOTS = (CommonError, ServerError, AppError, BenchError)

# Each class by name (names stay importable wherever a restructuring moves the module).
INTENDED: dict[str, type[XephangError]] = {
    "ProtocolError": CommonError,
    "Rejected": CommonError,
    "ConfigError": CommonError,
    "PrinterConfigError": CommonError,
    "CccdQrError": CommonError,
    "StoreError": ServerError,
    "ProvinceReportError": ServerError,
    "RetentionError": ServerError,
    "ReportsBusy": ServerError,
    "StaleSettings": ServerError,
    "BadStoredSettings": ServerError,
    "PairingBusy": ServerError,
    "ApiError": ServerError,
    "ClientError": AppError,
    "Offline": AppError,
    "RequestFailed": AppError,
    "PrinterError": AppError,
    "TakeError": AppError,
    "Refused": BenchError,
    "DecodeError": BenchError,
    "_Incomplete": BenchError,  # bench/escpos_decode.py's "more bytes needed", never leaves it
}
# What callers rely on besides the tree: parse errors stay ValueErrors, the link's are ClientErrors.
ALSO = {
    "PrinterConfigError": ValueError,
    "CccdQrError": ValueError,
    "DecodeError": ValueError,
    "Offline": "ClientError",
    "RequestFailed": "ClientError",
}


def _defined_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            if info.name.rsplit(".", 1)[-1] == "__main__":
                continue  # runs the program
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if (inspect.isclass(value) and issubclass(value, BaseException)
                        and value.__module__ == module.__name__):
                    assert name not in found or found[name] is value, f"two exceptions named {name}"
                    found[name] = value
    return found


@pytest.fixture(scope="module")
def defined() -> dict[str, type[BaseException]]:
    return _defined_exceptions()


def test_the_roots():
    assert XephangError.__bases__ == (Exception,)
    for root in LAYER_ROOTS:
        assert root.__bases__ == (XephangError,), root


def test_every_exception_has_exactly_its_intended_root(defined):
    roots = {XephangError, *LAYER_ROOTS}
    assert roots <= set(defined.values())
    unplaced = sorted(set(defined) - set(INTENDED) - {root.__name__ for root in roots})
    assert not unplaced, f"put these in the tree (common/errors.py, docs, INTENDED here): {unplaced}"
    assert not set(INTENDED) - set(defined), "INTENDED names a class that no longer exists"
    for name, intended in INTENDED.items():
        cls = defined[name]
        assert issubclass(cls, XephangError), name
        assert [root for root in LAYER_ROOTS if issubclass(cls, root)] == [intended], name


def test_what_callers_rely_on_still_holds(defined):
    for name, base in ALSO.items():
        base_class = defined[base] if isinstance(base, str) else base
        assert issubclass(defined[name], base_class), (name, base_class)


def test_the_tree_is_documented(defined):
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in defined:
        if not name.startswith("_"):
            assert name in errors.__doc__, f"{name} is missing from common/errors.py's tree"
            assert name in architecture, f"{name} is missing from docs/architecture.md"


def test_old_import_paths_still_work():
    from bench.processes import BenchError as from_bench
    from common.client import ClientError, Offline, RequestFailed
    from common.config import ConfigError
    from common.printer_uri import PrinterConfigError
    from common.protocol import ProtocolError
    from server.store import StoreError

    assert from_bench is BenchError
    assert all(issubclass(cls, XephangError) for cls in (
        ClientError, Offline, RequestFailed, ConfigError, PrinterConfigError, ProtocolError, StoreError))
