"""The project's exceptions, rooted in one tree, and the stable error codes.

Everything xephang raises on purpose derives from ``XephangError``, through exactly one
root per layer; each class lives beside the code that raises it::

    XephangError
    ├── CommonError                 the shared layer: wire protocol, error codes, configuration
    │   ├── ProtocolError           common/protocol.py: a message that cannot be accepted
    │   ├── Rejected                common/errors.py: a request refused, by a stable code
    │   ├── ConfigError             common/config.py: a configuration file that cannot be used
    │   ├── PrinterConfigError      common/printer_uri.py: a bad printer URI (also a ValueError)
    │   └── CccdQrError             common/cccd_qr.py: scanned text that is no CCCD's QR code
    │                               (also a ValueError)
    ├── ServerError                 the server
    │   ├── StoreError              server/store.py: the database cannot be opened or written
    │   ├── ProvinceReportError     server/province_report.py: a province report's bad range or site
    │   ├── RetentionError          server/retention.py: an archive or prune refused or failed
    │   ├── ReportsBusy             server/report_process.py: too many reports waiting
    │   ├── StaleSettings           server/settings_store.py: settings changed since a change was made
    │   ├── BadStoredSettings       server/settings_store.py: stored settings that do not decode
    │   ├── PairingBusy             server/pairing.py: too many pairing codes pending
    │   └── ApiError                server/api/handlers.py: an integration API request refused (HTTP)
    ├── AppError                    the client side: the desktop apps and ``xephang take``
    │   ├── ClientError             common/client.py: the link to the server
    │   │   ├── Offline             the server cannot be reached now
    │   │   └── RequestFailed       the server refused a request (its error code)
    │   ├── PrinterError            kiosk/escpos_printer.py: a print job failed
    │   └── TakeError               kiosk/take_cli.py: ``xephang take`` cannot issue or print
    └── BenchError                  bench/: the benchmark cannot go on (raised itself too)
        ├── Refused                 bench/loadgen.py: the server refused a load generator
        └── DecodeError             bench/escpos_decode.py: bytes that are no printer command
                                    (also a ValueError)

Errors of Python and of the libraries (OSError, msgspec's, websockets') are not wrapped
where nothing is added by doing so. tests/test_exception_tree.py keeps this tree and the
code in step.

The rules raise ``Rejected(code, **params)``; the server turns it into an ``error`` reply;
clients show ``message_vi`` (or ``message_en``). Codes never change meaning. The texts live
in ``assets/translations/errors.toml`` (read through ``common.i18n``), like every other
user-facing text; ``CODES`` lists the codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from common.i18n import catalogue

ERROR_TEXTS = "errors"  # assets/translations/errors.toml: one entry per code, vi and en

CODES: tuple[str, ...] = tuple(catalogue(ERROR_TEXTS))
"""Every stable error code, in the catalogue's order."""

MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {code: (entry["vi"], entry["en"]) for code, entry in catalogue(ERROR_TEXTS).items()})
"""Each code's (Vietnamese, English) message templates, read from the catalogue."""


class XephangError(Exception):
    """Root of every exception xephang raises on purpose."""


class CommonError(XephangError):
    """Root of the shared layer's errors (common/: the wire protocol, configuration)."""


class ServerError(XephangError):
    """Root of the server's errors."""


class AppError(XephangError):
    """Root of the client side's errors: the desktop apps and ``xephang take``."""


class BenchError(XephangError):
    """Root of the benchmark's errors; raised itself when the benchmark cannot go on
    (a process did not start, a phase failed). Also importable from bench.processes."""


class Rejected(CommonError):
    """A command refused for a reason the user can be told, by a stable code."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.params = params
        super().__init__(self.message_en)

    @property
    def message_vi(self) -> str:
        return MESSAGES[self.code][0].format_map(_Defaults(self.params))

    @property
    def message_en(self) -> str:
        return MESSAGES[self.code][1].format_map(_Defaults(self.params))


class _Defaults(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"
