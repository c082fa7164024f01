"""``xephang book`` / ``xephang checkin``: a reception desk against a real server.

The example centre's TP service takes appointments (30-minute slots, 4 places of which 2
bookable, check-in 30 minutes before to 10 minutes after). The clock is Wednesday 25/11/2026
08:00 in Hà Nội: TP issues 07:00-11:15 and 13:15-16:30.
"""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from common.config import Config
from server import desk_cli
from tests.helpers import example_config, local_time

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"^[ACDEFHJKLMNPQRTUVWXY3479]{4}-[ACDEFHJKLMNPQRTUVWXY3479]{4}$")
AN = ["--name", "Nguyễn Văn An", "--phone", "0912 345 678", "--cccd", "001090012345"]
BINH = ["--name", "Trần Thị Bình", "--phone", "+84 987 654 321", "--cccd", "079185004321"]


def bookable(config: Config, code: str = "TP", **rules: object) -> Config:
    site = config.sites[0]
    services = [msgspec.structs.replace(s, booking=msgspec.structs.replace(s.booking, bookable=True, **rules))
                if s.code == code else s for s in site.services]
    return msgspec.structs.replace(config, sites=[msgspec.structs.replace(site, services=services),
                                                  *config.sites[1:]])


@pytest.fixture
def config() -> Config:
    """The example centre with TP taking appointments (the live server's configuration)."""
    return bookable(example_config())


def desk(monkeypatch, server, *argv: str, user: str = "giamdoc", password: str = "xephang") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return desk_cli.main([*argv, "--user", user, "--password-stdin", "--server", server.url])


def slots(out: str) -> dict[str, int]:
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}


def test_a_desk_lists_books_and_checks_in(live_server, clock, capsys, monkeypatch):
    assert desk(monkeypatch, live_server, "book", "TP", "--day", "2026-11-25") == 0
    listed = slots(capsys.readouterr().out)
    assert listed["07:00-07:30"] == 0  # already begun
    assert listed["09:00-09:30"] == 2 and listed["13:15-13:45"] == 2
    assert "11:00-11:30" not in listed and "11:00-11:15" not in listed  # shorter than a slot

    assert desk(monkeypatch, live_server, "book", "TP", "--day", "2026-11-25", "--time", "09:00", *AN) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert CODE.match(first), first
    assert second == "TP 25/11/2026 09:00-09:30 check-in 08:30-09:10"
    assert desk(monkeypatch, live_server, "book", "TP", "--day", "2026-11-25") == 0
    assert slots(capsys.readouterr().out)["09:00-09:30"] == 1

    # Too early: the window opens at 08:30.
    assert desk(monkeypatch, live_server, "checkin", first) == 1
    err = capsys.readouterr().err
    assert "Mời quay lại lúc 08:30" in err and "come back at 08:30" in err

    clock.set_local(2026, 11, 25, 8, 40)
    assert desk(monkeypatch, live_server, "checkin", first.replace("-", "").lower()) == 0
    number, appointment, url = capsys.readouterr().out.splitlines()
    assert appointment == "Lịch hẹn 09:00" and url.startswith("http://127.0.0.1:8765/t/")
    ticket = live_server.call(lambda s: s.states["tinh"].ticket_by_number(number))
    assert ticket.service == "TP" and ticket.booking == first.replace("-", "")
    assert ticket.appointment_at == local_time(2026, 11, 25, 9, 0)

    # Checking in again gives the same ticket.
    assert desk(monkeypatch, live_server, "checkin", first) == 0
    assert capsys.readouterr().out.splitlines()[0] == number


def test_a_clerk_books_by_cccd_and_checks_in_by_cccd(live_server, clock, capsys, monkeypatch):
    assert desk(monkeypatch, live_server, "book", "TP", "--day", "2026-11-25", "--time", "08:30", *BINH,
                user="lan") == 0
    code = capsys.readouterr().out.splitlines()[0]
    assert desk(monkeypatch, live_server, "checkin", "--cccd", "079185004321", user="lan") == 0
    number = capsys.readouterr().out.splitlines()[0]
    ticket = live_server.call(lambda s: s.states["tinh"].ticket_by_number(number))
    assert ticket.booking == code.replace("-", "")


def test_the_rules_refuse_with_their_reasons(live_server, clock, capsys, monkeypatch):
    day = ["--day", "2026-11-25"]
    for _ in range(2):
        assert desk(monkeypatch, live_server, "book", "TP", *day, "--time", "10:00", *AN) == 0
    capsys.readouterr()
    # A third booking of the day for the same CCCD (another slot): the per-person limit.
    assert desk(monkeypatch, live_server, "book", "TP", *day, "--time", "10:30", *AN) == 1
    assert "person_limit" not in capsys.readouterr().err  # said in words, not as a code
    # The two bookable places of 10:00 are taken.
    assert desk(monkeypatch, live_server, "book", "TP", *day, "--time", "10:00", *BINH) == 1
    assert "10:00" in capsys.readouterr().err
    # A slot that has begun, a service that takes no bookings, an unknown code.
    assert desk(monkeypatch, live_server, "book", "TP", *day, "--time", "07:30", *BINH) == 1
    assert desk(monkeypatch, live_server, "book", "DN", *day, "--time", "09:00", *BINH) == 1
    capsys.readouterr()
    assert desk(monkeypatch, live_server, "checkin", "ACDE-FHJK") == 1
    assert "Không tìm thấy lịch hẹn" in capsys.readouterr().err


def test_a_wrong_password_is_refused(live_server, capsys, monkeypatch):
    assert desk(monkeypatch, live_server, "book", "TP", "--day", "2026-11-25", password="wrong") == 1
    assert capsys.readouterr().err.strip()


@pytest.mark.parametrize(("argv", "message"), [
    (["book", "TP", "--day", "2026-11-25", "--time", "09:00", "--name", "An", "--phone", "0123",
      "--cccd", "001090012345"], "0123"),
    (["book", "TP", "--day", "2026-11-25", "--time", "09:00", "--name", "Nguyễn An", "--phone", "0912345678",
      "--cccd", "000090012345"], "CCCD"),
    (["book", "TP", "--day", "2026-11-25", "--time", "09:00"], "needs --name, --phone, --cccd"),
    (["book", "TP", "--day", "25/11/2026"], "not a date"),
    (["book", "TP", "--day", "2026-11-25", "--time", "9h7"], "not a time"),
    (["checkin"], "one of them"),
    (["checkin", "ACDE-FHJK", "--cccd", "001090012345"], "one of them"),
    (["checkin", "ABCD-EFGH"], "Không tìm thấy lịch hẹn"),  # B and G are not in the alphabet
    (["checkin", "ACDE-FHJK", "--site", "nowhere"], "no site 'nowhere'"),
])
def test_bad_arguments_say_what_is_wrong(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    with pytest.raises(SystemExit) as exit_:
        desk_cli.main([*argv, "--user", "giamdoc", "--password-stdin"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_server_unreachable(monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(sys, "stdin", io.StringIO("xephang\n"))
    code = desk_cli.main(["checkin", "ACDE-FHJK", "--user", "giamdoc", "--password-stdin",
                          "--server", f"ws://127.0.0.1:{port}"])
    assert code == 3 and "cannot reach the server" in capsys.readouterr().err


def test_the_commands_are_in_xephang():
    for command in ("book", "checkin"):
        result = subprocess.run([sys.executable, "-m", "xephang.cli", command, "--help"], cwd=ROOT,
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert f"xephang {command}" in result.stdout and "--user NAME" in result.stdout
