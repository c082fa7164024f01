"""The configuration file and the administration commands, run as a user would run them."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import msgspec
import pytest

from common.assets import asset_path
from common.config import ConfigError, User, config_problems, load_config, parse_config
from common.passwords import verify_password
from server.core import commands as c
from server.store import Store

EXAMPLE = asset_path("config", "example.toml")
EXAMPLE_TEXT = Path(EXAMPLE).read_text(encoding="utf-8")


def xephang(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xephang", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exit status 2 and one clear line on stderr, no traceback."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- the example -----------------------------------------------------------------------------


def test_the_example_configuration_loads_and_is_consistent():
    config = load_config(EXAMPLE)
    assert config_problems(config) == []
    assert [s.code for s in config.sites] == ["tinh", "giavien"]
    tinh = config.site("tinh")
    assert tinh is not None and (len(tinh.services), len(tinh.counters)) == (14, 14)
    assert {u.username for u in config.users} >= {"lan", "hung", "mai", "tuan", "ha", "thao", "giamdoc"}
    assert verify_password("xephang", config.users[0].password_hash)
    assert str(config.tz) == "Asia/Ho_Chi_Minh"


def test_the_example_centre_takes_appointments_for_a_few_services():
    """TP (booked and remote numbers for today) and DD (hour-long slots) at the province,
    remote numbers only for HT at the commune; every other service walk-in only, and no
    service turns walk-ins away (online_only: see the example's comment)."""
    config = load_config(EXAMPLE)
    offered = {(site.code, s.code): (s.booking.bookable, s.booking.remote_today)
               for site in config.sites for s in site.services
               if s.booking.bookable or s.booking.remote_today}
    assert offered == {("tinh", "TP"): (True, True), ("tinh", "DD"): (True, False),
                       ("giavien", "HT"): (False, True)}
    assert not any(s.booking.online_only for site in config.sites for s in site.services)
    tinh = config.site("tinh")
    tp_service = tinh.service("TP") if tinh is not None else None
    assert tp_service is not None
    tp = tp_service.booking
    assert (tp.slot_minutes, tp.places_per_slot, tp.bookable_places, tp.days_ahead) == (30, 4, 2, 6)


def test_config_check_accepts_the_example():
    result = xephang("config", "check", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "tinh (14 services, 14 counters)" in result.stdout
    # Valid, but its passwords and tokens are public (tests/test_example_secrets.py).
    assert result.stderr.startswith("warning: ") and len(result.stderr.splitlines()) == 1


# -- broken files: each names the file and the key -----------------------------------------

BROKEN = {
    "bad TOML": (
        ("port = 8765", "port = 87 65"), "", "not valid TOML"),
    "wrong type": (
        ("port = 8765", 'port = "tám nghìn"'), "server.port", "Expected `int`, got `str`"),
    "wrong type in a list": (
        ("daily_cap = 250", 'daily_cap = "nhiều"'), "sites[0].services[0].daily_cap", "Expected `int"),
    "kiosk pace of zero": (
        ('data_dir = "data"', 'data_dir = "data"\nkiosk_issues_per_minute = 0'),
        "server.kiosk_issues_per_minute", "must be between 1 and 100000"),
    "unknown key": (
        ('data_dir = "data"', 'data_dir = "data"\ncolour = "red"'), "server", "unknown field `colour`"),
    "unknown service in a counter": (
        ('services = ["TP", "GD"]', 'services = ["TP", "GDX"]'), "sites[0].counters[1].services",
        "unknown service 'GDX'"),
    "duplicate token": (
        ('token = "sG82Nwe9UjlW9ZZvLYsKkzfW"', 'token = "r-dPIIJld2G0aI0GL3Fkm5S6"'), "sites",
        "used by more than one device"),
    "bad hours span": (
        ('mon = ["07:00-11:15", "13:15-16:30"]', 'mon = ["11:15-07:00", "13:15-16:30"]'),
        "sites[0].hours.mon", "ends before it starts"),
    "malformed hours span": (
        ('tue = ["07:00-11:15", "13:15-16:30"]', 'tue = ["7h-11h"]'), "sites[0].hours.tue",
        "is not a span like '07:00-11:15'"),
    "bad time zone": (
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi"'), "timezone", "unknown time zone"),
    "template missing {number}": (
        ('template = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"',
         'template = "Xin mời công dân đến quầy số {counter}"'),
        "announcement.template", "must contain both {number} and {counter}"),
}


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Every broken file checked by ``xephang config check``, the processes run in parallel."""
    folder = tmp_path_factory.mktemp("broken")
    processes = {}
    for name, ((old, new), _key, _problem) in BROKEN.items():
        assert EXAMPLE_TEXT.count(old) >= 1, old
        path = folder / f"{name.replace(' ', '-').replace('{', '').replace('}', '')}.toml"
        path.write_text(EXAMPLE_TEXT.replace(old, new, 1), encoding="utf-8")
        processes[name] = (path, subprocess.Popen(
            [sys.executable, "-m", "xephang", "config", "check", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    runs = {}
    for name, (path, process) in processes.items():
        out, err = process.communicate(timeout=60)
        runs[name] = (path, subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return runs


@pytest.mark.parametrize("case", list(BROKEN))
def test_config_check_names_the_file_and_key_of_a_problem(broken_runs, case):
    path, result = broken_runs[case]
    _, key, problem = BROKEN[case]
    line = one_line_error(result)
    assert line.startswith(f"error: {path}: {key + ': ' if key else ''}"), line
    assert problem in line
    assert result.stdout == ""
    with pytest.raises(ConfigError) as info:  # the library reports the same key
        load_config(path)
    assert (info.value.file, info.value.key) == (str(path), key)


def test_a_syntax_error_says_where():
    with pytest.raises(ConfigError) as info:
        parse_config(EXAMPLE_TEXT.replace("port = 8765", "port = 87 65"), "centre.toml")
    assert "line 14" in str(info.value) and str(info.value).startswith("centre.toml: ")


def test_a_missing_file_is_one_line_too():
    line = one_line_error(xephang("config", "check", "/no/such/centre.toml"))
    assert line == "error: /no/such/centre.toml: cannot read file (No such file or directory)"


# -- users and tokens ------------------------------------------------------------------------


def test_user_add_prints_an_entry_whose_hash_verifies():
    result = xephang("user", "add", "nam", "--name", 'Lê Văn "Nam" \\ Tổ 1', "--role", "clerk",
                     "--site", "tinh", "--counter", "7", "--counter", "13", "--password-stdin",
                     stdin="mật khẩu dài\n")
    assert result.returncode == 0, result.stderr
    entry = msgspec.toml.decode(result.stdout, type=dict[str, list[User]])["users"]
    (user,) = entry
    assert (user.username, user.full_name, user.role, user.sites, user.counters) == (
        "nam", 'Lê Văn "Nam" \\ Tổ 1', "clerk", ["tinh"], [7, 13])
    assert verify_password("mật khẩu dài", user.password_hash)
    assert not verify_password("mật khẩu khác", user.password_hash)


def test_user_add_appends_to_a_file_that_still_checks(tmp_path):
    path = tmp_path / "centre.toml"
    path.write_text(EXAMPLE_TEXT, encoding="utf-8")
    result = xephang("user", "add", "quanly.tinh", "--name", "Ngô Thị Quản", "--role", "manager",
                     "--site", "tinh", "--append", str(path), "--password-stdin", stdin="12345678\n")
    assert result.returncode == 0, result.stderr
    user = load_config(path).user("quanly.tinh")
    assert user is not None and verify_password("12345678", user.password_hash)
    assert xephang("config", "check", str(path)).returncode == 0


def test_user_add_refuses_a_short_password():
    line = one_line_error(xephang("user", "add", "nam", "--name", "Nam", "--role", "clerk",
                                  "--password-stdin", stdin="ngắn\n"))
    assert line == "error: a password needs at least 8 characters"


def test_token_prints_a_fresh_url_safe_token():
    tokens = {xephang("token").stdout.strip() for _ in range(2)}
    assert len(tokens) == 2
    for token in tokens:
        assert len(token) >= 16 and set(token) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# -- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["server", "--port", "99999"], "99999 is not a TCP port (0-65535)"),
    (["server", "--port", "tám"], "'tám' is not a port number"),
    (["user", "add", "nam", "--role", "boss", "--name", "N"], "invalid choice: 'boss'"),
    (["config"], "the following arguments are required"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message):
    result = xephang(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


def test_an_unknown_command_lists_the_commands():
    result = xephang("serve")
    assert result.returncode == 2 and "unknown command 'serve'" in result.stderr
    assert "Traceback" not in result.stderr and "server" in result.stderr


# -- backup ----------------------------------------------------------------------------------


async def test_backup_while_the_server_writes_is_a_consistent_copy(harness, tmp_path):
    server = harness.server
    services = ["KQ", "DIEN"]  # 999 numbers each: the writer never runs out
    issued = 0

    async def issue() -> None:
        nonlocal issued
        await server.submit("tinh", c.IssueTicket(actor="bench", service=services[issued % 2],
                                                  token=secrets.token_urlsafe(8)))
        issued += 1

    for _ in range(40):
        await issue()
    stop = asyncio.Event()

    async def keep_writing() -> int:
        count = 0
        while not stop.is_set() and issued < 1900:
            await issue()
            count += 1
        return count

    writer = asyncio.create_task(keep_writing())
    target = tmp_path / "backup.db"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "xephang", "backup", str(target), "--db", str(harness.db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    stop.set()
    during = await writer
    assert process.returncode == 0, err.decode()
    assert "integrity ok" in out.decode() and during > 0

    copy = sqlite3.connect(target)
    assert copy.execute("pragma integrity_check").fetchone() == ("ok",)
    copy.close()
    backup = Store.open(target)
    saved = backup.load_site(server.site_rules("tinh"), date(2026, 11, 25))
    backup.close()
    live = server.states["tinh"].tickets
    assert 40 <= len(saved.tickets) <= len(live)
    assert all(live[tid] == ticket for tid, ticket in saved.tickets.items())
    # A consistent snapshot: the tickets it holds are exactly the first N issued, no gaps.
    orders = sorted(t.order for t in saved.tickets.values())
    assert orders == list(range(1, len(orders) + 1))
    counts = {s: sum(1 for t in saved.tickets.values() if t.service == s) for s in services}
    assert dict(saved.sequences) == counts

    again = xephang("backup", str(target), "--db", str(harness.db))
    assert one_line_error(again) == f"error: {target} exists; choose a new file"


def test_backup_of_a_missing_database_is_an_error(tmp_path):
    line = one_line_error(xephang("backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "none.db")))
    assert line == f"error: no database at {tmp_path / 'none.db'}"

