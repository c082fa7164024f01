"""A paired device's credential file (common/device_credential.py) and its pairing screen's
state (common/pairing_state.py), with no server and no window."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from common import device_credential
from common import protocol as p
from common.client import Offline, RequestFailed
from common.config import ConfigError
from common.device_credential import DeviceCredential
from common.pairing_state import RETRY_SECONDS, PairingPhase, PairingState

CREDENTIAL = DeviceCredential(server="ws://10.0.0.5:8765/ws", kind="kiosk", device="kiosk-tang-2",
                              site="tinh", token="d3Jn6Qm0yXw0b1cK2tq9uA0f")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_place_follows_xdg(tmp_path):
    assert device_credential.default_path("kiosk", {"XDG_CONFIG_HOME": str(tmp_path)}) == \
        tmp_path / "xephang" / "kiosk.json"
    relative = device_credential.default_path("display", {"XDG_CONFIG_HOME": "not/absolute"})
    assert relative == Path.home() / ".config" / "xephang" / "display.json"


def test_saved_atomically_private_and_read_back(tmp_path):
    old_umask = os.umask(0o022)  # the usual umask: files would be 0644 unless made private
    try:
        path = tmp_path / "home" / ".config" / "xephang" / "kiosk.json"
        device_credential.save(path, CREDENTIAL)
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600
    assert [mode(d) for d in (path.parent, path.parent.parent, path.parent.parent.parent)] == [0o700] * 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["kiosk.json"]  # no temporary left
    assert device_credential.load(path, "kiosk") == CREDENTIAL
    replaced = DeviceCredential(**{**{f: getattr(CREDENTIAL, f) for f in CREDENTIAL.__struct_fields__},
                                   "token": "x" * 24})
    device_credential.save(path, replaced)
    assert device_credential.load(path, "kiosk") == replaced
    device_credential.remove(path)
    device_credential.remove(path)  # already gone: fine
    assert device_credential.load(path, "kiosk") is None


def test_an_existing_directory_keeps_its_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    device_credential.save(shared / "kiosk.json", CREDENTIAL)
    assert mode(shared) == 0o755 and mode(shared / "kiosk.json") == 0o600


def test_a_readable_file_is_made_private_when_read(tmp_path):
    path = tmp_path / "kiosk.json"
    device_credential.save(path, CREDENTIAL)
    path.chmod(0o644)
    assert device_credential.load(path, "kiosk") == CREDENTIAL
    assert mode(path) == 0o600


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "not a device credential"),
    (b"{", "not a device credential"),
    (b'{"server": "ws://x/ws", "kind": "kiosk", "device": "k", "site": "s"}',
     "missing required field `token`"),
    (b'{"server": "ws://x/ws", "kind": "kiosk", "device": "k", "site": "s", "token": "t", "users": []}',
     "unknown field `users`"),
    (b'{"server": "ws://x/ws", "kind": "display", "device": "k", "site": "s", "token": "t"}',
     "a display's credential, not a kiosk's"),
    (b'{"server": "ws://x/ws", "kind": "kiosk", "device": "k", "site": "s", "token": ""}', "token: empty"),
    (b" " * 5000, "more than 4096 bytes"),
])
def test_a_file_that_is_not_a_credential_is_refused_clearly(tmp_path, content, problem):
    path = tmp_path / "kiosk.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        device_credential.load(path, "kiosk")
    assert problem in str(caught.value) and str(path) in str(caught.value)


# -- the pairing screen's state ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pairing(paired: bool = False) -> tuple[PairingState, list[int], Clock]:
    asked: list[int] = []
    clock = Clock()
    return PairingState(kind="kiosk", paired=paired, request_code=asked.append, clock=clock), asked, clock


def refusal(code: str) -> RequestFailed:
    return RequestFailed(p.Error(code=code, message_vi="Quá nhiều mã đang chờ", message_en="Too many codes"))


def test_a_code_is_asked_for_once_online_and_shown_until_it_expires():
    state, asked, clock = pairing()
    assert state.pairing and state.phase is PairingPhase.CONNECTING and asked == []
    state.on_status("online")
    assert state.phase is PairingPhase.ASKING and asked == [1]
    state.on_code(1, "K7MXQ4", 600)
    assert (state.phase, state.spaced_code, state.minutes_left()) == (PairingPhase.SHOWING, "K7M XQ4", 10)
    clock.now += 590
    state.tick()
    assert state.phase is PairingPhase.SHOWING and state.minutes_left() == 1
    clock.now += 9  # the next code is asked for a little before the server forgets this one
    state.tick()
    assert state.phase is PairingPhase.ASKING and asked == [1, 2] and state.code == ""
    state.on_code(1, "OLDOLD", 600)  # a late answer to the first request: ignored
    assert state.code == ""
    state.on_code(2, "ACDEFG", 600)
    assert state.code == "ACDEFG"


def test_a_lost_link_hides_the_code_and_the_return_asks_again():
    state, asked, _ = pairing()
    state.on_status("online")
    state.on_code(1, "K7MXQ4", 600)
    state.on_status("offline")
    assert state.phase is PairingPhase.CONNECTING and state.code == ""
    state.on_status("online")
    assert asked == [1, 2] and state.phase is PairingPhase.ASKING
    state.on_code_failed(2, Offline("connection lost"))
    assert state.phase is PairingPhase.CONNECTING


def test_a_refused_code_is_shown_and_asked_for_again_later():
    state, asked, clock = pairing()
    state.on_status("online")
    state.on_code_failed(1, refusal("pairing_busy"))
    assert state.phase is PairingPhase.REFUSED and state.notice is not None
    assert state.notice.vi == "Quá nhiều mã đang chờ"
    state.tick()
    assert asked == [1]
    clock.now += RETRY_SECONDS
    state.tick()
    assert asked == [1, 2]
    state.on_code(2, "K7MXQ4", 600)
    assert state.notice is None


def test_paired_then_logged_in_then_revoked():
    state, asked, _ = pairing()
    state.on_status("online")
    state.on_code(1, "K7MXQ4", 600)
    device = p.DeviceView(id="kiosk-tang-2", name="Kiosk tầng 2", kind="kiosk", site="tinh")
    state.on_paired(device)
    assert state.phase is PairingPhase.LOGGING_IN and state.pairing and state.code == ""
    state.on_status("offline")  # the reconnect logs in with the credential: still logging in
    assert state.phase is PairingPhase.LOGGING_IN
    state.on_status("online")
    state.on_logged_in(device)
    assert not state.pairing and asked == [1]
    state.on_status("offline")
    state.on_revoked()
    assert state.pairing and state.phase is PairingPhase.CONNECTING and state.notice is not None
    assert state.notice.vi == "Thiết bị này đã bị thu hồi quyền kết nối: cần ghép nối lại."
    state.on_status("online")
    state.on_code(2, "K7MXQ4", 600)
    assert state.notice is not None  # why it is pairing again stays on the screen


def test_a_paired_device_never_asks_for_a_code():
    state, asked, _ = pairing(paired=True)
    state.on_status("online")
    state.on_status("offline")
    state.on_status("online")
    state.tick()
    assert asked == [] and not state.pairing
