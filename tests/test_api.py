"""The integration API (issue 16): a real server with its API on 127.0.0.1, keys created by the
administrator over the websocket (``admin_change`` kind ``api_key``), and a real aiohttp client.
Scopes, sites, revoked keys, the rate limit, bad parameters and bodies (400, never 500),
idempotent issuing, and every write audited as "api:<key id>"."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import msgspec
import pytest

from common.api_key_config import key_hash
from server.settings_store import audit_rows
from tests.helpers import PASSWORD, RawClient, example_config

pytestmark = pytest.mark.asyncio


@pytest.fixture
def config():
    """The example centre with its integration API on a free port."""
    base = example_config()
    return msgspec.structs.replace(base, server=msgspec.structs.replace(base.server, api_port=0))


async def administrator(harness, username: str = "giamdoc") -> RawClient:
    client = await harness.client()
    await client.request({"type": "login", "v": 1, "username": username, "password": PASSWORD,
                          "web_session": True}, expect="welcome")
    return client


async def create_key(harness, ident: str, scopes: list[str], sites: list[str] | None = None,
                     **extra: Any) -> str:
    boss = await administrator(harness)
    reply = await boss.request({"type": "admin_change", "base": None, "change": {
        "kind": "api_key", "id": ident, "name": f"Hệ thống {ident}", "scopes": scopes, "sites": sites or [],
        **extra}})
    await boss.close()
    return str(reply["api_key"])


class Api:
    """An aiohttp client of the harness's API."""

    def __init__(self, harness, session: aiohttp.ClientSession) -> None:
        self.base = f"http://127.0.0.1:{harness.server.api.port}"
        self.session = session

    async def call(self, method: str, path: str, key: str | None = None, *, body: Any = None,
                   raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(method, self.base + path, data=data, headers=sent) as reply:
            text = await reply.text()
            assert reply.content_type == "application/json", text
            return reply.status, json.loads(text), reply.headers


@pytest.fixture
async def api(harness):
    async with aiohttp.ClientSession() as session:
        yield Api(harness, session)


async def test_a_read_key_sees_the_queue_and_a_ticket_by_number_token_and_dossier(harness, api):
    key = await create_key(harness, "motcua", ["read"])
    kiosk = await harness.kiosk()
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "k" * 10})
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "call_next"})
    await clerk.request({"type": "start_service"})
    await clerk.request({"type": "finish", "outcome": "received", "dossier_code": "H99.000-261125-0001"})
    await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "k" * 11})

    status, sites, _ = await api.call("GET", "/api/v1/sites", key)
    assert status == 200 and {s["code"] for s in sites["sites"]} == {s.code for s in harness.config.sites}

    status, queue, _ = await api.call("GET", "/api/v1/sites/tinh/queue", key)
    assert status == 200 and queue["site"] == "tinh"
    tp = next(s for s in queue["services"] if s["code"] == "TP")
    assert (tp["waiting"], tp["issued"]) == (1, 2)
    assert next(c for c in queue["counters"] if c["number"] == 1)["status"] == "open"

    status, ticket, _ = await api.call("GET", "/api/v1/sites/tinh/tickets/A002", key)
    assert (status, ticket["state"], ticket["ahead"]) == (200, "waiting", 0)

    token = issued["url"].rsplit("/", 1)[1]
    status, by_token, _ = await api.call("GET", f"/api/v1/tickets/by-token/{token}", key)
    assert (status, by_token["number"], by_token["state"]) == (200, "A001", "done")
    assert by_token["outcome"] == "received"

    status, found, _ = await api.call("GET", "/api/v1/tickets/by-dossier/H99.000-261125-0001", key)
    assert status == 200 and [t["number"] for t in found["tickets"]] == ["A001"]
    assert found["tickets"][0]["dossier_code"] == "H99.000-261125-0001" and not found["truncated"]
    status, none, _ = await api.call("GET", "/api/v1/tickets/by-dossier/H99.000-000000-9999", key)
    assert (status, none["tickets"]) == (200, [])


async def test_issuing_is_idempotent_by_key_and_audited_as_the_api_key(harness, api):
    key = await create_key(harness, "letan", ["issue", "read"], ["tinh"])
    body = {"service": "TP", "priority": "elderly", "idempotency_key": "letan-0001"}
    status, first, _ = await api.call("POST", "/api/v1/sites/tinh/tickets", key, body=body)
    assert status == 201 and first["ticket"]["issued_by"] == "api:letan"
    assert first["ticket"]["priority"] == "elderly" and "/t/" in first["url"]
    status, again, _ = await api.call("POST", "/api/v1/sites/tinh/tickets", key, body=body)
    assert status == 200 and again["ticket"]["id"] == first["ticket"]["id"]
    status, other, _ = await api.call("POST", "/api/v1/sites/tinh/tickets", key, body={"service": "TP"})
    assert status == 201 and other["ticket"]["number"] != first["ticket"]["number"]
    assert len([t for t in harness.server.states["tinh"].tickets.values() if t.service == "TP"]) == 2

    events = await harness.server.read_db(lambda conn: conn.execute(
        "select actor, device from events where type = 'ticket_issued'").fetchall())
    assert events == [("api:letan", "api:letan"), ("api:letan", "api:letan")]
    rows = await harness.server.read_db(audit_rows, None)
    created = next(r for r in rows if r["action"] == "api_key.add")
    assert created["actor"] == "giamdoc" and created["after"]["key_hash"] == "•••"
    assert key not in json.dumps(rows) and key_hash(key) not in json.dumps(rows)
    stored = harness.server.config.api_keys[0]
    assert stored.key_hash == key_hash(key) and stored.created_at is not None


async def test_the_queue_rules_refusals_keep_their_codes(harness, api, clock):
    key = await create_key(harness, "letan", ["issue"])
    status, error, _ = await api.call("POST", "/api/v1/sites/tinh/tickets", key, body={"service": "KHONG"})
    assert (status, error["error"]["code"]) == (400, "unknown_service")
    assert error["error"]["message_vi"] and error["error"]["message_en"]
    clock.set_local(2026, 11, 25, 22, 0)
    status, error, _ = await api.call("POST", "/api/v1/sites/tinh/tickets", key, body={"service": "TP"})
    assert (status, error["error"]["code"]) == (409, "service_closed")


async def test_keys_are_checked_scope_site_and_revocation(harness, api):
    reader = await create_key(harness, "doc", ["read"], ["giavien"])
    issuer = await create_key(harness, "cap", ["issue"])
    status, error, _ = await api.call("GET", "/api/v1/sites/tinh/queue")
    assert (status, error["error"]["code"]) == (401, "missing_key")
    status, error, _ = await api.call("GET", "/api/v1/sites/tinh/queue", "xk_" + "A" * 43)
    assert (status, error["error"]["code"]) == (401, "unknown_key")
    status, error, _ = await api.call("GET", "/api/v1/sites/tinh/queue", reader)
    assert (status, error["error"]["code"]) == (403, "site_not_allowed")
    status, sites, _ = await api.call("GET", "/api/v1/sites", reader)
    assert [s["code"] for s in sites["sites"]] == ["giavien"]
    assert (await api.call("GET", "/api/v1/sites/giavien/queue", reader))[0] == 200
    status, error, _ = await api.call("POST", "/api/v1/sites/giavien/tickets", reader, body={"service": "TP"})
    assert (status, error["error"]["code"]) == (403, "scope_missing")
    status, error, _ = await api.call("GET", "/api/v1/sites/tinh/queue", issuer)
    assert (status, error["error"]["code"]) == (403, "scope_missing")
    status, error, _ = await api.call("GET", "/api/v1/sites/nowhere/queue", reader)
    assert (status, error["error"]["code"]) == (403, "site_not_allowed")

    boss = await administrator(harness)
    current = await boss.request({"type": "read_settings"}, expect="settings")
    await boss.request({"type": "admin_change", "base": current["fingerprints"]["api_key:doc"],
                        "change": {"kind": "api_key_revoke", "id": "doc"}})
    status, error, _ = await api.call("GET", "/api/v1/sites/giavien/queue", reader)
    assert (status, error["error"]["code"]) == (401, "revoked_key")
    assert harness.server.config.api_keys[0].disabled
    await harness.restart()  # the revocation is stored, not only in memory
    async with aiohttp.ClientSession() as session:
        status, error, _ = await Api(harness, session).call("GET", "/api/v1/sites/giavien/queue", reader)
    assert (status, error["error"]["code"]) == (401, "revoked_key")


async def test_only_the_administrator_creates_keys_and_sees_them(harness):
    site_manager = await administrator(harness, "quanly.giavien")
    refused = await site_manager.error({"type": "admin_change", "base": None, "change": {
        "kind": "api_key", "id": "x", "name": "X", "scopes": ["read"]}})
    assert refused["code"] == "forbidden"
    await create_key(harness, "motcua", ["read"])
    seen = await site_manager.request({"type": "read_settings"}, expect="settings")
    assert "api_keys" not in seen["config"]
    assert not any(k.startswith("api_key:") for k in seen["fingerprints"])
    boss = await administrator(harness)
    shown = await boss.request({"type": "read_settings"}, expect="settings")
    assert [k["id"] for k in shown["config"]["api_keys"]] == ["motcua"]
    assert "key_hash" not in shown["config"]["api_keys"][0]
    bad = await boss.error({"type": "admin_change", "base": None, "change": {
        "kind": "api_key", "id": "hai", "name": "Hai", "scopes": ["write"]}})
    assert bad["code"] == "invalid_settings" and bad["details"]["check"] == "unknown_scope"


async def test_a_key_over_its_rate_gets_429_with_retry_after(harness, api):
    key = await create_key(harness, "nhanh", ["read"], rate_per_second=0.01, burst=3)
    statuses = [(await api.call("GET", "/api/v1/sites", key))[0] for _ in range(3)]
    status, error, headers = await api.call("GET", "/api/v1/sites", key)
    assert statuses == [200, 200, 200]
    assert (status, error["error"]["code"]) == (429, "rate_limited")
    assert 1 <= int(headers["Retry-After"]) <= 100


@pytest.mark.parametrize(("method", "path", "body", "raw", "headers", "status", "code"), [
    ("GET", "/api/v1/sites/t%C3%ADnh/queue", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/tinh/tickets/A-01", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/tickets/by-token/short", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/tickets/by-dossier/" + "x" * 65, None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/tinh/stats", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/tinh/stats?from=2026-11-01&to=2026-13-01", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/tinh/stats?from=2026-11-30&to=2026-11-01", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/tinh/stats?from=2024-01-01&to=2026-11-01", None, None, None, 400, "bad_parameter"),
    ("GET", "/api/v1/sites/khong/queue", None, None, None, 404, "unknown_site"),
    ("GET", "/api/v1/sites/tinh/tickets/Z999", None, None, None, 404, "ticket_not_found"),
    ("GET", "/api/v1/tickets/by-token/" + "A" * 22, None, None, None, 404, "ticket_not_found"),
    ("GET", "/api/v1/nothing", None, None, None, 404, "unknown_route"),
    ("DELETE", "/api/v1/sites", None, None, None, 405, "method_not_allowed"),
    ("POST", "/api/v1/sites/tinh/tickets", None, b"{", {"Content-Type": "application/json"}, 400, "bad_json"),
    ("POST", "/api/v1/sites/tinh/tickets", None, b"service=TP", {"Content-Type": "text/plain"}, 415,
     "not_json"),
    ("POST", "/api/v1/sites/tinh/tickets", {}, None, None, 400, "bad_field"),
    ("POST", "/api/v1/sites/tinh/tickets", {"service": 7}, None, None, 400, "bad_field"),
    ("POST", "/api/v1/sites/tinh/tickets", {"service": "TP", "colour": 1}, None, None, 400, "bad_field"),
    ("POST", "/api/v1/sites/tinh/tickets", {"service": "TP", "idempotency_key": "ngan"}, None, None, 400,
     "bad_field"),
    ("POST", "/api/v1/sites/tinh/tickets", [1, 2], None, None, 400, "bad_field"),
    ("POST", "/api/v1/sites/tinh/tickets", None, b'{"service": "' + b"x" * 70_000 + b'"}',
     {"Content-Type": "application/json"}, 413, "body_too_large"),
])
async def test_bad_parameters_and_bodies_are_refused_with_the_field_never_500(
        harness, api, method, path, body, raw, headers, status, code):
    key = await create_key(harness, "thu", ["read", "issue"])
    got, error, _ = await api.call(method, path, key, body=body, raw=raw, headers=headers)
    assert (got, error["error"]["code"]) == (status, code), error
    assert error["error"]["message_vi"] != error["error"]["message_en"]
    if code in ("bad_parameter", "bad_field"):
        assert error["error"]["details"]["field"]


async def test_statistics_come_from_the_report_process(harness, api):
    key = await create_key(harness, "tk", ["read"])
    kiosk = await harness.kiosk()
    for i in range(3):
        await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": f"stat-{i:04d}"})
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "call_next"})
    await clerk.request({"type": "start_service"})
    await clerk.request({"type": "finish", "outcome": "received"})
    status, figures, _ = await api.call("GET", "/api/v1/sites/tinh/stats?from=2026-11-25&to=2026-11-25", key)
    assert status == 200, figures
    assert (figures["from"], figures["to"], figures["days"]) == ("2026-11-25", "2026-11-25", 1)
    assert (figures["total"]["issued"], figures["total"]["served"]) == (3, 1)
    assert [(s["service"], s["issued"]) for s in figures["services"] if s["issued"]] == [("TP", 3)]


async def test_every_request_is_logged_with_its_key_id_never_the_key(harness, api, caplog):
    key = await create_key(harness, "nhatky", ["read"])
    with caplog.at_level(logging.INFO, logger="xephang.api"):
        await api.call("GET", "/api/v1/sites", key)
        await api.call("GET", "/api/v1/sites/tinh/queue", key + "x")
    lines = [r.getMessage() for r in caplog.records if r.name == "xephang.api"]
    assert any(line.startswith("GET /api/v1/sites key=nhatky 200 ") for line in lines), lines
    assert any(line.startswith("GET /api/v1/sites/tinh/queue key=- 401 ") for line in lines), lines
    assert not any(key in line for line in lines)


async def test_the_api_stops_with_the_server(harness, api):
    port = harness.server.api.port
    await harness.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with api.session.get(f"http://127.0.0.1:{port}/api/v1/openapi.json") as reply:
            await reply.read()
    await harness.start()
    await asyncio.sleep(0)
