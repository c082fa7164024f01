"""Hostile input: hypothesis strategies for protocol messages, raw payloads, and small
synchronous clients (each from its own loopback address, so the server's per-address login
throttle of one fuzzer does not lock out another) plus a canary that keeps working.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import typing
from collections import Counter as Tally
from datetime import date
from typing import Any

import msgspec
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from common import protocol as p
from common.errors import MESSAGES
from tests.reliability.config_gen import example_dict

PASSWORD = "xephang"
KIOSK_TOKEN = "r-dPIIJld2G0aI0GL3Fkm5S6"
DISPLAY_TOKEN = "vpw-NmCfYqcryXDPG38uVUy5"
# Every message the server sends in answer to a request (the pushed ones, snapshot/update/
# paired/counter_taken_over, are not answers).
REPLY_TYPES = {"error", "result", "welcome", "pong", "ticket_status", "settings", "pairing",
               "booking_options", "booking_slots", "booking", "remote_ticket"}

# -- values ---------------------------------------------------------------------------------------

HUGE_NUMBERS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**64 + 1, -(2**63) - 1, 10**30, -(10**30)]
NASTY_TEXT = [
    "", " ", "\x00", "A001", "a001", "9001", "TP", "tinh", "giavien", "'; drop table tickets; --",
    "\" or 1=1 --", "%s%s%n", "{number}", "{0.__class__}", "../../etc/passwd", "\u202e\u0041",
    "Nguyễn Thị Lan", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ufeff", "x" * 5000, "ư" * 3000, "\n" * 100,
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(HUGE_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -1e308, 5e-324, -0.0]),
    st.text(max_size=40), st.sampled_from(NASTY_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _strategy_for(annotation: Any) -> st.SearchStrategy:
    """Mostly well-typed values (to reach the handlers), sometimes anything at all."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return st.one_of(*[_strategy_for(a) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return st.text(max_size=20) | st.sampled_from(NASTY_TEXT)
    if annotation is int:
        return st.integers(-5, 20) | st.integers() | st.sampled_from(HUGE_NUMBERS)
    if annotation is bool:
        return st.booleans()
    return json_values


def _fields(cls: type) -> list[msgspec.structs.FieldInfo]:
    return list(msgspec.structs.fields(cls))


@st.composite
def client_messages(draw, types: list[str] | None = None) -> dict[str, Any]:
    """A JSON object shaped like a client message: a known (or bogus) type, its fields
    well-typed or not, some missing, some extra."""
    names = types or sorted(p.CLIENT_TYPES)
    kind = draw(st.sampled_from(names) | st.sampled_from(["", "PING", "snapshot", "welcome", "x" * 300]))
    message: dict[str, Any] = {"type": kind}
    cls = p.CLIENT_TYPES.get(kind)
    for field in _fields(cls) if cls else []:
        if field.name == "id":
            continue
        if draw(st.integers(0, 9)) == 0:  # sometimes missing
            continue
        if draw(st.integers(0, 5)) == 0:
            message[field.name] = draw(json_values)
        else:
            hints = typing.get_type_hints(cls, include_extras=False)
            message[field.name] = draw(_strategy_for(hints[field.name]))
    if draw(st.integers(0, 6)) == 0:
        message[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    message["id"] = draw(st.text(min_size=1, max_size=12) | st.integers(0, 2**40))
    return message


# -- configuration files ------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.integers(), st.sampled_from([*HUGE_NUMBERS, 10**100, -1, 0, 10**7]), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30), st.sampled_from(NASTY_TEXT),
    st.dates(min_value=date(1, 1, 1)),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                                                inner, max_size=3),
    max_leaves=6,
)


@st.composite
def mutated_configs(draw) -> dict:
    """The example centre with 1-3 values replaced, removed or added anywhere in the tree."""
    raw = example_dict()
    for _ in range(draw(st.integers(1, 3))):
        node = raw
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.integers(0, 3)):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "delete" and isinstance(node, dict):
                del node[key]
            elif action == "add" and isinstance(node, dict):
                node[draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True))] = draw(toml_values)
            else:
                node[key] = draw(toml_values)
            break
    return raw



# -- clients ---------------------------------------------------------------------------------------


def open_from(url: str, source: str, **kwargs: Any) -> ClientConnection:
    """A websocket from a chosen loopback address (127.0.0.0/8 is all this machine)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
    return connect(url, sock=sock, proxy=None, max_size=None, open_timeout=5, close_timeout=1, legacy=True,
                   ping_interval=None,  # its pings draw on `random`, which upsets hypothesis
                   **kwargs)


class Session:
    """A synchronous client that logs in as ``role`` and answers "what did the server say"."""

    def __init__(self, url: str, role: str, source: str) -> None:
        self.url, self.role, self.source = url, role, source
        self.ws: ClientConnection | None = None
        self.sent = 0
        self.ids = 0

    def open(self) -> Session:
        self.close()
        self.ws = open_from(self.url, self.source)
        self.sent = 0
        if self.role == "kiosk":
            self.call({"type": "login_device", "v": 1, "token": KIOSK_TOKEN}, expect="welcome")
        elif self.role == "display":
            self.call({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
        elif self.role == "clerk":
            self.call({"type": "login", "v": 1, "username": "ha", "password": PASSWORD}, expect="welcome")
            self.call({"type": "select_counter", "site": "tinh", "counter": 14})
        elif self.role == "manager":
            self.call({"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD},
                      expect="welcome")
        return self

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def send(self, data: str | bytes) -> None:
        assert self.ws is not None
        self.sent += 1
        self.ws.send(data)

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        assert self.ws is not None
        raw = self.ws.recv(timeout)
        p.decode_server(raw)  # everything the server says must be valid protocol
        return json.loads(raw)

    def call(self, payload: dict[str, Any], expect: str = "result") -> dict[str, Any]:
        self.ids += 1
        request_id = f"s{self.ids}"
        self.send(json.dumps({**payload, "id": request_id}))
        while True:
            message = self.recv()
            if message["type"] == "error" and message["code"] == "rate_limited":
                raise AssertionError(f"{payload['type']}: refused for rate (over 30 messages a second)")
            if message.get("re") == request_id:
                if message["type"] != expect:
                    raise AssertionError(f"{payload['type']}: expected {expect}, got {message}")
                return message

    def replies_until_pong(self) -> list[dict[str, Any]]:
        """Send a ping; return every reply-type message that arrives before its pong."""
        self.ids += 1
        marker = f"ping{self.ids}"
        self.send(json.dumps({"type": "ping", "id": marker}))
        replies = []
        while True:
            message = self.recv()
            if message["type"] == "pong" and message.get("re") == marker:
                return replies
            if message["type"] in REPLY_TYPES:
                replies.append(message)


def check_error(message: dict[str, Any]) -> None:
    """An error reply names a known code, in Vietnamese and English, and is never 'internal'."""
    assert message["code"] in MESSAGES, message
    assert message["code"] != "internal", f"the server failed on hostile input: {message}"
    assert message["message_vi"] and message["message_en"]


class Canary(threading.Thread):
    """A kiosk and a clerk doing ordinary work the whole time: every request must succeed.

    Each round is paced to at least ROUND_SECONDS, so the clerk's two messages a round stay
    inside the server's per-connection rate (30 a second, docs/protocol.md) however fast
    the server answers; a refusal for rate would otherwise look like a lost reply."""

    ROUND_SECONDS = 0.1

    def __init__(self, url: str, source: str = "127.0.0.250", counter: int = 1,
                 username: str = "lan") -> None:
        super().__init__(daemon=True, name="canary")
        self.url, self.source, self.counter, self.username = url, source, counter, username
        self.stopping = threading.Event()
        self.ok = Tally()
        self.failures: list[str] = []
        self.latencies: list[float] = []
        self.rounds: list[tuple[float, float]] = []  # (monotonic start, seconds) of each round

    def run(self) -> None:
        try:
            kiosk = Session(self.url, "kiosk", self.source).open()
            clerk = Session(self.url, "anonymous", self.source).open()
            clerk.call({"type": "login", "v": 1, "username": self.username, "password": PASSWORD},
                       expect="welcome")
            clerk.call({"type": "select_counter", "site": "tinh", "counter": self.counter})
            n = 0
            while not self.stopping.is_set():
                n += 1
                started = time.monotonic()
                kiosk.call({"type": "issue_ticket", "service": "TP", "idempotency_key": f"canary-{n:08d}"})
                self.ok["issue_ticket"] += 1
                try:
                    clerk.call({"type": "call_next"})
                    self.ok["call_next"] += 1
                    clerk.call({"type": "finish", "outcome": "guided"})
                    self.ok["finish"] += 1
                except AssertionError as exc:  # someone else may have taken the TP queue
                    if "queue_empty" not in str(exc):
                        raise
                self.latencies.append(time.monotonic() - started)
                self.rounds.append((started, self.latencies[-1]))
                self.stopping.wait(max(0.02, self.ROUND_SECONDS - (time.monotonic() - started)))
            kiosk.close()
            clerk.close()
        except (AssertionError, ConnectionClosed, OSError, TimeoutError) as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    def latencies_between(self, start: float, end: float) -> list[float]:
        """Seconds taken by each round that overlapped [start, end] (monotonic), the slowest last."""
        rounds = list(self.rounds)
        return sorted(seconds for began, seconds in rounds if began <= end and began + seconds >= start)

    @property
    def worst_ms(self) -> float:
        return 1000 * max(self.latencies, default=0.0)
