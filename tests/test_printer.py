"""Printer adapter against a loopback fake printer, decoding the real byte stream."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import kiosk.escpos_printer as printer_module
from bench import printer_fake
from bench.escpos_decode import (
    Align,
    Command,
    Cut,
    DecodeError,
    Feed,
    Init,
    Qr,
    Raster,
    StatusQuery,
    decode,
    decode_stream,
    raster_image,
)
from bench.printer_fake import FakePrinter
from kiosk.escpos_printer import (
    PrinterConfigError,
    PrinterError,
    PrinterState,
    open_printer,
    parse_printer_uri,
)
from kiosk.ticket_image import PrintedTicket, render_ticket

URL = "http://192.168.10.5:8765/t/Xq3vT9kLmN2p"


@pytest.fixture
def ticket() -> PrintedTicket:
    return PrintedTicket(
        centre_name="Trung tâm Phục vụ hành chính công tỉnh Ninh Bình",
        site_name="Trụ sở chính – 25 Tràng An, Hoa Lư",
        service_name="Sở Tư pháp – Lý lịch tư pháp, chứng thực",
        number="B024",
        people_ahead=12,
        estimated_wait_minutes=18,
        issued_at=datetime(2025, 3, 14, 8, 42, tzinfo=timezone(timedelta(hours=7))),
        counters=(4, 5, 6),
        priority_label="Người cao tuổi",
        url=URL,
    )


def printing(commands: list[Command]) -> list[Command]:
    """The job proper: everything except status queries."""
    return [c for c in commands if not isinstance(c, StatusQuery)]


def same(a: list[Command], b: list[Command]) -> bool:
    strip = [dataclasses.replace(c, offset=0) for c in a]
    return strip == [dataclasses.replace(c, offset=0) for c in b]


# --- printing over TCP ----------------------------------------------------------------


@pytest.mark.parametrize("width", [576, 384])
def test_raster_job_on_tcp(ticket: PrintedTicket, width: int) -> None:
    with FakePrinter() as fake:
        open_printer(fake.uri, timeout=2).print_ticket(ticket, width_dots=width, qr_mode="raster")
        commands = decode(fake.wait_jobs(1)[0])
    job = printing(commands)
    assert isinstance(job[0], Init)
    assert isinstance(job[-1], Cut) and not job[-1].partial
    assert isinstance(job[-2], Feed)  # paper moves past the cutter first
    assert not any(isinstance(c, Qr) for c in commands)
    rasters = [c for c in job if isinstance(c, Raster)]
    assert rasters and all(r.width_bytes == width // 8 for r in rasters)
    assert 60 * 8 < sum(r.height for r in rasters) < 200 * 8
    expected = render_ticket(ticket, width_dots=width, include_qr=True)
    assert raster_image(commands).tobytes() == expected.tobytes()
    # Status is checked before the job starts and confirmed after it.
    first_init = commands.index(job[0])
    assert [c.n for c in commands[:first_init]] == [1, 4]
    assert all(isinstance(c, StatusQuery) for c in commands[commands.index(job[-1]) + 1:])


def test_native_qr_job_on_tcp(ticket: PrintedTicket) -> None:
    with FakePrinter() as fake:
        open_printer(fake.uri, timeout=2).print_ticket(ticket, width_dots=576, qr_mode="native")
        commands = decode(fake.wait_jobs(1)[0])
    job = printing(commands)
    assert isinstance(job[0], Init) and isinstance(job[-1], Cut)
    expected = render_ticket(ticket, width_dots=576, include_qr=False)
    assert raster_image(commands).tobytes() == expected.tobytes()
    qr = [c for c in job if isinstance(c, Qr)]
    assert [c.stored_data for c in qr if c.fn == 80] == [URL]
    assert [c.fn for c in qr] == [65, 67, 69, 80, 81]  # model, size, EC, store, print
    assert qr[2].params == b"1"  # error correction M
    assert 3 <= qr[1].params[0] <= 8  # module size in dots
    # Centred, after the whole image, and alignment restored afterwards.
    start, end = job.index(qr[0]), job.index(qr[-1])
    assert isinstance(job[start - 1], Align) and job[start - 1].n == 1
    assert isinstance(job[end + 1], Align) and job[end + 1].n == 0
    assert all(not isinstance(c, Raster) for c in job[start:])


def test_partial_cut_from_uri(ticket: PrintedTicket) -> None:
    with FakePrinter() as fake:
        open_printer(f"{fake.uri}?cut=partial").print_ticket(ticket)
        job = printing(decode(fake.wait_jobs(1)[0]))
    assert isinstance(job[-1], Cut) and job[-1].partial


def test_connection_is_reopened_per_job_and_survives_a_restart(ticket: PrintedTicket) -> None:
    first = FakePrinter()
    first.start()
    port = first.port
    p = open_printer(first.uri, timeout=1)
    p.print_ticket(ticket)
    p.print_ticket(ticket)
    assert len(first.wait_jobs(2)) == 2
    first.stop()

    with pytest.raises(PrinterError) as err:  # printer switched off
        p.print_ticket(ticket)
    assert err.value.state == PrinterState.OFFLINE
    assert p.status().state == PrinterState.OFFLINE

    with FakePrinter(port=port) as again:  # back on: the same object prints again
        p.print_ticket(ticket)
        assert isinstance(printing(decode(again.wait_jobs(1)[0]))[-1], Cut)
        assert p.status().state == PrinterState.OK


def test_refused_connection_fails_fast(ticket: PrintedTicket) -> None:
    with FakePrinter("refuse") as fake:
        p = open_printer(fake.uri, timeout=3)
        started = time.monotonic()
        with pytest.raises(PrinterError) as err:
            p.print_ticket(ticket)
        assert time.monotonic() - started < 1.0
    assert err.value.state == PrinterState.OFFLINE
    assert fake.uri in err.value.message_en
    assert "máy in" in err.value.message_vi


def test_hanging_printer_times_out(ticket: PrintedTicket) -> None:
    with FakePrinter("hang") as fake:
        p = open_printer(fake.uri, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(PrinterError) as err:
            p.print_ticket(ticket, width_dots=576)
        elapsed = time.monotonic() - started
    # At most the unanswered status query plus one stalled write, never forever.
    assert elapsed < 2 * 0.5 + 0.5
    assert "timed out" in err.value.message_en
    assert err.value.message_vi


def test_printer_without_status_support_still_prints(ticket: PrintedTicket) -> None:
    with FakePrinter("silent") as fake:
        p = open_printer(fake.uri, timeout=0.3)
        p.print_ticket(ticket)
        p.print_ticket(ticket)  # known not to answer: no second pre-check wait
        jobs = fake.wait_jobs(2)
        assert fake.queries == [1]
        assert p.status().state == PrinterState.UNKNOWN
    for data in jobs:
        assert isinstance(printing(decode(data))[-1], Cut)


@pytest.mark.parametrize(("status", "state", "detail"), [
    (printer_fake.ONLINE, PrinterState.OK, "online"),
    (printer_fake.PAPER_LOW, PrinterState.PAPER_LOW, "near end"),
    (printer_fake.PAPER_OUT, PrinterState.PAPER_OUT, "paper end"),
    (printer_fake.COVER_OPEN, PrinterState.OFFLINE, "cover open"),
    (printer_fake.MECH_ERROR, PrinterState.ERROR, "error"),
])
def test_status_mapping(status: dict[int, int], state: PrinterState, detail: str) -> None:
    with FakePrinter(status=status) as fake:
        result = open_printer(fake.uri, timeout=1).status()
        fake.wait_jobs(1)
    assert result.state == state
    assert detail in result.detail
    assert result.message_vi
    assert result.can_print == (state in (PrinterState.OK, PrinterState.PAPER_LOW))


def test_no_print_when_paper_is_out(ticket: PrintedTicket) -> None:
    with FakePrinter(status=printer_fake.PAPER_OUT) as fake:
        with pytest.raises(PrinterError) as err:
            open_printer(fake.uri, timeout=1).print_ticket(ticket)
        sent = decode(fake.wait_jobs(1)[0])
    assert err.value.state == PrinterState.PAPER_OUT
    assert err.value.message_vi == "Máy in đã hết giấy."
    assert sent and all(isinstance(c, StatusQuery) for c in sent)


def test_paper_low_still_prints(ticket: PrintedTicket) -> None:
    with FakePrinter(status=printer_fake.PAPER_LOW) as fake:
        open_printer(fake.uri, timeout=1).print_ticket(ticket)
        assert isinstance(printing(decode(fake.wait_jobs(1)[0]))[-1], Cut)


# --- other targets --------------------------------------------------------------------


def test_file_target_gets_the_same_job(ticket: PrintedTicket, tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    p = open_printer(f"file://{out}")
    p.print_ticket(ticket, width_dots=384, qr_mode="native")
    with FakePrinter() as fake:
        open_printer(fake.uri).print_ticket(ticket, width_dots=384, qr_mode="native")
        over_tcp = decode(fake.wait_jobs(1)[0])
    data = out.read_bytes()
    assert data == p.build_job(ticket, width_dots=384, qr_mode="native")
    assert same(decode(data), printing(over_tcp))
    assert p.status().state == PrinterState.UNKNOWN
    p.print_ticket(ticket, width_dots=384, qr_mode="native")  # each job replaces the file
    assert out.read_bytes() == data


def test_file_target_that_stops_reading_times_out(ticket: PrintedTicket, tmp_path: Path) -> None:
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open, never read
    try:
        started = time.monotonic()
        with pytest.raises(PrinterError, match="timed out"):
            open_printer(f"file://{fifo}", timeout=0.3).print_ticket(ticket)
        assert time.monotonic() - started < 1.5
    finally:
        os.close(reader)


def test_missing_device_file(ticket: PrintedTicket) -> None:
    p = open_printer("file:///dev/usb/xephang-no-such-lp")
    assert p.status().state == PrinterState.OFFLINE
    with pytest.raises(PrinterError) as err:
        p.print_ticket(ticket)
    assert err.value.state == PrinterState.OFFLINE
    assert not Path("/dev/usb/xephang-no-such-lp").exists()


def test_none_target_does_nothing(ticket: PrintedTicket, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered although no printer is configured")

    monkeypatch.setattr(printer_module, "render_ticket", fail)
    p = open_printer("none")
    assert p.print_ticket(ticket) is None
    assert p.status().state == PrinterState.DISABLED


def test_serial_target_over_a_pty(ticket: PrintedTicket) -> None:
    pytest.importorskip("serial", reason="pyserial not installed")
    master, slave = os.openpty()
    path = os.ttyname(slave)
    received = bytearray()
    stop = threading.Event()

    def printer_side() -> None:  # answers status queries like the TCP fake
        parsed = 0
        while not stop.is_set():
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            received.extend(chunk)
            commands, used = decode_stream(bytes(received[parsed:]))
            parsed += used
            for c in commands:
                if isinstance(c, StatusQuery):
                    os.write(master, bytes([printer_fake.ONLINE[c.n]]))

    thread = threading.Thread(target=printer_side, daemon=True)
    thread.start()
    try:
        p = open_printer(f"serial://{path}?baudrate=115200&flow=none", timeout=2)
        p.print_ticket(ticket, qr_mode="native")
        assert p.status().state == PrinterState.OK
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
        thread.join(2)
    job = printing(decode(bytes(received)))
    assert isinstance(job[0], Init) and isinstance(job[-1], Cut)
    assert [c.stored_data for c in job if isinstance(c, Qr) and c.fn == 80] == [URL]


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(("uri", "kind", "fields"), [
    ("tcp://192.168.1.50", "tcp", {"host": "192.168.1.50", "port": 9100}),
    ("tcp://printer.local:9101?cut=partial", "tcp", {"port": 9101, "cut": "partial"}),
    ("usb://04b8:0202", "usb", {"vendor_id": 0x04B8, "product_id": 0x0202}),
    ("usb://0416:5011?in_ep=81&out_ep=03", "usb", {"in_ep": 0x81, "out_ep": 0x03}),
    ("serial:///dev/ttyUSB0?baudrate=19200", "serial", {"path": "/dev/ttyUSB0",
                                                       "baudrate": 19200}),
    ("file:///dev/usb/lp0", "file", {"path": "/dev/usb/lp0"}),
    ("none", "none", {}),
    (" NONE ", "none", {}),
])
def test_valid_uris(uri: str, kind: str, fields: dict[str, object]) -> None:
    target = parse_printer_uri(uri)
    assert target.kind == kind
    assert {k: getattr(target, k) for k in fields} == fields


@pytest.mark.parametrize(("uri", "reason"), [
    ("", "empty"),
    ("lpt://1", "unknown scheme"),
    ("192.168.1.50:9100", "unknown scheme"),
    ("tcp://", "missing host"),
    ("tcp://host:0", "port"),
    ("tcp://host:70000", "port"),
    ("tcp://host:abc", "port"),
    ("tcp://host/queue", "no path"),
    ("tcp://host?speed=9", "unknown option"),
    ("tcp://host?cut=half", "cut"),
    ("usb://04b8", "VID:PID"),
    ("usb://xyz:0202", "VID:PID"),
    ("usb://0000:0202", "ids"),
    ("usb://04b8:0202?in_ep=zz", "in_ep"),
    ("serial://dev/ttyUSB0", "absolute path"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "baudrate"),
    ("serial:///dev/ttyUSB0?flow=magic", "flow"),
    ("file:lp0", "absolute path"),
])
def test_invalid_uris(uri: str, reason: str) -> None:
    with pytest.raises(PrinterConfigError) as err:
        open_printer(uri)
    assert repr(uri) in str(err.value)
    assert reason in str(err.value)


def test_usb_without_pyusb_is_a_config_error() -> None:
    if printer_module.printer.Usb.is_usable():
        pytest.skip("pyusb is installed")
    with pytest.raises(PrinterConfigError, match="pyusb"):
        open_printer("usb://04b8:0202")


def test_rejects_unknown_qr_mode(ticket: PrintedTicket, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="qr_mode"):
        open_printer(f"file://{tmp_path / 'x'}").print_ticket(ticket, qr_mode="vector")  # type: ignore[arg-type]


# --- the decoder itself -----------------------------------------------------------------


def test_decoder_rejects_malformed_streams() -> None:
    good = b"\x1b@" + b"\x1dv0\x00\x01\x00\x02\x00\xff\x00" + b"\x1bd\x06\x1dV\x00"
    assert [type(c) for c in decode(good)] == [Init, Raster, Feed, Cut]
    with pytest.raises(DecodeError, match="truncated"):
        decode(good[:11])  # raster data cut short
    with pytest.raises(DecodeError, match="unknown"):
        decode(b"\x1b@\x1bZ\x00")
    with pytest.raises(DecodeError, match="unknown"):
        decode(b"\x1dV\x07")
