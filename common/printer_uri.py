"""Printer URIs: which connection a kiosk's printer uses, parsed and validated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from common.errors import CommonError


class PrinterConfigError(CommonError, ValueError):
    """The printer URI is invalid or names an unusable connection type.

    Also a ValueError, as it has been from the start: a string that is not a usable value."""


@dataclass(frozen=True)
class PrinterTarget:
    """A parsed printer URI."""

    uri: str
    kind: Literal["tcp", "usb", "serial", "file", "none"]
    host: str = ""
    port: int = 9100
    vendor_id: int = 0
    product_id: int = 0
    in_ep: int = 0x82
    out_ep: int = 0x01
    path: str = ""
    baudrate: int = 9600
    flow: Literal["dsrdtr", "rtscts", "xonxoff", "none"] = "dsrdtr"
    cut: Literal["full", "partial"] = "full"

    @property
    def can_query_status(self) -> bool:
        return self.kind in ("tcp", "usb", "serial")


# --- URI parsing ------------------------------------------------------------------

_QUERY_KEYS = {"tcp": {"cut"}, "usb": {"cut", "in_ep", "out_ep"},
               "serial": {"cut", "baudrate", "flow"}, "file": {"cut"}}


def parse_printer_uri(uri: str) -> PrinterTarget:
    """Parse tcp://host[:9100], usb://VID:PID, serial:///dev/tty..., file:///path or none."""

    def bad(what: str) -> PrinterConfigError:
        return PrinterConfigError(f"invalid printer URI {uri!r}: {what}")

    text = uri.strip()
    if text.lower() == "none":
        return PrinterTarget(uri=uri, kind="none")
    if not text:
        raise bad("empty (use 'none' to run without a printer)")
    parts = urlsplit(text)
    kind = parts.scheme.lower()
    if kind not in _QUERY_KEYS:
        raise bad(f"unknown scheme {parts.scheme!r}; expected tcp://, usb://, "
                  "serial://, file:// or none")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - _QUERY_KEYS[kind]
    if unknown:
        raise bad(f"unknown option(s) {', '.join(sorted(unknown))} for {kind}://")
    opts: dict[str, Any] = {}
    cut = query.get("cut", "full")
    if cut not in ("full", "partial"):
        raise bad(f"cut must be 'full' or 'partial', not {cut!r}")
    opts["cut"] = cut

    if kind == "tcp":
        if not parts.hostname:
            raise bad("missing host, e.g. tcp://192.168.1.50:9100")
        try:
            port = 9100 if parts.port is None else parts.port
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise bad("port must be a number between 1 and 65535")
        if parts.path not in ("", "/"):
            raise bad("tcp:// takes no path")
        return PrinterTarget(uri=uri, kind=kind, host=parts.hostname, port=port, **opts)
    if kind == "usb":
        try:
            vid, pid = (int(x, 16) for x in parts.netloc.split(":"))
        except ValueError:
            raise bad("expected usb://VID:PID in hex, e.g. usb://04b8:0202") from None
        if not (0 < vid <= 0xFFFF and 0 < pid <= 0xFFFF) or parts.path not in ("", "/"):
            raise bad("expected usb://VID:PID with ids 0001..ffff and no path")
        try:
            opts.update({k: int(query[k], 16) for k in ("in_ep", "out_ep") if k in query})
        except ValueError:
            raise bad("in_ep/out_ep must be hex endpoint addresses, e.g. 0x81") from None
        return PrinterTarget(uri=uri, kind=kind, vendor_id=vid, product_id=pid, **opts)

    if parts.netloc or not parts.path.startswith("/"):
        raise bad(f"expected an absolute path, e.g. {kind}:///dev/...")
    if kind == "serial":
        try:
            opts["baudrate"] = int(query.get("baudrate", "9600"))
        except ValueError:
            raise bad("baudrate must be a number") from None
        flow = query.get("flow", "dsrdtr")
        if flow not in ("dsrdtr", "rtscts", "xonxoff", "none"):
            raise bad("flow must be dsrdtr, rtscts, xonxoff or none")
        opts["flow"] = flow
    return PrinterTarget(uri=uri, kind=kind, path=parts.path, **opts)
