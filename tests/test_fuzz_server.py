"""Hostile input against a live server process: raw garbage and property-based messages for
every role. Each message gets an error reply (never ``internal``) or, for oversized frames
only, a close with code 1009; the connection otherwise lives on, and a canary kiosk and
clerk keep working throughout. (The protocol-level basics, permissions matrix and
throttling are in tests/test_server_integration.py; this goes deeper.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from common.assets import asset_path
from common.config import ConfigError, parse_config
from server.cli import build_parser
from tests.reliability import report_plugin
from tests.reliability.config_gen import always_open_config, example_dict, to_toml
from tests.reliability.fuzz import (
    Canary,
    Session,
    check_error,
    client_messages,
    mutated_configs,
)
from tests.reliability.server_process import ROOT, ServerProcess
from xephang.cli import main

MAX_MESSAGE = 65536  # server.max_message_bytes in the configuration
EXAMPLES = int(os.environ.get("XEPHANG_FUZZ_EXAMPLES", "150"))  # per role; scripts/reliability.sh: more
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    report_plugin.pytest_configure(request.config)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    with ServerProcess(always_open_config(workdir / "centre.toml"), workdir / "xephang.db") as proc:
        yield proc


@pytest.fixture(scope="module")
def canary(server):
    bird = Canary(server.url)
    bird.start()
    yield bird
    bird.stop()


@pytest.fixture(scope="module")
def sessions(server, canary):
    opened: dict[str, Session] = {}

    def get(role: str) -> Session:
        session = opened.get(role)
        if session is None or session.sent > 40:  # stay under the 30/s (burst 90) rate limit
            address = f"127.0.1.{list(ROLES).index(role) + 1}"
            session = opened[role] = Session(server.url, ROLES[role], address).open()
        return session

    yield get
    for session in opened.values():
        session.close()


ROLES = {"anonymous": "anonymous", "kiosk": "kiosk", "display": "display", "clerk": "clerk",
         "manager": "manager", "watcher": "anonymous"}


# -- raw payloads ------------------------------------------------------------------------------------

DEEP = 30000
RAW_TEXT = [
    "", " ", "null", "true", "0", "-1", "1e400", "[]", "{}", '"ping"', "{", "}", "{{}}", "[" * 10,
    '{"type":"ping"', '{"type":"ping",}', "{'type':'ping'}", '{"type":null}', '{"type":1}',
    '{"type":["ping"]}', '{"type":"ping","type":"logout"}', '{"type":"nope"}', '{"TYPE":"ping"}',
    '{"type":"ping","id":1e308}', '{"type":"ping","id":-1e308}', '{"type":"ping","id":18446744073709551616}',
    '{"type":"ping","id":' + "9" * 4000 + "}", '{"type":"ping","id":NaN}', '{"type":"ping","id":Infinity}',
    '{"type":"login","v":1,"username":"lan","password":"' + "x" * 60000 + '"}',
    '{"type":"login","v":18446744073709551616,"username":"lan","password":"x"}',
    '{"type":"login_device","v":1,"token":' + "[" * DEEP + "]" * DEEP + "}",
    "[" * DEEP + "]" * DEEP,
    '{"type":"ping","id":"a","x":' + '{"a":' * 10000 + "1" + "}" * 10000 + "}",
    '{"type":"ping","id":' + "[" * DEEP + "]" * DEEP + "}",
    '{"type":"issue_ticket","service":"TP","idempotency_key":"' + "\\u0000" * 10 + '"}',
    '{"type":"ping","id":"\\ud800"}', '{"type":"ping","id":"\\u0000"}',
    "\u0000" * 100, "\ufeff{}", json.dumps({"type": "ping", "id": "x" * 50000}),
]
RAW_BINARY = [b"", b"\x00", b'{"type":"ping"}', bytes(range(256)), b"\xff" * 60000, zlib.compress(b"{}")]


@pytest.mark.parametrize("role", ["anonymous", "kiosk", "clerk"])
def test_raw_garbage_gets_an_error_and_the_connection_lives(sessions, role):
    for payload in RAW_TEXT + RAW_BINARY:
        session = sessions(role)
        session.send(payload)
        replies = session.replies_until_pong()
        assert replies, f"no reply to {payload[:60]!r}"
        for reply in replies:
            if reply["type"] == "error":
                check_error(reply)
        TRIED["raw"] = TRIED.get("raw", 0) + 1


@pytest.mark.parametrize("size", [MAX_MESSAGE + 1, 4 * MAX_MESSAGE, 1 << 20])
def test_oversized_frame_closes_that_connection_with_1009(server, size):
    session = Session(server.url, "anonymous", "127.0.2.1").open()
    bystander = Session(server.url, "kiosk", "127.0.2.2").open()
    session.send(json.dumps({"type": "ping", "id": "x" * size}))
    with pytest.raises(ConnectionClosed) as info:
        session.replies_until_pong()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    assert bystander.replies_until_pong() == []  # everyone else carries on
    bystander.close()


def test_compressed_bomb_is_measured_after_inflating(server):
    """permessage-deflate: 1 MiB of zeros is ~1 KiB on the wire; the limit applies inflated."""
    session = Session(server.url, "anonymous", "127.0.2.3").open()
    assert session.ws.protocol.extensions, "the server should negotiate compression for this test"
    session.send(json.dumps({"type": "ping", "id": "0" * (1 << 20)}))
    with pytest.raises(ConnectionClosed) as info:
        session.replies_until_pong()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


# -- property-based messages, per role --------------------------------------------------------------

def _fuzz(session_for, role: str, message: dict) -> None:
    session = session_for(role)
    session.send(json.dumps(message, ensure_ascii=False))
    replies = session.replies_until_pong()
    assert replies, f"no reply to {str(message)[:200]}"
    for reply in replies:
        if reply["type"] == "error":
            check_error(reply)
    if message.get("type") in ("logout", "login", "login_device", "watch_ticket", "select_counter"):
        session.sent = 10**6  # its role may have changed: start afresh next time
    TRIED[role] = TRIED.get(role, 0) + 1


@FUZZ
@given(message=client_messages())
def test_fuzz_anonymous(sessions, message):
    _fuzz(sessions, "anonymous", message)


@FUZZ
@given(message=client_messages(["issue_ticket", "printer_status", "ping", "logout", "call_next"]))
def test_fuzz_kiosk(sessions, message):
    _fuzz(sessions, "kiosk", message)


@FUZZ
@given(message=client_messages())
def test_fuzz_display(sessions, message):
    _fuzz(sessions, "display", message)


CLERK_TYPES = ["call_next", "call_number", "recall", "start_service", "mark_absent", "hold", "resume_held",
               "transfer", "finish", "pause_counter", "resume_counter", "cancel_ticket", "rate", "ping"]


@FUZZ
@given(message=client_messages(CLERK_TYPES), prepare=st.booleans())
def test_fuzz_clerk(sessions, message, prepare):
    if prepare:  # give the clerk a ticket in hand so the serving commands get past "no ticket"
        kiosk = sessions("kiosk")
        kiosk.call({"type": "issue_ticket", "service": "KQ",
                    "idempotency_key": f"fuzz-{kiosk.ids:06d}-{id(message)}"})
        clerk = sessions("clerk")
        clerk.send(json.dumps({"type": "resume_counter"}))
        clerk.send(json.dumps({"type": "call_next"}))
        clerk.replies_until_pong()
    _fuzz(sessions, "clerk", message)


@FUZZ
@given(message=client_messages(["cancel_ticket", "ping", "call_next", "rate", "logout"]))
def test_fuzz_manager(sessions, message):
    _fuzz(sessions, "manager", message)


@FUZZ
@given(message=client_messages(["rate", "ping", "logout", "issue_ticket"]), value=st.integers(-3, 6))
def test_fuzz_watcher(sessions, server, message, value):
    session = sessions("watcher")
    if session.sent == 0:
        kiosk = sessions("kiosk")
        issued = kiosk.call({"type": "issue_ticket", "service": "KQ",
                             "idempotency_key": f"w-{kiosk.ids:08d}"})
        token = issued["url"].rsplit("/", 1)[1]
        session.call({"type": "watch_ticket", "v": 1, "token": token}, expect="welcome")
    _fuzz(sessions, "watcher", message)


def test_canary_worked_throughout_and_the_server_is_healthy(server, canary, request):
    health = server.health()
    assert health["status"] == "ok"
    assert server.running
    failures = server.log_entries("error", "critical", "unparsed")
    assert not failures, f"the server logged {len(failures)} error(s), first: {failures[0]}"
    canary.stop()
    assert not canary.failures, canary.failures
    assert canary.ok["issue_ticket"] >= 20
    total = sum(TRIED.values())
    report_plugin.pytest_configure(request.config)
    report_plugin.record(
        "protocol fuzzing",
        f"{total} hostile messages ({', '.join(f'{k} {v}' for k, v in sorted(TRIED.items()))}): "
        f"no internal error, server up; canary {canary.ok['issue_ticket']} issues / "
        f"{canary.ok['finish']} finishes, 0 failures, slowest round {canary.worst_ms:.0f} ms",
        inputs=dict(TRIED), canary=dict(canary.ok), canary_worst_ms=round(canary.worst_ms),
    )


# -- configuration files and command lines -----------------------------------------------------------
# A centre edits its TOML by hand: whatever is in it, `xephang config check` and `xephang server`
# must say what is wrong in one line and exit 2, never print a traceback.

def _parse(text: str | bytes) -> str:
    """'ok', or the ConfigError's message; anything else escapes and fails the test."""
    try:
        parse_config(text, "centre.toml")
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message.strip() or "TOML" in message, message
        assert message.startswith("centre.toml")
        return message
    return "ok"


CONFIG_TRIED = {"mutated TOML": 0, "corrupted bytes": 0, "garbage files": 0, "server argument lists": 0}


def _count(kind: str) -> None:
    CONFIG_TRIED[kind] += 1
    report_plugin.record(
        "configuration and CLI fuzzing",
        ", ".join(f"{n} {k}" for k, n in CONFIG_TRIED.items())
        + ": each accepted or refused in one line with exit 2, no traceback",
        inputs=dict(CONFIG_TRIED))


@settings(max_examples=2 * EXAMPLES, deadline=2000, suppress_health_check=list(HealthCheck))
@given(raw=mutated_configs())
def test_fuzzed_configuration_is_accepted_or_explained(raw):
    try:
        text = to_toml(raw)
    except (TypeError, ValueError):
        return  # not expressible in TOML
    _parse(text)
    _count("mutated TOML")


@settings(max_examples=EXAMPLES + 50, deadline=2000, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_corrupted_configuration_bytes_are_explained(data):
    text = bytearray(to_toml(example_dict()).encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(text) - 1))
        text[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text)))]
    _parse(bytes(text))
    _count("corrupted bytes")


@pytest.mark.parametrize("change", [
    ("digits = 3", "digits = 1000000000"), ("digits = 3", "digits = 3000"),
    ("start = 8001", "start = " + "9" * 5000), ("start = 8001", "start = 10000000000000000000000"),
    ("daily_cap = 250", "daily_cap = 99999999999999999999999"),
    ("port = 8765", "port = 99999999999999999999"),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "../../../etc/passwd"'),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "\\u0000"'),
    ("max_message_bytes", "max_message_bytes = 1e400 #"),
])
def test_extreme_configuration_values_are_refused_quickly(change):
    text = Path(asset_path("config", "example.toml")).read_text(encoding="utf-8").replace(*change, 1)
    started = time.monotonic()
    _parse(text)
    assert time.monotonic() - started < 2


def test_non_utf8_configuration_is_explained():
    assert _parse(b"\xff\xfeprovince = 1") != "ok"
    assert _parse("province = \"Tỉnh\"".encode("cp1258", errors="replace")) != "ok"


def _admin(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_config_check_on_garbage_files(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cfg") / "centre.toml"
    path.write_bytes(content)
    code, err = _admin("config", "check", str(path))
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    _count("garbage files")


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=st.lists(st.sampled_from([
    "--config", "--db", "--host", "--port", "--log-level", "--log-file", "--bogus", "-x", "", "0",
    "-1", "65536", "99999999999999999999", "abc", "/nonexistent/x", "debug", "verbose", "\x00", "ư",
]) | st.text(max_size=10), max_size=5))
def test_server_arguments_are_parsed_or_refused_with_exit_2(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            assert exc.code == 2 and "error:" in err.getvalue()
    _count("server argument lists")


SERVER_FAILURES = [
    # (arguments after "server", expected exit code, text expected in stderr)
    (["--port", "http"], 2, "not a port number"),
    (["--port", "70000"], 2, "not a TCP port"),
    (["--config", "/nonexistent/centre.toml"], 2, "cannot read file"),
    (["--config", "{bad}"], 2, "error:"),
    (["--config", "{dir}"], 2, "cannot read file"),
    (["--db", "/proc/xephang/x.db"], 1, "cannot open database"),
    (["--db", "{dir}"], 1, "cannot open database"),
    (["--log-file", "/proc/xephang/server.log"], 2, "log"),
    (["--log-file", "{dir}"], 2, "log"),
    (["--host", "203.0.113.77", "--demo"], 1, "cannot listen"),  # --demo: the example's public secrets
    (["--host", "203.0.113.77"], 2, "public secrets"),
    (["--port", "{busy}"], 1, "cannot listen"),
]


@pytest.mark.parametrize(("argv", "code", "text"), SERVER_FAILURES,
                         ids=[" ".join(a) for a, _, _ in SERVER_FAILURES])
def test_server_command_fails_cleanly(tmp_path, argv, code, text):
    bad = tmp_path / "bad.toml"
    bad.write_text("province = 1\n[[sites]]\ncode = 2\n")
    good = always_open_config(tmp_path / "centre.toml")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        fill = {"{bad}": str(bad), "{dir}": str(tmp_path), "{busy}": str(busy.getsockname()[1])}
        argv = [fill.get(a, a) for a in argv]
        if "--config" not in argv:
            argv += ["--config", str(good)]
        if "--db" not in argv:
            argv += ["--db", str(tmp_path / "x.db")]
        if "--log-file" not in argv:
            argv += ["--log-file", str(tmp_path / "server.log")]
        if "--host" not in argv:
            argv += ["--host", "127.0.0.1"]
        result = subprocess.run([sys.executable, "-m", "xephang", "server", *argv], capture_output=True,
                                text=True, timeout=30, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    assert text in result.stderr, result.stderr


# -- overlapping number ranges (found by the long crash run: KQ's 9001 reached by another range) ----


def test_services_whose_ranges_meet_later_in_the_day_are_refused():
    """A range that reaches another service's numbers (not only the first) must be refused:
    when the clash happened, the unique number index refused the commit and stopped the
    server, again after every restart, as soon as anyone took that service's next number."""
    raw = example_dict()
    electricity = next(s for s in raw["sites"][0]["services"] if s["code"] == "DIEN")
    electricity["numbering"] = {"style": "block", "start": 9000, "end": 9500}  # results: 9001-9999
    assert "services 'DIEN' and 'KQ' would both print number '9001'" in _parse(to_toml(raw))
    electricity["daily_cap"] = 1  # only 9000 is ever printed: no clash
    assert _parse(to_toml(raw)) == "ok"
    electricity.pop("daily_cap")
    electricity["numbering"] = {"style": "prefix", "prefix": "", "digits": 4}  # 0001 … 9999
    assert "would both print number '9001'" in _parse(to_toml(raw))


numberings = st.fixed_dictionaries({
    "style": st.sampled_from(["prefix", "block"]), "prefix": st.sampled_from(["", "A"]),
    "digits": st.integers(1, 3), "start": st.integers(0, 1100),
    "end": st.none() | st.integers(0, 1300), "cap": st.none() | st.integers(1, 60),
})


@settings(max_examples=400, deadline=None)
@given(first=numberings, second=numberings)
def test_the_clash_check_agrees_with_listing_every_number(first, second):
    from common.config import Numbering, Service, _shared_number

    def service(code: str, spec: dict) -> Service:
        numbering = Numbering(style=spec["style"], prefix=spec["prefix"], digits=spec["digits"],
                              start=spec["start"], end=spec["end"] if spec["style"] == "block" else None)
        return Service(code=code, name_vi=code, name_en=code, agency="x", numbering=numbering,
                       daily_cap=spec["cap"])

    a, b = service("A1", first), service("B1", second)

    def printed(s: Service) -> set[str]:
        cap = min(s.daily_cap or s.numbering.capacity, s.numbering.capacity)
        return {s.numbering.format(n) for n in range(1, cap + 1)} if cap <= 5000 else set()

    if max(a.numbering.capacity, b.numbering.capacity) > 5000:
        return
    both = printed(a) & printed(b)
    shared = _shared_number(a, b)
    assert (shared is not None) == bool(both), (shared, sorted(both)[:5])
    assert shared is None or shared in both


def test_the_fuzzer_knows_every_reply_type():
    """A reply type the fuzzer does not count looks like no reply at all (a new message's
    answer, e.g. booking_options, failed the fuzz when it was drawn)."""
    from common import protocol as p
    from tests.reliability.fuzz import REPLY_TYPES

    pushed = {"snapshot", "update", "paired", "counter_taken_over"}
    assert set(p.SERVER_TYPES) - pushed == REPLY_TYPES
