"""``xephang take``: issue and print from a shell, with clear errors and exit codes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from bench.escpos_decode import Cut, Raster, StatusQuery, decode
from bench.printer_fake import PAPER_OUT, FakePrinter
from common.assets import asset_path
from common.config import Config, parse_config
from kiosk import take_cli
from tests.helpers import example_config

ROOT = Path(__file__).resolve().parent.parent


def take(*args: str) -> list[str]:
    return ["take", *args]


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xephang.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def capped(config: Config, code: str = "TP", cap: int = 1) -> Config:
    site = config.sites[0]
    services = [msgspec.structs.replace(s, daily_cap=cap) if s.code == code else s for s in site.services]
    return msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services),
                                                  *config.sites[1:]])


def test_issues_and_prints(live_server, capsys):
    with FakePrinter() as fake:
        code = take_cli.main(["TP", "--server", live_server.url, "--printer", fake.uri])
        commands = [c for job in fake.wait_jobs(1) for c in decode(job) if not isinstance(c, StatusQuery)]
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    ticket = live_server.call(lambda s: next(iter(s.states["tinh"].tickets.values())))
    assert out == [ticket.number, f"http://127.0.0.1:8765/t/{ticket.token}"]
    assert ticket.issued_by == "kiosk-sanh-1"
    assert any(isinstance(c, Raster) and c.width_bytes == 72 for c in commands)
    assert isinstance(commands[-1], Cut)


def test_priority_ticket(live_server, capsys):
    assert take_cli.main(["DN", "--priority", "elderly", "--server", live_server.url]) == 0
    ticket = live_server.call(lambda s: next(iter(s.states["tinh"].tickets.values())))
    assert (ticket.service, ticket.priority) == ("DN", "elderly")
    assert capsys.readouterr().out.split()[0] == "B001"


def test_unknown_service_lists_the_codes(live_server, capsys):
    assert take_cli.main(["NOPE", "--server", live_server.url]) == 2
    err = capsys.readouterr().err
    assert "unknown service 'NOPE'" in err and "TP (Lý lịch tư pháp" in err and "KQ (" in err
    assert live_server.call(lambda s: len(s.states["tinh"].tickets)) == 0


def test_unknown_priority_lists_the_classes(live_server, capsys):
    assert take_cli.main(["TP", "--priority", "vip", "--server", live_server.url]) == 2
    assert "elderly (Người cao tuổi" in capsys.readouterr().err


def test_closed_service(live_server, clock, capsys):
    clock.set_local(2026, 11, 25, 12, 0)
    assert take_cli.main(["TP", "--server", live_server.url]) == 1
    err = capsys.readouterr().err
    assert "Ngoài giờ cấp số. Mở lại lúc 13:15 25/11/2026" in err and "Outside issuing hours" in err


@pytest.mark.parametrize("config", [capped(example_config())])
def test_no_numbers_left(live_server, capsys):
    assert take_cli.main(["TP", "--server", live_server.url]) == 0
    assert take_cli.main(["TP", "--server", live_server.url]) == 1
    assert "Đã hết số hôm nay cho dịch vụ này" in capsys.readouterr().err


def test_issued_but_not_printed(live_server, capsys):
    with FakePrinter(status=PAPER_OUT) as fake:
        assert take_cli.main(["TP", "--server", live_server.url, "--printer", fake.uri]) == 4
    captured = capsys.readouterr()
    assert captured.out.split()[0] == "A001"  # the number is still given
    assert "Máy in đang gặp sự cố" in captured.err and "hết giấy" in captured.err


def test_server_unreachable_subprocess():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli(*take("TP", "--server", f"ws://127.0.0.1:{port}"))
    assert result.returncode == 3
    assert "cannot reach the server" in result.stderr and "Traceback" not in result.stderr


def test_bad_arguments_subprocess():
    result = run_cli(*take("TP", "--printer", "lpt1"))
    assert result.returncode == 2 and "invalid printer URI" in result.stderr
    result = run_cli(*take("TP", "--device", "kiosk-x"))
    assert result.returncode == 2 and "configured kiosks: kiosk-sanh-1" in result.stderr
    result = run_cli(*take("--help"))
    assert result.returncode == 0 and "--priority CLASS" in result.stdout


def test_subprocess_against_the_live_server(live_server):
    result = run_cli(*take("GPLX", "--server", live_server.url))
    assert result.returncode == 0, result.stderr
    number, url = result.stdout.split()
    assert number == "M001" and url.startswith("http://127.0.0.1:8765/t/")


def always_open_config(data_dir: Path, port: int) -> str:
    """The example centre's file, open around the clock every day (a server process has no fake clock)."""
    text = asset_path("config", "example.toml").read_text(encoding="utf-8")
    text = re.sub(r"^(mon|tue|wed|thu|fri|sat|sun) = \[.*\]\n", "", text, flags=re.M)
    week = "".join(f'{day} = ["00:00-24:00"]\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    text = text.replace("[sites.hours]\n", f"[sites.hours]\n{week}")
    text = re.sub(r"^holidays = \[.*\]$", "holidays = []", text, flags=re.M)
    text = text.replace("port = 8765", f"port = {port}")
    text = text.replace('data_dir = "data"', f"data_dir = {str(data_dir)!r}")
    parse_config(text)  # still a valid configuration
    return text


@pytest.mark.slow
def test_end_to_end_with_a_server_process(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file = tmp_path / "open.toml"
    config_file.write_text(always_open_config(tmp_path, port), encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "xephang.cli", "server", "--config", str(config_file),
                               "--host", "127.0.0.1"],  # the example's secrets: this machine only
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        for line in server.stderr:  # wait for the server to say it listens
            if "serving on" in line:
                break
        else:
            pytest.fail("the server process exited before listening")
        with FakePrinter() as fake:
            result = run_cli(*take("KQ", "--config", str(config_file), "--printer", fake.uri))
            jobs = fake.wait_jobs(1)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[0] == "9001"
        assert any(isinstance(c, Raster) for job in jobs for c in decode(job))
    finally:
        server.terminate()
        server.wait(10)
