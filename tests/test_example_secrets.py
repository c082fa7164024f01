"""The example centre's passwords and device tokens are public (they ship with the code):
`xephang config check` says so, and the server will not listen beyond this machine with
them unless told ``--demo`` (security probe, issue 11)."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.assets import asset_path
from common.cli_args import is_loopback
from common.config import load_config, parse_config
from common.example_secrets import FORMER_EXAMPLE_HASHES, example_secrets
from common.passwords import N, P, R, hash_password, verify_password
from tests.reliability.server_process import ROOT, free_port
from xephang import demo

EXAMPLE = asset_path("config", "example.toml")
EXAMPLE_TEXT = Path(EXAMPLE).read_text(encoding="utf-8")
EXAMPLE_USERS = [u.username for u in load_config(EXAMPLE).users]
EXAMPLE_DEVICES = ["tinh/kiosk-sanh-1", "tinh/kiosk-sanh-2", "tinh/tv-sanh", "tinh/tv-tang-2",
                   "giavien/kiosk-giavien", "giavien/tv-giavien"]


def xephang(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xephang", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


def without_example_secrets(text: str = EXAMPLE_TEXT, *, keep: str | None = None) -> str:
    """The example with a fresh token for every device and one fresh hash for every user,
    except the line containing ``keep`` (a token or a username's hash line left as it was)."""
    fresh_hash = hash_password("một mật khẩu riêng")
    lines = []
    for line in text.splitlines(keepends=True):
        if keep is None or keep not in line:
            line = re.sub(r'^token = ".*"$', lambda _: f'token = "{secrets.token_urlsafe(18)}"', line)
            line = re.sub(r'^password_hash = ".*"$', lambda _: f'password_hash = "{fresh_hash}"', line)
        lines.append(line)
    return "".join(lines)


# -- the example's own hashes ------------------------------------------------------------------


def test_every_example_password_has_its_own_salt_and_is_still_xephang():
    hashes = re.findall(r'^password_hash = "(.*)"$', EXAMPLE_TEXT, flags=re.M)
    assert len(hashes) == len(EXAMPLE_USERS) == 16
    parts = [h.split("$") for h in hashes]
    assert all(p[:4] == ["scrypt", str(N), str(R), str(P)] for p in parts), "cost parameters kept"
    salts = [p[4] for p in parts]
    assert len(set(salts)) == len(salts), "two example users share a salt"
    assert not set(hashes) & FORMER_EXAMPLE_HASHES
    for user in load_config(EXAMPLE).users:
        assert verify_password("xephang", user.password_hash), user.username


# -- finding them ------------------------------------------------------------------------------


def test_every_secret_of_the_example_is_found():
    found = example_secrets(load_config(EXAMPLE))
    assert found.users == tuple(EXAMPLE_USERS)
    assert found.devices == tuple(EXAMPLE_DEVICES)
    assert found


def test_a_centre_with_its_own_secrets_has_none_of_the_example():
    found = example_secrets(parse_config(without_example_secrets()))
    assert not found and found.users == () and found.devices == ()


def test_one_forgotten_token_or_password_is_found():
    kept_token = parse_config(without_example_secrets(keep="azJrM71K1HPxp5lSNdzeijye"))
    assert example_secrets(kept_token).devices == ("giavien/kiosk-giavien",)
    assert example_secrets(kept_token).users == ()
    # An example hash copied to a new user is the example's password all the same.
    lan_hash = load_config(EXAMPLE).users[0].password_hash
    text = without_example_secrets() + (
        f'\n[[users]]\nusername = "nam"\nfull_name = "Nam"\nrole = "clerk"\npassword_hash = "{lan_hash}"\n')
    assert example_secrets(parse_config(text)).users == ("nam",)


def test_a_file_copied_from_an_older_example_is_found():
    """Older examples gave every user one hash; a centre may still have copied that file."""
    (old_hash,) = FORMER_EXAMPLE_HASHES
    assert verify_password("xephang", old_hash)
    text = re.sub(r'^password_hash = ".*"$', f'password_hash = "{old_hash}"', without_example_secrets(),
                  flags=re.M)
    assert example_secrets(parse_config(text)).users == tuple(EXAMPLE_USERS)


def test_finding_them_is_cheap():
    config = load_config(EXAMPLE)
    started = time.perf_counter()
    for _ in range(20):
        example_secrets(config)
    assert time.perf_counter() - started < 0.5  # no scrypt: a comparison of strings


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True), ("LOCALHOST", True),
    ("0.0.0.0", False), ("::", False), ("", False), ("192.168.1.10", False), ("server.local", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


# -- xephang config check ----------------------------------------------------------------------


def test_config_check_warns_about_the_example_secrets():
    result = xephang("config", "check", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"warning: {EXAMPLE}: ")
    assert "public" in warning and "xephang user add" in warning and "xephang token" in warning
    assert all(name in warning for name in [*EXAMPLE_USERS, *EXAMPLE_DEVICES]), warning
    assert "--demo" in warning


def test_config_check_strict_fails_with_example_secrets(tmp_path):
    result = xephang("config", "check", "--strict", str(EXAMPLE))
    assert result.returncode == 1 and "OK" in result.stdout and "warning:" in result.stderr
    own = tmp_path / "centre.toml"
    own.write_text(without_example_secrets(), encoding="utf-8")
    clean = xephang("config", "check", "--strict", str(own))
    assert clean.returncode == 0 and "OK" in clean.stdout and clean.stderr == ""
    one_left = tmp_path / "one-left.toml"
    one_left.write_text(without_example_secrets(keep="k7bKELbErU70Pzcz_B-tdn9e"), encoding="utf-8")
    result = xephang("config", "check", "--strict", str(one_left))
    assert result.returncode == 1 and "giavien/tv-giavien" in result.stderr and "lan" not in result.stderr


# -- xephang server ----------------------------------------------------------------------------


def test_the_server_refuses_to_listen_on_every_interface_with_the_example_secrets(tmp_path):
    """The example's [server] host is 0.0.0.0: started on it, the server used to listen on
    every interface with passwords and tokens anyone can read in the code."""
    db, log = tmp_path / "db" / "x.db", tmp_path / "log" / "server.log"
    try:
        result = xephang("server", "--config", str(EXAMPLE), "--db", str(db), "--log-file", str(log),
                         "--port", str(free_port()), timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the server started on 0.0.0.0 with the example's public secrets")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {EXAMPLE} ")
    for text in ["0.0.0.0", "xephang user add", "xephang token", "--host 127.0.0.1", "--demo", "lan",
                 "tinh/kiosk-sanh-1"]:
        assert text in line, text
    assert not db.exists() and not log.exists()  # refused before touching anything
    other = xephang("server", "--config", str(EXAMPLE), "--db", str(db), "--log-file", str(log),
                    "--host", "192.0.2.7", "--port", str(free_port()), timeout=15)
    assert other.returncode == 2 and "192.0.2.7" in other.stderr


def _start(tmp_path: Path, *argv: str) -> tuple[subprocess.Popen, list[str]]:
    """Start ``xephang server`` and read its log until it serves; (process, lines read)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "xephang", "server", "--config", str(EXAMPLE), "--db", str(tmp_path / "x.db"),
         "--log-file", str(tmp_path / "server.log"), "--port", "0", *argv],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    lines = []
    for line in server.stderr:
        lines.append(line)
        if "serving on" in line:
            return server, lines
    server.wait(10)
    pytest.fail(f"the server exited with {server.returncode}: {''.join(lines)}")


@pytest.mark.parametrize("argv", [["--host", "127.0.0.1"], ["--host", "0.0.0.0", "--demo"]],
                         ids=["loopback", "demo"])
def test_the_server_starts_with_the_example_on_loopback_or_with_demo(tmp_path, argv):
    server, lines = _start(tmp_path, *argv)
    try:
        warnings = [line for line in lines if '"level": "warning"' in line and "public" in line]
        assert len(warnings) == 1, lines
    finally:
        server.terminate()
        server.wait(15)
    assert server.returncode == 0


def test_the_demo_keeps_its_server_on_this_machine_unless_asked():
    assert demo.build_parser().parse_args([]).host == "127.0.0.1"
    assert demo.server_arguments("127.0.0.1") == ["--host", "127.0.0.1"]
    assert demo.server_arguments("0.0.0.0") == ["--host", "0.0.0.0", "--demo"]
