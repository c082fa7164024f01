"""The real server on 127.0.0.1 with real websocket clients: idempotency, restart, the day
rollover, access control for every role, hostile input, throttling and the HTTP side."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date
from typing import Any

import pytest
import sqlite_utils
from websockets import ConnectionClosed
from websockets.asyncio.client import connect

from common import protocol as p
from server import connections as server_connections
from server import store
from server.access import COUNTER_COMMANDS, PERMISSIONS, UNAUTHENTICATED
from server.core import commands as c
from server.core.model import SiteRules, new_site_state
from server.core.rules import handle
from tests import legacy_store
from tests.helpers import DISPLAY_TOKEN, KIOSK_TOKEN, PASSWORD, TZ, RawClient, example_config

KIOSK_2_TOKEN = "sG82Nwe9UjlW9ZZvLYsKkzfW"  # kiosk-sanh-2 at site "tinh"
LOGIN_TYPES = ("login", "login_device", "watch_ticket", "web_login", "pair_request")


class Hall:
    """Opens clients against the harness's server and closes them all at the end."""

    def __init__(self, harness) -> None:
        self.harness = harness
        self.clients: list[RawClient] = []
        self.keys = 0

    async def client(self) -> RawClient:
        # No receive-queue limit: a client reading only its replies never stalls the server.
        client = RawClient(await connect(self.harness.url, max_size=None, max_queue=None))
        self.clients.append(client)
        return client

    async def device(self, token: str) -> RawClient:
        client = await self.client()
        await client.request({"type": "login_device", "v": 1, "token": token}, expect="welcome")
        await client.next_of("snapshot")
        return client

    async def user(self, username: str, counter: int | None = None, site: str = "tinh") -> RawClient:
        client = await self.client()
        await client.request({"type": "login", "v": 1, "username": username, "password": PASSWORD},
                             expect="welcome")
        if counter is not None:
            await client.request({"type": "select_counter", "site": site, "counter": counter})
            await client.next_of("snapshot")
        return client

    async def watcher(self, url: str) -> RawClient:
        client = await self.client()
        token = url.rsplit("/", 1)[1]
        await client.request({"type": "watch_ticket", "v": 1, "token": token}, expect="welcome")
        await client.next_of("ticket_status")
        return client

    async def issue(self, kiosk: RawClient, service: str, priority: str | None = None) -> dict[str, Any]:
        self.keys += 1
        return await kiosk.request({"type": "issue_ticket", "service": service, "priority": priority,
                                    "idempotency_key": f"hall-key-{self.keys:04d}"})

    async def served(self) -> None:
        """Someone else still gets an answer (the server survived whatever just happened)."""
        kiosk = await self.device(KIOSK_TOKEN)
        reply = await self.issue(kiosk, "KQ")
        assert reply["ticket"]["state"] == "waiting"
        await kiosk.close()

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


@pytest.fixture
async def hall(harness):
    h = Hall(harness)
    yield h
    await h.close()


async def pipelined(client: RawClient, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every payload back to back, then collect the replies in request order."""
    ids = [f"p{next(client.ids)}" for _ in payloads]
    for request_id, payload in zip(ids, payloads, strict=True):
        await client.send_raw(json.dumps({**payload, "id": request_id}))
    replies: dict[str, dict[str, Any]] = {}
    while len(replies) < len(ids):
        raw = await asyncio.wait_for(client.ws.recv(), 10)
        p.decode_server(raw)
        message = json.loads(raw)
        if message.get("re") in ids:
            replies[message["re"]] = message
        else:
            client.inbox.append(message)  # pushed updates stay readable by next_of()
    return [replies[request_id] for request_id in ids]


async def next_update(client: RawClient, **match: Any) -> dict[str, Any]:
    """The next pushed update whose fields equal ``match``."""
    while True:
        update = await client.next_of("update")
        if all(update.get(k) == v for k, v in match.items()):
            return update


async def closed_with(client: RawClient) -> tuple[int | None, str | None]:
    """Wait for the server to close ``client``; the close code and reason it sent."""
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(client.ws.recv(), 10)
    return client.ws.close_code, client.ws.close_reason


# -- idempotency -----------------------------------------------------------------------------


async def test_a_retried_issue_returns_the_same_ticket(hall, harness):
    kiosk = await hall.device(KIOSK_TOKEN)
    tap = {"type": "issue_ticket", "service": "DN", "idempotency_key": "tap-000001"}
    first = await kiosk.request(tap)
    again = await kiosk.request(tap)
    assert again["ticket"] == first["ticket"] and again["url"] == first["url"]
    # A double tap: the same key twice on the wire before any answer.
    double = await pipelined(kiosk, [{**tap, "idempotency_key": "tap-000002"}] * 2)
    assert double[0]["ticket"]["id"] == double[1]["ticket"]["id"]
    # The kiosk reconnected and retries on two connections at once.
    other_link = await hall.device(KIOSK_TOKEN)
    both = await asyncio.gather(kiosk.request({**tap, "idempotency_key": "tap-000003"}),
                                other_link.request({**tap, "idempotency_key": "tap-000003"}))
    assert both[0]["ticket"]["id"] == both[1]["ticket"]["id"]
    # Different keys, or the same key from another kiosk, are different citizens.
    different = await kiosk.request({**tap, "idempotency_key": "tap-000004"})
    second_kiosk = await hall.device(KIOSK_2_TOKEN)
    elsewhere = await second_kiosk.request(tap)
    numbers = [first, double[0], both[0], different, elsewhere]
    assert [r["ticket"]["number"] for r in numbers] == ["B001", "B002", "B003", "B004", "B005"]
    # The keys survive a restart.
    await harness.restart()
    kiosk = await hall.device(KIOSK_TOKEN)
    assert (await kiosk.request(tap))["ticket"]["id"] == first["ticket"]["id"]
    assert len(harness.server.states["tinh"].tickets) == 5


async def test_a_key_of_the_wrong_length_is_refused(hall):
    kiosk = await hall.device(KIOSK_TOKEN)
    for key in ("short", "k" * 65):
        error = await kiosk.error({"type": "issue_ticket", "service": "TP", "idempotency_key": key})
        assert error["code"] == "bad_message"


# -- restart ---------------------------------------------------------------------------------


def _site_state(server, code: str) -> dict[str, Any]:
    state = server.states[code]
    return {
        "day": state.day, "tickets": dict(state.tickets), "counters": dict(state.counters),
        "sequences": dict(state.sequences), "keys": dict(state.keys), "next_order": state.next_order,
        "front_order": state.front_order, "recent_calls": list(server.fanout.recent_calls[code]),
    }


async def test_restart_restores_queues_counters_and_numbering_exactly(hall, harness):
    kiosk = await hall.device(KIOSK_TOKEN)
    for service, priority in [("TP", None), ("TP", None), ("TP", None), ("DD", None), ("DD", None),
                              ("DN", None), ("DN", "elderly"), ("KQ", None), ("TP", None)]:
        await hall.issue(kiosk, service, priority)
    lan = await hall.user("lan", 1)
    ha = await hall.user("ha", 2)
    mai = await hall.user("mai", 5)
    hung = await hall.user("hung", 3)
    manager = await hall.user("giamdoc")

    served = (await ha.request({"type": "call_next"}))["ticket"]
    await ha.request({"type": "finish", "outcome": "received", "dossier_code": "H40-0001"})
    watcher = await hall.watcher(_url_of(harness, served["id"]))
    await watcher.request({"type": "rate", "value": 4})
    await lan.request({"type": "call_next"})  # A002 ...
    await lan.request({"type": "start_service"})  # ... being served
    await ha.request({"type": "call_next"})  # A003 ...
    await ha.request({"type": "transfer", "service": "DD"})  # ... sent to the front of DD
    held = (await mai.request({"type": "call_next"}))["ticket"]
    assert held["number"] == "A003"
    await mai.request({"type": "hold", "note": "bổ sung giấy tờ"})
    await mai.request({"type": "call_next"})  # D001 ...
    await mai.request({"type": "mark_absent"})  # ... did not come
    await mai.request({"type": "call_next"})  # D002 stays called
    await hung.request({"type": "pause_counter", "reason": "Họp"})
    await manager.request({"type": "cancel_ticket", "site": "tinh", "number": "B001", "reason": "về"})
    await ha.request({"type": "call_next"})  # A004 ...
    await ha.request({"type": "transfer", "counter": 14, "position": "back"})  # ... to counter 14

    before = {code: _site_state(harness.server, code) for code in ("tinh", "giavien")}
    tokens = dict(harness.server.writer.tokens)
    states = {t.number: t.state.value for t in harness.server.states["tinh"].tickets.values()}
    assert states == {
        "A001": "done", "A002": "serving", "A003": "held", "A004": "waiting", "B001": "cancelled",
        "B002": "waiting", "D001": "absent", "D002": "called", "9001": "waiting",
    }
    await hall.close()
    await harness.restart()
    after = {code: _site_state(harness.server, code) for code in ("tinh", "giavien")}
    for code in before:
        for key in before[code]:
            assert after[code][key] == before[code][key], f"{code}.{key} differs after restart"
    assert harness.server.writer.tokens == tokens

    # Numbering continues, and the counters carry on where they were.
    kiosk = await hall.device(KIOSK_TOKEN)
    assert (await hall.issue(kiosk, "TP"))["ticket"]["number"] == "A005"
    assert (await hall.issue(kiosk, "DD"))["ticket"]["number"] == "D003"
    lan = await hall.user("lan", 1)
    assert (await lan.request({"type": "finish", "outcome": "guided"}))["ticket"]["number"] == "A002"
    ha = await hall.user("ha", 2)  # counter 2 is free again: A003 and A004 were transferred away
    assert (await ha.request({"type": "call_next"}))["ticket"]["number"] == "A005"
    mai = await hall.user("mai", 5)
    await mai.request({"type": "finish", "outcome": "guided"})
    resumed = await mai.request({"type": "resume_held", "number": "A003"})
    assert resumed["ticket"]["state"] == "called"


async def test_a_transfer_frees_the_counter_on_every_board(hall):
    kiosk = await hall.device(KIOSK_TOKEN)
    display = await hall.device(DISPLAY_TOKEN)
    await hall.issue(kiosk, "TP")
    ha = await hall.user("ha", 2)
    await ha.request({"type": "call_next"})
    reply = await ha.request({"type": "transfer", "service": "DD"})
    assert reply["counter"]["active_ticket"] is None
    while True:
        update = await display.next_of("update")
        if any(t["transfers"] == 1 for t in update["tickets"]):
            break
    assert [(c["number"], c["active_ticket"]) for c in update["counters"]] == [(2, None)]


async def test_issuing_continues_after_a_transfer_into_the_service(hall, harness):
    """A001 (TP sequence 1) moves to DD; DD's own first ticket is also sequence 1."""
    kiosk = await hall.device(KIOSK_TOKEN)
    await hall.issue(kiosk, "TP")
    ha = await hall.user("ha", 2)
    await ha.request({"type": "call_next"})
    await ha.request({"type": "transfer", "service": "DD"})
    issued = await hall.issue(kiosk, "DD")
    assert issued["ticket"]["number"] == "D001"
    assert harness.server.failed is None
    await harness.restart()
    assert {t.number for t in harness.server.states["tinh"].tickets.values()} == {"A001", "D001"}


def test_the_sequence_constraint_migration_keeps_every_row(tmp_path, clock):
    """A database made before m002 (constraint on the current service) is rebuilt intact."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    db = sqlite_utils.Database(conn)
    store.migrations.apply(db, stop_before="m002_sequence_unique_per_origin_service")
    rules = SiteRules(site=example_config().sites[0], queue=example_config().queue, tz=TZ)
    state = new_site_state(rules, date(2026, 11, 25))
    now = clock()
    results = []
    for command in (c.IssueTicket(actor="k", service="TP", token="t1"),
                    c.OpenCounter(actor="ha", counter=2), c.CallNext(actor="ha", counter=2),
                    c.Transfer(actor="ha", counter=2, service="DD")):
        state, events = handle(state, command, now)
        results.append((state, events))
    legacy_store.commit(db, results)  # as the store wrote them then
    conn.close()
    upgraded = store.Store.open(path)
    restored = upgraded.load_site(rules, date(2026, 11, 25))
    assert dict(restored.tickets) == dict(state.tickets)
    assert dict(restored.counters) == dict(state.counters)
    (sql,) = upgraded.db.execute("select sql from sqlite_master where name = 'tickets'").fetchone()
    assert "unique (site, day, service, sequence)" not in sql  # (m004 dropped the right one too)
    assert upgraded.db.execute("pragma integrity_check").fetchone() == ("ok",)
    assert upgraded.db.execute("pragma foreign_keys").fetchone() == (1,)
    state, events = handle(state, c.IssueTicket(actor="k", service="DD", token="t2"), now)
    upgraded.commit([(state, events)])  # D001 next to the transferred A001: no collision now
    upgraded.close()
    assert store.Store.open(path).load_site(rules, date(2026, 11, 25)).tickets == state.tickets


def _url_of(harness, ticket_id: str) -> str:
    state = harness.server.states["tinh"]
    return f"http://x/t/{state.tickets[ticket_id].token}"


# -- day rollover ----------------------------------------------------------------------------


async def test_day_rollover_at_local_midnight(hall, harness, clock):
    kiosk = await hall.device(KIOSK_TOKEN)
    display = await hall.device(DISPLAY_TOKEN)
    for service in ("TP", "TP", "TP", "DN"):
        await hall.issue(kiosk, service)
    lan = await hall.user("lan", 1)
    await lan.request({"type": "call_next"})

    clock.set_local(2026, 11, 25, 23, 59, 59)
    await harness.server.tick()
    assert harness.server.states["tinh"].day == date(2026, 11, 25)
    clock.set_local(2026, 11, 26, 0, 0, 30)
    await harness.server.tick()
    update = await next_update(display, day="2026-11-26")
    assert {t["number"]: t["state"] for t in update["tickets"]} == {
        "A001": "expired", "A002": "expired", "A003": "expired", "B001": "expired"}
    assert [c["status"] for c in update["counters"] if c["number"] == 1] == ["closed"]
    await next_update(lan, day="2026-11-26")
    for code in ("tinh", "giavien"):
        state = harness.server.states[code]
        assert state.day == date(2026, 11, 26) and not state.tickets
        assert all(c.status.value == "closed" and c.active_ticket is None for c in state.counters.values())
    rows = harness.server.store.db.execute(
        "select state, count(*) from tickets where day = '2026-11-25' group by state").fetchall()
    assert rows == [("expired", 4)]
    # The clerk's counter was closed at midnight: it must be opened again.
    assert (await lan.error({"type": "call_next"}))["code"] == "counter_not_open"
    await lan.request({"type": "select_counter", "site": "tinh", "counter": 1})
    # Numbering restarts at the next opening.
    clock.set_local(2026, 11, 26, 7, 0)
    issued = await hall.issue(kiosk, "TP")
    assert (issued["ticket"]["number"], issued["ticket"]["id"]) == ("A001", "tinh:2026-11-26:TP:1")
    fresh_display = await hall.client()
    await fresh_display.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
    snapshot = await fresh_display.next_of("snapshot")
    assert snapshot["site"]["day"] == "2026-11-26" and snapshot["recent_calls"] == []


async def test_a_quiet_midnight_still_tells_clients_the_day_changed(hall, harness, clock):
    """Nothing left to expire and no counter open: clients must still hear of the new day,
    and yesterday's calls must leave the board."""
    kiosk = await hall.device(KIOSK_TOKEN)
    display = await hall.device(DISPLAY_TOKEN)
    await hall.issue(kiosk, "TP")
    lan = await hall.user("lan", 1)
    await lan.request({"type": "call_next"})
    await lan.request({"type": "finish", "outcome": "guided"})
    await lan.request({"type": "close_counter"})
    clock.set_local(2026, 11, 26, 0, 0, 5)
    await harness.server.tick()
    update = await next_update(display, day="2026-11-26")
    assert update["site"] == "tinh"
    assert harness.server.states["tinh"].day == date(2026, 11, 26)
    late_display = await hall.client()
    await late_display.request({"type": "login_device", "v": 1, "token": DISPLAY_TOKEN}, expect="welcome")
    assert (await late_display.next_of("snapshot"))["recent_calls"] == []


async def test_a_server_down_over_midnight_rolls_the_day_when_it_starts(hall, harness, clock):
    kiosk = await hall.device(KIOSK_TOKEN)
    for service in ("TP", "GD"):
        await hall.issue(kiosk, service)
    ha = await hall.user("ha", 2)
    await ha.request({"type": "call_next"})
    await hall.close()
    await harness.stop()
    clock.set_local(2026, 11, 26, 7, 30)
    await harness.start()
    state = harness.server.states["tinh"]
    assert state.day == date(2026, 11, 26) and not state.tickets
    assert all(c.status.value == "closed" for c in state.counters.values())
    rows = harness.server.store.db.execute("select number, state from tickets order by number").fetchall()
    assert rows == [("A001", "expired"), ("K001", "expired")]
    kiosk = await hall.device(KIOSK_TOKEN)
    assert (await hall.issue(kiosk, "TP"))["ticket"]["number"] == "A001"


# -- access control --------------------------------------------------------------------------

# A valid message of every type (refused or not, it must get past decoding).
PAYLOADS: dict[str, dict[str, Any]] = {
    "login_device": {"v": 1, "token": "not-a-device-token-at-all"},
    "login": {"v": 1, "username": "nobody", "password": "wrong"},
    "watch_ticket": {"v": 1, "token": "no-such-ticket-token"},
    "ping": {},
    "select_counter": {"site": "tinh", "counter": 1},
    "issue_ticket": {"service": "TP", "idempotency_key": "matrix-0001"},
    "printer_status": {"state": "ok"},
    "call_next": {},
    "call_number": {"number": "A001"},
    "recall": {},
    "start_service": {},
    "mark_absent": {},
    "hold": {"note": "x"},
    "resume_held": {"number": "A001"},
    "transfer": {"service": "DD"},
    "finish": {"outcome": "received"},
    "pause_counter": {"reason": "Họp"},
    "resume_counter": {},
    "close_counter": {},
    "cancel_ticket": {"number": "Z999", "site": "tinh"},
    "rate": {"value": 4},
    "read_settings": {},
    "admin_change": {"change": {"kind": "notice", "site": "tinh", "notice": "x"}, "base": "0000000000000000"},
    "change_password": {"old_password": "wrong-password", "new_password": "new-password-1"},
    "web_login": {"v": 1},
    "pair_request": {"v": 1, "kind": "kiosk"},  # an anonymous connection then shows a pairing code
    # Booking (issue 14): valid, and refused for what they ask (the example centre books
    # nothing, no such code), never for who asks when the role may send them.
    "booking_options": {},
    "booking_slots": {"site": "tinh", "service": "TP", "day": "2026-11-25"},
    "book": {"site": "tinh", "service": "TP", "start": "2026-11-25T09:00:00+07:00",
             "name": "Nguyễn Văn An", "phone": "0912345678", "cccd": "001099012345"},
    "booking_lookup": {"code": "ACDE-FHJK"},
    "booking_cancel": {"code": "ACDE-FHJK"},
    "booking_move": {"code": "ACDE-FHJK", "start": "2026-11-25T09:30:00+07:00"},
    "take_remote": {"site": "tinh", "service": "TP", "name": "Nguyễn Văn An", "phone": "0912345678",
                    "cccd": "001099012345"},
    "checkin": {"code": "ACDE-FHJK", "idempotency_key": "matrix-checkin-1"},
    # Integration (issue 16): notifications off in the example centre; no such webhook.
    "notify_subscribe": {"channel": "sms", "phone": "0912345678"},
    "notify_unsubscribe": {},
    "webhook_replay": {"webhook": "none", "seq": 1},
    "logout": {},  # last: it ends the role
}
ROLES = ["anonymous", "kiosk", "display", "clerk-no-counter", "clerk", "manager", "watcher"]
REFUSALS = {"forbidden", "not_authenticated", "already_authenticated"}


def test_the_matrix_covers_every_message_type():
    assert set(PAYLOADS) == set(PERMISSIONS) == set(p.CLIENT_TYPES)
    for kind, payload in PAYLOADS.items():
        p.decode_client(json.dumps({"type": kind, **payload}))


def expected_refusal(role: str, kind: str) -> str | None:
    """The error code ``role`` must get for ``kind``, or None when it may send it."""
    base = "clerk" if role.startswith("clerk") else role
    if base in PERMISSIONS[kind]:
        return None
    if base == UNAUTHENTICATED:
        return "not_authenticated"
    return "already_authenticated" if kind in LOGIN_TYPES else "forbidden"


async def _connect_as(hall: Hall, harness, role: str) -> RawClient:
    if role == "anonymous":
        return await hall.client()
    if role == "kiosk":
        return await hall.device(KIOSK_TOKEN)
    if role == "display":
        return await hall.device(DISPLAY_TOKEN)
    if role == "clerk-no-counter":
        return await hall.user("lan")
    if role == "clerk":
        return await hall.user("lan", 1)
    if role == "manager":
        client = await hall.user("giamdoc")
        await client.next_of("snapshot")
        return client
    kiosk = await hall.device(KIOSK_2_TOKEN)
    issued = await hall.issue(kiosk, "TP")
    return await hall.watcher(issued["url"])


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_refused_every_command_that_is_not_its_own(hall, harness, role):
    client = await _connect_as(hall, harness, role)
    outcomes: dict[str, str] = {}
    # select_counter late, so the clerk without a counter stays without one; logout last.
    kinds = sorted(PAYLOADS, key=lambda kind: ["select_counter", "logout"].index(kind) + 1
                   if kind in ("select_counter", "logout") else 0)
    for kind in kinds:
        payload = PAYLOADS[kind]
        request_id = f"m-{kind}"
        await client.send_raw(json.dumps({"type": kind, "id": request_id, **payload}))
        while True:
            reply = await client.recv()
            if reply.get("re") == request_id:
                break
        outcomes[kind] = reply["code"] if reply["type"] == "error" else reply["type"]
    wrong = {}
    for kind, got in outcomes.items():
        refusal = expected_refusal(role, kind)
        if refusal is not None and got != refusal:
            wrong[kind] = f"expected {refusal}, got {got}"
        if refusal is None and got in REFUSALS:
            wrong[kind] = f"allowed, got {got}"
        if refusal is None and role == "clerk-no-counter" and kind in COUNTER_COMMANDS and got != (
                "no_counter_selected"):
            wrong[kind] = f"expected no_counter_selected, got {got}"
    assert not wrong, f"{role}: {wrong}"


def test_no_counter_command_names_a_counter_to_act_on():
    """A clerk's commands act on the counter the session selected; none can name another
    (transfer's ``counter`` is where the ticket goes, not who acts)."""
    for kind in COUNTER_COMMANDS:
        fields = set(p.CLIENT_TYPES[kind].__struct_fields__)
        assert "counter" not in fields or kind == "transfer", kind


async def test_a_clerk_cannot_act_on_another_counter(hall, harness):
    kiosk = await hall.device(KIOSK_TOKEN)
    for service in ("TP", "TP", "GD", "DN"):
        await hall.issue(kiosk, service)
    lan = await hall.user("lan", 1)
    for site, counter in (("tinh", 3), ("tinh", 99), ("giavien", 1)):
        error = await lan.error({"type": "select_counter", "site": site, "counter": counter})
        assert error["code"] == "counter_not_allowed"
    ha = await hall.user("ha", 2)
    busy = (await ha.request({"type": "call_next"}))["ticket"]
    # ha's ticket cannot be taken, finished or rated from counter 1 ...
    error = await lan.error({"type": "call_number", "number": busy["number"]})
    assert error["code"] == "ticket_not_callable"
    assert (await lan.error({"type": "finish", "outcome": "received"}))["code"] == "no_active_ticket"
    assert (await lan.error({"type": "call_number", "number": "K001"}))["code"] == "not_served_here"
    assert (await lan.error({"type": "call_number", "number": "B001"}))["code"] == "not_served_here"
    await ha.request({"type": "finish", "outcome": "received"})
    error = await lan.error({"type": "rate", "value": 4, "ticket_id": busy["id"]})
    assert error["code"] == "not_rateable"
    # ... nor can ha take counter 1 from lan while lan is serving someone.
    await lan.request({"type": "call_next"})
    error = await ha.error({"type": "select_counter", "site": "tinh", "counter": 1})
    assert error["code"] == "counter_taken"
    # lan closing "her" counter closes counter 1 only.
    await lan.request({"type": "finish", "outcome": "received"})
    await lan.request({"type": "close_counter"})
    counters = harness.server.states["tinh"].counters
    assert (counters[1].status.value, counters[2].status.value) == ("closed", "open")


# -- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(("frame", "code", "re"), [
    ("not json {", "bad_message", None),
    ("[1, 2, 3]", "bad_message", None),
    ("\"ping\"", "bad_message", None),
    ('{"type": "ping", "id": 7, "extra": true}', "bad_message", 7),
    ('{"type": "call_number", "id": "m1"}', "bad_message", "m1"),
    ('{"type": "issue_ticket", "id": "w1", "service": 5, "idempotency_key": "abcdefgh"}',
     "bad_message", "w1"),
    ('{"type": "ping", "id": 1.5}', "bad_message", None),
    ('{"type": "launch_missiles", "id": "u1"}', "unknown_type", "u1"),
    ('{"id": "t1"}', "unknown_type", "t1"),
    ('{"type": 42}', "unknown_type", None),
    ("[" * 20000 + "]" * 20000, "bad_message", None),
    ('{"type": "ping", "id": "n1", "x": ' + "[" * 5000 + "]" * 5000 + "}", "bad_message", None),
])
async def test_malformed_messages_get_an_error_and_the_connection_lives_on(hall, frame, code, re):
    client = await hall.client()
    await client.send_raw(frame)
    error = await client.next_of("error")
    assert (error["code"], error["re"]) == (code, re)
    assert error["message_vi"] and error["message_en"]
    assert (await client.request({"type": "ping"}, expect="pong"))["server_time"]
    await hall.served()


async def test_a_binary_frame_is_refused_politely(hall):
    client = await hall.client()
    await client.send_raw(b'{"type": "ping"}')
    error = await client.next_of("error")
    assert error["code"] == "bad_message" and "binary" in error["details"]["detail"]
    await client.request({"type": "ping"}, expect="pong")
    await hall.served()


async def test_huge_strings_below_the_frame_limit_are_bounded(hall, harness):
    kiosk = await hall.device(KIOSK_TOKEN)
    huge = "x" * 30000  # well over any sane value, under the 64 kB frame limit
    error = await kiosk.error({"type": "issue_ticket", "service": huge, "idempotency_key": "huge-0001"})
    assert error["code"] == "unknown_service"
    assert (await kiosk.error({"type": "issue_ticket", "service": "TP", "idempotency_key": huge}))[
        "code"] == "bad_message"
    await hall.issue(kiosk, "TP")
    lan = await hall.user("lan", 1)
    assert (await lan.error({"type": "call_number", "number": huge}))["code"] == "ticket_not_found"
    await lan.request({"type": "call_next"})
    held = await lan.request({"type": "hold", "note": huge})
    assert len(held["ticket"]["note"]) == 200
    await lan.request({"type": "resume_held", "number": "A001"})
    done = await lan.request({"type": "finish", "outcome": "received", "dossier_code": huge})
    assert len(done["ticket"]["dossier_code"]) == 64
    anonymous = await hall.client()
    error = await anonymous.error({"type": "login", "v": 1, "username": huge, "password": huge})
    assert error["code"] == "bad_credentials"
    await hall.served()


async def test_an_oversized_frame_closes_only_that_connection(hall, harness):
    bystander = await hall.device(KIOSK_TOKEN)
    client = await hall.client()
    limit = harness.config.server.max_message_bytes
    await client.send_raw(json.dumps({"type": "ping", "id": "x" * (limit + 10)}))
    code, _ = await closed_with(client)
    assert code == 1009
    await bystander.request({"type": "ping"}, expect="pong")
    await hall.served()


async def test_a_flood_is_rate_limited_then_closed(hall):
    bystander = await hall.device(KIOSK_TOKEN)
    client = await hall.client()
    kinds: dict[str, int] = {}
    with pytest.raises(ConnectionClosed):
        while True:  # volleys of 10, far above 30 a second, each read back before the next
            for _ in range(10):
                await client.send_raw('{"type": "ping"}')
            for _ in range(10):
                message = json.loads(await asyncio.wait_for(client.ws.recv(), 10))
                key = message["code"] if message["type"] == "error" else message["type"]
                kinds[key] = kinds.get(key, 0) + 1
    assert client.ws.close_code == 1008
    assert kinds["rate_limited"] == server_connections.FLOOD_CLOSE_AFTER
    assert kinds["pong"] >= 90  # the burst allowance was served first
    assert set(kinds) == {"pong", "rate_limited"}
    await bystander.request({"type": "ping"}, expect="pong")
    await hall.served()


# -- authentication --------------------------------------------------------------------------


async def test_repeated_failed_logins_are_throttled(hall):
    client = await hall.client()
    for _ in range(5):
        error = await client.error({"type": "login", "v": 1, "username": "lan", "password": "wrong"})
        assert error["code"] == "bad_credentials"
    error = await client.error({"type": "login", "v": 1, "username": "lan", "password": PASSWORD})
    assert error["code"] == "throttled" and 0 < error["details"]["seconds"] <= 300
    assert "giây" in error["message_vi"]
    # Another account from the same place is not locked out by lan's failures.
    await client.request({"type": "login", "v": 1, "username": "ha", "password": PASSWORD}, expect="welcome")


async def test_many_bad_device_tokens_throttle_the_address(hall):
    client = await hall.client()
    for i in range(20):
        error = await client.error({"type": "login_device", "v": 1, "token": f"guess-{i:020d}"})
        assert error["code"] == "bad_token"
    error = await client.error({"type": "login_device", "v": 1, "token": KIOSK_TOKEN})
    assert error["code"] == "throttled"


async def test_a_bad_device_token_leaves_the_connection_anonymous(hall):
    client = await hall.client()
    error = await client.error({"type": "login_device", "v": 1, "token": "x" * 24})
    assert error["code"] == "bad_token"
    error = await client.error({"type": "issue_ticket", "service": "TP", "idempotency_key": "anon-0001"})
    assert error["code"] == "not_authenticated"
    await client.request({"type": "login_device", "v": 1, "token": KIOSK_TOKEN}, expect="welcome")


@pytest.mark.parametrize("payload", [
    {"type": "login_device", "v": 2, "token": KIOSK_TOKEN},
    {"type": "login", "v": 0, "username": "lan", "password": PASSWORD},
    {"type": "watch_ticket", "v": 99, "token": "whatever"},
])
async def test_a_protocol_version_mismatch_is_refused(hall, payload):
    client = await hall.client()
    assert (await client.error(payload))["code"] == "unsupported_version"
    missing_version = {k: v for k, v in payload.items() if k != "v"}
    assert (await client.error(missing_version))["code"] == "bad_message"


async def test_an_unauthenticated_connection_is_closed_after_the_timeout(hall, monkeypatch):
    monkeypatch.setattr(server_connections, "AUTH_TIMEOUT", 1.0)
    kiosk = await hall.device(KIOSK_TOKEN)  # logs in at once: well inside the second
    idle = await hall.client()
    pinging = await hall.client()
    await pinging.request({"type": "ping"}, expect="pong")  # talking is not logging in
    assert await closed_with(idle) == (1008, "authentication timeout")
    assert (await closed_with(pinging))[0] == 1008
    await kiosk.request({"type": "ping"}, expect="pong")  # logged in in time: still open


# -- plain HTTP ------------------------------------------------------------------------------


async def _http_get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


async def test_healthz_over_plain_http(harness):
    status, headers, body = await _http_get(harness.port, "/healthz")
    assert status == 200 and headers["content-type"].startswith("application/json")
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["sites"]["tinh"] == {"day": "2026-11-25", "tickets": 0}
    assert set(health["sites"]) == {"tinh", "giavien"}


async def test_an_unknown_path_is_404(harness):
    status, _, body = await _http_get(harness.port, "/no/such/page")
    assert status == 404 and "Not found" in body.decode()
