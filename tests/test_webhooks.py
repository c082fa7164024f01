"""Webhooks (issue 16): real receivers on 127.0.0.1 (tests/webhook_receiver.py), a real
server (tests/helpers.ServerHarness, or a real ``xephang server`` process for the crash) and
the real outbox process beside it; every wait has a deadline, none is a fixed sleep."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import msgspec
import pytest

from common.webhook_config import Webhook
from server import event_export
from server.outbox import state
from server.outbox.launcher import OutboxProcess
from server.outbox.process import PID_FILE
from server.outbox.webhooks import consumer_key
from tests.helpers import example_config
from tests.webhook_receiver import Receiver, free_port

pytestmark = pytest.mark.asyncio

SECRET = "test-secret-" + "s" * 31
DOC = Path(__file__).resolve().parents[1] / "docs" / "integration.md"


def hook(id: str, url: str, **more) -> Webhook:
    return Webhook(id=id, url=url, secret=SECRET, **more)


def doc_verify():
    """The signature check as docs/integration.md prints it ("Checking the signature")."""
    text = DOC.read_text().split("### Checking the signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]
    scope: dict = {}
    exec(code, scope)  # the documentation's own example, run as printed
    return scope["verify"]


async def until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def outbox_db(db: Path):
    return state.open_read(state.path_beside(db))


def cursor_of(db: Path, webhook_id: str) -> int | None:
    conn = outbox_db(db)
    if conn is None:
        return None
    try:
        return state.cursor(conn, consumer_key(webhook_id))
    except Exception:  # the tables are being created
        return None
    finally:
        conn.close()


async def started_outbox(db: Path, *ids: str) -> OutboxProcess:
    """The outbox process, once it has taken up every subscription in ``ids``."""
    outbox = OutboxProcess(db)
    outbox.start()
    await until(lambda: all(cursor_of(db, i) is not None for i in ids))
    return outbox


def with_hooks(*hooks: Webhook):
    return msgspec.structs.replace(example_config(), webhooks=list(hooks))


async def issue(harness, count: int, prefix: str) -> list[str]:
    kiosk = await harness.kiosk()
    ids = []
    for n in range(count):
        reply = await kiosk.request({"type": "issue_ticket", "service": "TP",
                                     "idempotency_key": f"{prefix}-key-{n:04d}"})
        ids.append(reply["ticket"]["id"])
    await kiosk.close()
    return ids


@pytest.fixture
def receiver_port() -> int:
    return free_port()


@pytest.fixture
def config(receiver_port):
    return with_hooks(hook("motcua", f"http://127.0.0.1:{receiver_port}/hook"))


async def test_each_event_is_signed_and_carries_its_id_and_type(harness, receiver_port):
    receiver = await Receiver(port=receiver_port).start()
    outbox = await started_outbox(harness.db, "motcua")
    try:
        kiosk = await harness.kiosk()
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "hook-0001"})
        clerk = await harness.clerk("lan", 1)
        await clerk.request({"type": "call_next"})
        await clerk.request({"type": "start_service"})
        await clerk.request({"type": "finish", "outcome": "received", "dossier_code": "H99.000-261125-0001"})
        await receiver.wait_for(lambda: "ticket_finished" in [d.event["type"] for d in receiver.deliveries])
        events = [d.event for d in receiver.deliveries]
        types = [e["type"] for e in events]
        assert "ticket_issued" in types and "counter_opened" in types and "ticket_called" in types
        assert "service_started" not in types  # not a webhook event type
        finished = events[types.index("ticket_finished")]
        assert finished["data"] == {"outcome": "received", "dossier_code": "H99.000-261125-0001"}
        assert finished["ticket"]["number"] == "A001" and finished["site"] == "tinh"
        verify = doc_verify()
        ids = [d.id for d in receiver.deliveries]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for delivery in receiver.deliveries:
            assert delivery.event["id"] == delivery.id == delivery.event["seq"]
            assert delivery.headers["User-Agent"] == "xephang-webhooks/1"
            assert verify(SECRET, delivery.headers, delivery.body)
            assert not verify("another-secret-" + "x" * 30, delivery.headers, delivery.body)
            assert not verify(SECRET, delivery.headers, delivery.body + b" ")
        # The same lines as the export, with id and type.
        conn = event_export.connect(harness.db)
        exported = {line["seq"]: line for line in event_export.events(conn, 0)}
        conn.close()
        for event in events:
            assert {k: v for k, v in event.items() if k not in ("id", "type")} == \
                {k: v for k, v in exported[event["id"]].items() if k != "type"}
        await kiosk.close()
        await clerk.close()
    finally:
        outbox.stop()
        await receiver.stop()


async def test_a_receiver_that_was_down_gets_every_event_in_order_once(harness, receiver_port):
    outbox = await started_outbox(harness.db, "motcua")  # nobody listens on the port yet
    receiver = Receiver(port=receiver_port)
    try:
        ids = await issue(harness, 5, "down")

        def failed_attempts() -> int:
            conn = outbox_db(harness.db)
            assert conn is not None
            rows = state.recent_attempts(conn, "motcua")
            conn.close()
            return sum(1 for r in rows if not r["delivered"])

        await until(lambda: failed_attempts() >= 2)  # refused, and refused again after the back-off
        await receiver.start()
        await receiver.wait_for(lambda: len(receiver.deliveries) >= 5)
        issued = [d.event["ticket"]["id"] for d in receiver.deliveries if d.event["type"] == "ticket_issued"]
        assert issued == ids
        conn = outbox_db(harness.db)
        assert conn is not None
        delivered = state.delivered_seqs(conn, "motcua")
        assert delivered == sorted(set(delivered))  # in order, none twice
        assert state.last_error(conn, "motcua")["error"]  # the refusals are in the log
        conn.close()
        assert len(receiver.deliveries) == len(receiver.unique)
    finally:
        outbox.stop()
        await receiver.stop()


@pytest.fixture
def two_receivers():
    return free_port(), free_port()


async def test_a_slow_receiver_does_not_delay_a_fast_one(tmp_path, clock, two_receivers):
    from tests.helpers import ServerHarness

    slow_port, fast_port = two_receivers
    config = with_hooks(hook("slow", f"http://127.0.0.1:{slow_port}/hook", events=["ticket_issued"]),
                        hook("fast", f"http://127.0.0.1:{fast_port}/hook", events=["ticket_issued"]))
    harness = ServerHarness(config=config, db=tmp_path / "xephang.db", clock=clock)
    await harness.start()
    held = asyncio.Event()
    slow = await Receiver(port=slow_port, hold=held).start()
    fast = await Receiver(port=fast_port).start()
    outbox = await started_outbox(harness.db, "slow", "fast")
    try:
        ids = await issue(harness, 3, "slow")
        await fast.wait_for(lambda: len(fast.deliveries) == 3)
        assert [d.event["ticket"]["id"] for d in fast.deliveries] == ids
        assert slow.deliveries == []  # still holding the first answer
        held.set()
        await slow.wait_for(lambda: len(slow.deliveries) == 3)
        assert [d.event["ticket"]["id"] for d in slow.deliveries] == ids
    finally:
        held.set()
        outbox.stop()
        await slow.stop()
        await fast.stop()
        await harness.stop()


async def test_replay_from_an_event_and_resend_one(harness, receiver_port):
    receiver = await Receiver(port=receiver_port).start()
    outbox = await started_outbox(harness.db, "motcua")
    try:
        await issue(harness, 3, "replay")
        await receiver.wait_for(lambda: len(receiver.deliveries) == 3)
        first, second, third = (d.id for d in receiver.deliveries)
        conn = state.open_state(state.path_beside(harness.db))
        state.request_replay(conn, consumer_key("motcua"), second, single=False, by="admin")
        await receiver.wait_for(lambda: len(receiver.deliveries) == 5)
        assert [d.id for d in receiver.deliveries] == [first, second, third, second, third]
        state.request_replay(conn, consumer_key("motcua"), first, single=True, by="admin")
        await receiver.wait_for(lambda: len(receiver.deliveries) == 6)
        assert receiver.deliveries[-1].id == first
        await until(lambda: not state.pending_replays(conn))
        conn.close()
        await issue(harness, 1, "after")  # the cursor is where it was: only the new one comes
        await receiver.wait_for(lambda: len(receiver.deliveries) == 7)
        assert receiver.deliveries[-1].id > third
    finally:
        outbox.stop()
        await receiver.stop()


async def test_the_outbox_process_stops_when_the_server_process_is_gone(tmp_path):
    """A server killed with SIGKILL: the outbox process it started notices and exits."""
    from tests.reliability.server_process import ServerProcess

    config_file = crash_config(tmp_path, free_port())
    server = ServerProcess(config_file, tmp_path / "xephang.db")
    server.start()
    try:
        pid_file = tmp_path / PID_FILE
        await until(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
        pid = int(pid_file.read_text())
        assert process_alive(pid)
        server.kill()
        await until(lambda: not process_alive(pid), timeout=15)
    finally:
        server.close()


def process_alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def crash_config(tmp_path: Path, port: int) -> Path:
    from tests.helpers import MACHINE_PACE
    from tests.reliability.config_gen import always_open, example_dict, write_config

    raw = always_open(example_dict())
    raw.setdefault("server", {}).update(MACHINE_PACE)
    raw["webhooks"] = [{"id": "motcua", "url": f"http://127.0.0.1:{port}/hook", "secret": SECRET,
                        "events": ["ticket_issued"]}]
    return write_config(tmp_path / "centre.toml", raw)


async def test_a_server_killed_mid_delivery_delivers_everything_after_restart(tmp_path):
    from tests.helpers import RawClient
    from tests.reliability.server_process import ServerProcess

    port = free_port()
    server = ServerProcess(crash_config(tmp_path, port), tmp_path / "xephang.db")
    held = asyncio.Event()  # the receiver holds its answers: deliveries are in flight at the kill
    receiver = await Receiver(port=port, hold=held).start()
    server.start()
    try:
        await until(lambda: cursor_of(tmp_path / "xephang.db", "motcua") is not None)
        acknowledged: list[str] = []

        async def issue_some(count: int, prefix: str) -> None:
            kiosk = await RawClient.open(server.url)
            await kiosk.request({"type": "login_device", "v": 1, "token": "r-dPIIJld2G0aI0GL3Fkm5S6"},
                                expect="welcome")
            for n in range(count):
                reply = await kiosk.request({"type": "issue_ticket", "service": "TP",
                                             "idempotency_key": f"{prefix}-key-{n:04d}"})
                acknowledged.append(reply["ticket"]["id"])
            await kiosk.close()

        await issue_some(20, "before")
        pid = int((tmp_path / PID_FILE).read_text())
        server.kill()  # with 20 events waiting and one delivery held open
        await until(lambda: not process_alive(pid), timeout=15)
        held.set()
        server.start()
        await issue_some(10, "after")
        conn = event_export.connect(tmp_path / "xephang.db")
        committed = {line["ticket"]["id"] for line in event_export.events(conn, 0)
                     if line["type"] == "ticket_issued"}
        conn.close()
        assert set(acknowledged) <= committed and len(committed) == 30
        await receiver.wait_for(lambda: {d.event["ticket"]["id"] for d in receiver.unique.values()}
                                == committed)
        ids = [d.id for d in receiver.unique.values()]
        assert ids == sorted(ids)
    finally:
        held.set()
        server.close()
        await receiver.stop()




async def test_an_outbox_state_ahead_of_the_database_goes_on_from_the_database_s_end(harness, receiver_port):
    """outbox.sqlite from another database (or the database restored from a backup): its
    cursor is past every event; the process says so and delivers what comes next."""
    conn = state.open_state(state.path_beside(harness.db))
    state.set_cursor(conn, consumer_key("motcua"), 10_000)
    conn.close()
    receiver = await Receiver(port=receiver_port).start()
    outbox = OutboxProcess(harness.db)
    outbox.start()
    try:
        await until(lambda: cursor_of(harness.db, "motcua") not in (None, 10_000))
        [ticket] = await issue(harness, 1, "ahead")
        await receiver.wait_for(lambda: len(receiver.deliveries) == 1)
        assert receiver.deliveries[0].event["ticket"]["id"] == ticket
    finally:
        outbox.stop()
        await receiver.stop()
