"""A working morning against a real server on 127.0.0.1 with real websocket clients."""

from __future__ import annotations

import asyncio

import pytest

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

    done = await clerk.request({"type": "finish", "outcome": "received", "dossier_code": "H40.22-251125-0001"})
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
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "k-after-restart"})
    assert issued["ticket"]["number"] == "A004"


async def test_two_clerks_racing_never_share_a_ticket(harness):
    kiosk = await harness.kiosk()
    for i in range(40):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"race-{i:04d}"})
    lan = await harness.clerk("lan", 1)
    ha = await harness.clerk("ha", 2)

    async def work(clerk):
        got = []
        while True:
            reply = await clerk.request({"type": "call_next"}, expect="result") if True else None
            got.append(reply["ticket"]["id"])
            await clerk.request({"type": "finish", "outcome": "guided"})
            if len(got) > 40:
                break
            if not harness.server.states["tinh"].tickets or all(
                t.state.value != "waiting" for t in harness.server.states["tinh"].tickets.values()
            ):
                break
        return got

    a, b = await asyncio.gather(work(lan), work(ha))
    assert not set(a) & set(b)
    assert len(a) + len(b) == 40
