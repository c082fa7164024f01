"""A strict decoder for the subset of ESC/POS the kiosk sends, for tests and the fake printer.

``decode(data)`` turns a captured byte stream into a list of commands and raises
``DecodeError`` on anything unknown or truncated, so a malformed stream fails
the test instead of being silently skipped. ``decode_stream`` is the incremental
form used by the fake printer (it stops before an incomplete command).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from common.errors import BenchError

ESC, GS, DLE, EOT, LF = 0x1B, 0x1D, 0x10, 0x04, 0x0A


class DecodeError(BenchError, ValueError):
    """The stream holds an unknown or truncated command."""


class _Incomplete(BenchError):
    """More bytes are needed to finish the command at the current offset."""


@dataclass(frozen=True)
class Command:
    offset: int


@dataclass(frozen=True)
class Init(Command):  # ESC @
    pass


@dataclass(frozen=True)
class Align(Command):  # ESC a n: 0 left, 1 centre, 2 right
    n: int


@dataclass(frozen=True)
class Feed(Command):  # LF (lines=1, via="LF") or ESC d n
    lines: int
    via: str


@dataclass(frozen=True)
class Raster(Command):  # GS v 0 m xL xH yL yH d1...dk
    mode: int
    width_bytes: int
    height: int
    data: bytes

    @property
    def image(self) -> Image.Image:
        """The bitmap as a 1-bit image, black where the printer burns a dot."""
        inverted = bytes(b ^ 0xFF for b in self.data)
        return Image.frombytes("1", (self.width_bytes * 8, self.height), inverted)


@dataclass(frozen=True)
class Qr(Command):  # GS ( k pL pH cn=49 fn [m] data
    fn: int
    params: bytes

    @property
    def stored_data(self) -> str | None:
        """The symbol data for fn 80 ("store"), else None."""
        return self.params[1:].decode("utf-8") if self.fn == 80 else None


@dataclass(frozen=True)
class Cut(Command):  # GS V m [n]
    m: int
    n: int | None

    @property
    def partial(self) -> bool:
        return self.m in (1, 49, 66)


@dataclass(frozen=True)
class StatusQuery(Command):  # DLE EOT n (real time) or GS r n
    n: int
    via: str


@dataclass(frozen=True)
class Text(Command):
    data: bytes


def _need(data: bytes, end: int) -> None:
    if end > len(data):
        raise _Incomplete


def _one(data: bytes, i: int) -> tuple[Command, int]:
    """Decode the command starting at data[i]; return it and the next offset."""
    b = data[i]
    if b == LF:
        return Feed(i, 1, "LF"), i + 1
    if b >= 0x20 and b != 0x7F:
        end = i
        while end < len(data) and data[end] >= 0x20 and data[end] != 0x7F:
            end += 1
        return Text(i, data[i:end]), end
    _need(data, i + 2)
    op = data[i + 1]
    if b == ESC and op == 0x40:
        return Init(i), i + 2
    if b == ESC and op in (0x61, 0x64):  # a, d
        _need(data, i + 3)
        n = data[i + 2]
        return (Align(i, n) if op == 0x61 else Feed(i, n, "ESC d")), i + 3
    if b == DLE and op == EOT:
        _need(data, i + 3)
        return StatusQuery(i, data[i + 2], "DLE EOT"), i + 3
    if b == GS and op == 0x72:  # r
        _need(data, i + 3)
        return StatusQuery(i, data[i + 2], "GS r"), i + 3
    if b == GS and op == 0x76:  # v 0
        _need(data, i + 8)
        if data[i + 2] != 0x30:
            raise DecodeError(f"GS v with unknown function {data[i + 2]:#x} at offset {i}")
        mode = data[i + 3]
        width = data[i + 4] | data[i + 5] << 8
        height = data[i + 6] | data[i + 7] << 8
        end = i + 8 + width * height
        _need(data, end)
        return Raster(i, mode, width, height, bytes(data[i + 8:end])), end
    if b == GS and op == 0x28:  # ( k
        _need(data, i + 7)
        if data[i + 2] != 0x6B:
            raise DecodeError(f"GS ( {chr(data[i + 2])!r} is not supported (offset {i})")
        length = data[i + 3] | data[i + 4] << 8
        if length < 2 or data[i + 5] != 49:
            raise DecodeError(f"GS ( k at offset {i} is not a QR code function")
        end = i + 5 + length
        _need(data, end)
        return Qr(i, data[i + 6], bytes(data[i + 7:end])), end
    if b == GS and op == 0x56:  # V
        _need(data, i + 3)
        m = data[i + 2]
        if m in (0, 1, 48, 49):
            return Cut(i, m, None), i + 3
        if m in (65, 66):
            _need(data, i + 4)
            return Cut(i, m, data[i + 3]), i + 4
        raise DecodeError(f"GS V with unknown mode {m} at offset {i}")
    raise DecodeError(f"unknown command {bytes(data[i:i + 3])!r} at offset {i}")


def decode_stream(data: bytes) -> tuple[list[Command], int]:
    """Decode complete commands; return them and how many bytes they used."""
    commands: list[Command] = []
    i = 0
    while i < len(data):
        try:
            command, i = _one(data, i)
        except _Incomplete:
            break
        commands.append(command)
    return commands, i


def decode(data: bytes) -> list[Command]:
    """Decode a whole captured stream; raise DecodeError if anything is left over."""
    commands, used = decode_stream(data)
    if used != len(data):
        raise DecodeError(f"truncated command at offset {used}: {bytes(data[used:used + 8])!r}")
    return commands


def raster_image(commands: list[Command]) -> Image.Image:
    """All GS v 0 blocks stacked top to bottom, as printed."""
    blocks = [c for c in commands if isinstance(c, Raster)]
    if not blocks:
        raise DecodeError("stream holds no raster image")
    if len({b.width_bytes for b in blocks}) != 1:
        raise DecodeError("raster blocks differ in width")
    page = Image.new("1", (blocks[0].width_bytes * 8, sum(b.height for b in blocks)), 1)
    y = 0
    for block in blocks:
        page.paste(block.image, (0, y))
        y += block.height
    return page
