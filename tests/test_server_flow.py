"""A working morning against a real server on 127.0.0.1 with real websocket clients."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from websockets.asyncio.client import connect

from common.config import Config, config_problems
from server import connections
from server.limits import TokenBucket
from tests.helpers import KIOSK_TOKEN, PASSWORD, RawClient, example_config

pytestmark = pytest.mark.asyncio


async def test_issue_call_finish_and_broadcast(harness):
    kiosk = await harness.kiosk()
    clerk = await harness.clerk("lan", 1)
    display = await harness.client()
    await display.request({"type": "login_device", "v": 1, "token": "vpw-NmCfYqcryXDPG38uVUy5"},
                          expect="welcome")
    snapshot = await display.next_of("snapshot")
    assert {c["number"] for c in snapshot["counters"]} >= {1, 14}

    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "tap-0001"})
    assert issued["ticket"]["number"] == "A001"
    assert issued["ahead"] == 0
    assert issued["url"].startswith("http://127.0.0.1:8765/t/")

    called = await clerk.request({"type": "call_next"})
    assert called["ticket"]["number"] == "A001"
    assert called["counter"]["active_number"] == "A001"

    update = await display.next_of("update")
    while not update["calls"]:
        update = await display.next_of("update")
    assert update["calls"][0]["number"] == "A001"
    assert update["calls"][0]["counter"] == 1

    done = await clerk.request(
        {"type": "finish", "outcome": "received", "dossier_code": "H40.22-251125-0001"})
    assert done["ticket"]["state"] == "done"
    assert done["ticket"]["dossier_code"] == "H40.22-251125-0001"
    assert done["counter"]["active_ticket"] is None
    for client in (kiosk, clerk, display):
        await client.close()


async def test_retried_issue_returns_the_same_ticket(harness):
    kiosk = await harness.kiosk()
    first = await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "same-key-1"})
    again = await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "same-key-1"})
    other = await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "other-key"})
    assert first["ticket"]["id"] == again["ticket"]["id"]
    assert first["url"] == again["url"]
    assert other["ticket"]["number"] == "B002"


async def test_restart_restores_queue_and_numbering(harness):
    kiosk = await harness.kiosk()
    for i in range(3):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"k-{i:06d}"})
    clerk = await harness.clerk("lan", 2)
    await clerk.request({"type": "call_next"})
    await kiosk.close()
    await clerk.close()
    before = harness.server.states["tinh"]
    await harness.restart()
    after = harness.server.states["tinh"]
    assert after.tickets == before.tickets
    assert after.counters == before.counters
    assert after.sequences == before.sequences
    kiosk = await harness.kiosk()
    issued = await kiosk.request(
        {"type": "issue_ticket", "service": "TP", "idempotency_key": "k-after-restart"})
    assert issued["ticket"]["number"] == "A004"


def _big_config() -> Config:
    """The example centre with room for 1,000 TP numbers a day (A0001...)."""
    config = example_config()
    sites = []
    for site in config.sites:
        services = [
            msgspec.structs.replace(
                s, daily_cap=None, numbering=msgspec.structs.replace(s.numbering, digits=4))
            if s.code == "TP" else s
            for s in site.services
        ]
        sites.append(msgspec.structs.replace(site, services=services))
    config = msgspec.structs.replace(config, sites=sites)
    assert config_problems(config) == []
    return config


class _UnlimitedBucket(TokenBucket):
    """The rate limit is not under test here: let each connection send as fast as it can."""

    def __init__(self, rate: float, burst: float) -> None:
        super().__init__(rate=1e9, burst=1e9)


async def _connect(harness) -> RawClient:
    # No receive-queue limit: clients that read only their replies must not stall the server.
    return RawClient(await connect(harness.url, max_size=None, max_queue=None))


async def _pipelined(client: RawClient, payloads: list[dict]) -> list[dict]:
    """Send every payload at once, then collect the replies in order of the requests."""
    ids = [f"p{next(client.ids)}" for _ in payloads]
    for request_id, payload in zip(ids, payloads, strict=True):
        await client.send_raw(json.dumps({**payload, "id": request_id}))
    replies: dict[str, dict] = {}
    while len(replies) < len(ids):
        message = await client.recv()
        if message.get("re") in ids:
            replies[message["re"]] = message
    return [replies[request_id] for request_id in ids]


TICKETS = 1000


@pytest.mark.parametrize("config", [_big_config()])
async def test_two_clerks_racing_never_share_a_ticket(harness, monkeypatch):
    """1,000 tickets issued by two kiosks at once, then called and finished by two clerks racing
    for the same queue (each pressing call_next twice): every ticket is called exactly once."""
    monkeypatch.setattr(connections, "TokenBucket", _UnlimitedBucket)
    kiosks = []
    for token in (KIOSK_TOKEN, "sG82Nwe9UjlW9ZZvLYsKkzfW"):
        kiosk = await _connect(harness)
        await kiosk.request({"type": "login_device", "v": 1, "token": token}, expect="welcome")
        kiosks.append(kiosk)
    batches = await asyncio.gather(*(
        _pipelined(kiosk, [{"type": "issue_ticket", "service": "TP", "idempotency_key": f"race-{k}-{i:05d}"}
                           for i in range(TICKETS // 2)])
        for k, kiosk in enumerate(kiosks)
    ))
    issued = [reply["ticket"] for batch in batches for reply in batch]
    assert all(reply["type"] == "result" for batch in batches for reply in batch)
    assert sorted(t["number"] for t in issued) == [f"A{n:04d}" for n in range(1, TICKETS + 1)]

    clerks = []
    for username, counter in (("lan", 1), ("ha", 2)):
        clerk = await _connect(harness)
        await clerk.request({"type": "login", "v": 1, "username": username, "password": PASSWORD},
                            expect="welcome")
        await clerk.request({"type": "select_counter", "site": "tinh", "counter": counter})
        clerks.append(clerk)

    async def work(clerk: RawClient) -> list[str]:
        got = []
        while True:
            first, second = await _pipelined(clerk, [{"type": "call_next"}, {"type": "call_next"}])
            if first["type"] == "error":
                assert (first["code"], second["code"]) == ("queue_empty", "queue_empty")
                return got
            assert second["type"] == "error" and second["code"] == "counter_busy"  # one ticket at a time
            got.append(first["ticket"]["id"])
            done = await clerk.request({"type": "finish", "outcome": "guided"})
            assert done["ticket"]["id"] == got[-1] and done["counter"]["active_ticket"] is None
            clerk.inbox.clear()  # the broadcast updates are not under test here

    mine, theirs = await asyncio.gather(*(work(clerk) for clerk in clerks))
    assert not set(mine) & set(theirs)
    assert sorted(mine + theirs) == sorted(t["id"] for t in issued)
    assert min(len(mine), len(theirs)) > TICKETS // 10  # both clerks really were racing
    state = harness.server.states["tinh"]
    assert all(t.state.value == "done" for t in state.tickets.values())
    calls = harness.server.store.db.execute(
        "select ticket_id, count(*) from events where type = 'ticket_called' group by ticket_id").fetchall()
    assert len(calls) == TICKETS and {n for _, n in calls} == {1}
    for client in kiosks + clerks:
        await client.close()


COUNTER_COMMANDS_TO_TRY = [
    {"type": "call_next"}, {"type": "call_number", "number": "A003"}, {"type": "recall"},
    {"type": "start_service"}, {"type": "mark_absent"}, {"type": "hold"},
    {"type": "resume_held", "number": "A002"}, {"type": "transfer", "service": "DN"},
    {"type": "finish", "outcome": "received"}, {"type": "pause_counter", "reason": "Họp"},
    {"type": "resume_counter"}, {"type": "close_counter"}, {"type": "cancel_ticket", "number": "A004"},
]


async def test_a_clerk_whose_counter_is_taken_over_is_told_and_can_no_longer_act(harness):
    """Issue 11: ha opens counter 1, which lan had open (on two PCs); both of lan's sessions
    are told, and from then on get no_counter_selected, while ha works normally."""
    kiosk = await harness.kiosk()
    for i in range(5):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"take-{i:04d}"})
    lan = await harness.clerk("lan", 1)
    lan_other_pc = await harness.clerk("lan", 1)  # the same clerk on a second PC holds it too
    served = (await lan.request({"type": "call_next"}))["ticket"]
    await lan.request({"type": "finish", "outcome": "received"})
    await lan_other_pc.request({"type": "call_next"})  # A002, put on hold
    await lan_other_pc.request({"type": "hold"})

    ha = await harness.clerk("ha", 1)
    for session in (lan, lan_other_pc):
        told = await session.next_of("counter_taken_over")
        assert (told["site"], told["counter"], told["clerk"], told["clerk_name"]) == (
            "tinh", 1, "ha", "Đỗ Thu Hà")
        choices = {choice["number"]: (choice["status"], choice["clerk"]) for choice in told["counters"]}
        assert choices == {1: ("open", "ha"), 2: ("closed", None)}  # lan's counters, as they are now

    for payload in [*COUNTER_COMMANDS_TO_TRY, {"type": "rate", "value": 4, "ticket_id": served["id"]}]:
        error = await lan.error(payload)
        assert error["code"] == "no_counter_selected", payload
    assert (await lan_other_pc.error({"type": "call_next"}))["code"] == "no_counter_selected"
    # Nothing lan tried changed counter 1; ha works there as ha.
    counter = harness.server.states["tinh"].counters[1]
    assert (counter.clerk, counter.status.value, counter.active_ticket) == ("ha", "open", None)
    called = await ha.request({"type": "call_next"})
    assert (called["ticket"]["number"], called["ticket"]["clerk"]) == ("A003", "ha")
    done = await ha.request({"type": "finish", "outcome": "received"})
    assert (done["ticket"]["state"], done["ticket"]["clerk"]) == ("done", "ha")
    await ha.request({"type": "rate", "value": 4, "ticket_id": done["ticket"]["id"]})
    assert not [m for m in ha.inbox if m["type"] == "counter_taken_over"]
    # lan logging out leaves ha's counter open; lan can open another counter and work there.
    await lan_other_pc.request({"type": "logout"})
    assert harness.server.states["tinh"].counters[1].clerk == "ha"
    await lan.request({"type": "select_counter", "site": "tinh", "counter": 2})
    called = await lan.request({"type": "call_next"})
    assert (called["ticket"]["number"], called["counter"]["number"]) == ("A004", 2)
    for client in (kiosk, lan, lan_other_pc, ha):
        await client.close()
